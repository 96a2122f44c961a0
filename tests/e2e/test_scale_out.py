"""Scale-out: three ``congvan serve`` processes of the province share one PostgreSQL database
and one node folder (spool and blobs). A thousand dispatches queued for Cam Lộ go out while one
of the three is killed with SIGKILL mid-way: its claimed deliveries wait for their lease to
lapse and another process takes them over. Each dispatch is delivered once, with its receipt,
and handled once by Cam Lộ's ``document`` handler (which runs in a ``congvan serve`` of its
own): one document in the clerk's queue per dispatch.

The deadline reminders, which every process runs too, remind each assignment once a day; a
dispatch id that two processes send at once (a unit's monthly report) is queued once, and the
folder delivered is the one its row describes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import open_database
from exchange.cli import open_exchange
from exchange.envelope import HEADER_FILE, PAYLOAD_FILE, Attachment, Draft, Header, file_digest
from exchange.models import Delivery, EvidenceEntry, InboundDispatch, OutboundDispatch
from exchange.outbox import DELIVERED
from keys.models import User
from office.documents.models import INCOMING, Assignment, Document, DocumentEvent
from office.documents.workdays import WorkingCalendar
from office.documents.workload import remind_due
from tests.support.cli import Cli
from tests.support.databases import using_postgresql
from tests.support.network import DemoNetwork
from tests.support.ports import free_port_block
from tests.support.processes import NodeProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    not using_postgresql(),
    reason="PostgreSQL only: several processes share one database (FOR UPDATE SKIP LOCKED)",
)

DISPATCHES = 1_000
#: Queued at once: sealing runs in threads, the evidence log takes one append at a time.
QUEUE_CONCURRENCY = 8
#: Delivered before one of the three sender processes is killed.
KILL_AFTER = DISPATCHES // 4
DELIVERY_SECONDS = 300
STARTUP_SECONDS = 120
SENDER_ENV = {
    "CONGVAN_EXCHANGE_RETRY_BASE_SECONDS": "1",
    "CONGVAN_EXCHANGE_RETRY_CAP_SECONDS": "2",
    "CONGVAN_EXCHANGE_POLL_SECONDS": "1",
    # The shortest lease the settings allow: the killed process's claims lapse after 10 s.
    "CONGVAN_EXCHANGE_LEASE_SECONDS": "10",
    "CONGVAN_SMTP_ENABLED": "false",
}


async def queue_dispatches(network: DemoNetwork, tmp_path: Path) -> list[str]:
    """``DISPATCHES`` small ``document`` dispatches from TU to Cam Lộ, sealed and queued on
    the province's database as ``congvan exchange send`` does, before any sender runs."""
    attachment = tmp_path / "cong-van.txt"
    attachment.write_text("Công văn thử tải: nhiều tiến trình, một cơ sở dữ liệu.\n", "utf-8")
    ids: list[str] = []
    async with open_exchange(network.settings("TU")) as parts:

        async def one(number: int) -> None:
            header = await parts.outbox.send(
                "TU",
                Draft(
                    recipients=("HU-CAMLO",),
                    kind="document",
                    metadata={
                        "summary": f"Công văn thử tải số {number}",
                        "number_symbol": f"{number}-CV/TU",
                    },
                    attachments=(Attachment(attachment.name, attachment, "text/plain"),),
                ),
            )
            ids.append(header.id)

        for first in range(0, DISPATCHES, QUEUE_CONCURRENCY):
            last = min(first + QUEUE_CONCURRENCY, DISPATCHES)
            await asyncio.gather(*(one(number) for number in range(first + 1, last + 1)))
    return ids


def province_processes(cli: Cli, network: DemoNetwork, log_dir: Path) -> list[NodeProcess]:
    """The first listens where the directory says TU is (Cam Lộ fetches the trust data from
    it); the two others on ports of their own, as behind a load balancer."""
    processes = []
    for index in range(3):
        env = dict(SENDER_ENV)
        if index:
            base = free_port_block(2)
            env |= {"CONGVAN_WEB_PORT": str(base), "CONGVAN_PEER_PORT": str(base + 1)}
        log_path = log_dir / f"scale-out-{network.root.parent.name}-tu-{index}.log"
        processes.append(NodeProcess(cli, network.node_dir("TU"), log_path, env))
    return processes


async def delivered_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.state == DELIVERED)
            )
            or 0
        )


