"""``congvan usage``: roll up and show the usage ledger (the reporting module builds on it)."""

from __future__ import annotations

from pathlib import Path

import click

from config.cli import dir_option, load, run_in
from config.database import transaction
from exchange.ledger import monthly, roll_up


@click.group()
def usage() -> None:
    """Counted accesses and bytes per unit, kind and month."""


@usage.command("rollup")
@dir_option
def rollup(node_dir: Path) -> None:
    """Fold the events recorded since the last roll-up into the daily totals."""
    settings = load(node_dir)
    click.echo(f"{run_in(transaction(settings), roll_up)} events rolled up")


@usage.command("show")
@dir_option
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
def show(node_dir: Path, year: int) -> None:
    """Monthly events and bytes per unit and kind (after `usage rollup`)."""
    settings = load(node_dir)
    rows = run_in(transaction(settings), lambda session: monthly(session, year))
    click.echo(f"{'MONTH':<8} {'UNIT':<14} {'KIND':<13} {'EVENTS':>8} {'BYTES':>14}")
    for row in rows:
        unit = row.unit or "-"
        click.echo(f"{row.month:<8} {unit:<14} {row.kind:<13} {row.events:>8} {row.bytes:>14}")
