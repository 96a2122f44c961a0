"""An accepted dispatch reaches its handler once, even when its first hand-over failed (a full
disk) or when two hand-overs meet: the sweep and the end of a slow acceptance, a restart and
another process."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from config.database import utcnow
from exchange.handlers import ReceivedDispatch
from exchange.models import InboundDispatch
from exchange.peer_client import INLINE_BYTES, PeerClient
from office.node.app import RunningNode, start_node
from tests.support.dispatches import node_context, seal_document
from tests.support.network import DemoNetwork

#: Long enough for a second hand-over to start while the first is in its handler, even on a
#: busy machine.
HANDLER_SECONDS = 2.0


class SlowRecorder:
    """A handler that takes its time and counts what it was given."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def __call__(self, _session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        await asyncio.sleep(HANDLER_SECONDS)
        self.received.append(dispatch.header.id)


async def disk_full(_session: AsyncSession, _dispatch: ReceivedDispatch) -> None:
    raise OSError(28, "No space left on device")


@pytest.fixture
async def camlo(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(demo_network.settings("HU-CAMLO"))
    node.handlers.replace("document", disk_full)
    yield node
    await node.stop()


async def deliver(network: DemoNetwork, node: RunningNode, folder: Path) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, node.peer_url, node_context(network, "TU"))
        return await client.deliver(folder)


async def accepted_long_ago(node: RunningNode, dispatch_id: str) -> None:
    """As if the dispatch had been accepted a check's lease and more ago."""
    async with node.sessions() as session, session.begin():
        await session.execute(
            update(InboundDispatch)
            .where(InboundDispatch.id == dispatch_id)
            .values(decided_at=utcnow() - timedelta(hours=1))
        )


async def test_a_large_dispatch_whose_handler_fails_is_accepted_and_handed_over_by_the_sweep(
    demo_network: DemoNetwork, camlo: RunningNode, tmp_path: Path
) -> None:
    """The acceptance is kept (the payload on disk, the receipt signed): the sender is given
    its receipt, not an error, and the sweep hands the dispatch over once it can, without
    waiting for a restart."""
    header = seal_document(demo_network, tmp_path / "out", content=os.urandom(400_000))
    assert header.size > INLINE_BYTES  # the long way: offer, upload, commit

    receipt = await deliver(demo_network, camlo, tmp_path / "out")

    assert receipt["body"]["status"] == "accepted"
    recorder = SlowRecorder()
    camlo.handlers.replace("document", recorder)
    assert camlo.sweeper is not None
    await camlo.sweeper.sweep_once()
    assert header.id not in recorder.received  # just accepted: its hand-over may be under way
    await accepted_long_ago(camlo, header.id)
    await camlo.sweeper.sweep_once()
    await camlo.sweeper.sweep_once()
    assert recorder.received.count(header.id) == 1
    async with camlo.sessions() as session:
        row = await session.get(InboundDispatch, header.id)
    assert row is not None and row.handled


async def test_two_hand_overs_of_one_dispatch_at_once_hand_it_over_once(
    demo_network: DemoNetwork, camlo: RunningNode, tmp_path: Path
) -> None:
    """On SQLite a read takes no lock: two hand-overs that both read "not handled" would both
    run the handler. The first to write claims the dispatch; the second finds it taken."""
    header = seal_document(demo_network, tmp_path / "out")
    await deliver(demo_network, camlo, tmp_path / "out")
    await accepted_long_ago(camlo, header.id)
    recorder = SlowRecorder()
    camlo.handlers.replace("document", recorder)
    assert camlo.upkeep is not None

    await asyncio.gather(camlo.upkeep.hand_over_stalled(), camlo.upkeep.hand_over_pending())

    assert recorder.received.count(header.id) == 1
