"""``congvan exchange`` (send, list, show, retry, export) and ``congvan audit``."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.cli import dir_option, fail, load, run_in
from config.database import open_database, transaction
from config.errors import CongvanError, Invalid, NotFound
from config.settings import Settings
from exchange.assembly import Exchange, build_exchange
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE, Attachment, Draft
from exchange.evidence import verify_chain
from exchange.handlers import HandlerRegistry
from exchange.models import InboundDispatch, OutboundDispatch
from exchange.outbox import deliveries_of
from exchange.statuses import STATUS_CODES, timeline
from keys.keystore import node_passphrase

URGENCY_NAMES = {0: "Thường", 1: "Khẩn", 2: "Thượng khẩn", 3: "Hỏa tốc"}


class ChainBroken(CongvanError):
    code = "evidence-broken"


@asynccontextmanager
async def open_exchange(settings: Settings) -> AsyncIterator[Exchange]:
    """The node's exchange parts for one command, on a database opened for it."""
    async with open_database(settings) as sessions:
        yield build_exchange(settings, sessions, node_passphrase(settings), HandlerRegistry())


@click.group()
def exchange() -> None:
    """Dispatches to and from other units."""


@exchange.command()
@dir_option
@click.option("--from", "sender", required=True, help="The sending unit (hosted here).")
@click.option("--to", "recipients", required=True, help="Recipient units, comma-separated.")
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A file to attach (repeat).",
)
@click.option("--summary", required=True, help="Trích yếu: what the document is about.")
@click.option("--urgency", type=click.IntRange(0, 3), default=0, show_default=True)
@click.option("--kind", type=click.Choice(["document", "report"]), default="document")
def send(
    node_dir: Path,
    sender: str,
    recipients: str,
    files: tuple[Path, ...],
    summary: str,
    urgency: int,
    kind: str,
) -> None:
    """Seal a dispatch and queue it; the running node delivers it. Prints the dispatch id."""
    settings = load(node_dir)
    units = tuple(dict.fromkeys(unit.strip() for unit in recipients.split(",") if unit.strip()))
    if not units:
        fail(Invalid("--to names no unit"))
    draft = Draft(
        recipients=units,
        kind=kind,
        metadata={"summary": summary},
        attachments=tuple(Attachment(path.name, path) for path in files),
        urgency=urgency,
    )
    header = run_in(open_exchange(settings), lambda parts: parts.outbox.send(sender, draft))
    click.echo(header.id)


@exchange.command("list")
@dir_option
@click.option("--limit", type=int, default=50, show_default=True)
def list_dispatches(node_dir: Path, limit: int) -> None:
    """Recent dispatches sent and received, with their state."""
    settings = load(node_dir)

    async def work(session: AsyncSession) -> None:
        sent = (
            await session.scalars(
                select(OutboundDispatch).order_by(OutboundDispatch.created_at.desc()).limit(limit)
            )
        ).all()
        for row in sent:
            states = ", ".join(f"{d.node}:{d.state}" for d in await deliveries_of(session, row.id))
            recipients = ",".join(json.loads(row.recipients))
            click.echo(f"out {row.id} {row.kind:<8} {row.sender} -> {recipients}  [{states}]")
        received = (
            await session.scalars(
                select(InboundDispatch).order_by(InboundDispatch.offered_at.desc()).limit(limit)
            )
        ).all()
        for inbound in received:
            click.echo(
                f"in  {inbound.id} {inbound.kind:<8} {inbound.sender} -> "
                f"{','.join(json.loads(inbound.recipients))}  [{inbound.state}"
                f"{' ' + inbound.refusal_code if inbound.refusal_code else ''}]"
            )

    run_in(transaction(settings), work)


