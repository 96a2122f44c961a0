"""``congvan documents``: the registers' settings an office decides once (how it numbers)."""

from __future__ import annotations

from pathlib import Path

import click

from config.cli import dir_option, load, run_in
from config.database import transaction
from office.documents.numbering import PARTY_STYLE, STATE_STYLE, number_symbol, set_style


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
