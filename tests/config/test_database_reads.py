"""Sessions for pages that only read (:func:`config.database.reading_sessions`): on PostgreSQL
each statement is its own transaction, with no BEGIN or ROLLBACK around it; on SQLite they are
the node's own sessions.

The database is SQLite unless ``CONGVAN_TEST_DB=postgresql``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import create_engine, create_session_factory, reading_sessions
from config.settings import Settings, parse_settings
from tests.support.databases import DatabasePool, using_postgresql

#: The id of the transaction the statement runs in.
TRANSACTION = text("SELECT pg_current_xact_id()::text")


@pytest.fixture
def settings(databases: DatabasePool, tmp_path: Path) -> Settings:
    document = {"node": {"name": "T", "units": ["T"]}, "database": {"url": databases.new_url()}}
    return parse_settings(document, tmp_path, {})


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.mark.skipif(not using_postgresql(), reason="PostgreSQL's round trips")
async def test_each_read_on_postgresql_is_a_transaction_of_its_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with reading_sessions(sessions)() as session:
        assert await session.scalar(TRANSACTION) != await session.scalar(TRANSACTION)
    # The node's own sessions still hold one transaction from their first statement on.
    async with sessions() as session:
        assert await session.scalar(TRANSACTION) == await session.scalar(TRANSACTION)


@pytest.mark.skipif(using_postgresql(), reason="SQLite's sessions")
async def test_sqlite_reads_through_the_nodes_own_sessions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert reading_sessions(sessions) is sessions
