"""``congvan units head`` and ``congvan units department …``: a unit's head (the leader its
incoming documents are presented to by default) and its departments (phòng, ban). Thin
commands over :mod:`keys.organisation`, each in one transaction."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession

from config.cli import dir_option, load, run_in
from config.database import transaction
from keys import organisation


@click.command("head")
@dir_option
@click.argument("unit")
@click.argument("username", required=False)
@click.option("--none", "clear", is_flag=True, help="The unit has no default leader.")
def unit_head(node_dir: Path, unit: str, username: str | None, clear: bool) -> None:
    """Make USERNAME (a leader of UNIT) the one its incoming documents are presented to unless
    the clerk chooses another leader."""
    if (username is None) == (not clear):
        raise click.UsageError("give USERNAME or --none (one of them)")
    settings = load(node_dir)
    run_in(
        transaction(settings),
        lambda session: organisation.set_unit_head(session, unit, username, settings.node.units),
    )
    click.echo(f"{unit}: head {username or '-'}")


@click.group("department")
def department() -> None:
    """A unit's departments (phòng, ban)."""


@department.command("add")
@dir_option
@click.argument("unit")
@click.argument("code")
@click.argument("name")
@click.option("--head", "head", default=None, help="The account that heads it (one of UNIT's).")
def add(node_dir: Path, unit: str, code: str, name: str, head: str | None) -> None:
    """Add department CODE ("Tên") to UNIT, e.g. `units department add TU TH "Phòng Tổng hợp"`."""
    settings = load(node_dir)

    async def work(session: AsyncSession) -> str:
        added = await organisation.add_department(session, unit, code, name, settings.node.units)
        if head is not None:
            await organisation.set_department_head(
                session, unit, added.code, head, settings.node.units
            )
        return added.code

    added = run_in(transaction(settings), work)
    click.echo(f"{unit}: department {added} {name}{f', head {head}' if head else ''}")


@department.command("head")
@dir_option
@click.argument("unit")
@click.argument("code")
@click.argument("username", required=False)
@click.option("--none", "clear", is_flag=True, help="The department has no head.")
def head(node_dir: Path, unit: str, code: str, username: str | None, clear: bool) -> None:
    """Make USERNAME the head of department CODE of UNIT (and one of its members)."""
    if (username is None) == (not clear):
        raise click.UsageError("give USERNAME or --none (one of them)")
    settings = load(node_dir)
    run_in(
        transaction(settings),
        lambda session: organisation.set_department_head(
            session, unit, code, username, settings.node.units
        ),
    )
    click.echo(f"{unit}: department {code.upper()} head {username or '-'}")


@department.command("list")
@dir_option
@click.argument("unit")
def list_departments(node_dir: Path, unit: str) -> None:
    """UNIT's departments: code, members, head, name."""
    settings = load(node_dir)
    rows = run_in(
        transaction(settings), lambda session: organisation.list_departments(session, unit)
    )
    click.echo(f"{'CODE':<16} {'MEMBERS':<8} {'HEAD':<24} NAME")
    for row in rows:
        click.echo(f"{row.code:<16} {row.members:<8} {row.head_name or '-':<24} {row.name}")


@department.command("remove")
@dir_option
@click.argument("unit")
@click.argument("code")
def remove(node_dir: Path, unit: str, code: str) -> None:
    """Remove department CODE of UNIT: only one nobody belongs to and no document was ever
    assigned to (one that was keeps its name for the register's history)."""
    settings = load(node_dir)
    run_in(
        transaction(settings),
        lambda session: organisation.remove_department(session, unit, code, settings.node.units),
    )
    click.echo(f"{unit}: department {code.upper()} removed")