@pytest.mark.timeout(DELIVERY_SECONDS * 2 + STARTUP_SECONDS)
async def test_three_province_processes_deliver_a_thousand_dispatches_once_despite_a_kill(
    fresh_network: DemoNetwork, cli: Cli, log_dir: Path, tmp_path: Path
) -> None:
    network = fresh_network
    receiver = NodeProcess(
        cli,
        network.node_dir("HU-CAMLO"),
        log_dir / f"scale-out-{network.root.parent.name}-camlo.log",
        {"CONGVAN_SMTP_ENABLED": "false"},
    )
    senders = province_processes(cli, network, log_dir)
    victim = senders[1]
    timings: dict[str, float] = {}
    async with open_database(network.settings("TU")) as province:
        started = time.monotonic()
        for process in (receiver, *senders):
            process.start()
        # Queued while the senders start and run, as clerks keep sending while a node delivers.
        queueing = asyncio.create_task(queue_dispatches(network, tmp_path))
        try:
            await asyncio.gather(
                *(process.started(STARTUP_SECONDS) for process in (receiver, *senders))
            )
            timings["up"] = time.monotonic() - started

            async def some_delivered() -> bool:
                return await delivered_count(province) >= KILL_AFTER

            await wait_for(some_delivered, seconds=DELIVERY_SECONDS)
            victim.kill()
            timings["kill"] = time.monotonic() - started
            delivered_at_kill = await delivered_count(province)
            ids = await queueing
            timings["queued"] = time.monotonic() - started
            assert len(set(ids)) == DISPATCHES

            async def all_delivered() -> bool:
                return await delivered_count(province) == DISPATCHES

            await wait_for(all_delivered, seconds=DELIVERY_SECONDS)
            timings["delivered"] = time.monotonic() - started
        finally:
            if not queueing.done():
                queueing.cancel()
                with suppress(asyncio.CancelledError):
                    await queueing
            for process in (*senders, receiver):
                process.stop()

    retried = await assert_sent_once(network, ids)
    await assert_received_once(network, ids)
    by_process = [len(sender.events("dispatch.delivered")) for sender in senders]
    print(
        f"\nscale-out: {DISPATCHES} dispatches TU -> HU-CAMLO, 3 province processes"
        f"\n  processes up after {timings['up']:.1f} s"
        f"\n  one killed at {timings['kill']:.1f} s, with {delivered_at_kill} delivered"
        f"\n  all queued at {timings['queued']:.1f} s, all delivered at "
        f"{timings['delivered']:.1f} s ({DISPATCHES / (timings['delivered'] - timings['up']):.1f}"
        " dispatches/s once the processes were up)"
        f"\n  delivered per process (their logs): {by_process}, the killed one is second"
        f"\n  deliveries attempted more than once (the killed process's claims): {retried}"
    )


async def assert_sent_once(network: DemoNetwork, ids: list[str]) -> int:
    """On TU: every delivery delivered with its receipt, none dead-lettered, and one receipt
    in the evidence log per dispatch (a delivery is closed once). The answer is how many
    deliveries took more than one attempt."""
    async with open_database(network.settings("TU")) as sessions, sessions() as session:
        rows = (
            await session.execute(
                select(
                    Delivery.dispatch_id,
                    Delivery.node,
                    Delivery.state,
                    Delivery.receipt,
                    Delivery.attempts,
                )
            )
        ).all()
        receipts = Counter(
            (
                await session.scalars(
                    select(EvidenceEntry.dispatch_id).where(EvidenceEntry.event == "receipt")
                )
            ).all()
        )
    assert sorted(row.dispatch_id for row in rows) == sorted(ids)
    assert {row.node for row in rows} == {"HU-CAMLO"}
    states = Counter(row.state for row in rows)
    assert states == {DELIVERED: DISPATCHES}, f"delivery states: {dict(states)}"
    assert all(row.receipt for row in rows)
    assert receipts == Counter(ids), "a delivery closed twice, or not at all"
    return sum(1 for row in rows if row.attempts > 1)


