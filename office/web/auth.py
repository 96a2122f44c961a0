"""Sign-in, sign-out, and the middleware that guards every page.

Every page but ``/healthz``, the static files and the sign-in page needs a session: a request
without one is sent to the sign-in page (and nothing it asked for is done). Every POST must
carry the form token of its session (``csrf_token``); the sign-in form carries one bound to a
cookie of its own. A missing or wrong token is refused with a page that says so, before the
handler runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiDictProxy
from yarl import URL

from config.errors import Forbidden
from config.logging import get_logger
from exchange.ledger import ACCESS_KIND, FAILED_SIGN_IN_KIND
from keys.signin import LOCKED, SignInOutcome
from office.web import signin
from office.web.client_address import client_address
from office.web.language import LANGUAGE_PREFIX
from office.web.messages import Translator
from office.web.redirects import SIGN_IN_PATH, safe_next, see_other
from office.web.rendering import STATIC_PREFIX, render
from office.web.sessions import form_token, form_token_valid, new_token, well_formed
from office.web.site import ACTIVE_SESSION, FORM_TOKEN, SITE, STAFF, StaffSite, translator

SIGN_OUT_PATH = "/logout"
#: The CA certificate is public: mail clients fetch it to trust the gateway.
OPEN_PATHS = frozenset({"/healthz", "/ca.pem"})
SESSION_COOKIE = "congvan_session"
#: Binds the sign-in form's token before there is a session; lives as long as the form may.
SIGN_IN_COOKIE = "congvan_signin"
SIGN_IN_COOKIE_SECONDS = 3600
FORM_FIELD = "csrf_token"
#: Routes whose name ends so read a streamed upload and check its token themselves.
UPLOAD_SUFFIX = ".upload"
SESSION_PURPOSE = "session"
SIGN_IN_PURPOSE = "signin"
NOTICES = ("expired", "signed-out", "required")
# Longer input is refused as wrong without being hashed: argon2 of a megabyte is a DoS.
MAX_USERNAME = 64
MAX_PASSWORD = 1024
MAX_CODE = 16

log = get_logger("congvan.web.auth")


def _text(form: MultiDictProxy[Any], name: str, limit: int) -> str:
    value = form.get(name)
    return value[: limit + 1] if isinstance(value, str) else ""


def _set_cookie(
    response: web.Response, site: StaffSite, name: str, value: str, max_age: int | None = None
) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no other site's form sends it), Secure
    when staff reach the site over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=site.settings.https,
    )


def _drop_cookie(response: web.Response, site: StaffSite, name: str) -> None:
    response.del_cookie(name, path="/", httponly=True, samesite="Lax", secure=site.settings.https)


def _csrf_refusal(request: web.Request) -> Forbidden:
    return Forbidden(translator(request)("error.csrf"), code="csrf")


def _sign_in_url(notice: str | None, next_path: str | None = None) -> URL:
    query = {"notice": notice} if notice else {}
    if next_path and next_path != "/":
        query["next"] = next_path
    return URL(SIGN_IN_PATH).with_query(query)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is signed in; the way to the sign-in page for those who are not; form tokens."""
    site = request.app[SITE]
    if (
        request.path in OPEN_PATHS
        or request.path.startswith((STATIC_PREFIX, LANGUAGE_PREFIX))
        or any(is_public(request) for is_public in site.public)
    ):
        return await handler(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    visitor = await signin.visitor(site, cookie, datetime.now(UTC))
    current = visitor.signed_in
    if current is not None:
        request[STAFF] = current.staff
        request[ACTIVE_SESSION] = current.session
        request[FORM_TOKEN] = form_token(site.form_key, SESSION_PURPOSE, current.session.token_hash)
    if request.path == SIGN_IN_PATH:
        return await handler(request)  # its views check the sign-in form's own token
    if current is None:
        # Opening the site is not a refusal worth a notice; a deeper link or a timeout is.
        notice = "expired" if visitor.expired else None if request.path == "/" else "required"
        response = see_other(
            _sign_in_url(notice, request.path_qs if request.method in ("GET", "HEAD") else None)
        )
        if cookie is not None:
            _drop_cookie(response, site, SESSION_COOKIE)
        return response
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if _is_upload(request):
            return await handler(request)  # its first field, the token, is checked as it streams
        form = await request.post()
        presented = form.get(FORM_FIELD)
        if not form_token_valid(
            site.form_key,
            SESSION_PURPOSE,
            current.session.token_hash,
            presented if isinstance(presented, str) else None,
        ):
            log.warning("web.form_token_refused", path=request.path, user=current.staff.username)
            raise _csrf_refusal(request)
    return await handler(request)


def _is_upload(request: web.Request) -> bool:
    """A multipart form to a route that reads its token first (see :mod:`office.web.forms`);
    a multipart post anywhere else is read by ``post()`` and checked here."""
    route = request.match_info.route
    return request.content_type == "multipart/form-data" and bool(
        route.name and route.name.endswith(UPLOAD_SUFFIX)
    )


def upload_token_check(request: web.Request) -> Callable[[str], bool]:
    """What an upload handler checks the streamed token with: this session's form token."""
    site, session = request.app[SITE], request[ACTIVE_SESSION]
    return lambda token: form_token_valid(site.form_key, SESSION_PURPOSE, session.token_hash, token)


def _sign_in_form(
    request: web.Request,
    nonce: str,
    *,
    notice: str | None = None,
    refusal: str | None = None,
    username: str = "",
    next_path: str = "/",
) -> web.Response:
    site = request.app[SITE]
    request[FORM_TOKEN] = form_token(site.form_key, SIGN_IN_PURPOSE, nonce)
    response = render(
        request,
        "web/signin.html",
        {
            "title": translator(request)("signin.title"),
            "notice": notice,
            "refusal": refusal,
            "username": username,
            "next_path": next_path,
        },
    )
    if request.cookies.get(SIGN_IN_COOKIE) != nonce:
        _set_cookie(response, site, SIGN_IN_COOKIE, nonce, max_age=SIGN_IN_COOKIE_SECONDS)
    return response


def _sign_in_nonce(request: web.Request) -> str | None:
    nonce = request.cookies.get(SIGN_IN_COOKIE)
    return nonce if nonce is not None and well_formed(nonce) else None


async def sign_in_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if STAFF in request:
        return see_other(next_path)
    notice = request.query.get("notice")
    return _sign_in_form(
        request,
        _sign_in_nonce(request) or new_token(),
        notice=notice if notice in NOTICES else None,
        next_path=next_path,
    )


def _refusal_message(translate: Translator, outcome: SignInOutcome, now: datetime) -> str:
    assert outcome.refusal is not None
    if outcome.refusal == LOCKED:
        until = outcome.locked_until or now
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        return translate("signin.refused.locked", minutes=minutes)
    return translate(f"signin.refused.{outcome.refusal}")


async def sign_in_submit(request: web.Request) -> web.Response:
    site = request.app[SITE]
    form = await request.post()
    nonce = _sign_in_nonce(request)
    presented = form.get(FORM_FIELD)
    if nonce is None or not form_token_valid(
        site.form_key, SIGN_IN_PURPOSE, nonce, presented if isinstance(presented, str) else None
    ):
        log.warning("web.form_token_refused", path=request.path)
        raise _csrf_refusal(request)
    username = _text(form, "username", MAX_USERNAME)
    password = _text(form, "password", MAX_PASSWORD)
    code = _text(form, "totp", MAX_CODE)
    next_path = safe_next(form.get("next"))
    now = datetime.now(UTC)
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD or len(code) > MAX_CODE:
        username, password = "", ""  # refused below as a wrong sign-in; the input is not hashed
    address = client_address(request, site.settings.trusted_proxies)
    outcome, token = await signin.sign_in(
        site, username, password, code, address, now, replacing=request.get(ACTIVE_SESSION)
    )
    if outcome.staff is None or token is None:
        site.ledger.record(FAILED_SIGN_IN_KIND, unit=outcome.unit)
        log.info(
            "signin.refused",
            reason=outcome.refusal,
            user=outcome.username or None,
            address=address,
        )
        return _sign_in_form(
            request,
            nonce,
            refusal=_refusal_message(translator(request), outcome, now),
            username=username[:MAX_USERNAME],
            next_path=next_path,
        )
    site.ledger.record(ACCESS_KIND, unit=outcome.unit, user=outcome.username)
    log.info("signin.succeeded", user=outcome.username, unit=outcome.unit)
    request[STAFF] = outcome.staff  # the usage ledger counts this request as theirs
    response = see_other(next_path)
    _set_cookie(response, site, SESSION_COOKIE, token)
    _drop_cookie(response, site, SIGN_IN_COOKIE)
    return response


async def sign_out(request: web.Request) -> web.Response:
    site = request.app[SITE]
    await signin.sign_out(site, request[ACTIVE_SESSION])
    log.info("signout", user=request[STAFF].username)
    response = see_other(_sign_in_url("signed-out"))
    _drop_cookie(response, site, SESSION_COOKIE)
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get(SIGN_IN_PATH, sign_in_page, name="sign_in")
    app.router.add_post(SIGN_IN_PATH, sign_in_submit)
    app.router.add_post(SIGN_OUT_PATH, sign_out, name="sign_out")
