"""What must hold after the fault campaign, read from the nodes' databases, folders and logs.

- Every dispatch handled exactly once where it was sent: on each destination node one accepted
  inbound row, handed over, one ``received`` entry in the evidence log and one incoming document
  (with one ``received`` step); on the sending node (and on the hub, for what it carried) every
  delivery closed by one receipt.
- Every mail exactly once in each recipient's Maildir and inbox.
- No ``.part`` file, no staging or sealing folder, no spool folder without its row, no blob half
  written, nothing in a Maildir's ``tmp/``.
- No 500 in any node's log.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from exchange.assembly import SPOOL_DIR
from exchange.models import Delivery, EvidenceEntry, InboundDispatch, OutboundDispatch
from exchange.outbox import DELIVERED
from keys.models import User
from mailgw.models import DONE, INBOX, MailboxMessage, QueuedMail
from office.documents.models import INCOMING, Document, DocumentEvent
from tests.support.processes import NodeProcess
from tests.support.traffic import Account, SentDispatch, SentMail

Sessions = async_sessionmaker[AsyncSession]
#: Names a spool keeps only for the moment a dispatch is written or checked.
PASSING_SUFFIXES = (".part", ".sealing", ".inline", ".expired")


@dataclass(frozen=True)
class Count:
    """How many of the expected came through, and how many of them more than once."""

    expected: int
    lost: int
    duplicated: int


def count(expected: list[Any], seen: Counter[Any]) -> Count:
    return Count(
        len(expected),
        lost=sum(1 for key in expected if seen[key] == 0),
        duplicated=sum(1 for key in expected if seen[key] > 1),
    )


def node_of(unit: str) -> str:
    return "TU" if unit in ("TU", "BTC") else unit


async def all_closed(sessions: Sessions) -> bool:
    """Nothing left to do on a node: every delivery delivered, every inbound dispatch handled,
    every queued mail done."""
    async with sessions() as session:
        open_delivery = await session.scalar(
            select(Delivery.dispatch_id).where(Delivery.state != DELIVERED).limit(1)
        )
        unhandled = await session.scalar(
            select(InboundDispatch.id)
            .where((InboundDispatch.state != "accepted") | InboundDispatch.handled.is_(False))
            .limit(1)
        )
        queued = await session.scalar(
            select(QueuedMail.id).where(QueuedMail.state != DONE).limit(1)
        )
    return open_delivery is None and unhandled is None and queued is None


async def dispatches_handled(
    sessions: dict[str, Sessions], sent: list[SentDispatch]
) -> tuple[Count, list[str]]:
    """Handled once at every destination node; the problems found on the way."""
    expected = [(d.id, node) for d in sent for node in dict.fromkeys(map(node_of, d.route.to))]
    seen: Counter[tuple[str, str]] = Counter()
    problems: list[str] = []
    for node, factory in sessions.items():
        async with factory() as session:
            documents = Counter(
                (
                    await session.scalars(
                        select(Document.dispatch_id).where(
                            Document.direction == INCOMING, Document.dispatch_id.is_not(None)
                        )
                    )
                ).all()
            )
            received = Counter(
                (
                    await session.scalars(
                        select(EvidenceEntry.dispatch_id).where(EvidenceEntry.event == "received")
                    )
                ).all()
            )
            steps = Counter(
                (
                    await session.scalars(
                        select(DocumentEvent.document_id).where(DocumentEvent.action == "received")
                    )
                ).all()
            )
        for key in expected:
            if key[1] == node:
                seen[key] = documents[key[0]]
        problems += [f"{node}: {i} received {n} times" for i, n in received.items() if n != 1]
        problems += [f"{node}: document {i} handed {n} times" for i, n in steps.items() if n > 1]
    return count(expected, seen), problems


async def deliveries_closed_once(sessions: dict[str, Sessions]) -> list[str]:
    """Every delivery on every node (the senders', the hub's own and what it carried)
    delivered and closed by exactly one receipt in the evidence log."""
    problems = []
    for node, factory in sessions.items():
        async with factory() as session:
            rows = (await session.execute(select(Delivery.dispatch_id, Delivery.node))).all()
            states = Counter((await session.scalars(select(Delivery.state))).all())
            entries = (
                await session.execute(
                    select(EvidenceEntry.dispatch_id, EvidenceEntry.detail).where(
                        EvidenceEntry.event == "receipt"
                    )
                )
            ).all()
        receipts = Counter(
            (entry.dispatch_id, json.loads(entry.detail)["node"]) for entry in entries
        )
        if set(states) - {DELIVERED}:
            problems.append(f"{node}: deliveries {dict(states)}")
        problems += [
            f"{node}: delivery {row.dispatch_id} to {row.node} closed "
            f"{receipts[(row.dispatch_id, row.node)]} times"
            for row in rows
            if receipts[(row.dispatch_id, row.node)] != 1
        ]
    return problems


def maildir_copies(settings: Settings) -> Counter[tuple[str, str]]:
    """(username, Message-ID) of every message in the node's Maildirs."""
    root = settings.path(settings.smtp.maildir)
    parser = BytesHeaderParser(policy=policy.default)
    seen: Counter[tuple[str, str]] = Counter()
    for path in (*root.glob("*/new/*"), *root.glob("*/cur/*")):
        with path.open("rb") as handle:
            headers = parser.parse(handle)
        seen[(path.parent.parent.name, str(headers.get("Message-ID", "")))] += 1
    return seen


