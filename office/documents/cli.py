"""``congvan documents``: the registers' settings an office decides once or at each term (how
it numbers)."""

from __future__ import annotations

from pathlib import Path

import click

from config.cli import dir_option, load, run_in
from config.database import transaction
from office.documents.numbering import (
    PARTY_STYLE,
    STATE_STYLE,
    number_symbol,
    set_congress,
    set_style,
    set_term,
)


@click.group()
def documents() -> None:
    """The incoming and outgoing registers."""


@documents.command("numbering")
@dir_option
@click.argument("unit")
@click.option(
    "--style",
    type=click.Choice([PARTY_STYLE, STATE_STYLE]),
    required=True,
    help="party: 05-NQ/TU (Party documents); state: 15/QĐ-UBND (state bodies).",
)
@click.option("--issuer", required=True, help="The unit's abbreviation after the type: TU, HU…")
def numbering(node_dir: Path, unit: str, style: str, issuer: str) -> None:
    """How UNIT writes the number and symbol of its outgoing documents."""
    settings = load(node_dir)
    run_in(
        transaction(settings),
        lambda session: set_style(session, unit, style, issuer, settings.node.units),
    )
    examples = [number_symbol(5, "NQ", style, issuer), number_symbol(12, "CV", style, issuer)]
    click.echo(f"{unit}: {', '.join(examples)}")


@documents.command("term")
@dir_option
@click.argument("unit")
@click.option(
    "--from",
    "starts",
    required=True,
    help="dd/mm/yyyy: the day after the congress closed (or the committee's first meeting).",
)
def term(node_dir: Path, unit: str, starts: str) -> None:
    """UNIT's committee term (nhiệm kỳ) starts on --from: from that day its Party-style
    documents run from 01 again for each type (HD 36-HD/VPTW point 1.3.1 a)."""
    settings = load(node_dir)
    started = run_in(
        transaction(settings),
        lambda session: set_term(session, unit, starts, settings.node.units),
    )
    click.echo(f"{unit}: nhiệm kỳ từ {started:%d/%m/%Y}")


@documents.command("congress")
@dir_option
@click.argument("unit")
@click.option("--from", "opens", required=True, help="dd/mm/yyyy: the opening (preparatory) day.")
@click.option("--to", "closes", required=True, help="dd/mm/yyyy: the closing day.")
def congress(node_dir: Path, unit: str, opens: str, closes: str) -> None:
    """UNIT holds its congress (đại hội) from --from to --to: the documents issued on those
    days share one sequence for every type (HD 36-HD/VPTW point 1.3.1 a)."""
    settings = load(node_dir)
    opened, closed = run_in(
        transaction(settings),
        lambda session: set_congress(session, unit, opens, closes, settings.node.units),
    )
    click.echo(f"{unit}: đại hội từ {opened:%d/%m/%Y} đến {closed:%d/%m/%Y}")
