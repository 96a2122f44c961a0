"""``run_in`` with a ``transaction``, the body the commands on the database share: what it
returns is theirs to print after the commit; a command refused half-way writes nothing and exits
with ``fail``'s line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from config.cli import run_in
from config.database import transaction
from config.errors import ConfigError, Conflict
from config.settings import Settings, parse_settings
from tests.support.databases import DatabasePool


@pytest.fixture
def settings(databases: DatabasePool, tmp_path: Path) -> Settings:
    """A node whose database holds one table of its own, ``probe``."""
    url = databases.new_url("cli")
    node = parse_settings(
        {"node": {"name": "T", "units": ["T"]}, "database": {"url": url}}, tmp_path, {}
    )
    run_in(transaction(node), lambda session: session.execute(text("CREATE TABLE probe (v TEXT)")))
    return node


def probes(settings: Settings) -> list[str]:
    return list(run_in(transaction(settings), lambda s: s.scalars(text("SELECT v FROM probe"))))


async def insert(session: AsyncSession, value: str) -> None:
    await session.execute(text("INSERT INTO probe (v) VALUES (:v)"), {"v": value})


def test_the_work_is_committed_and_its_result_returned(settings: Settings) -> None:
    async def work(session: AsyncSession) -> str:
        await insert(session, "kept")
        return "done"

    assert run_in(transaction(settings), work) == "done"
    assert probes(settings) == ["kept"]


@pytest.mark.parametrize(
    ("error", "line", "status"),
    [
        (Conflict("taken"), "error: taken", 1),
        (ConfigError("config error: bad"), "config error: bad", 2),
    ],
)
def test_a_refusal_after_a_write_rolls_it_back_and_exits_with_one_line(
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
    line: str,
    status: int,
) -> None:
    async def work(session: AsyncSession) -> None:
        await insert(session, "half-way")
        raise error

    with pytest.raises(SystemExit) as exited:
        run_in(transaction(settings), work)

    assert exited.value.code == status
    assert capsys.readouterr().err == line + "\n"
    assert probes(settings) == []