@exchange.command()
@dir_option
@click.argument("dispatch_id")
def show(node_dir: Path, dispatch_id: str) -> None:
    """A dispatch's state per destination, attempts, last error and receipt."""
    settings = load(node_dir)

    async def work(session: AsyncSession) -> None:
        outbound = await session.get(OutboundDispatch, dispatch_id)
        inbound = await session.get(InboundDispatch, dispatch_id)
        if outbound is None and inbound is None:
            raise NotFound(f"no dispatch {dispatch_id}")
        if outbound is not None:
            click.echo(
                f"sent by {outbound.sender} to {', '.join(json.loads(outbound.recipients))}, "
                f"{outbound.kind}, {URGENCY_NAMES[outbound.urgency]}, {outbound.size} bytes"
            )
            for delivery in await deliveries_of(session, dispatch_id):
                click.echo(
                    f"  {delivery.node}: {delivery.state}, {delivery.attempts} attempts"
                    + (f", through {delivery.via}" if delivery.via else "")
                    + (f", last error: {delivery.last_error}" if delivery.last_error else "")
                )
                if delivery.receipt:
                    receipt = delivery.receipt["body"]
                    click.echo(
                        f"    receipt: {receipt['status']} by {receipt['signer']} "
                        f"at {receipt['time']}"
                        + (f" ({receipt['code']})" if receipt["code"] else "")
                    )
        for status in await timeline(session, dispatch_id):
            click.echo(
                f"  status {status.code} {status.label} from {status.unit} "
                f"at {status.reported_at}" + (f": {status.note}" if status.note else "")
            )
        if inbound is not None:
            click.echo(
                f"received from {inbound.sender} (node {inbound.sender_node}): {inbound.state}"
                + (f" ({inbound.refusal_code})" if inbound.refusal_code else "")
            )

    run_in(transaction(settings), work)


@exchange.command("status")
@dir_option
@click.argument("dispatch_id")
@click.option("--unit", required=True, help="The recipient unit reporting (hosted here).")
@click.option("--code", required=True, type=click.Choice(sorted(STATUS_CODES)))
@click.option("--note", default="")
def report_status(node_dir: Path, dispatch_id: str, unit: str, code: str, note: str) -> None:
    """Tell the sender of a received dispatch what became of it (edXML status code)."""
    settings = load(node_dir)
    header = run_in(
        open_exchange(settings),
        lambda parts: parts.statuses.send_status(dispatch_id, unit, code, note),
    )
    click.echo(header.id)


@exchange.command()
@dir_option
@click.argument("dispatch_id")
def retry(node_dir: Path, dispatch_id: str) -> None:
    """Queue the failed deliveries of DISPATCH_ID again."""
    settings = load(node_dir)
    count = run_in(open_exchange(settings), lambda parts: parts.outbox.retry(dispatch_id))
    if count == 0:
        fail(NotFound(f"dispatch {dispatch_id} has no failed delivery"))
    click.echo(f"{count} deliveries queued again")


@exchange.command()
@dir_option
@click.argument("dispatch_id")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def export(node_dir: Path, dispatch_id: str, out: Path) -> None:
    """Write a received dispatch so age and openssl can check it (docs/dispatch-format.md)."""
    settings = load(node_dir)

    async def work(parts: Exchange) -> None:
        async with parts.inbox.sessions() as session:
            row = await session.get(InboundDispatch, dispatch_id)
        if row is None or row.state != "accepted":
            raise NotFound(f"no accepted dispatch {dispatch_id} on this node")
        folder = parts.inbox.folder(dispatch_id)
        out.mkdir(parents=True, exist_ok=True)
        # The header as signed, and its signature, from the row: a dispatch received inline
        # keeps them there only.
        (out / HEADER_FILE).write_bytes(row.header.encode("utf-8"))
        (out / HEADER_SIGNATURE_FILE).write_bytes(bytes.fromhex(row.header_signature))
        shutil.copy2(folder / PAYLOAD_FILE, out / PAYLOAD_FILE)
        node_pem = parts.directory.node(row.sender_node).certificates.get("tls", "")
        (out / "node.pem").write_text(node_pem, encoding="ascii")
        shutil.copytree(folder / "opened", out, dirs_exist_ok=True)

    run_in(open_exchange(settings), work)
    click.echo(f"dispatch {dispatch_id} exported to {out}")


@click.group()
def audit() -> None:
    """The hash-chained evidence log of dispatches, receipts and statuses."""


@audit.command("verify")
@dir_option
def verify(node_dir: Path) -> None:
    """Walk the evidence log; report the first broken link (exit 1) or how many entries hold."""
    settings = load(node_dir)
    report = run_in(transaction(settings), verify_chain)
    if not report.intact:
        fail(ChainBroken(f"evidence log broken at entry {report.first_broken}: {report.problem}"))
    click.echo(f"evidence log intact: {report.entries} entries")
