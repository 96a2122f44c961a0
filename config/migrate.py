"""Alembic migrations, run programmatically on the node's async engine.

``congvan db upgrade`` and ``congvan init`` call :func:`upgrade`; tests walk every revision up
and down on SQLite and PostgreSQL.

Alembic is imported only to migrate. A node checks its schema at every start
(:func:`current_revision` against :func:`head_revision`) without it: Alembic brings Mako and
every SQLAlchemy dialect with it, some 8 MiB of a node's resident memory for two strings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import column, inspect, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # lazily: see the module's docstring

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command  # lazily: see the module's docstring

    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command  # lazily: see the module's docstring

    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


def _stamped_revision(connection: Connection) -> str | None:
    """What Alembic's ``MigrationContext.get_current_revision`` answers, read directly."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = table(VERSION_TABLE, column("version_num"))
    stamped = connection.execute(select(versions.c.version_num)).scalars().all()
    if len(stamped) > 1:
        raise RuntimeError(f"{VERSION_TABLE} names more than one head: {sorted(stamped)}")
    return str(stamped[0]) if stamped else None


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_stamped_revision)


#: A top-level ``revision = "…"`` or ``down_revision = "…"`` (or ``None``), as every script
#: of ours and Alembic's template write them.
_ASSIGNMENT = re.compile(
    r'^(revision|down_revision)(?:\s*:\s*[^=\n]+)?\s*=\s*(?:"([^"\n]*)"|\'([^\'\n]*)\'|(None))\s*$',
    re.MULTILINE,
)


def _heads_from_source() -> list[str] | None:
    """The revisions no other revision follows, read from the scripts' text without running
    them; None when a script is not in the plain form this reader knows. A pattern, not
    ``ast.parse``: CPython 3.11's AST conversion keeps its recursion depth per interpreter, so
    a parse at a node's start raced one in another thread (pytest rewriting a module imported
    there) and failed with "AST constructor recursion depth mismatch" (CPython gh-106905)."""
    follows: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        if path.name == "__init__.py":
            continue
        found: dict[str, list[str | None]] = {"revision": [], "down_revision": []}
        for match in _ASSIGNMENT.finditer(path.read_text(encoding="utf-8")):
            name, double, single, _none = match.groups()
            found[name].append(double if double is not None else single)
        revisions, downs = found["revision"], found["down_revision"]
        if len(revisions) != 1 or len(downs) != 1 or revisions[0] is None:
            return None
        revision, down = revisions[0], downs[0]
        follows[revision] = () if down is None else (down,)
    superseded = {d for downs in follows.values() for d in downs}
    return [revision for revision in follows if revision not in superseded]


def head_revision() -> str | None:
    heads = _heads_from_source()
    if heads is not None and len(heads) == 1:
        return heads[0]
    # Anything unusual (no scripts, a branch, a script this reader cannot follow): Alembic
    # decides, and raises as it always did.
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def all_revisions() -> list[str]:
    """Every revision from the first to the head, in order."""
    from alembic.script import ScriptDirectory  # lazily: see the module's docstring

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]