async def mails_delivered(
    settings: dict[str, Settings],
    sessions: dict[str, Sessions],
    sent: list[SentMail],
    usernames: dict[Account, str],
) -> tuple[Count, list[str]]:
    """Each mail once in each recipient's Maildir, and once in their inbox."""
    expected = [(usernames[who], mail.message_id) for mail in sent for who in mail.to]
    maildirs: Counter[tuple[str, str]] = Counter()
    inboxes: Counter[tuple[str, str]] = Counter()
    for node, factory in sessions.items():
        maildirs.update(maildir_copies(settings[node]))
        async with factory() as session:
            rows = await session.execute(
                select(User.username, MailboxMessage.message_id)
                .join(User, User.id == MailboxMessage.user_id)
                .where(MailboxMessage.folder == INBOX)
            )
            inboxes.update((username, message_id) for username, message_id in rows)
    problems = [
        f"{key}: {inboxes[key]} times in the inbox" for key in expected if inboxes[key] != 1
    ]
    return count(expected, maildirs), problems


async def leftovers(settings: Settings, sessions: Sessions) -> list[str]:
    """What a node's folders hold that no row names or that was never finished."""
    found: list[str] = []
    spool = settings.node_dir / SPOOL_DIR
    for path in spool.rglob("*"):
        if path.name.endswith(PASSING_SUFFIXES):
            found.append(str(path.relative_to(settings.node_dir)))
    async with sessions() as session:
        inbound = set((await session.scalars(select(InboundDispatch.id))).all())
        outbound = set((await session.scalars(select(OutboundDispatch.id))).all())
    for side, rows in (("in", inbound), ("out", outbound)):
        folder = spool / side
        if folder.is_dir():
            found += [
                f"{SPOOL_DIR}/{side}/{entry.name} (no row)"
                for entry in folder.iterdir()
                if entry.name not in rows and not entry.name.endswith(PASSING_SUFFIXES)
            ]
    staging = settings.blob_dir / "staging"
    if staging.is_dir():
        found += [f"blobs/staging/{entry.name}" for entry in staging.iterdir()]
    maildir = settings.path(settings.smtp.maildir)
    found += [str(path.relative_to(maildir.parent)) for path in maildir.glob("*/tmp/*")]
    return found


def server_errors(processes: list[NodeProcess]) -> list[str]:
    """Answers with a 500 and unhandled failures, in every node's log."""
    found = []
    for process in processes:
        for entry in process.events():
            event, status = entry.get("event"), entry.get("status")
            if event == "http.failed" or (event == "http.request" and status == 500):
                found.append(f"{process.log_path.name}: {event} {entry.get('path', '')}")
    return found


def refusals(process: NodeProcess, code: str) -> int:
    """How many requests the node refused with ``code``."""
    return sum(1 for entry in process.events("http.refused") if entry.get("code") == code)
