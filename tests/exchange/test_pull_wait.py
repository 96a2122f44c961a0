"""A pull node's question to the hub is a long poll: a commune that asks only once an hour
(``pull_seconds``) still gets a dispatch as soon as the hub has it, whichever of the hub's
processes stored it; the hub caps the wait, refuses a malformed one, and answers every question
it holds when it stops."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from config.errors import PeerRefused
from config.settings import load_settings
from exchange.peer_client import PeerClient
from exchange.pull_wait import PullWaiters
from office.node.app import RunningNode, start_node
from tests.support.cli import Cli
from tests.support.dispatches import node_context, seal_document
from tests.support.network import DemoNetwork
from tests.support.nodes import FAST, start
from tests.support.ports import free_port_block
from tests.support.waiting import wait_for

#: The commune asks again only after an hour unless the hub holds its question open.
ONCE_AN_HOUR = {"CONGVAN_EXCHANGE_PULL_SECONDS": "3600", "CONGVAN_EXCHANGE_PULL_WAIT_SECONDS": "20"}


def camlo_pulls(network: DemoNetwork, cli: Cli) -> None:
    tu_dir = network.node_dir("TU")
    cli("units", "set-pull", "--dir", tu_dir, "HU-CAMLO")
    cli("keys", "directory", "--dir", tu_dir)


async def second_process_of(network: DemoNetwork, name: str) -> RunningNode:
    """Another process of ``name`` (same folder, database and spool) on ports of its own."""
    base = free_port_block(2)
    overrides = {
        **FAST,
        **ONCE_AN_HOUR,
        "CONGVAN_WEB_PORT": str(base),
        "CONGVAN_PEER_PORT": str(base + 1),
    }
    return await start_node(load_settings(network.node_dir(name), overrides))


@pytest.mark.parametrize("stored_by", ["the same process", "another process"])
async def test_a_commune_asking_once_an_hour_gets_a_dispatch_as_the_hub_stores_it(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path, stored_by: str
) -> None:
    camlo_pulls(fresh_network, cli)
    hub, _ = await start(fresh_network, "TU", **ONCE_AN_HOUR)
    other = await second_process_of(fresh_network, "TU") if stored_by != "the same process" else hub
    camlo, recorder = await start(fresh_network, "HU-CAMLO", **ONCE_AN_HOUR)
    try:
        assert hub.relay is not None

        async def camlo_waits_at_the_hub() -> bool:
            assert hub.relay is not None
            return hub.relay.waiters.waiting("HU-CAMLO")

        await wait_for(camlo_waits_at_the_hub)
        header = seal_document(
            fresh_network, tmp_path / "out", sender_node="TX-DONGHA", sender_unit="TX-DONGHA"
        )
        async with aiohttp.ClientSession() as session:
            client = PeerClient(session, other.peer_url, node_context(fresh_network, "TX-DONGHA"))
            await client.relay(tmp_path / "out", "HU-CAMLO")

        async def received() -> bool:
            return [d.header.id for d in recorder.received] == [header.id]

        # Within the test's wait, not the hour the commune would otherwise sleep.
        await wait_for(received)
    finally:
        await camlo.stop()
        if other is not hub:
            await other.stop()
        await hub.stop()


async def test_a_commune_asking_longer_than_the_hub_holds_asks_again_when_its_hold_runs_out(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    # The hub holds a question one second; the commune asks it to hold twenty, and would ask
    # again only after an hour if it took the empty answer for one given at once.
    camlo_pulls(fresh_network, cli)
    hub, _ = await start(fresh_network, "TU", CONGVAN_EXCHANGE_PULL_WAIT_SECONDS="1")
    camlo, recorder = await start(fresh_network, "HU-CAMLO", **ONCE_AN_HOUR)
    try:
        assert hub.relay is not None
        waiters = hub.relay.waiters

        async def camlo_waits_at_the_hub() -> bool:
            return waiters.waiting("HU-CAMLO")

        await wait_for(camlo_waits_at_the_hub)
        await asyncio.sleep(3)  # its question runs out, empty, at least twice
        await wait_for(camlo_waits_at_the_hub)
        header = seal_document(
            fresh_network, tmp_path / "out", sender_node="TX-DONGHA", sender_unit="TX-DONGHA"
        )
        async with aiohttp.ClientSession() as session:
            client = PeerClient(session, hub.peer_url, node_context(fresh_network, "TX-DONGHA"))
            await client.relay(tmp_path / "out", "HU-CAMLO")

        async def received() -> bool:
            return [d.header.id for d in recorder.received] == [header.id]

        await wait_for(received)
    finally:
        await camlo.stop()
        await hub.stop()


async def hub_client(
    network: DemoNetwork, hub: RunningNode
) -> tuple[aiohttp.ClientSession, PeerClient]:
    session = aiohttp.ClientSession()
    return session, PeerClient(session, hub.peer_url, node_context(network, "HU-CAMLO"))


async def test_a_question_with_nothing_waiting_is_answered_empty_after_the_hub_s_cap(
    fresh_network: DemoNetwork, cli: Cli
) -> None:
    camlo_pulls(fresh_network, cli)
    hub, _ = await start(fresh_network, "TU", CONGVAN_EXCHANGE_PULL_WAIT_SECONDS="1")
    session, client = await hub_client(fresh_network, hub)
    try:
        # Asked to wait ten minutes, the hub holds the question one second (its cap).
        assert await asyncio.wait_for(client.waiting(600), 30) == []
        assert client.hub_hold == 1  # and says so: the node asks again at once
        for wait in ("-1", "601", "nan", "soon"):
            with pytest.raises(PeerRefused) as refused:
                await client._call("GET", f"/exchange/v1/relay/waiting?wait={wait}")
            assert refused.value.code == "malformed"
    finally:
        await session.close()
        await hub.stop()


async def test_a_stopping_hub_answers_the_questions_it_holds(
    fresh_network: DemoNetwork, cli: Cli
) -> None:
    camlo_pulls(fresh_network, cli)
    hub, _ = await start(fresh_network, "TU", CONGVAN_EXCHANGE_PULL_WAIT_SECONDS="600")
    session, client = await hub_client(fresh_network, hub)
    try:
        question = asyncio.create_task(client.waiting(600))

        async def held() -> bool:
            assert hub.relay is not None
            return hub.relay.waiters.waiting("HU-CAMLO")

        await wait_for(held)
        await hub.stop()
        # Answered with what there is, not cut off (and not held for ten minutes).
        assert await asyncio.wait_for(question, 30) == []
    finally:
        await session.close()


async def test_a_dispatch_wakes_only_the_questions_of_the_node_it_is_for(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    tu_dir = fresh_network.node_dir("TU")
    cli("units", "set-pull", "--dir", tu_dir, "HU-CAMLO")
    cli("units", "set-pull", "--dir", tu_dir, "TX-DONGHA")
    cli("keys", "directory", "--dir", tu_dir)
    hub, _ = await start(fresh_network, "TU", CONGVAN_EXCHANGE_PULL_WAIT_SECONDS="600")
    assert hub.relay is not None
    waiters = hub.relay.waiters
    async with aiohttp.ClientSession() as session:
        camlo = PeerClient(session, hub.peer_url, node_context(fresh_network, "HU-CAMLO"))
        dongha = PeerClient(session, hub.peer_url, node_context(fresh_network, "TX-DONGHA"))
        camlo_asks = asyncio.create_task(camlo.waiting(600))
        dongha_asks = asyncio.create_task(dongha.waiting(600))
        try:

            async def both_held() -> bool:
                return waiters.held("HU-CAMLO") == 1 and waiters.held("TX-DONGHA") == 1

            await wait_for(both_held)
            header = seal_document(
                fresh_network, tmp_path / "out", sender_node="TX-DONGHA", sender_unit="TX-DONGHA"
            )
            await dongha.relay(tmp_path / "out", "HU-CAMLO")
            # The hub woke Cam Lộ's question as it stored the dispatch, before it answered
            # the relay; Đông Hà's is still held.
            assert waiters.held("HU-CAMLO") == 0
            assert waiters.held("TX-DONGHA") == 1
            listed = await asyncio.wait_for(camlo_asks, 30)
            assert [item["id"] for item in listed] == [header.id]
            assert not dongha_asks.done()
        finally:
            await hub.stop()
            # A stopping hub answers the question it still holds: nothing for Đông Hà.
            assert await asyncio.wait_for(dongha_asks, 30) == []


async def test_questions_held_at_the_hub_hold_no_database_connection(
    fresh_network: DemoNetwork, cli: Cli
) -> None:
    camlo_pulls(fresh_network, cli)
    hub, _ = await start(fresh_network, "TU", CONGVAN_EXCHANGE_PULL_WAIT_SECONDS="600")
    assert hub.relay is not None
    waiters = hub.relay.waiters
    # More questions than the pool has connections (5, and 10 more on demand): if a held
    # question kept one, the others could not even be asked.
    questions = 2 * (hub.engine.pool.size() + 10)  # type: ignore[attr-defined]
    connector = aiohttp.TCPConnector(limit=questions)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = PeerClient(session, hub.peer_url, node_context(fresh_network, "HU-CAMLO"))
        asking = [asyncio.create_task(client.waiting(600)) for _ in range(questions)]
        try:

            async def all_held_none_connected() -> bool:
                checked_out: int = hub.engine.pool.checkedout()  # type: ignore[attr-defined]
                return waiters.held("HU-CAMLO") == questions and checked_out == 0

            await wait_for(all_held_none_connected)
        finally:
            await hub.stop()
        assert await asyncio.wait_for(asyncio.gather(*asking), 30) == [[]] * questions


class Database:
    """Stands in for the hub's deliveries: which nodes have work, read by a query that can
    be held at its start, so that a test decides what happens while it runs."""

    def __init__(self) -> None:
        self.with_work: set[str] = set()
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def nodes_with_work(self) -> set[str]:
        self.reads += 1
        seen = set(self.with_work)  # what the query reads, as it starts
        await self.gate.wait()
        return seen


async def test_questions_asked_together_share_one_read() -> None:
    database = Database()
    database.with_work = {"XA-0007"}
    waiters = PullWaiters(database.nodes_with_work)
    database.gate.clear()
    asking = [
        asyncio.create_task(waiters.wait(f"XA-{number:04d}", 600)) for number in range(1, 101)
    ]
    await asyncio.sleep(0)
    database.gate.set()
    await asyncio.sleep(0.1)
    # One read for the hundred questions; the commune with work is answered, the others
    # are held.
    assert database.reads == 1
    assert [task.done() for task in asking].count(True) == 1 and asking[6].result() is True
    assert waiters.held("XA-0001") == 1
    waiters.close()
    await asyncio.gather(*asking)


async def test_a_question_asked_while_a_read_runs_is_answered_by_the_next_read() -> None:
    database = Database()
    waiters = PullWaiters(database.nodes_with_work)
    database.gate.clear()
    first = asyncio.create_task(waiters.wait("XA-0001", 600))
    await asyncio.sleep(0)
    # Stored by another process while the read runs, and too late for it to see.
    database.with_work.add("XA-0002")
    second = asyncio.create_task(waiters.wait("XA-0002", 600))
    await asyncio.sleep(0)
    database.gate.set()
    assert await asyncio.wait_for(second, 30) is True
    assert database.reads == 2
    assert not first.done()
    waiters.close()
    assert await first is True  # a stopping hub lets it answer with what there is


async def test_a_question_soon_after_a_read_takes_its_answer_without_reading_again() -> None:
    database = Database()
    waiters = PullWaiters(database.nodes_with_work, check_seconds=5)
    first = asyncio.create_task(waiters.wait("XA-0001", 600))
    await wait_for_reads(database, 1)
    # Stored by this process since that read: known without a read.
    waiters.arrived("XA-0002")
    assert await asyncio.wait_for(waiters.wait("XA-0002", 600), 30) is True
    # Stored by another process since: the question is held, and woken by the next check.
    database.with_work.add("XA-0003")
    third = asyncio.create_task(waiters.wait("XA-0003", 600))
    await asyncio.sleep(0)
    assert waiters.held("XA-0003") == 1 and database.reads == 1
    assert await asyncio.wait_for(third, 30) is True
    assert database.reads == 2 and not first.done()
    waiters.close()
    await first


async def test_a_node_served_since_the_read_that_named_it_is_held() -> None:
    database = Database()
    database.with_work = {"XA-0001"}
    waiters = PullWaiters(database.nodes_with_work, check_seconds=5)
    assert await asyncio.wait_for(waiters.wait("XA-0001", 600), 30) is True
    # Its commune took the work and asks again at once: answered at once it would ask on
    # and on until the next read.
    database.with_work.clear()
    waiters.taken("XA-0001")
    again = asyncio.create_task(waiters.wait("XA-0001", 600))
    await asyncio.sleep(0.1)
    assert not again.done() and database.reads == 1
    waiters.close()
    await again


async def wait_for_reads(database: Database, reads: int) -> None:
    async def read() -> bool:
        return database.reads >= reads

    await wait_for(read)
