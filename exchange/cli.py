"""``congvan audit``: check the evidence log."""

from __future__ import annotations

from pathlib import Path

import click

from config.cli import dir_option, load, run
from config.database import open_database
from config.errors import CongvanError
from exchange.evidence import verify_chain


class ChainBroken(CongvanError):
    code = "evidence-broken"


@click.group()
def audit() -> None:
    """The hash-chained evidence log of dispatches, receipts and statuses."""


@audit.command("verify")
@dir_option
def verify(node_dir: Path) -> None:
    """Walk the evidence log; report the first broken link (exit 1) or how many entries hold."""
    settings = load(node_dir)

    async def body() -> None:
        async with open_database(settings) as sessions, sessions() as session:
            report = await verify_chain(session)
        if not report.intact:
            raise ChainBroken(
                f"evidence log broken at entry {report.first_broken}: {report.problem}"
            )
        click.echo(f"evidence log intact: {report.entries} entries")

    run(body)