async def assert_received_once(network: DemoNetwork, ids: list[str]) -> None:
    """On Cam Lộ: each dispatch in the inbox once, accepted and handled, received once in the
    evidence log, and one incoming document (with one ``received`` step) per dispatch."""
    async with open_database(network.settings("HU-CAMLO")) as sessions, sessions() as session:
        inbound = (
            await session.execute(
                select(InboundDispatch.id, InboundDispatch.state, InboundDispatch.handled).where(
                    InboundDispatch.sender == "TU"
                )
            )
        ).all()
        received = Counter(
            (
                await session.scalars(
                    select(EvidenceEntry.dispatch_id).where(EvidenceEntry.event == "received")
                )
            ).all()
        )
        documents = (
            await session.execute(
                select(Document.id, Document.dispatch_id).where(
                    Document.direction == INCOMING, Document.dispatch_id.is_not(None)
                )
            )
        ).all()
        steps = Counter(
            (
                await session.scalars(
                    select(DocumentEvent.document_id).where(DocumentEvent.action == "received")
                )
            ).all()
        )
    assert sorted(row.id for row in inbound) == sorted(ids)
    assert {(row.state, row.handled) for row in inbound} == {("accepted", True)}
    assert received == Counter(ids), "a dispatch received twice, or not at all"
    assert len(documents) == DISPATCHES
    assert Counter(row.dispatch_id for row in documents) == Counter(ids)
    assert sorted(steps) == sorted(row.id for row in documents)
    assert set(steps.values()) == {1}, "a document was handed over twice"


ASSIGNMENTS = 12


async def test_two_reminder_rounds_at_once_remind_each_assignment_once(
    demo_network: DemoNetwork,
) -> None:
    """Every process runs the deadline reminders. A round takes the assignments it reminds
    under a row lock; a round running meanwhile in another process skips them, and once the
    first committed, they are reminded for today: one reminder each, not one per process."""
    calendar, now = WorkingCalendar.vietnam(), datetime.now(UTC)
    today = now.date()
    async with open_database(demo_network.settings("HU-CAMLO")) as sessions:
        async with sessions() as session, session.begin():
            user = await session.scalar(
                select(User.id).where(User.unit_code == "HU-CAMLO").order_by(User.id).limit(1)
            )
            assert user is not None
            document = Document(
                unit_code="HU-CAMLO",
                direction=INCOMING,
                state="assigned",
                doc_type="CV",
                summary="Công văn có hạn xử lý hôm nay",
            )
            session.add(document)
            await session.flush()
            session.add_all(
                Assignment(
                    document_id=document.id,
                    user_id=user,
                    part="lead",
                    due_on=today,
                    assigned_by=user,
                )
                for _ in range(ASSIGNMENTS)
            )

        async def round_elsewhere() -> int:
            async with sessions() as session, session.begin():
                return await remind_due(session, calendar, today, 2, now)

        async with sessions() as first, first.begin():
            reminded_first = await remind_due(first, calendar, today, 2, now)
            # Another process's round while the first has not committed: it neither waits for
            # the first one's locks (a stalled worker) nor reminds the same assignments again.
            reminded_second = await asyncio.wait_for(round_elsewhere(), timeout=10)
        reminded_later = await round_elsewhere()
        async with sessions() as session:
            logged = await session.scalar(
                select(func.count())
                .select_from(DocumentEvent)
                .where(DocumentEvent.document_id == document.id, DocumentEvent.action == "reminded")
            )
    assert (reminded_first, reminded_second, reminded_later) == (ASSIGNMENTS, 0, 0)
    assert logged == ASSIGNMENTS


async def test_a_dispatch_id_sent_by_two_processes_is_queued_once_and_its_folder_is_intact(
    demo_network: DemoNetwork,
) -> None:
    """Two processes send a unit's monthly report under its fixed dispatch id (both found it
    unsent). Whoever commits second fails on the dispatch's row, and the folder being
    delivered is the first one's, whole: its header and payload are the ones the row names."""
    settings = demo_network.settings("TU")
    draft = Draft(
        recipients=("HU-CAMLO",),
        kind="report",
        metadata={"unit": "TU", "period": "2026-10"},
        id=str(uuid.uuid4()),
    )
    async with open_exchange(settings) as first, open_exchange(settings) as second:
        results = await asyncio.gather(
            first.outbox.send("TU", draft), second.outbox.send("TU", draft), return_exceptions=True
        )
        folder = first.outbox.folder(draft.id)
        leftovers = sorted(path.name for path in folder.parent.glob(f"{draft.id}*"))
    sent = [result for result in results if isinstance(result, Header)]
    refused = [result for result in results if isinstance(result, IntegrityError)]
    assert len(sent) == len(refused) == 1, results
    async with open_database(settings) as sessions, sessions() as session:
        row = await session.get(OutboundDispatch, draft.id)
    assert row is not None and row.payload_sha256 == sent[0].payload_sha256
    assert Header.from_bytes((folder / HEADER_FILE).read_bytes()) == sent[0]
    assert file_digest(folder / PAYLOAD_FILE) == (row.payload_sha256, row.size)
    assert leftovers == [draft.id]  # nothing sealed aside is left behind
