"""The staff web listener. For now: ``/healthz``; the e-office pages arrive with later issues."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.logging import get_logger
from config.web import error_responses, request_context

SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
NODE_NAME = web.AppKey("node_name", str)

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


def create_web_app(node_name: str, sessions: async_sessionmaker[AsyncSession]) -> web.Application:
    app = web.Application(middlewares=[request_context, error_responses])
    app[NODE_NAME] = node_name
    app[SESSIONS] = sessions
    app.router.add_get("/healthz", healthz)
    return app
