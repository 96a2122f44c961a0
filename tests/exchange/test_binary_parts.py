"""Payload version 2 (binary parts) between real nodes: a sender seals it only for a node that
said it reads it; a big one resumes after a cut link and arrives whole, its files linked into
the blob store; an altered one is still refused as ``bad-digest``."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from config.errors import PeerRefused
from exchange.envelope import PAYLOAD_FILE, Attachment, Draft
from exchange.mime import BINARY_PARTS
from exchange.models import InboundDispatch, PeerPayloadVersion
from exchange.peer_client import PeerClient
from office.node.app import RunningNode
from tests.support.dispatches import node_context, seal_document
from tests.support.network import DemoNetwork
from tests.support.nodes import Recorder, start, states
from tests.support.waiting import wait_for

BIG = 3 * 1024 * 1024


@pytest.fixture
async def camlo(demo_network: DemoNetwork) -> AsyncIterator[tuple[RunningNode, Recorder]]:
    node, recorder = await start(demo_network, "HU-CAMLO")
    yield node, recorder
    await node.stop()


def scan(folder: Path, name: str, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def document(path: Path, *to: str) -> Draft:
    return Draft(to, "document", {"summary": path.name}, (Attachment(path.name, path),))


async def test_a_node_seals_binary_parts_only_for_a_node_that_said_it_reads_them(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    _node, recorder = camlo
    province, _ = await start(demo_network, "TU")
    try:
        outbox = province.outbox
        assert outbox is not None
        first = await outbox.send("TU", document(scan(tmp_path, "a.pdf", 100_000), "HU-CAMLO"))

        async def delivered(dispatch_id: str) -> bool:
            return await states(province, dispatch_id) == {"HU-CAMLO": "delivered"}

        await wait_for(lambda: delivered(first.id))
        async with province.sessions() as session:
            heard = await session.get(PeerPayloadVersion, "HU-CAMLO")
        assert heard is not None and heard.version == BINARY_PARTS
        second = await outbox.send("TU", document(scan(tmp_path, "b.pdf", 100_000), "HU-CAMLO"))
        # Never heard from: Đông Hà gets base64 parts (it is not even running).
        third = await outbox.send("TU", document(scan(tmp_path, "c.pdf", 100_000), "TX-DONGHA"))
        await wait_for(lambda: delivered(second.id))
    finally:
        await province.stop()
    assert first.size > 130_000 and third.size > 130_000  # base64: a third more
    assert second.size < 110_000  # binary
    arrived = {dispatch.header.id: dispatch for dispatch in recorder.received}
    for header, name in ((first, "a.pdf"), (second, "b.pdf")):
        [path] = arrived[header.id].files
        assert path.read_bytes() == (tmp_path / name).read_bytes()
        assert arrived[header.id].digests == (hashlib.sha256(path.read_bytes()).hexdigest(),)


async def test_a_big_binary_dispatch_cut_midway_resumes_and_arrives_whole(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, recorder = camlo
    content = os.urandom(BIG)
    header = seal_document(
        demo_network, tmp_path / "out", content=content, payload_version=BINARY_PARTS
    )
    payload = (tmp_path / "out" / PAYLOAD_FILE).read_bytes()
    assert len(payload) < BIG + 20_000
    first_half = tmp_path / "half"
    first_half.write_bytes(payload[: len(payload) // 2])
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, node.peer_url, node_context(demo_network, "TU"))
        reply = await client.offer(tmp_path / "out")
        assert reply["payload_versions"] == [1, 2]
        assert await client.upload(header.id, first_half, 0) == len(payload) // 2
        # The link breaks here; the sender asks what is held and sends only the rest.
        assert await client.held(header.id) == len(payload) // 2
        receipt = await client.deliver(tmp_path / "out")
    assert receipt["body"]["status"] == "accepted"
    [arrived] = recorder.received
    [path] = arrived.files
    assert path.read_bytes() == content


async def test_an_altered_binary_dispatch_is_refused_as_bad_digest_and_its_content_discarded(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, recorder = camlo
    header = seal_document(
        demo_network, tmp_path / "out", content=os.urandom(BIG), payload_version=BINARY_PARTS
    )
    payload = tmp_path / "out" / PAYLOAD_FILE
    data = bytearray(payload.read_bytes())
    data[len(data) * 3 // 4] ^= 0x01
    payload.write_bytes(bytes(data))
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, node.peer_url, node_context(demo_network, "TU"))
        with pytest.raises(PeerRefused) as caught:
            await client.deliver(tmp_path / "out")
    assert caught.value.code == "bad-digest"
    assert recorder.received == []
    async with node.sessions() as session:
        row = await session.get(InboundDispatch, header.id)
    assert row is not None and row.state == "refused" and row.refusal_code == "bad-digest"
    assert node.inbox is not None
    kept = sorted(path.name for path in node.inbox.folder(header.id).iterdir())
    assert kept == ["header.json", "header.sig"]
