"""``congvan report``: write the periodic IT report, enter a unit's form, send a report or the
live figures up, and see what reports and figures arrived from the units below."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import click
from cryptography import x509

from config.cli import dir_option, load, or_fail, run_in
from config.database import open_database
from config.settings import Settings
from exchange.cli import open_exchange
from exchange.ledger import UsageLedger
from keys.ca import CA_CERT_FILE
from keys.signed_directory import SignedDirectory
from office.reports.forms import NUMBERS, TEXTS
from office.reports.letterhead import Issue, Signer
from office.reports.live_exchange import LiveExchange
from office.reports.rendering import FORMATS, render
from office.reports.service import Reports

unit_option = click.option("--unit", required=True, help="The unit's code: TU, HU-CAMLO…")
period_option = click.option(
    "--period", required=True, help="A year (2005), a quarter (2005-Q4) or a month (2005-11)."
)


@asynccontextmanager
async def open_reports(settings: Settings) -> AsyncIterator[Reports]:
    """The reporting desk on the node's database alone: making a report or keeping a form
    needs neither the node's keys nor its peers (the units come from the units table when
    the directory cannot be read)."""
    async with open_database(settings) as sessions:
        yield Reports(
            sessions,
            settings.reports,
            settings.node.units,
            directory=_directory(settings),
            ledger=UsageLedger(sessions),
        )


def _directory(settings: Settings) -> SignedDirectory | None:
    ca_path = settings.pki_dir / CA_CERT_FILE
    if not ca_path.exists():
        return None
    certificate = x509.load_pem_x509_certificate(ca_path.read_bytes())
    return SignedDirectory(certificate, settings.directory_file)


@asynccontextmanager
async def open_sending_reports(settings: Settings) -> AsyncIterator[Reports]:
    """The reporting desk with the node's exchange, to send a report up."""
    async with open_exchange(settings) as parts:
        yield Reports(
            parts.outbox.sessions,
            settings.reports,
            settings.node.units,
            directory=parts.directory,
            outbox=parts.outbox,
            ledger=parts.ledger,
        )


@click.group(invoke_without_command=True)
@dir_option
@click.option("--unit", help="The unit whose report it is; the units under it are included.")
@click.option("--period", help="A year (2005), a quarter (2005-Q4) or a month (2005-11).")
@click.option("--format", "file_format", type=click.Choice(FORMATS), default="html")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--number", type=click.IntRange(1), help="Its number (13 in 13-BC/TU); else blank.")
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="The day it is signed; else blank."
)
@click.option("--signer-authority", default="", help="T/M BAN THƯỜNG VỤ… ([reports] setting)")
@click.option("--signer-position", default="", help="PHÓ BÍ THƯ… ([reports] setting)")
@click.option("--signer-name", default="", help="The signer's name ([reports] setting)")
@click.pass_context
def report(
    context: click.Context,
    node_dir: Path,
    unit: str | None,
    period: str | None,
    file_format: str,
    out: Path | None,
    number: int | None,
    day: datetime | None,
    signer_authority: str,
    signer_position: str,
    signer_name: str,
) -> None:
    """The periodic IT report of UNIT for PERIOD, as HTML, PDF or DOCX, with the letterhead of
    a Party document (HD 36); what is not given is left blank for the clerk and the signer."""
    if context.invoked_subcommand is not None:
        return
    missing = [
        name
        for name, value in (("--unit", unit), ("--period", period), ("--out", out))
        if not value
    ]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)}")
    assert unit is not None and period is not None and out is not None
    settings = load(node_dir)
    issue = Issue(
        number=number,
        day=day.date() if day else None,
        signer=Signer(signer_authority, signer_position, signer_name),
    )
    made = run_in(open_reports(settings), lambda reports: reports.report(unit, period, issue))
    out.write_bytes(or_fail(render, made, file_format))
    click.echo(f"{out}: {made.unit} {made.period.key} ({len(made.rows)} units)")


@report.command("form")
@dir_option
@unit_option
@period_option
@click.option("--staff-total", type=int, required=True)
@click.option("--staff-computer-literate", type=int, required=True)
@click.option("--computers", type=int, required=True)
@click.option("--servers", type=int, required=True)
@click.option("--lan-state", default="")
@click.option("--connection-state", default="")
@click.option("--incidents", default="")
@click.option("--proposals", default="")
def form(node_dir: Path, unit: str, period: str, **figures: object) -> None:
    """Enter UNIT's periodic form for PERIOD (what the system cannot count)."""
    settings = load(node_dir)
    raw = {name: figures[name] for name in (*NUMBERS, *TEXTS)}
    run_in(
        open_reports(settings),
        lambda reports: reports.save_form(unit, period, raw, entered_by="congvan report form"),
    )
    click.echo(f"{unit} {period}: form saved")


@report.command("send")
@dir_option
@unit_option
@period_option
def send(node_dir: Path, unit: str, period: str) -> None:
    """Send UNIT's figures (and form) for PERIOD up now; it replaces an earlier one."""
    settings = load(node_dir)
    dispatch_id = run_in(open_sending_reports(settings), lambda reports: reports.send(unit, period))
    click.echo(f"{unit} {period}: sent as {dispatch_id}")


@report.command("figures")
@dir_option
@click.option("--unit", help="The hosted unit whose figures to send; else every one that sends.")
def figures(node_dir: Path, unit: str | None) -> None:
    """Count the units' document-handling figures and send them up now (the running node
    delivers them; they also go by themselves every [reports] figures_minutes)."""
    settings = load(node_dir)

    async def send(reports: Reports) -> dict[str, str]:
        live = LiveExchange(reports)
        return {unit: await live.send(unit)} if unit else await live.send_all()

    for sender, dispatch_id in run_in(open_sending_reports(settings), send).items():
        click.echo(f"{sender}: figures sent as {dispatch_id}")


@report.command("arrivals")
@dir_option
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option(
    "--kind",
    type=click.Choice(["report", "figures", "all"]),
    default="report",
    show_default=True,
    help="The periodic reports, the live figures, or both.",
)
def arrivals(node_dir: Path, limit: int, kind: str) -> None:
    """The report (or figures) dispatches received, newest first, with the reason of each
    refusal."""
    settings = load(node_dir)
    wanted = None if kind == "all" else kind
    for row in run_in(
        open_reports(settings), lambda reports: reports.recent_arrivals(limit, wanted)
    ):
        outcome = "accepted" if row.accepted else f"refused: {row.reason}"
        click.echo(
            f"{row.received_at:%Y-%m-%d %H:%M} {row.kind:<8} {row.sender:<14} {row.unit:<14} "
            f"{row.period:<8} {outcome}"
        )
