"""A failing statement, as a node meets it: its error and the log line show the SQL but never a
bound value, and a database too busy to answer in time is a retryable ``busy`` 503, not a 500.

The database is SQLite unless ``CONGVAN_TEST_DB=postgresql``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from config.database import create_engine, database_busy, database_url
from config.logging import configure_logging
from config.settings import LogSettings, Settings, parse_settings
from config.web import error_responses, request_context
from tests.conftest import SecretsSeen
from tests.support.databases import DatabasePool, using_postgresql

ClientFactory = Callable[[TestServer], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def settings(databases: DatabasePool, tmp_path: Path) -> Settings:
    """An empty database, fresh PostgreSQL or SQLite in ``tmp_path``; a writer kept waiting
    gives up after 300 ms (SQLite's busy timeout; on PostgreSQL the handler's lock timeout)."""
    document = {
        "node": {"name": "T", "units": ["T"]},
        "database": {"url": databases.new_url("err"), "busy_timeout_ms": 300},
    }
    return parse_settings(document, tmp_path, {})


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE probe (k VARCHAR(200) PRIMARY KEY)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def log_file(log_dir: Path) -> Iterator[Path]:
    """The node's JSON log for this test, in the folder the session's secrets guard reads."""
    path = log_dir / f"database-errors-{uuid.uuid4().hex[:8]}.log"
    structlog.contextvars.clear_contextvars()
    configure_logging(LogSettings(format="json", file=str(path)))
    yield path
    configure_logging(LogSettings(format="json", file=str(log_dir / "in-process.log")))


async def insert(engine: AsyncEngine, value: str) -> None:
    async with engine.begin() as connection:
        if using_postgresql():
            await connection.execute(text("SET LOCAL lock_timeout = '300ms'"))
        await connection.execute(text("INSERT INTO probe (k) VALUES (:k)"), {"k": value})


async def client_for(engine: AsyncEngine, aiohttp_client: ClientFactory) -> TestClient[Any, Any]:
    """A listener with the node's middleware whose one route writes its query's ``k``."""

    async def write(request: web.Request) -> web.Response:
        await insert(engine, request.query["k"])
        return web.json_response({"written": True})

    app = web.Application(middlewares=[request_context, error_responses])
    app.router.add_post("/write", write)
    server = TestServer(app)
    await server.start_server(access_log=None)
    return await aiohttp_client(server)


@asynccontextmanager
async def write_lock_held(settings: Settings) -> AsyncIterator[None]:
    """Another connection holds the write lock: ``BEGIN IMMEDIATE`` on SQLite, an exclusive
    table lock on PostgreSQL."""
    url = settings.database.url
    if url:
        holder = await asyncpg.connect(url)
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("LOCK TABLE probe IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            await transaction.rollback()
            await holder.close()
        return
    database = make_url(database_url(settings)).database
    assert database is not None
    sqlite_holder = sqlite3.connect(database, isolation_level=None)
    sqlite_holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        sqlite_holder.execute("ROLLBACK")
        sqlite_holder.close()


async def test_a_failing_statement_shows_no_bound_value_in_its_error_or_the_log(
    engine: AsyncEngine,
    aiohttp_client: ClientFactory,
    log_file: Path,
    secrets_seen: SecretsSeen,
) -> None:
    secret = f"mat-khau-{secrets.token_hex(12)}"
    secrets_seen.add(secret)
    await insert(engine, secret)
    with pytest.raises(IntegrityError) as raised:
        await insert(engine, secret)
    assert "INSERT INTO probe" in str(raised.value)
    assert secret not in str(raised.value)

    client = await client_for(engine, aiohttp_client)
    response = await client.post("/write", params={"k": secret})
    assert response.status == 500
    [failed] = [
        event
        for event in map(json.loads, log_file.read_text(encoding="utf-8").splitlines())
        if event["event"] == "http.failed"
    ]
    assert "IntegrityError" in failed["exception"] and "INSERT INTO probe" in failed["exception"]
    assert secret not in log_file.read_text(encoding="utf-8")


async def test_a_write_kept_waiting_by_a_lock_is_answered_busy_and_done_when_asked_again(
    settings: Settings, engine: AsyncEngine, aiohttp_client: ClientFactory
) -> None:
    client = await client_for(engine, aiohttp_client)
    async with write_lock_held(settings):
        refused = await client.post("/write", params={"k": "sau"})
        assert refused.status == 503
        assert (await refused.json())["error"] == "busy"
        assert int(refused.headers["Retry-After"]) > 0
    again = await client.post("/write", params={"k": "sau"})
    assert again.status == 200


def test_a_pool_with_no_free_connection_is_busy_and_a_broken_statement_is_not() -> None:
    assert database_busy(PoolTimeout("QueuePool limit of size 5 overflow 10 reached"))
    assert not database_busy(RuntimeError("a bug"))
    assert not database_busy(IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE")))


@pytest.mark.skipif(not using_postgresql(), reason="SQLite has no server to close a connection")
async def test_a_pooled_connection_the_server_closed_is_replaced_before_it_is_used(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with engine.connect() as connection:
        first = await connection.scalar(text("SELECT pg_backend_pid()"))
        driver = (await connection.get_raw_connection()).driver_connection
    closed = asyncio.Event()
    driver.add_termination_listener(lambda _connection: closed.set())
    admin = await asyncpg.connect(database_url(settings).replace("+asyncpg", ""))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", first)
    finally:
        await admin.close()
    # Until the event loop has read the server's goodbye (it does so between two requests).
    await asyncio.wait_for(closed.wait(), 30)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT pg_backend_pid()")) != first
