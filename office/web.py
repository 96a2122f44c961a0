"""The staff web listener. For now: ``/healthz``; the e-office pages arrive with later issues."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.logging import get_logger
from config.web import error_responses, request_context
from exchange.ledger import UsageLedger

SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
NODE_NAME = web.AppKey("node_name", str)
LEDGER = web.AppKey("ledger", UsageLedger)

log = get_logger("congvan.web")


async def healthz(request: web.Request) -> web.Response:
    """Alive and able to reach its database."""
    try:
        async with request.app[SESSIONS]() as session:
            await session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.error("health.database_unreachable", error=type(error).__name__)
        return web.json_response(
            {"status": "error", "node": request.app[NODE_NAME], "database": "unreachable"},
            status=503,
        )
    return web.json_response({"status": "ok", "node": request.app[NODE_NAME], "database": "ok"})


@web.middleware
async def count_usage(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every staff request is an access in the usage ledger, with the bytes it answered."""
    response = await handler(request)
    size = response.content_length or len(getattr(response, "body", b"") or b"")
    request.app[LEDGER].record("web", size=size)
    return response


def create_web_app(
    node_name: str, sessions: async_sessionmaker[AsyncSession], ledger: UsageLedger
) -> web.Application:
    app = web.Application(middlewares=[request_context, error_responses, count_usage])
    app[NODE_NAME] = node_name
    app[SESSIONS] = sessions
    app[LEDGER] = ledger
    app.router.add_get("/healthz", healthz)
    return app
