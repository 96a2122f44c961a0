"""A small dispatch whose payload comes inline in its offer is received in one step: the same
checks and answers as the long way, written in one transaction, recorded and handed over once
when the same offer reaches two processes at once."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import evidence
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE, Header
from exchange.handlers import ReceivedDispatch
from exchange.inbox_group import Arrival, GroupRecorder
from exchange.inbox_inline import STAGING_SUFFIX
from exchange.models import EvidenceEntry, InboundDispatch, Refusal
from exchange.peer_api import INLINE
from exchange.receipts import check_receipt
from office.node.app import RunningNode
from tests.support.dispatches import node_context, seal_document
from tests.support.keys import keyring, sender_of
from tests.support.network import DemoNetwork
from tests.support.nodes import start_camlo
from tests.support.waiting import wait_for

Answer = tuple[int, dict[str, Any]]


class Handled:
    """A handler that counts hand-overs per dispatch, whichever process makes them; with
    ``pause``, it keeps the transaction that accepts open that long."""

    def __init__(self, pause: float = 0.0) -> None:
        self.received: list[ReceivedDispatch] = []
        self.pause = pause

    async def __call__(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        self.received.append(dispatch)
        await asyncio.sleep(self.pause)

    def count(self, dispatch_id: str) -> int:
        return [d.header.id for d in self.received].count(dispatch_id)


class HeldFirst(Handled):
    """Holds the first hand-over's transaction open until ``until()`` holds, or ``most``
    seconds have passed (``met`` says which); the others go through at once."""

    def __init__(self, until: Callable[[], bool], most: float) -> None:
        super().__init__()
        self.until, self.most = until, most
        #: Whether ``until()`` came to hold while the first was held.
        self.met = False

    async def __call__(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        first = not self.received
        await super().__call__(session, dispatch)
        if first:
            with contextlib.suppress(AssertionError):
                await wait_for(self.holds, seconds=self.most)
                self.met = True

    async def holds(self) -> bool:
        return self.until()


def checked_offers(recorder: GroupRecorder) -> list[str]:
    """The ids of the offers checked and handed to ``recorder`` from now on, in order: under
    load, two may be checked before the recorder starts its first group, so the first group is
    not always one dispatch."""
    checked: list[str] = []
    record = recorder.record

    async def counting(arrival: Arrival) -> None:
        checked.append(arrival.header.id)
        await record(arrival)

    recorder.record = counting  # type: ignore[method-assign]
    return checked


async def failing_handler(session: AsyncSession, dispatch: ReceivedDispatch) -> None:
    """Writes, then fails: none of its writes may stay."""
    await evidence.append(session, "handler-wrote", dispatch.header.id, {})
    raise RuntimeError("the handler broke")


@pytest.fixture
async def camlo(demo_network: DemoNetwork) -> AsyncIterator[tuple[RunningNode, Handled]]:
    node = await start_camlo(demo_network)
    handled = Handled()
    node.handlers.replace("document", handled)
    yield node, handled
    await node.stop()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def offer_inline(
    network: DemoNetwork, node: RunningNode, folder: Path, payload: bytes | None = None
) -> Answer:
    """Tỉnh uỷ's node offers the dispatch in ``folder`` with its payload (or ``payload``)."""
    body = {
        "header": _b64((folder / HEADER_FILE).read_bytes()),
        "signature": _b64((folder / HEADER_SIGNATURE_FILE).read_bytes()),
        "payload": _b64((folder / PAYLOAD_FILE).read_bytes() if payload is None else payload),
    }
    return await _post(network, node, body)


async def offer_header(network: DemoNetwork, node: RunningNode, folder: Path) -> Answer:
    body = {
        "header": _b64((folder / HEADER_FILE).read_bytes()),
        "signature": _b64((folder / HEADER_SIGNATURE_FILE).read_bytes()),
    }
    return await _post(network, node, body)


async def _post(network: DemoNetwork, node: RunningNode, body: dict[str, str]) -> Answer:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{node.peer_url}/exchange/v1/dispatches", json=body, ssl=node_context(network, "TU")
        ) as response,
    ):
        return response.status, await response.json()


async def row_of(node: RunningNode, dispatch_id: str) -> InboundDispatch | None:
    async with node.sessions() as session:
        return await session.get(InboundDispatch, dispatch_id)


async def events_of(node: RunningNode, dispatch_id: str) -> list[str]:
    async with node.sessions() as session:
        events = await session.scalars(
            select(EvidenceEntry.event)
            .where(EvidenceEntry.dispatch_id == dispatch_id)
            .order_by(EvidenceEntry.seq)
        )
        return list(events)


