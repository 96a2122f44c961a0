"""The database: one declarative ``Base`` for every layer, the engine and the session factory.

SQLite (a file in the node directory, WAL, foreign keys on, a busy timeout) is the default;
PostgreSQL is chosen by URL and driven through asyncpg.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from config.settings import Settings
from config.sqlite_trips import OneTripConnection

DATABASE_FILE = "congvan.db"
#: The most SQLite connections a node's engine holds at once.
SQLITE_CONNECTIONS = 15
#: SQLite's primary result codes for "another connection holds the lock": SQLITE_BUSY (the
#: busy timeout ran out) and SQLITE_LOCKED.
SQLITE_BUSY_CODES = frozenset({5, 6})
#: PostgreSQL's SQLSTATEs for "not now": serialization_failure, deadlock_detected,
#: lock_not_available (a lock timeout) and too_many_connections.
POSTGRESQL_BUSY_STATES = frozenset({"40001", "40P01", "55P03", "53300"})

#: Constraint names fixed by convention, so migrations can drop them by name on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base; each layer's models subclass it."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no time zone; without this a value would come back naive on one database and
    aware on the other.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL with its async driver: the node's SQLite file unless one is set."""
    url = settings.database.url
    if not url:
        return f"sqlite+aiosqlite:///{settings.node_dir / DATABASE_FILE}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def create_engine(settings: Settings) -> AsyncEngine:
    """The node's engine. A failing statement's error (and ``echo``) shows the SQL but never
    its bound values: they are passwords' hashes, TOTP secrets, document titles and mail."""
    url = database_url(settings)
    options: dict[str, Any] = {"echo": settings.database.echo, "hide_parameters": True}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": settings.database.busy_timeout_ms / 1000}
        # As many as SQLAlchemy's default allows at once (5 kept, 10 more while busy), all
        # kept once opened: a connection opened for a busy moment and closed after it cost a
        # thread's start, the pragmas and a read of the schema at its first statement, and a
        # node receiving 10 KB dispatches opened one every four dispatches (issue 23).
        options["pool_size"], options["max_overflow"] = SQLITE_CONNECTIONS, 0
    else:
        options["pool_size"] = settings.database.pool_size
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "handle_error", _drop_driver_detail)
    if engine.dialect.name == "postgresql":
        event.listen(engine.sync_engine, "checkout", _refuse_closed)
    if engine.dialect.name == "sqlite":
        _one_trip_per_statement(engine)
        _tune_sqlite(engine, settings.database.busy_timeout_ms)
    return engine


def _one_trip_per_statement(engine: AsyncEngine) -> None:
    """Open SQLite connections as :class:`~config.sqlite_trips.OneTripConnection`, with the
    arguments SQLAlchemy made of the URL and ``connect_args``."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def connect(dialect: Dialect, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        def opened() -> OneTripConnection:
            return OneTripConnection(partial(sqlite3.connect, *cargs, **cparams))

        return dialect.loaded_dbapi.connect(async_creator_fn=opened)


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has closed (a restart, an administrator's
    ``pg_terminate_backend``, an idle timeout) is replaced before anyone uses it.

    asyncpg marks a connection closed as soon as the event loop reads the server's goodbye, so
    asking costs no round trip, where a ping (``pool_pre_ping``) cost three at every checkout
    (BEGIN, an empty statement, ROLLBACK): nine of a register page's twenty, each a wake-up of
    a server process, which on a loaded machine waits for a core (issue 23).
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _drop_driver_detail(context: ExceptionContext) -> None:
    """PostgreSQL's DETAIL quotes the row a statement failed on (``Key (username)=(…) already
    exists``), and asyncpg's exception prints it. That exception is the cause the error chains
    to, so any traceback would show it: it is left out of the chain (the error keeps the
    server's message, the SQL and the traceback down to the driver)."""
    context.original_exception.__cause__ = None
    context.original_exception.__suppress_context__ = True


def _tune_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def database_busy(error: BaseException) -> bool:
    """The database could not do it now, and the same request would succeed a little later:
    a lock held too long, a pool with no free connection, a serialization failure. Anything
    else (a constraint, a bug, a database that is down) is not "busy"."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    cause = error.orig
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in SQLITE_BUSY_CODES
    return getattr(cause, "sqlstate", None) in POSTGRESQL_BUSY_STATES


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def reading_sessions(
    sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions, from the same pool, for a page that only reads: on PostgreSQL without a
    transaction (each statement stands alone, ``begin()`` writes nothing atomically), so a
    session of one statement is one round trip instead of three (BEGIN, it, ROLLBACK). On a
    loaded machine each trip waits for a server process to get a core: a register page made
    ten (issue 23). SQLite has no trips to save (and begins no transaction to read anyway):
    there, the sessions themselves."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        return sessions
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """An engine for one command's lifetime; disposed on the way out."""
    engine = create_engine(settings)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def transaction(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One session in one transaction on a database opened for it: committed when the block
    ends, rolled back when it raises, so a command refused half-way writes nothing."""
    async with open_database(settings) as sessions, sessions() as session, session.begin():
        yield session
