"""Fresh databases for tests: SQLite by default, PostgreSQL when CONGVAN_TEST_DB=postgresql."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg

TEST_DB = os.environ.get("CONGVAN_TEST_DB", "sqlite")
PG_SERVER = os.environ.get("CONGVAN_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")


def using_postgresql() -> bool:
    if TEST_DB not in {"sqlite", "postgresql"}:
        raise RuntimeError(f"CONGVAN_TEST_DB={TEST_DB!r}: use sqlite or postgresql")
    return TEST_DB == "postgresql"


def _server_url(database: str) -> str:
    return PG_SERVER.rsplit("/", 1)[0] + "/" + database


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_SERVER)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class DatabasePool:
    """Creates PostgreSQL databases on demand and drops them all at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def new_url(self, hint: str = "") -> str:
        """A URL for ``congvan init --database-url``: empty means SQLite in the node folder."""
        if not using_postgresql():
            return ""
        name = f"cv_{uuid.uuid4().hex[:10]}{'_' + hint if hint else ''}".lower().replace("-", "_")
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return _server_url(name)

    def new_template(self, node_names: list[str]) -> str:
        """A ``{node}`` URL template for ``congvan demo --database-url``, databases made."""
        if not using_postgresql():
            return ""
        prefix = f"cv_{uuid.uuid4().hex[:10]}_"
        for node in node_names:
            name = prefix + node.lower().replace("-", "_")
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
            self.created.append(name)
        return _server_url(prefix + "{node}")

    def copy_of(self, url: str) -> str:
        """A new database made from the one at ``url`` (``CREATE DATABASE … TEMPLATE``), which
        nothing may be connected to: per-test copies of a database the CLI built once."""
        name = f"cv_{uuid.uuid4().hex[:10]}_{url.rsplit('/', 1)[1]}"[:63]
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}"'))
        self.created.append(name)
        return _server_url(name)

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.clear()