def kept(node: RunningNode, dispatch_id: str) -> list[str]:
    assert node.inbox is not None
    return sorted(path.name for path in node.inbox.folder(dispatch_id).iterdir())


#: An accepted inline dispatch's folder: its payload and what it opened into. Its header and
#: signature are in its row (``congvan exchange export`` writes them from there).
ACCEPTED_INLINE = ["opened", PAYLOAD_FILE]


def staging_left(node: RunningNode) -> list[str]:
    assert node.inbox is not None
    return [path.name for path in node.inbox.spool.glob(f"*{STAGING_SUFFIX}")]


def transactions_that_write(node: RunningNode) -> list[int]:
    """A counter, in a one-item list, of the committed transactions that write a received
    dispatch or the evidence log on ``node`` from now on."""
    committed: list[int] = [0]
    writing: set[int] = set()

    def note_write(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and any(
            table in statement for table in ("inbound_dispatches", "evidence")
        ):
            writing.add(id(connection))

    def note_commit(connection: Connection) -> None:
        if id(connection) in writing:
            writing.discard(id(connection))
            committed[0] += 1

    event.listen(node.engine.sync_engine, "before_cursor_execute", note_write)
    event.listen(node.engine.sync_engine, "commit", note_commit)
    return committed


async def test_an_inline_dispatch_is_accepted_and_handed_over_in_one_transaction(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Handled], tmp_path: Path
) -> None:
    node, handled = camlo
    header = seal_document(demo_network, tmp_path / "out")
    writes = transactions_that_write(node)

    status, answer = await offer_inline(demo_network, node, tmp_path / "out")

    assert status == 200 and answer["offset"] == header.size
    assert answer["receipt"]["body"]["status"] == "accepted"
    check_receipt(answer["receipt"])
    assert writes == [1]
    row = await row_of(node, header.id)
    assert row is not None and row.state == "accepted" and row.handled
    assert await events_of(node, header.id) == ["offered", "received"]
    [dispatch] = handled.received
    assert dispatch.files[0].read_bytes() == (tmp_path / "out-attachment.pdf").read_bytes()
    assert kept(node, header.id) == ACCEPTED_INLINE
    assert staging_left(node) == []


