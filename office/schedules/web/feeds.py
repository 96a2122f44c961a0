"""Lịch trên điện thoại: the calendar feeds a phone subscribes to, and the page that gives a
member of staff their addresses.

``GET /calendar/<token>.ics`` needs no sign-in (calendar apps cannot sign in): the token is the
credential, and any token that does not open a feed (malformed, unknown, revoked, its owner
disabled) gets the same short 404, which says nothing about why. The token is never logged:
the route is named so that the request log shows its pattern, not its path.
"""

from __future__ import annotations

from aiohttp import web

from config.errors import Invalid
from config.logging import get_logger
from config.web import HIDDEN_PATH_SUFFIX
from office.documents.desk import DESK
from office.schedules import feeds
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator

log = get_logger("congvan.web.feeds")

FEEDS_PAGE = "/calendar"
#: Calendar apps poll; what they fetched must not sit in a shared cache.
FEED_CACHE_CONTROL = "private, no-store"


def _not_found(request: web.Request) -> web.Response:
    """One answer for every token that opens nothing, in the site's language (not the
    visitor's: the body must not vary)."""
    return web.Response(
        status=404,
        text=request.app[SITE].translate("feeds.not_found"),
        content_type="text/plain",
        charset="utf-8",
        headers={"Cache-Control": FEED_CACHE_CONTROL},
    )


async def calendar_feed(request: web.Request) -> web.Response:
    site = request.app[SITE]
    name = request.match_info["feed"]
    token = (
        name.removesuffix(feeds.FEED_PATH_SUFFIX) if name.endswith(feeds.FEED_PATH_SUFFIX) else ""
    )
    async with site.sessions() as session:
        owner = await feeds.feed_owner(session, token)
        if owner is None:
            log.info("calendar.feed_refused")
            return _not_found(request)
        entries = await feeds.feed_entries(session, owner, request.app[DESK].today())
    body = feeds.build_calendar(owner, entries, site.translate)
    log.info("calendar.feed", user_id=owner.user_id, scope=owner.scope, events=len(entries))
    return web.Response(
        body=body,
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": 'inline; filename="lich-cong-tac.ics"',
            "Cache-Control": FEED_CACHE_CONTROL,
        },
    )


def _base_url(request: web.Request) -> str:
    return request.app[SITE].settings.public_url or str(request.url.origin())


async def _page(
    request: web.Request, new_scope: str | None = None, new_url: str | None = None
) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    async with site.sessions() as session:
        active = await feeds.active_feeds(session, staff.id)
    return render(
        request,
        "schedules/calendar_feeds.html",
        {
            "title": translator(request)("feeds.title"),
            "scopes": feeds.FEED_SCOPES,
            "active": active,
            "new_scope": new_scope,
            "new_url": new_url,
        },
    )


async def feeds_page(request: web.Request) -> web.Response:
    return await _page(request)


async def renew(request: web.Request) -> web.Response:
    """A new address for one feed (the first, or one replacing a leaked one), shown once:
    this answer is the only place it appears."""
    site, staff = request.app[SITE], request[STAFF]
    scope = (await request.post()).get("scope")
    if scope not in feeds.FEED_SCOPES:
        raise Invalid(translator(request)("feeds.bad_scope"), code="bad-scope")
    assert isinstance(scope, str)
    async with site.sessions() as session, session.begin():
        token = await feeds.issue_feed(session, staff.id, scope, request.app[DESK].now())
    log.info("calendar.feed_issued", user=staff.username, scope=scope)
    return await _page(request, scope, feeds.feed_url(_base_url(request), token))


def is_feed(request: web.Request) -> bool:
    """A calendar feed: calendar apps cannot sign in, the secret token in its path is the
    credential."""
    return (
        request.method in ("GET", "HEAD")
        and request.path.startswith(feeds.FEED_PATH_PREFIX)
        and request.path.endswith(feeds.FEED_PATH_SUFFIX)
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(FEEDS_PAGE, feeds_page, name="calendar_feeds")
    app.router.add_post(f"{FEEDS_PAGE}/renew", renew)
    app.router.add_get(
        feeds.FEED_PATH_PREFIX + "{feed:.+}",
        calendar_feed,
        name="calendar_feed" + HIDDEN_PATH_SUFFIX,
    )
