"""The node's SQLite connections make one trip to their thread per statement
(:mod:`config.sqlite_trips`) and still behave as aiosqlite's: every row of a result longer than
one trip reads, streamed or not, counts and returned keys are right, and a failed statement
leaves the connection usable. SQLite only: PostgreSQL is driven by asyncpg.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from config.database import create_engine
from config.settings import parse_settings
from config.sqlite_trips import PREFETCH, OneTripConnection
from tests.support.databases import using_postgresql

pytestmark = pytest.mark.skipif(using_postgresql(), reason="SQLite's driver only")
#: More rows than three trips' worth: a read goes back to the thread for the rest.
ROWS = 3 * PREFETCH + 1


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    settings = parse_settings({"node": {"name": "T", "units": ["T"]}}, tmp_path, {})
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        await connection.execute(
            text("INSERT INTO t (v) VALUES (:v)"), [{"v": f"v{n}"} for n in range(ROWS)]
        )
    yield engine
    await engine.dispose()


async def test_the_engine_opens_one_trip_connections(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, OneTripConnection)


async def test_a_result_longer_than_one_trip_is_read_whole(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        values = (await connection.scalars(text("SELECT v FROM t ORDER BY k"))).all()
    assert values == [f"v{n}" for n in range(ROWS)]


async def test_a_streamed_result_gives_every_row_once(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        streamed = await connection.stream_scalars(text("SELECT k FROM t ORDER BY k"))
        keys = [key async for key in streamed]
        # The connection is free again: the stream's cursor was closed when it ran out.
        assert await connection.scalar(text("SELECT count(*) FROM t")) == ROWS
    assert keys == list(range(1, ROWS + 1))


async def test_a_stream_left_part_read_is_closed_with_its_connection(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        streamed = await connection.stream_scalars(text("SELECT k FROM t ORDER BY k"))
        first = [await streamed.__anext__() for _ in range(PREFETCH + 2)]
        await streamed.close()
        assert await connection.scalar(text("SELECT max(k) FROM t")) == ROWS
    assert first == list(range(1, PREFETCH + 3))


async def test_changes_count_their_rows_and_return_their_keys(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        updated = await connection.execute(text("UPDATE t SET v = v || 'x' WHERE k <= 10"))
        returned = await connection.scalars(text("INSERT INTO t (v) VALUES ('new') RETURNING k"))
        assert updated.rowcount == 10
        assert returned.all() == [ROWS + 1]


async def test_a_failed_statement_leaves_the_connection_usable(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (v) VALUES ('v1')"))
        await connection.rollback()
        assert await connection.scalar(text("SELECT k FROM t WHERE v = 'v1'")) == 2
