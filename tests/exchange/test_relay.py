"""Store and forward: a dispatch for a node that does not answer goes through the hub, which
checks and keeps ciphertext it cannot read; a pull node fetches its dispatches from the hub;
the receiver's signed receipt finds its way back to the sender either way."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from config.errors import PeerRefused
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE
from exchange.models import Delivery, OutboundDispatch, Refusal
from exchange.outbox import deliveries_of
from exchange.peer_client import INLINE_BYTES, PeerClient
from exchange.receipts import check_receipt
from office.node.app import RunningNode
from tests.support.cli import Cli
from tests.support.dispatches import node_context, seal_document
from tests.support.network import DemoNetwork
from tests.support.nodes import draft, start
from tests.support.waiting import wait_for

THROUGH_THE_HUB = {
    "CONGVAN_EXCHANGE_RELAY_AFTER_ATTEMPTS": "1",
    "CONGVAN_EXCHANGE_RECEIPT_POLL_SECONDS": "1",
    "CONGVAN_EXCHANGE_PULL_SECONDS": "1",
}


async def delivery_of(node: RunningNode, dispatch_id: str, destination: str) -> Delivery:
    async with node.sessions() as session:
        row = await session.get(Delivery, (dispatch_id, destination))
    assert row is not None
    return row


async def test_a_dispatch_for_a_node_that_does_not_answer_goes_through_the_hub(
    demo_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    hub, _ = await start(demo_network, "TU", **THROUGH_THE_HUB)
    dongha, _ = await start(demo_network, "TX-DONGHA", **THROUGH_THE_HUB)
    try:
        assert dongha.outbox is not None and hub.outbox is not None
        header = await dongha.outbox.send("TX-DONGHA", draft(tmp_path, ("HU-CAMLO",)))

        async def held_at_the_hub() -> bool:
            row = await delivery_of(dongha, header.id, "HU-CAMLO")
            return row.state == "awaiting-receipt"

        await wait_for(held_at_the_hub)
        assert (await delivery_of(dongha, header.id, "HU-CAMLO")).via == "TU"
        async with hub.sessions() as session:
            kept = await session.get(OutboundDispatch, header.id)
        assert kept is not None and kept.origin_node == "TX-DONGHA"
        folder = hub.outbox.folder(header.id)
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE]
        )
        # The hub holds the keys of its own units, and none of them opens the payload.
        identity = tmp_path / "tu.age"
        cli("keys", "age-identity", "--dir", demo_network.node_dir("TU"), "TU", "--out", identity)
        unreadable = await asyncio.to_thread(
            subprocess.run,
            ["age", "-d", "-i", str(identity), str(folder / PAYLOAD_FILE)],
            capture_output=True,
            check=False,
        )
        assert unreadable.returncode != 0
        assert b"no identity matched" in unreadable.stderr

        camlo, recorder = await start(demo_network, "HU-CAMLO", **THROUGH_THE_HUB)
        try:

            async def delivered() -> bool:
                row = await delivery_of(dongha, header.id, "HU-CAMLO")
                return row.state == "delivered"

            await wait_for(delivered)
        finally:
            await camlo.stop()
        row = await delivery_of(dongha, header.id, "HU-CAMLO")
    finally:
        await dongha.stop()
        await hub.stop()
    assert [d.header.id for d in recorder.received] == [header.id]
    assert row.receipt is not None
    receipt = json.loads(row.receipt)
    check_receipt(receipt)
    assert receipt["body"]["signer"] == "HU-CAMLO" and receipt["body"]["status"] == "accepted"
    shown = cli("exchange", "show", header.id, "--dir", demo_network.node_dir("TX-DONGHA"))
    assert "HU-CAMLO: delivered" in shown.stdout and "through TU" in shown.stdout


async def test_a_byte_flipped_at_the_hub_is_refused_bad_digest_by_the_receiver(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    hub, _ = await start(demo_network, "TU", **THROUGH_THE_HUB)
    dongha, _ = await start(demo_network, "TX-DONGHA", **THROUGH_THE_HUB)
    try:
        assert dongha.outbox is not None and hub.outbox is not None
        header = await dongha.outbox.send("TX-DONGHA", draft(tmp_path, ("HU-CAMLO",)))

        async def held_at_the_hub() -> bool:
            return (await delivery_of(dongha, header.id, "HU-CAMLO")).state == "awaiting-receipt"

        await wait_for(held_at_the_hub)
        payload = hub.outbox.folder(header.id) / PAYLOAD_FILE
        data = bytearray(payload.read_bytes())
        data[len(data) // 2] ^= 0x01
        payload.write_bytes(bytes(data))

        camlo, recorder = await start(demo_network, "HU-CAMLO", **THROUGH_THE_HUB)
        try:

            async def refused() -> bool:
                return (await delivery_of(dongha, header.id, "HU-CAMLO")).state == "refused"

            await wait_for(refused)
            async with camlo.sessions() as session:
                recorded = (
                    await session.scalars(select(Refusal).where(Refusal.dispatch_id == header.id))
                ).all()
        finally:
            await camlo.stop()
        row = await delivery_of(dongha, header.id, "HU-CAMLO")
    finally:
        await dongha.stop()
        await hub.stop()
    assert recorder.received == []
    assert [(r.peer, r.code) for r in recorded] == [("TU", "bad-digest")]
    assert row.receipt is not None
    receipt = json.loads(row.receipt)
    check_receipt(receipt)
    assert receipt["body"]["code"] == "bad-digest" and receipt["body"]["signer"] == "HU-CAMLO"


async def test_a_pull_node_fetches_what_waits_for_it_at_the_hub(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    tu_dir = fresh_network.node_dir("TU")
    assert "pull" in cli("units", "set-pull", "--dir", tu_dir, "HU-CAMLO").stdout
    cli("keys", "directory", "--dir", tu_dir)
    hub, _ = await start(fresh_network, "TU", **THROUGH_THE_HUB)
    dongha, _ = await start(fresh_network, "TX-DONGHA", **THROUGH_THE_HUB)
    try:
        assert dongha.outbox is not None and hub.outbox is not None
        from_district = await dongha.outbox.send(
            "TX-DONGHA", draft(tmp_path, ("HU-CAMLO",), summary="from-district")
        )
        from_hub = await hub.outbox.send("TU", draft(tmp_path, ("HU-CAMLO",), summary="from-hub"))

        async def both_wait_at_the_hub() -> bool:
            first = await delivery_of(dongha, from_district.id, "HU-CAMLO")
            second = await delivery_of(hub, from_hub.id, "HU-CAMLO")
            return first.state == "awaiting-receipt" and second.state == "queued"

        await wait_for(both_wait_at_the_hub)
        # Not even one direct attempt: a pull node is not sent to.
        assert (await delivery_of(dongha, from_district.id, "HU-CAMLO")).attempts == 1

        camlo, recorder = await start(fresh_network, "HU-CAMLO", **THROUGH_THE_HUB)
        try:

            async def both_delivered() -> bool:
                first = await delivery_of(dongha, from_district.id, "HU-CAMLO")
                second = await delivery_of(hub, from_hub.id, "HU-CAMLO")
                return first.state == second.state == "delivered"

            await wait_for(both_delivered)
        finally:
            await camlo.stop()
        async with dongha.sessions() as session:
            [seen] = await deliveries_of(session, from_district.id)
    finally:
        await dongha.stop()
        await hub.stop()
    assert sorted(d.header.id for d in recorder.received) == sorted([from_district.id, from_hub.id])
    assert seen.via == "TU" and seen.receipt is not None
    assert seen.receipt["body"]["signer"] == "HU-CAMLO"


# -- what the hub refuses to carry ---------------------------------------------------------


async def relay_refusal(
    network: DemoNetwork, hub: RunningNode, as_node: str, folder: Path, node: str
) -> PeerRefused:
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, hub.peer_url, node_context(network, as_node))
        with pytest.raises(PeerRefused) as refused:
            await client.relay(folder, node)
    return refused.value


@pytest.fixture
async def hub(demo_network: DemoNetwork) -> RunningNode:
    node, _ = await start(demo_network, "TU")
    yield node  # type: ignore[misc]
    await node.stop()


async def test_the_hub_refuses_to_carry_a_dispatch_another_node_signed(
    demo_network: DemoNetwork, hub: RunningNode, tmp_path: Path
) -> None:
    header = seal_document(
        demo_network, tmp_path / "out", sender_node="TX-DONGHA", sender_unit="TX-DONGHA"
    )
    refusal = await relay_refusal(demo_network, hub, "HU-CAMLO", tmp_path / "out", "HU-CAMLO")
    assert refusal.code == "wrong-node"
    async with hub.sessions() as session:
        recorded = (
            await session.scalars(select(Refusal).where(Refusal.dispatch_id == header.id))
        ).all()
        kept = await session.get(OutboundDispatch, header.id)
    assert [(r.peer, r.code) for r in recorded] == [("HU-CAMLO", "wrong-node")]
    assert kept is None


async def test_the_hub_refuses_to_carry_a_dispatch_to_a_node_that_hosts_no_addressee(
    demo_network: DemoNetwork, hub: RunningNode, tmp_path: Path
) -> None:
    seal_document(demo_network, tmp_path / "out", sender_node="TX-DONGHA", sender_unit="TX-DONGHA")
    refusal = await relay_refusal(demo_network, hub, "TX-DONGHA", tmp_path / "out", "HU-GIOLINH")
    assert refusal.code == "not-addressed-here"


async def test_the_hub_checks_the_ciphertext_against_the_signed_header(
    demo_network: DemoNetwork, hub: RunningNode, tmp_path: Path
) -> None:
    header = seal_document(
        demo_network, tmp_path / "out", sender_node="TX-DONGHA", sender_unit="TX-DONGHA"
    )
    payload = tmp_path / "out" / PAYLOAD_FILE
    data = bytearray(payload.read_bytes())
    data[-1] ^= 0x01
    payload.write_bytes(bytes(data))
    refusal = await relay_refusal(demo_network, hub, "TX-DONGHA", tmp_path / "out", "HU-CAMLO")
    assert refusal.code == "bad-digest"
    assert hub.outbox is not None
    assert not hub.outbox.folder(header.id).exists()
    async with hub.sessions() as session:
        assert await session.get(OutboundDispatch, header.id) is None


async def test_a_dispatch_the_hub_already_holds_is_not_uploaded_again(
    demo_network: DemoNetwork, hub: RunningNode, tmp_path: Path
) -> None:
    header = seal_document(
        demo_network,
        tmp_path / "out",
        sender_node="TX-DONGHA",
        sender_unit="TX-DONGHA",
        content=b"y" * 400_000,
    )
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, hub.peer_url, node_context(demo_network, "TX-DONGHA"))
        await client.relay(tmp_path / "out", "HU-CAMLO")
        again = await client.offer(tmp_path / "out", route="/relay", extra={"node": "HU-CAMLO"})
        assert again["offset"] == header.size
        await client.relay(tmp_path / "out", "HU-CAMLO")
    async with hub.sessions() as session:
        rows = (
            await session.scalars(select(Delivery).where(Delivery.dispatch_id == header.id))
        ).all()
    assert [row.node for row in rows] == ["HU-CAMLO"]


async def test_a_broken_upload_to_the_hub_resumes_from_the_bytes_it_holds(
    demo_network: DemoNetwork, hub: RunningNode, tmp_path: Path
) -> None:
    header = seal_document(
        demo_network,
        tmp_path / "out",
        sender_node="TX-DONGHA",
        sender_unit="TX-DONGHA",
        content=bytes(range(256)) * 2000,
    )
    payload = (tmp_path / "out" / PAYLOAD_FILE).read_bytes()
    half = tmp_path / "half"
    half.write_bytes(payload[: len(payload) // 2])
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, hub.peer_url, node_context(demo_network, "TX-DONGHA"))
        offered = await client.offer(tmp_path / "out", route="/relay", extra={"node": "HU-CAMLO"})
        assert offered["offset"] == 0
        assert await client.upload(header.id, half, 0, route="/relay") == len(payload) // 2
        again = await client.offer(tmp_path / "out", route="/relay", extra={"node": "HU-CAMLO"})
        assert again["offset"] == len(payload) // 2
        await client.relay(tmp_path / "out", "HU-CAMLO")
    assert hub.outbox is not None
    assert (hub.outbox.folder(header.id) / PAYLOAD_FILE).read_bytes() == payload


async def test_an_upload_to_the_hub_left_unfinished_is_removed_after_the_expiry(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    hub, _ = await start(
        demo_network,
        "TU",
        CONGVAN_EXCHANGE_OFFER_EXPIRY_SECONDS="2",
        CONGVAN_EXCHANGE_SWEEP_SECONDS="1",
    )
    try:
        header = seal_document(
            demo_network,
            tmp_path / "out",
            sender_node="TX-DONGHA",
            sender_unit="TX-DONGHA",
            content=bytes(range(256)) * 2000,
        )
        half = tmp_path / "half"
        half.write_bytes((tmp_path / "out" / PAYLOAD_FILE).read_bytes()[: header.size // 2])
        async with aiohttp.ClientSession() as session:
            client = PeerClient(session, hub.peer_url, node_context(demo_network, "TX-DONGHA"))
            await client.offer(tmp_path / "out", route="/relay", extra={"node": "HU-CAMLO"})
            await client.upload(header.id, half, 0, route="/relay")
        assert hub.outbox is not None
        folder = hub.outbox.folder(header.id)
        assert folder.exists()

        recorded: list[Refusal] = []

        async def expired() -> bool:
            nonlocal recorded
            async with hub.sessions() as session:
                recorded = list(
                    await session.scalars(select(Refusal).where(Refusal.dispatch_id == header.id))
                )
            return bool(recorded)

        await wait_for(expired)
        assert not folder.exists()
    finally:
        await hub.stop()
    assert [(r.peer, r.code) for r in recorded] == [("TX-DONGHA", "offer-expired")]


async def test_a_small_dispatch_travels_in_the_hub_s_listing_and_a_big_one_is_downloaded(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    tu_dir = fresh_network.node_dir("TU")
    cli("units", "set-pull", "--dir", tu_dir, "HU-CAMLO")
    cli("keys", "directory", "--dir", tu_dir)
    hub, _ = await start(fresh_network, "TU", **THROUGH_THE_HUB)
    try:
        assert hub.outbox is not None
        sizes = {"small": 4 * 1024, "big": INLINE_BYTES + 64 * 1024}
        headers = {
            name: seal_document(
                fresh_network,
                tmp_path / name,
                sender_node="TX-DONGHA",
                sender_unit="TX-DONGHA",
                content=os.urandom(size),
            )
            for name, size in sizes.items()
        }
        async with aiohttp.ClientSession() as session:
            dongha = PeerClient(session, hub.peer_url, node_context(fresh_network, "TX-DONGHA"))
            for name in sizes:
                await dongha.relay(tmp_path / name, "HU-CAMLO")
            camlo = PeerClient(session, hub.peer_url, node_context(fresh_network, "HU-CAMLO"))
            listed = {item["id"]: item for item in await camlo.waiting(0)}
        small, big = (listed[headers[name].id] for name in ("small", "big"))
        kept = (hub.outbox.folder(headers["small"].id) / PAYLOAD_FILE).read_bytes()
        assert base64.b64decode(small["payload"]) == kept
        assert "payload" not in big

        camlo_node, recorder = await start(fresh_network, "HU-CAMLO", **THROUGH_THE_HUB)
        try:

            async def both_received() -> bool:
                return len(recorder.received) == 2

            await wait_for(both_received)
        finally:
            await camlo_node.stop()
    finally:
        await hub.stop()
    assert sorted(d.header.id for d in recorder.received) == sorted(h.id for h in headers.values())
