"""A consistent copy of a node's database while the node runs, and its way back.

SQLite: the online backup API copies the database in one read transaction, so the copy is the
database as of one moment even while the node writes (WAL: the reader blocks no writer).
PostgreSQL: ``pg_dump --format=custom`` reads in one repeatable-read snapshot; ``pg_restore``
loads it into an empty database in one transaction, so a failed restore leaves it empty.
The libpq tools get the password through ``PGPASSWORD``, never on their command line.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from config.database import DATABASE_FILE, database_url
from config.errors import Conflict, Invalid
from config.settings import Settings

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
DUMP_FILE = "congvan.pgdump"
#: Files SQLite keeps next to a database.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class DatabaseSnapshot:
    kind: str
    #: The copy, in the backup's work folder.
    path: Path
    #: The live database's files, which the backup must not copy as they are.
    live_files: tuple[Path, ...]


def database_kind(url: str) -> str:
    return SQLITE if not url or url.startswith("sqlite") else POSTGRESQL


def sqlite_file(settings: Settings) -> Path:
    return Path(database_url(settings).split(":///", 1)[1])


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A URL for pg_dump/pg_restore (no driver, no password) and the environment with the
    password."""
    parsed = make_url(url)
    password = parsed.password
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), (
        {"PGPASSWORD": str(password)} if password else {}
    )


async def snapshot_database(settings: Settings, work: Path) -> DatabaseSnapshot:
    kind = database_kind(settings.database.url)
    if kind == SQLITE:
        source = sqlite_file(settings)
        target = work / DATABASE_FILE
        timeout = settings.database.busy_timeout_ms / 1000
        await asyncio.to_thread(_copy_sqlite, source, target, timeout)
        live = (source, *(source.with_name(source.name + end) for end in SQLITE_COMPANIONS))
        return DatabaseSnapshot(kind, target, live)
    target = work / DUMP_FILE
    await _libpq_tool("pg_dump", settings.database.url, "--format=custom", f"--file={target}")
    return DatabaseSnapshot(kind, target, ())


def _copy_sqlite(source: Path, target: Path, timeout: float) -> None:
    if not source.exists():
        raise Invalid(f"no database at {source}", code="no-database")
    reader = sqlite3.connect(source, timeout=timeout)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer)  # all pages in one step: one read transaction
            # A plain file on its own, without a -wal beside it, whatever the source's mode.
            writer.execute("PRAGMA journal_mode=DELETE")
        finally:
            writer.close()
    finally:
        reader.close()


async def restore_sqlite(snapshot: Path, target: Path) -> None:
    if target.exists():
        raise Conflict(f"{target} exists: restore into a new database file")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    await asyncio.to_thread(snapshot.replace, target)
    target.chmod(0o600)


async def restore_postgresql(dump: Path, url: str) -> None:
    """Load ``dump`` into the database at ``url``, which must have no tables."""
    tables = await _tables(url)
    if tables:
        raise Conflict(
            f"the database for the restore is not empty ({len(tables)} tables, e.g. {tables[0]}): "
            "create a new, empty database and give it with --database-url",
            code="database-not-empty",
        )
    await _libpq_tool(
        "pg_restore",
        url,
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        str(dump),
    )


async def _tables(url: str) -> list[str]:
    engine = create_async_engine(
        make_url(url).set(drivername="postgresql+asyncpg"), hide_parameters=True
    )
    try:
        async with engine.connect() as connection:

            def names(sync: Connection) -> list[str]:
                return list(inspect(sync).get_table_names())

            return await connection.run_sync(names)
    except OSError as error:
        raise Invalid(f"cannot reach the database for the restore: {error}") from error
    finally:
        await engine.dispose()


async def _libpq_tool(tool: str, url: str, *args: str) -> None:
    target, environment = libpq(url)
    process = await asyncio.create_subprocess_exec(
        tool,
        "--no-password",
        *args,
        f"--dbname={target}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**_base_environment(), **environment},
    )
    _out, errors = await process.communicate()
    if process.returncode != 0:
        lines = errors.decode("utf-8", "replace").strip().splitlines() or ["(no message)"]
        raise Invalid(f"{tool} failed: {lines[-1]}", code=f"{tool.replace('_', '-')}-failed")


def _base_environment() -> dict[str, str]:
    # Only what the tool needs to run; no PG* variable of the caller's points it elsewhere.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}
