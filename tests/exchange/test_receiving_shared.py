"""The inbox when several node processes share one database and spool, and its bounds: one
upload or check of a dispatch at a time, a check's lease, a cap on a peer's open offers, the
expiry of offers never finished, a refusal written whole or not at all."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE, Header
from exchange.handlers import ReceivedDispatch
from exchange.models import EvidenceEntry, InboundDispatch, Refusal
from office.node.app import RunningNode
from tests.support.databases import using_postgresql
from tests.support.dispatches import node_context, seal_document
from tests.support.network import DemoNetwork
from tests.support.nodes import start_camlo
from tests.support.waiting import wait_for

PART = PAYLOAD_FILE + ".part"
FAST_EXPIRY = {
    "CONGVAN_EXCHANGE_OFFER_EXPIRY_SECONDS": "2",
    "CONGVAN_EXCHANGE_SWEEP_SECONDS": "1",
}


class Handled:
    """A handler that counts hand-overs per dispatch, whichever process makes them."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def __call__(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        self.ids.append(dispatch.header.id)


class Peer:
    """Node ``name`` talking to other nodes' peer API over mutual TLS, request by request."""

    def __init__(self, session: aiohttp.ClientSession, network: DemoNetwork, name: str) -> None:
        self.session = session
        self.context = node_context(network, name)

    async def call(
        self, node: RunningNode, method: str, path: str, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        async with self.session.request(
            method, f"{node.peer_url}/exchange/v1{path}", ssl=self.context, **kwargs
        ) as response:
            return response.status, await response.json()

    async def offer(self, node: RunningNode, folder: Path) -> tuple[int, dict[str, Any]]:
        """The header alone (no inline payload), as for a large dispatch."""
        body = {
            "header": base64.b64encode((folder / HEADER_FILE).read_bytes()).decode(),
            "signature": base64.b64encode((folder / HEADER_SIGNATURE_FILE).read_bytes()).decode(),
        }
        return await self.call(node, "POST", "/dispatches", json=body)

    async def put(
        self, node: RunningNode, dispatch_id: str, offset: int, data: Any
    ) -> tuple[int, dict[str, Any]]:
        return await self.call(
            node, "PUT", f"/dispatches/{dispatch_id}/payload", params={"offset": offset}, data=data
        )

    async def held(self, node: RunningNode, dispatch_id: str) -> int:
        _status, body = await self.call(node, "GET", f"/dispatches/{dispatch_id}")
        return int(body["offset"])

    async def commit(self, node: RunningNode, dispatch_id: str) -> tuple[int, dict[str, Any]]:
        return await self.call(node, "POST", f"/dispatches/{dispatch_id}/commit")

    async def deliver(self, node: RunningNode, folder: Path) -> tuple[int, dict[str, Any]]:
        """Offer, upload from where the receiver stands, commit: the commit's answer."""
        status, answer = await self.offer(node, folder)
        assert status == 201, answer
        payload = (folder / PAYLOAD_FILE).read_bytes()
        await self.put(node, answer["id"], answer["offset"], payload[answer["offset"] :])
        return await self.commit(node, answer["id"])


@asynccontextmanager
async def peer(network: DemoNetwork, name: str) -> AsyncIterator[Peer]:
    async with aiohttp.ClientSession() as session:
        yield Peer(session, network, name)


async def trickle(payload: bytes, go_on: asyncio.Event) -> AsyncIterator[bytes]:
    """A request body that sends a first part, then waits: an upload over a slow link."""
    yield payload[:100_000]
    await go_on.wait()
    yield payload[100_000:]


@pytest.fixture
async def two_camlos(
    demo_network: DemoNetwork,
) -> AsyncIterator[tuple[RunningNode, RunningNode, Handled]]:
    handled = Handled()
    first = await start_camlo(demo_network)
    second = await start_camlo(demo_network, own_ports=True)
    for node in (first, second):
        node.handlers.replace("document", handled)
    yield first, second, handled
    await second.stop()
    await first.stop()


async def row_of(node: RunningNode, dispatch_id: str) -> InboundDispatch | None:
    async with node.sessions() as session:
        return await session.get(InboundDispatch, dispatch_id)


async def refusal_codes(node: RunningNode, dispatch_id: str) -> list[tuple[str, str]]:
    async with node.sessions() as session:
        rows = await session.scalars(select(Refusal).where(Refusal.dispatch_id == dispatch_id))
        return [(row.peer, row.code) for row in rows]


async def offered_and_uploaded(
    tu: Peer, node: RunningNode, network: DemoNetwork, folder: Path
) -> Header:
    """A large dispatch from Tỉnh uỷ, offered and wholly uploaded, not yet committed."""
    header = seal_document(network, folder, content=os.urandom(400_000))
    status, answer = await tu.offer(node, folder)
    assert status == 201, answer
    payload = (folder / PAYLOAD_FILE).read_bytes()
    assert await tu.put(node, header.id, 0, payload) == (200, {"offset": len(payload)})
    return header


async def set_check(node: RunningNode, dispatch_id: str, until: datetime) -> None:
    """What a process's commit writes when it claims the dispatch for checking."""
    async with node.sessions() as session, session.begin():
        await session.execute(
            update(InboundDispatch)
            .where(InboundDispatch.id == dispatch_id)
            .values(state="verifying", verifying_until=until)
        )


@contextmanager
def lock_held(path: Path) -> Iterator[None]:
    """The lock a process holds on the payload while it checks it; the kernel lets go of it
    when the process dies, as here at the end of the block."""
    with path.open("r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# -- one upload, one check at a time ---------------------------------------------------------


async def test_a_second_upload_of_a_dispatch_is_told_busy_while_the_first_is_under_way(
    demo_network: DemoNetwork,
    two_camlos: tuple[RunningNode, RunningNode, Handled],
    tmp_path: Path,
) -> None:
    """Two processes of Cam Lộ: while one receives the payload over a slow link, an upload to
    the other (from where the receiver stands, as a sender that asked would do) and a commit
    are told ``busy``; the slow upload then finishes and the dispatch is accepted whole."""
    first, second, handled = two_camlos
    header = seal_document(demo_network, tmp_path / "out", content=os.urandom(400_000))
    payload = (tmp_path / "out" / PAYLOAD_FILE).read_bytes()
    async with peer(demo_network, "TU") as tu:
        assert (await tu.offer(first, tmp_path / "out"))[0] == 201
        go_on = asyncio.Event()
        slow = asyncio.create_task(tu.put(first, header.id, 0, trickle(payload, go_on)))

        async def receiving() -> bool:
            return await tu.held(second, header.id) > 0

        await wait_for(receiving)
        held = await tu.held(second, header.id)
        status, answer = await tu.put(second, header.id, held, payload[held:])
        assert (status, answer["error"]) == (409, "busy")
        status, answer = await tu.commit(second, header.id)
        assert (status, answer["error"]) == (409, "busy")

        go_on.set()
        assert await slow == (200, {"offset": len(payload)})
        status, answer = await tu.commit(second, header.id)
    assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
    assert first.inbox is not None
    assert (first.inbox.folder(header.id) / PAYLOAD_FILE).read_bytes() == payload
    assert handled.ids.count(header.id) == 1


async def test_more_bytes_than_the_header_declares_are_refused_as_too_large(
    demo_network: DemoNetwork,
    two_camlos: tuple[RunningNode, RunningNode, Handled],
    tmp_path: Path,
) -> None:
    first, _second, _handled = two_camlos
    header = seal_document(demo_network, tmp_path / "out", content=os.urandom(400_000))
    payload = (tmp_path / "out" / PAYLOAD_FILE).read_bytes()
    async with peer(demo_network, "TU") as tu:
        assert (await tu.offer(first, tmp_path / "out"))[0] == 201
        status, answer = await tu.put(first, header.id, 0, payload + b"x" * 70_000)
    assert (status, answer["error"]) == (413, "too-large")
    assert answer["receipt"]["body"]["code"] == "too-large"
    row = await row_of(first, header.id)
    assert row is not None and row.state == "refused"
    assert await refusal_codes(first, header.id) == [("TU", "too-large")]
    assert first.inbox is not None
    assert not (first.inbox.folder(header.id) / PART).exists()


# -- the check's lease -----------------------------------------------------------------------


async def test_a_check_another_process_is_making_is_left_to_it_until_that_process_dies(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """Another process claimed the dispatch and checks it (its lease runs, it holds the lock).
    A process starting meanwhile leaves it alone and a commit is told ``busy``; so while that
    check runs past its lease. Once the process is gone, a commit takes the check over."""
    handled = Handled()
    first = await start_camlo(demo_network)
    first.handlers.replace("document", handled)
    second: RunningNode | None = None
    try:
        async with peer(demo_network, "TU") as tu:
            header = await offered_and_uploaded(tu, first, demo_network, tmp_path / "out")
            assert first.inbox is not None
            part = first.inbox.folder(header.id) / PART
            with lock_held(part):
                await set_check(first, header.id, datetime.now(UTC) + timedelta(hours=1))
                second = await start_camlo(demo_network, own_ports=True)  # recovers at start
                second.handlers.replace("document", handled)
                row = await row_of(second, header.id)
                assert row is not None and row.state == "verifying"
                status, answer = await tu.commit(second, header.id)
                assert (status, answer["error"]) == (409, "busy")

                await set_check(first, header.id, datetime.now(UTC) - timedelta(seconds=1))
                assert second.inbox is not None
                await second.upkeep.recover()  # the lease lapsed, the lock says it still runs
                row = await row_of(second, header.id)
                assert row is not None and row.state == "verifying"
                assert (await tu.commit(second, header.id))[1]["error"] == "busy"
                assert part.exists()
            status, answer = await tu.commit(second, header.id)
        assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
        assert handled.ids.count(header.id) == 1
    finally:
        if second is not None:
            await second.stop()
        await first.stop()


async def test_a_check_whose_process_died_is_taken_over_only_once_its_lease_lapsed(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """The process died while accepting (its payload already set aside, the row not yet
    written). While its lease runs, neither a start nor a commit touches the dispatch; once it
    lapsed, the next start puts the payload back and the sender's commit is accepted."""
    handled = Handled()
    node = await start_camlo(demo_network)
    node.handlers.replace("document", handled)
    try:
        async with peer(demo_network, "TU") as tu:
            header = await offered_and_uploaded(tu, node, demo_network, tmp_path / "out")
            assert node.inbox is not None
            folder = node.inbox.folder(header.id)
            await set_check(node, header.id, datetime.now(UTC) + timedelta(hours=1))
            (folder / PART).replace(folder / PAYLOAD_FILE)

            await node.upkeep.recover()
            row = await row_of(node, header.id)
            assert row is not None and row.state == "verifying"
            assert (await tu.commit(node, header.id))[1]["error"] == "busy"

            await node.stop()
            await set_check(node, header.id, datetime.now(UTC) - timedelta(seconds=1))
            node = await start_camlo(demo_network)
            node.handlers.replace("document", handled)
            row = await row_of(node, header.id)
            assert row is not None and row.state == "uploading" and row.verifying_until is None
            assert (folder / PART).exists() and not (folder / PAYLOAD_FILE).exists()
            status, answer = await tu.commit(node, header.id)
        assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
        assert handled.ids.count(header.id) == 1
    finally:
        await node.stop()


# -- bounds on unfinished offers -------------------------------------------------------------


async def test_a_peer_with_too_many_open_offers_is_told_to_come_back_later(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """Đông Hà may hold two unfinished offers: a third is refused ``too-many-offers`` without
    a receipt (so its outbox tries again), its open ones may still be resumed, another peer is
    not held up, and a finished offer frees a place."""
    node = await start_camlo(demo_network, {"CONGVAN_EXCHANGE_MAX_OPEN_OFFERS_PER_PEER": "2"})
    try:
        folders = [tmp_path / f"out-{n}" for n in range(3)]
        headers = [
            seal_document(
                demo_network,
                folder,
                sender_node="TX-DONGHA",
                sender_unit="TX-DONGHA",
                content=os.urandom(300_000),
            )
            for folder in folders
        ]
        async with peer(demo_network, "TX-DONGHA") as dongha, peer(demo_network, "TU") as tu:
            assert (await dongha.offer(node, folders[0]))[0] == 201
            assert (await dongha.offer(node, folders[1]))[0] == 201
            status, answer = await dongha.offer(node, folders[2])
            assert (status, answer["error"]) == (429, "too-many-offers")
            assert "receipt" not in answer
            assert await row_of(node, headers[2].id) is None

            assert (await dongha.offer(node, folders[0]))[0] == 201  # resuming is not new
            seal_document(demo_network, tmp_path / "from-tu", content=os.urandom(300_000))
            status, answer = await tu.deliver(node, tmp_path / "from-tu")
            assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"

            status, answer = await dongha.deliver(node, folders[0])
            assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
            for folder in folders[1:]:
                status, answer = await dongha.deliver(node, folder)
                assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
        assert await refusal_codes(node, headers[2].id) == [("TX-DONGHA", "too-many-offers")]
    finally:
        await node.stop()


async def test_an_offer_left_unfinished_expires_with_its_spool_folder(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """Half uploaded, then nothing: the node's periodic sweep removes the offer and its folder,
    records it as expired, and the sender's next attempt starts afresh."""
    node = await start_camlo(demo_network, FAST_EXPIRY)
    try:
        header = seal_document(demo_network, tmp_path / "out", content=os.urandom(400_000))
        payload = (tmp_path / "out" / PAYLOAD_FILE).read_bytes()
        assert node.inbox is not None
        folder = node.inbox.folder(header.id)
        async with peer(demo_network, "TU") as tu:
            assert (await tu.offer(node, tmp_path / "out"))[0] == 201
            half = len(payload) // 2
            assert await tu.put(node, header.id, 0, payload[:half]) == (200, {"offset": half})

            async def gone() -> bool:
                return await row_of(node, header.id) is None

            await wait_for(gone)
            assert not folder.exists()
            assert [p.name for p in node.inbox.spool.iterdir() if p.name.endswith(".expired")] == []
            status, answer = await tu.put(node, header.id, half, payload[half:])
            assert (status, answer["error"]) == (404, "unknown-dispatch")
            assert await refusal_codes(node, header.id) == [("TU", "offer-expired")]
            async with node.sessions() as session:
                events = await session.scalars(
                    select(EvidenceEntry.event)
                    .where(EvidenceEntry.dispatch_id == header.id)
                    .order_by(EvidenceEntry.seq)
                )
                assert list(events) == ["offered", "expired"]

            status, answer = await tu.deliver(node, tmp_path / "out")
        assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
    finally:
        await node.stop()


async def test_an_upload_under_way_is_not_expired_however_long_it_takes(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    node = await start_camlo(demo_network, FAST_EXPIRY)
    try:
        header = seal_document(demo_network, tmp_path / "out", content=os.urandom(400_000))
        payload = (tmp_path / "out" / PAYLOAD_FILE).read_bytes()
        async with peer(demo_network, "TU") as tu:
            assert (await tu.offer(node, tmp_path / "out"))[0] == 201
            go_on = asyncio.Event()
            slow = asyncio.create_task(tu.put(node, header.id, 0, trickle(payload, go_on)))

            async def receiving() -> bool:
                return await tu.held(node, header.id) > 0

            await wait_for(receiving)
            await asyncio.sleep(4)  # twice the expiry, four sweeps
            row = await row_of(node, header.id)
            assert row is not None and row.state == "uploading"
            go_on.set()
            assert await slow == (200, {"offset": len(payload)})
            status, answer = await tu.commit(node, header.id)
        assert status == 200 and answer["receipt"]["body"]["status"] == "accepted"
        assert await refusal_codes(node, header.id) == []
    finally:
        await node.stop()


# -- a refusal is written whole --------------------------------------------------------------

NO_REFUSED_STATE_SQLITE = [
    "CREATE TRIGGER no_refused_state BEFORE UPDATE OF state ON inbound_dispatches "
    "WHEN NEW.state = 'refused' BEGIN SELECT RAISE(ABORT, 'no refused state'); END",
]
NO_REFUSED_STATE_POSTGRESQL = [
    "CREATE FUNCTION no_refused_state() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'no refused state'; END $$",
    "CREATE TRIGGER no_refused_state BEFORE UPDATE OF state ON inbound_dispatches "
    "FOR EACH ROW WHEN (NEW.state = 'refused') EXECUTE FUNCTION no_refused_state()",
]
DROP_SQLITE = ["DROP TRIGGER no_refused_state"]
DROP_POSTGRESQL = [
    "DROP TRIGGER no_refused_state ON inbound_dispatches",
    "DROP FUNCTION no_refused_state()",
]


async def run_sql(node: RunningNode, statements: list[str]) -> None:
    async with node.sessions() as session, session.begin():
        for statement in statements:
            await session.execute(text(statement))


async def test_a_refusal_that_cannot_be_written_whole_leaves_no_half_behind(
    demo_network: DemoNetwork,
    two_camlos: tuple[RunningNode, RunningNode, Handled],
    tmp_path: Path,
) -> None:
    """The database refuses to mark the dispatch refused (a trigger): the refusal's record and
    evidence go too, and the dispatch is released for the sender's next commit, which, once
    the database is well, is refused with the record and the state together."""
    node, _second, handled = two_camlos
    header = seal_document(demo_network, tmp_path / "out", content=os.urandom(400_000))
    payload = tmp_path / "out" / PAYLOAD_FILE
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    payload.write_bytes(bytes(data))
    install, drop = (
        (NO_REFUSED_STATE_POSTGRESQL, DROP_POSTGRESQL)
        if using_postgresql()
        else (NO_REFUSED_STATE_SQLITE, DROP_SQLITE)
    )
    await run_sql(node, install)
    installed = True
    try:
        async with peer(demo_network, "TU") as tu:
            status, answer = await tu.deliver(node, tmp_path / "out")
            assert (status, answer["error"]) == (500, "internal")
            assert await refusal_codes(node, header.id) == []
            async with node.sessions() as session:
                events = await session.scalars(
                    select(EvidenceEntry.event).where(EvidenceEntry.dispatch_id == header.id)
                )
                assert list(events) == ["offered"]
            row = await row_of(node, header.id)
            assert row is not None and row.state == "uploading" and row.receipt is None
            await run_sql(node, drop)
            installed = False

            status, answer = await tu.commit(node, header.id)
        assert (status, answer["error"]) == (403, "bad-digest")
        assert answer["receipt"]["body"]["code"] == "bad-digest"
        row = await row_of(node, header.id)
        assert row is not None and row.state == "refused" and row.refusal_code == "bad-digest"
        assert await refusal_codes(node, header.id) == [("TU", "bad-digest")]
        assert handled.ids.count(header.id) == 0
    finally:
        if installed:
            await run_sql(node, drop)
