"""The administrator's pages: the accounts of the units this node hosts, and what an
administrator does for a user who comes to them: end a lock-out, hand over a new second factor
in person, disable or re-enable the account.

Only the ``admin`` role opens them; anyone else gets the page a missing address gets. An account
of a unit another node hosts is managed on that node: here it is not found. Each action is a
POST carrying the form token (checked by :mod:`office.web.auth` before the view runs), done in one
transaction and logged with the administrator's and the user's names, never a secret.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from config.errors import Conflict, NotFound
from config.logging import get_logger
from exchange.figures import events_today
from exchange.ledger import ACCESS_KIND, FAILED_SIGN_IN_KIND
from keys import accounts
from keys.accounts import USERNAME
from keys.signin import StaffMember, sign_in_trouble
from office.web import sessions as web_sessions
from office.web.feature import Section
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, STAFF, StaffSite, translator

ADMIN = Section("admin", "/admin", position=60, roles=frozenset({"admin"}))
#: What the accounts page may say an action did (``?notice=…&user=…`` after the redirect).
NOTICES = ("unlocked", "disabled", "enabled", "duties")
#: The secret is shown in groups, as authenticator apps accept it typed.
SECRET_GROUP = 4
#: A refusal repeats at most this much of the name it was given.
USERNAME_SHOWN = 64

log = get_logger("congvan.web.admin")


def administrator(request: web.Request) -> StaffMember:
    """The signed-in administrator; anyone else is answered as if the page did not exist."""
    staff = request[STAFF]
    if not ADMIN.open_to(staff):
        raise NotFound(translator(request)("error.not-found"))
    return staff


async def _hosted_user(
    session: AsyncSession, site: StaffSite, admin: StaffMember, username: str
) -> int:
    """The id of the account to act on, which must belong to a unit this node hosts."""
    user_id = None
    if USERNAME.fullmatch(username):
        user_id = await accounts.hosted_user_id(session, username, site.hosted_units)
    if user_id is None:
        shown = username[:USERNAME_SHOWN]
        log.warning("admin.unknown_user", admin=admin.username, user=shown)
        raise NotFound(
            site.translate("admin.refused.unknown-user", user=shown), code="unknown-user"
        )
    return user_id


def _done(username: str, notice: str) -> web.Response:
    """Back to the accounts page, which says what was done (POST, then 303, then GET)."""
    return see_other(URL("/admin").with_query(notice=notice, user=username))


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code, inline (the page's policy allows ``data:`` images;
    nothing is stored or served separately)."""
    import segno  # for enrolment only: not held by every node process

    code = segno.make(uri, error="m")
    return str(code.svg_data_uri(scale=5, border=4, dark="#000", light="#fff"))


def grouped(secret: str) -> str:
    return " ".join(secret[i : i + SECRET_GROUP] for i in range(0, len(secret), SECRET_GROUP))


async def accounts_page(request: web.Request) -> web.Response:
    site = request.app[SITE]
    administrator(request)
    now = datetime.now(UTC)
    async with site.sessions() as session:
        rows = await accounts.list_accounts(session, site.hosted_units)
        sign_ins = await events_today(session, (ACCESS_KIND, FAILED_SIGN_IN_KIND), now)
        trouble = await sign_in_trouble(session, now)
    notice, user = request.query.get("notice"), request.query.get("user", "")
    # Said only of an account listed here: a link cannot make the page claim anything else.
    if notice not in NOTICES or all(row.username != user for row in rows):
        notice = None
    return render(
        request,
        "admin/admin_accounts.html",
        {
            "title": translator(request)("admin.title"),
            "accounts": rows,
            "units": ", ".join(site.hosted_units),
            "now": now,
            "signed_in_today": sign_ins[ACCESS_KIND],
            "refused_today": sign_ins[FAILED_SIGN_IN_KIND],
            "locked_now": trouble.locked,
            "notice": notice,
            "notice_user": user,
        },
    )


async def unlock(request: web.Request) -> web.Response:
    site, admin = request.app[SITE], administrator(request)
    username = request.match_info["username"]
    async with site.sessions() as session, session.begin():
        await _hosted_user(session, site, admin, username)
        await accounts.unlock(session, username)
    log.info("admin.unlocked", admin=admin.username, user=username)
    return _done(username, "unlocked")


async def reset_totp(request: web.Request) -> web.Response:
    """A new TOTP secret, shown on this answer only: the old authenticator stops working and
    every browser signed in as the user must sign in again with the new one."""
    site, admin = request.app[SITE], administrator(request)
    username = request.match_info["username"]
    async with site.sessions() as session, session.begin():
        user_id = await _hosted_user(session, site, admin, username)
        enrolment = await accounts.enrol_totp(session, username, site.box)
        ended = await web_sessions.close_sessions_of(session, user_id)
    log.info("admin.totp_reset", admin=admin.username, user=username, sessions_ended=ended)
    response = render(
        request,
        "admin/admin_totp.html",
        {
            "title": translator(request)("admin.totp.title"),
            "username": username,
            "qr": qr_data_uri(enrolment.uri),
            "secret": grouped(enrolment.secret),
        },
    )
    response.headers["Cache-Control"] = "no-store"  # never kept, not even for the Back button
    return response


async def disable(request: web.Request) -> web.Response:
    site, admin = request.app[SITE], administrator(request)
    username = request.match_info["username"]
    if username == admin.username:
        raise Conflict(translator(request)("admin.refused.own-account"), code="own-account")
    async with site.sessions() as session, session.begin():
        user_id = await _hosted_user(session, site, admin, username)
        await accounts.set_disabled(session, username, True)
        ended = await web_sessions.close_sessions_of(session, user_id)
    log.info("admin.disabled", admin=admin.username, user=username, sessions_ended=ended)
    return _done(username, "disabled")


async def set_duties(request: web.Request) -> web.Response:
    """Chức vụ and the review chain's duties: who drafts are submitted to for review and who
    has signing authority (:func:`keys.accounts.set_duties`)."""
    site, admin = request.app[SITE], administrator(request)
    username = request.match_info["username"]
    form = await request.post()
    title = form.get("title")
    async with site.sessions() as session, session.begin():
        await _hosted_user(session, site, admin, username)
        user = await accounts.set_duties(
            session,
            username,
            title=title if isinstance(title, str) else "",
            may_review=form.get("may_review") == "1",
            may_sign=form.get("may_sign") == "1",
        )
    log.info(
        "admin.duties",
        admin=admin.username,
        user=username,
        reviewer=user.may_review,
        signer=user.may_sign,
    )
    return _done(username, "duties")


async def enable(request: web.Request) -> web.Response:
    site, admin = request.app[SITE], administrator(request)
    username = request.match_info["username"]
    async with site.sessions() as session, session.begin():
        await _hosted_user(session, site, admin, username)
        await accounts.set_disabled(session, username, False)
    log.info("admin.enabled", admin=admin.username, user=username)
    return _done(username, "enabled")


def add_routes(app: web.Application) -> None:
    app.router.add_get(ADMIN.path, accounts_page, name="admin")
    app.router.add_post("/admin/users/{username}/unlock", unlock, name="admin.unlock")
    app.router.add_post("/admin/users/{username}/totp", reset_totp, name="admin.totp")
    app.router.add_post("/admin/users/{username}/disable", disable, name="admin.disable")
    app.router.add_post("/admin/users/{username}/enable", enable, name="admin.enable")
    app.router.add_post("/admin/users/{username}/duties", set_duties, name="admin.duties")
