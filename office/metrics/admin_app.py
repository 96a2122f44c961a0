"""The admin listener: ``/metrics`` for Prometheus, ``/healthz`` and ``/readyz`` for probes.

It has no sign-in: bind it to loopback or the admin network only (``[admin] host``). The staff
web app keeps its own ``/healthz``; nothing here is served on the staff or the peer port.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import hdrs, web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.errors import PeerRefused
from keys.revocation import RevocationChecker
from office.metrics.counters import ProcessCounters
from office.metrics.exposition import render
from office.metrics.snapshot import take_snapshot

#: How long ``/readyz`` waits for the database before calling the node not ready.
DATABASE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class AdminView:
    """What the admin handlers read: the node's database, its CRL, this process's counts."""

    sessions: async_sessionmaker[AsyncSession]
    revocation: RevocationChecker
    counters: ProcessCounters


ADMIN = web.AppKey("admin", AdminView)


async def metrics(request: web.Request) -> web.Response:
    view = request.app[ADMIN]
    snapshot = await take_snapshot(view.sessions, view.revocation, view.counters)
    body, content_type = render(snapshot, request.headers.get(hdrs.ACCEPT, ""))
    return web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type})


async def healthz(_request: web.Request) -> web.Response:
    """The process is alive and its loop answers."""
    return web.Response(text="ok\n")


async def database_problem(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), sessions() as session:
            await session.execute(text("SELECT 1"))
    except TimeoutError:
        return f"database: no answer within {DATABASE_TIMEOUT_SECONDS:g} s"
    except (SQLAlchemyError, OSError) as error:
        return f"database: {type(error).__name__}"
    return None


def crl_problem(revocation: RevocationChecker, now: datetime) -> str | None:
    """What keeps the CRL from being used: peers are refused (fail closed) until it is fixed."""
    try:
        next_update = revocation.next_update()
    except PeerRefused as refusal:
        return f"crl: {refusal.code}: {refusal.message}"
    except ValueError:
        return "crl: not a CRL"
    if next_update < now:
        return f"crl: past its next update ({next_update.isoformat(timespec='seconds')})"
    return None


async def readyz(request: web.Request) -> web.Response:
    """200 when the node can do its work: the database answers and the CRL is current."""
    view = request.app[ADMIN]
    problems = [
        problem
        for problem in (
            await database_problem(view.sessions),
            crl_problem(view.revocation, datetime.now(UTC)),
        )
        if problem is not None
    ]
    if problems:
        return web.Response(status=503, text="not ready\n" + "".join(f"{p}\n" for p in problems))
    return web.Response(text="ready\n")


def create_admin_app(
    sessions: async_sessionmaker[AsyncSession],
    revocation: RevocationChecker,
    counters: ProcessCounters,
) -> web.Application:
    app = web.Application()
    app[ADMIN] = AdminView(sessions, revocation, counters)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
