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
