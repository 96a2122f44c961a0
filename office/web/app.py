"""The staff web listener: the e-office pages (server-rendered, no JavaScript needed) and
``/healthz``.

Middlewares, outermost first: a request id and one log line per request; JSON for bugs;
security headers; the usage ledger; refusals as Vietnamese pages; the session check; the
signed-in user's unread mail count for the menu.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import reading_sessions
from config.errors import CongvanError
from config.logging import get_logger
from config.settings import WebSettings
from config.web import error_responses, request_context
from exchange.ledger import UsageLedger
from keys.sealing import SecretBox
from mailgw.gateway import MailGateway
from office.web import auth, language
from office.web.feature import Feature
from office.web.language import choose_language
from office.web.messages import translators
from office.web.rendering import STATIC_DIR, STATIC_PREFIX, error_page, setup_templates
from office.web.sessions import form_key
from office.web.site import SITE, STAFF, StaffSite, translator

log = get_logger("congvan.web")

#: No script runs; styles and images come from this site; no other site may frame a page or
#: receive a form.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; object-src 'none'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HSTS_SECONDS = 365 * 24 * 3600


async def healthz(request: web.Request) -> web.Response:
    """Alive and able to reach its database."""
    site = request.app[SITE]
    try:
        async with site.sessions() as session:
            await session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.error("health.database_unreachable", error=type(error).__name__)
        return web.json_response(
            {"status": "error", "node": site.node_name, "database": "unreachable"},
            status=503,
        )
    return web.json_response({"status": "ok", "node": site.node_name, "database": "ok"})


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith(STATIC_PREFIX):
        # Pages show what only the signed-in user may see: no cache keeps them.
        headers.setdefault("Cache-Control", "no-store")
    if request.app[SITE].settings.https:
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    return response


@web.middleware
async def count_usage(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every staff request is an access in the usage ledger, with the bytes it answered and,
    once signed in, the user and their unit. Style sheets and images are not accesses."""
    response = await handler(request)
    if request.path.startswith(STATIC_PREFIX):
        return response
    size = response.content_length or len(getattr(response, "body", b"") or b"")
    staff = request.get(STAFF)
    request.app[SITE].ledger.record(
        "web",
        unit=staff.unit if staff else "",
        user=staff.username if staff else "",
        size=size,
    )
    return response


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals and unknown pages as Vietnamese pages (``config.web.error_responses`` answers
    JSON, for the peer API)."""
    translate = translator(request)
    try:
        return await handler(request)
    except CongvanError as error:
        log.warning("http.refused", code=error.code, reason=error.message)
        title_key = f"error.{error.code}.title"
        title = translate(title_key if title_key in translate.catalogue else "error.title")
        return error_page(request, error.http_status, title, translate.refusal(error))
    except web.HTTPNotFound:
        return error_page(
            request, 404, translate("error.not-found.title"), translate("error.not-found")
        )
    except web.HTTPMethodNotAllowed as error:
        page = error_page(request, 405, translate("error.method.title"), translate("error.method"))
        page.headers["Allow"] = error.headers.get("Allow", "")
        return page


def create_web_app(
    node_name: str,
    sessions: async_sessionmaker[AsyncSession],
    ledger: UsageLedger,
    settings: WebSettings,
    passphrase: bytes,
    features: Sequence[Feature],
    *,
    hosted_units: tuple[str, ...] = (),
    mail: MailGateway | None = None,
    ca_pem: bytes = b"",
) -> web.Application:
    """The staff application with ``features``' pages; ``passphrase`` (the node's) opens TOTP
    secrets and keys the form tokens, so every process of the node accepts the others' forms;
    the administrator manages the accounts of ``hosted_units``. The caller puts the services
    the features' pages use under their keys (the document desk, the reports) before serving."""
    site = StaffSite(
        node_name=node_name,
        sessions=sessions,
        reads=reading_sessions(sessions),
        ledger=ledger,
        settings=settings,
        box=SecretBox(passphrase, node_name),
        form_key=form_key(passphrase, node_name),
        translators=translators(feature.messages for feature in features),
        hosted_units=hosted_units,
        mail=mail,
        ca_pem=ca_pem,
        public=tuple(feature.is_public for feature in features if feature.is_public),
        sections=tuple(
            sorted(
                (section for feature in features for section in feature.sections),
                key=lambda section: section.position,
            )
        ),
    )
    app = web.Application(
        middlewares=[
            request_context,
            error_responses,
            security_headers,
            count_usage,
            choose_language,
            error_pages,
            auth.authenticate,
            *(middleware for feature in features for middleware in feature.middlewares),
        ]
    )
    app[SITE] = site
    setup_templates(
        app, site.translate, [feature.name for feature in features if feature.has_templates]
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR, name="static")
    auth.add_routes(app)
    language.add_routes(app)
    for feature in features:
        feature.add_routes(app)
    return app