async def test_inline_dispatches_checked_while_another_is_recorded_are_recorded_together(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """The first group's first hand-over keeps its transaction open until every offer has been
    checked and handed to the recorder (twenty seconds at most); those not in the first group
    (one of them offered twice) go in together after it. Each gets its own receipt (the one
    offered twice, the same one twice), its evidence and one hand-over."""
    node = await start_camlo(demo_network)
    [inline] = [runner.app[INLINE] for runner in node.runners if INLINE in runner.app]
    to_record = checked_offers(inline.recorder)
    handled = HeldFirst(until=lambda: len(to_record) == 5, most=20)
    node.handlers.replace("document", handled)
    try:
        folders = [tmp_path / f"out-{number}" for number in range(4)]
        headers = [seal_document(demo_network, folder) for folder in folders]
        writes = transactions_that_write(node)

        answers = await asyncio.gather(
            *(offer_inline(demo_network, node, folder) for folder in [*folders, folders[2]])
        )

        for (status, answer), header in zip(answers, [*headers, headers[2]], strict=True):
            assert status == 200 and answer["id"] == header.id
            assert answer["receipt"]["body"]["status"] == "accepted"
            check_receipt(answer["receipt"])
        assert answers[4] == answers[2]
        # Checks read only committed rows: none waits for the held transaction.
        assert handled.met
        assert writes[0] < len(headers)
        for header in headers:
            assert handled.count(header.id) == 1
            assert await events_of(node, header.id) == ["offered", "received"]
            row = await row_of(node, header.id)
            assert row is not None and row.state == "accepted" and row.handled
            assert kept(node, header.id) == ACCEPTED_INLINE
        assert staging_left(node) == []
    finally:
        await node.stop()


async def test_an_offer_made_again_while_it_is_recorded_does_not_split_the_next_group(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """A sender asks again while its dispatch is being recorded: the next group holds the
    second offer with two others, and its shared insert meets the first's row. The second offer
    is answered with the first's receipt and the two others still go in together: two
    transactions in all, not one per dispatch."""
    node = await start_camlo(demo_network)
    [inline] = [runner.app[INLINE] for runner in node.runners if INLINE in runner.app]
    to_record = checked_offers(inline.recorder)
    handled = HeldFirst(until=lambda: len(to_record) == 4, most=20)
    node.handlers.replace("document", handled)
    try:
        folders = [tmp_path / f"out-{number}" for number in range(3)]
        headers = [seal_document(demo_network, folder) for folder in folders]
        writes = transactions_that_write(node)

        first = asyncio.ensure_future(offer_inline(demo_network, node, folders[0]))

        async def first_held() -> bool:
            return bool(handled.received)

        await wait_for(first_held, seconds=20)
        again, *others = await asyncio.gather(
            *(offer_inline(demo_network, node, folder) for folder in [folders[0], *folders[1:]])
        )

        assert handled.met
        assert again == await first
        for (status, answer), header in zip(others, headers[1:], strict=True):
            assert status == 200 and answer["id"] == header.id
            assert answer["receipt"]["body"]["status"] == "accepted"
        assert writes == [2]
        for header in headers:
            assert handled.count(header.id) == 1
            assert await events_of(node, header.id) == ["offered", "received"]
        assert staging_left(node) == []
    finally:
        await node.stop()


async def test_the_same_inline_offer_at_two_processes_at_once_is_recorded_and_handed_over_once(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """Both processes check the offer; the first to insert it keeps its handler's transaction
    open a while, so the other's insert meets it on the primary key. Both answer with the one
    receipt recorded, and the dispatch is handed over once."""
    handled = Handled(pause=0.5)
    first = await start_camlo(demo_network)
    second = await start_camlo(demo_network, own_ports=True)
    try:
        for node in (first, second):
            node.handlers.replace("document", handled)
        header = seal_document(demo_network, tmp_path / "out")

        answers = await asyncio.gather(
            offer_inline(demo_network, first, tmp_path / "out"),
            offer_inline(demo_network, second, tmp_path / "out"),
        )

        [(status, answer), again] = answers
        assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
        assert again == (status, answer)
        assert handled.count(header.id) == 1
        row = await row_of(first, header.id)
        assert row is not None and row.handled
        assert await events_of(first, header.id) == ["offered", "received"]
        assert kept(first, header.id) == ACCEPTED_INLINE
        assert staging_left(first) == []
    finally:
        await second.stop()
        await first.stop()


def seal_and_flip_a_byte(network: DemoNetwork, folder: Path) -> None:
    seal_document(network, folder)
    payload = folder / PAYLOAD_FILE
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    payload.write_bytes(bytes(data))


def seal_with_the_wrong_key(network: DemoNetwork, folder: Path) -> None:
    """Decrypts well; the unit's signature on it does not hold."""
    ring = keyring(network, "TU")
    honest = sender_of(ring, "TU")
    seal_document(
        network, folder, sender=type(honest)(**{**honest.__dict__, "signing_key": ring.node_key})
    )


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (seal_and_flip_a_byte, "bad-digest"),
        (seal_with_the_wrong_key, "bad-signature"),
    ],
)
async def test_an_inline_dispatch_refused_keeps_its_signed_header_and_nothing_in_clear(
    demo_network: DemoNetwork,
    camlo: tuple[RunningNode, Handled],
    tmp_path: Path,
    spoil: Any,
    code: str,
) -> None:
    node, handled = camlo
    spoil(demo_network, tmp_path / "out")
    header = Header.from_bytes((tmp_path / "out" / HEADER_FILE).read_bytes())

    status, answer = await offer_inline(demo_network, node, tmp_path / "out")

    assert (status, answer["error"]) == (403, code)
    assert answer["receipt"]["body"]["status"] == "refused"
    assert answer["receipt"]["body"]["code"] == code
    check_receipt(answer["receipt"])
    assert handled.received == []
    row = await row_of(node, header.id)
    assert row is not None and row.state == "refused" and row.refusal_code == code
    assert await events_of(node, header.id) == ["offered", "refused"]
    async with node.sessions() as session:
        refusals = await session.scalars(select(Refusal).where(Refusal.dispatch_id == header.id))
        assert [(r.peer, r.code) for r in refusals] == [("TU", code)]
    assert kept(node, header.id) == ["header.json", "header.sig"]
    assert staging_left(node) == []

    status, again = await offer_inline(demo_network, node, tmp_path / "out")
    assert status == 200 and again["receipt"] == answer["receipt"]


async def test_an_inline_dispatch_whose_handler_fails_is_accepted_and_handed_over_at_the_next_start(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """The handler's writes go, the acceptance stays: the sender has its receipt, and the
    next start hands the dispatch over, once."""
    node = await start_camlo(demo_network)
    node.handlers.replace("document", failing_handler)
    try:
        header = seal_document(demo_network, tmp_path / "out")
        status, answer = await offer_inline(demo_network, node, tmp_path / "out")
        assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
        row = await row_of(node, header.id)
        assert row is not None and row.state == "accepted" and not row.handled
        assert await events_of(node, header.id) == ["offered", "received"]
        async with node.sessions() as session:
            assert (await evidence.verify_chain(session)).intact
        assert await offer_inline(demo_network, node, tmp_path / "out") == (status, answer)
    finally:
        await node.stop()
    handled = Handled()
    node = await start_camlo(demo_network)
    node.handlers.replace("document", handled)
    try:

        async def handed_over() -> bool:
            row = await row_of(node, header.id)
            return row is not None and row.handled

        await wait_for(handed_over)
        [dispatch] = [d for d in handled.received if d.header.id == header.id]
        assert dispatch.files[0].read_bytes() == (tmp_path / "out-attachment.pdf").read_bytes()
    finally:
        await node.stop()


async def test_an_inline_offer_finishes_one_begun_the_long_way(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Handled], tmp_path: Path
) -> None:
    node, handled = camlo
    header = seal_document(demo_network, tmp_path / "out")
    status, answer = await offer_header(demo_network, node, tmp_path / "out")
    assert (status, answer["offset"]) == (201, 0)

    status, answer = await offer_inline(demo_network, node, tmp_path / "out")

    assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
    assert handled.count(header.id) == 1
    assert await events_of(node, header.id) == ["offered", "received"]


async def test_a_peer_at_its_open_offers_limit_may_still_deliver_inline(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """An inline offer is decided at once and never holds an upload open."""
    node = await start_camlo(demo_network, {"CONGVAN_EXCHANGE_MAX_OPEN_OFFERS_PER_PEER": "1"})
    handled = Handled()
    node.handlers.replace("document", handled)
    try:
        seal_document(demo_network, tmp_path / "large", content=os.urandom(300_000))
        assert (await offer_header(demo_network, node, tmp_path / "large"))[0] == 201
        seal_document(demo_network, tmp_path / "another", content=os.urandom(300_000))
        status, answer = await offer_header(demo_network, node, tmp_path / "another")
        assert (status, answer["error"]) == (429, "too-many-offers")

        small = seal_document(demo_network, tmp_path / "small")
        status, answer = await offer_inline(demo_network, node, tmp_path / "small")

        assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
        assert handled.count(small.id) == 1
    finally:
        await node.stop()


async def test_an_inline_payload_longer_than_its_header_declares_is_refused_as_too_large(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Handled], tmp_path: Path
) -> None:
    node, handled = camlo
    header = seal_document(demo_network, tmp_path / "out")
    payload = (tmp_path / "out" / PAYLOAD_FILE).read_bytes() + b"x"

    status, answer = await offer_inline(demo_network, node, tmp_path / "out", payload)

    assert (status, answer["error"]) == (413, "too-large")
    assert answer["receipt"]["body"]["code"] == "too-large"
    row = await row_of(node, header.id)
    assert row is not None and row.state == "refused"
    assert handled.received == []


async def test_a_folder_left_where_an_inline_dispatch_goes_makes_way_for_it(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Handled], tmp_path: Path
) -> None:
    """What a process that died between moving the dispatch into place and committing leaves
    behind: the next offer of the dispatch replaces it."""
    node, handled = camlo
    header = seal_document(demo_network, tmp_path / "out")
    assert node.inbox is not None
    left = node.inbox.folder(header.id)
    (left / "opened").mkdir(parents=True)
    (left / "opened" / "stale.pdf").write_bytes(b"left behind")

    status, answer = await offer_inline(demo_network, node, tmp_path / "out")

    assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
    assert not (left / "opened" / "stale.pdf").exists()
    [dispatch] = handled.received
    assert dispatch.files[0].read_bytes() == (tmp_path / "out-attachment.pdf").read_bytes()
    assert staging_left(node) == []


async def test_a_staging_folder_a_dead_process_left_is_swept_once_a_check_lease_passed(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Handled]
) -> None:
    node, _handled = camlo
    assert node.inbox is not None
    spool = node.inbox.spool
    spool.mkdir(parents=True, exist_ok=True)
    abandoned = spool / f"{os.urandom(4).hex()}.dead{STAGING_SUFFIX}"
    (abandoned / "opened").mkdir(parents=True)
    (abandoned / "opened" / "clear.pdf").write_bytes(b"in clear")
    long_ago = time.time() - node.inbox.verify_lease.total_seconds() - 60
    os.utime(abandoned, (long_ago, long_ago))
    under_way = spool / f"{os.urandom(4).hex()}.live{STAGING_SUFFIX}"
    under_way.mkdir()

    upkeep = node.upkeep
    assert upkeep is not None

    async def swept() -> bool:
        # The node's own sweeper may get there first: either way it goes, and only it.
        await upkeep.remove_abandoned_staging()
        return not abandoned.exists()

    await wait_for(swept)
    assert under_way.exists()
    assert await upkeep.remove_abandoned_staging() == 0
    under_way.rmdir()
