"""Migrations walk up and down on the database under test and end where the models say.

The database is SQLite unless ``CONGVAN_TEST_DB=postgresql``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

import exchange.models  # noqa: F401 - registers the exchange layer's tables on Base.metadata
import keys.models  # noqa: F401 - registers the keys layer's tables on Base.metadata
import mailgw.models  # noqa: F401 - registers the gateway's tables on Base.metadata
import office.documents.models
import office.reports.models
import office.schedules.models
import office.web.models  # noqa: F401 - registers the web sessions and forms on Base.metadata
from config import migrate
from config.database import Base, create_engine
from config.settings import Settings, load_settings, parse_settings
from tests.support.cli import Cli
from tests.support.databases import DatabasePool, using_postgresql

VERSION_TABLE = "alembic_version"
#: The document search index: made by migration 0010 only, its shape differing per database (on
#: SQLite an FTS5 table and the shadow tables FTS5 keeps beside it), so no model describes it.
SEARCH_TABLES = {"document_search"} | (
    set()
    if using_postgresql()
    else {f"document_search_{shadow}" for shadow in ("data", "idx", "config", "content")}
)
MODEL_TABLES = set(Base.metadata.tables) | SEARCH_TABLES


@pytest.fixture
def settings(databases: DatabasePool, tmp_path: Path) -> Settings:
    """Settings for an empty database: a fresh PostgreSQL one, or SQLite in ``tmp_path``."""
    url = databases.new_url("mig")
    document = {"node": {"name": "T", "units": ["T"]}, "database": {"url": url}}
    return parse_settings(document, tmp_path, {})


@pytest.fixture
async def engine(settings: Settings) -> Any:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


def snapshot(connection: Connection) -> dict[str, Any]:
    """What a migration changes: tables, their columns, keys, indexes and constraints."""
    inspector = inspect(connection)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "columns": [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (index["name"], tuple(index["column_names"]))
                for index in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)
            ),
        }
    return schema


async def schema_of(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as connection:
        return await connection.run_sync(snapshot)


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection)
    found = compare_metadata(context, Base.metadata)
    unmodelled = {VERSION_TABLE} | SEARCH_TABLES
    return [diff for diff in found if not any(name in repr(diff) for name in unmodelled)]


def test_the_revisions_form_one_line_from_the_first_to_the_head() -> None:
    revisions = migrate.all_revisions()
    assert revisions, "no migrations found"
    assert revisions[-1] == migrate.head_revision()
    assert len(set(revisions)) == len(revisions)


def test_the_start_reads_the_head_from_the_scripts_text_as_alembic_does() -> None:
    """A node's start reads the head without Alembic (nor ``ast``): every script of ours is in
    the form that reader knows, so it never falls back to Alembic."""
    assert migrate._heads_from_source() == [migrate.all_revisions()[-1]]


async def test_every_revision_upgrades_and_downgrades_one_step_at_a_time(
    engine: AsyncEngine,
) -> None:
    revisions = migrate.all_revisions()
    assert await migrate.current_revision(engine) is None
    assert await schema_of(engine) == {}

    schemas: dict[str, dict[str, Any]] = {"base": await schema_of(engine)}
    for revision in revisions:
        await migrate.upgrade(engine, revision)
        assert await migrate.current_revision(engine) == revision
        schemas[revision] = await schema_of(engine)
        previous = schemas[list(schemas)[-2]]
        assert schemas[revision] != previous, f"revision {revision} changed nothing"
    assert set(schemas[revisions[-1]]) == MODEL_TABLES | {VERSION_TABLE}

    for revision, below in zip(
        reversed(revisions), reversed(["base", *revisions[:-1]]), strict=True
    ):
        await migrate.downgrade(engine, below)
        assert await migrate.current_revision(engine) == (None if below == "base" else below)
        schema = await schema_of(engine)
        if below == "base":
            # Alembic keeps its (now empty) version table.
            assert set(schema) <= {VERSION_TABLE}, f"left behind by {revision}: {set(schema)}"
        else:
            assert schema == schemas[below], f"downgrading {revision} did not restore {below}"

    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await schema_of(engine) == schemas[revisions[-1]]


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        found = await connection.run_sync(differences)
    assert found == []


async def test_the_model_comparison_notices_a_missing_table_and_index(engine: AsyncEngine) -> None:
    """Guards the test above: the comparison is not vacuous on this database."""
    await migrate.upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(text("DROP INDEX ix_certificates_owner"))
        await connection.execute(text("DROP TABLE app_passwords"))
    async with engine.connect() as connection:
        found = await connection.run_sync(differences)
    summary = sorted((diff[0], diff[1].name) for diff in found)
    assert summary == [
        ("add_index", "ix_app_passwords_user_id"),
        ("add_index", "ix_certificates_owner"),
        ("add_index", "uq_app_passwords_active_label"),
        ("add_table", "app_passwords"),
    ]


async def test_upgrading_a_database_at_head_changes_nothing(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    before = await schema_of(engine)
    await migrate.upgrade(engine)
    assert await schema_of(engine) == before
    assert await migrate.current_revision(engine) == migrate.head_revision()


@pytest.mark.skipif(using_postgresql(), reason="SQLite pragmas")
async def test_sqlite_connections_enforce_foreign_keys_and_use_wal(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        journal_mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        busy_timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert foreign_keys == 1
    assert journal_mode.lower() == "wal"
    assert busy_timeout == 10_000


@pytest.mark.skipif(using_postgresql(), reason="SQLite foreign keys")
async def test_sqlite_refuses_a_row_that_breaks_a_foreign_key(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO units (code, name, kind, node_name, mail_domain) "
                    "VALUES ('X', 'X', 'district', 'NO-SUCH-NODE', 'x.example')"
                )
            )


@pytest.mark.skipif(not using_postgresql(), reason="PostgreSQL only")
def test_the_database_under_test_is_postgresql(settings: Settings) -> None:
    assert settings.database.url.startswith("postgresql://")


def test_db_downgrade_and_upgrade_work_on_a_node_made_by_init(
    cli: Cli, databases: DatabasePool, tmp_path: Path
) -> None:
    node_dir = tmp_path / "node"
    args: list[str | Path] = ["init", "--dir", node_dir, "--node", "T", "--unit", "T"]
    url = databases.new_url("cli")
    if url:
        args += ["--database-url", url]
    cli(*args)
    head = migrate.head_revision()

    down = cli("db", "downgrade", "base", "--dir", node_dir)
    assert down.stdout == "database at base\n"
    assert set(table_names(load_settings(node_dir, {}))) <= {VERSION_TABLE}

    up = cli("db", "upgrade", "--dir", node_dir)
    assert up.stdout == f"database at {head}\n"
    assert set(table_names(load_settings(node_dir, {}))) == MODEL_TABLES | {VERSION_TABLE}


def table_names(settings: Settings) -> list[str]:
    async def names() -> list[str]:
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        finally:
            await engine.dispose()

    return asyncio.run(names())
