"""A node whose disk is full says "not now" (``disk-full``: 503 with Retry-After, SMTP 452)
instead of failing with a 500, keeps nothing half written, and takes the same dispatch or mail
once room is back: the sender's next try succeeds, from the bytes already held.

Cam Lộ's spool, blobs and Maildirs are on a small tmpfs (tests/support/disk.py) that the
test fills with a ballast file; the database stays on the real disk.
"""

from __future__ import annotations

import asyncio
import base64
import os
import smtplib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config.errors import DiskFull, PeerRefused
from exchange.envelope import (
    HEADER_FILE,
    HEADER_SIGNATURE_FILE,
    PAYLOAD_FILE,
    Attachment,
    Draft,
)
from exchange.inbox_inline import STAGING_SUFFIX
from exchange.peer_client import INLINE_BYTES, PeerClient
from exchange.receipts import check_receipt
from office.node.app import RunningNode, start_node
from tests.support.disk import SmallDisk, can_mount, node_on_small_disk
from tests.support.dispatches import node_context, seal_document
from tests.support.mail import client_context, message_from
from tests.support.network import DemoNetwork
from tests.support.nodes import start_camlo

pytestmark = pytest.mark.skipif(not can_mount(), reason="the small disk is a tmpfs: needs root")

DISK_MIB = 16
#: What the ballast leaves free: room for an offer's header, not for a payload or a mail.
LEFT_BYTES = 64 * 1024
#: One page of the tmpfs: room for one small file.
PAGE_BYTES = 4096


@pytest.fixture
def small_disk(fresh_network: DemoNetwork, tmp_path: Path) -> Iterator[SmallDisk]:
    with node_on_small_disk(
        fresh_network.node_dir("HU-CAMLO"), tmp_path / "camlo-disk", DISK_MIB
    ) as disk:
        yield disk


@pytest.fixture
async def camlo(fresh_network: DemoNetwork, small_disk: SmallDisk) -> AsyncIterator[RunningNode]:
    node = await start_camlo(fresh_network)
    yield node
    await node.stop()


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


async def offer_inline(network: DemoNetwork, node: RunningNode, folder: Path) -> Any:
    """The offer as Tỉnh uỷ's node makes it, payload inline; the raw answer."""
    body = {name: _b64(folder / file) for name, file in OFFER_FILES.items()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{node.peer_url}/exchange/v1/dispatches",
            json=body,
            ssl=node_context(network, "TU"),
        ) as response,
    ):
        return response.status, response.headers.get("Retry-After"), await response.json()


OFFER_FILES = {"header": HEADER_FILE, "signature": HEADER_SIGNATURE_FILE, "payload": PAYLOAD_FILE}


def spool_leftovers(node: RunningNode) -> list[str]:
    spool = node.settings.node_dir / "spool" / "in"
    return sorted(
        path.name
        for path in spool.rglob("*")
        if path.name.endswith((STAGING_SUFFIX, ".part")) or path.name == PAYLOAD_FILE
    )


async def test_a_dispatch_meeting_a_full_disk_is_refused_for_now_and_taken_once_room_is_back(
    fresh_network: DemoNetwork, camlo: RunningNode, small_disk: SmallDisk, tmp_path: Path
) -> None:
    inline = seal_document(fresh_network, tmp_path / "inline", content=os.urandom(150_000))
    large = seal_document(fresh_network, tmp_path / "large", content=os.urandom(400_000))
    assert inline.size <= INLINE_BYTES < large.size
    small_disk.fill(LEFT_BYTES)

    status, retry_after, body = await offer_inline(fresh_network, camlo, tmp_path / "inline")
    assert (status, body["error"], retry_after) == (503, "disk-full", "60")
    assert spool_leftovers(camlo) == []  # nothing half written kept, nothing decided
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, camlo.peer_url, node_context(fresh_network, "TU"))
        offered = await client.offer(tmp_path / "large")  # the header fits, the payload not
        with pytest.raises(PeerRefused) as refused:
            await client.upload(large.id, tmp_path / "large" / PAYLOAD_FILE, 0)
        assert refused.value.code == "disk-full"
        held = await client.held(large.id)
        assert offered["offset"] == 0 and held < large.size

        small_disk.empty()
        receipts = [
            await client.deliver(tmp_path / "inline"),
            await client.deliver(tmp_path / "large"),  # resumes from ``held``
        ]
    for receipt, header in zip(receipts, (inline, large), strict=True):
        check_receipt(receipt)
        assert receipt["body"]["status"] == "accepted"
        assert receipt["body"]["dispatch_id"] == header.id


async def test_mail_and_a_clerks_dispatch_meeting_a_full_disk_are_refused_for_now(
    fresh_network: DemoNetwork, camlo: RunningNode, small_disk: SmallDisk, tmp_path: Path
) -> None:
    """SMTP answers 452 4.3.1 (the client tries again) and keeps no half-written blob; a
    clerk's dispatch is refused ``disk-full`` before anything is queued."""
    account = fresh_network.account("HU-CAMLO", "clerk")
    node = next(n for n in fresh_network.document["nodes"] if n["name"] == "HU-CAMLO")
    message = message_from(account["email"], [account["email"]], "Đĩa đầy", "x" * 200_000)

    def submit() -> None:
        with smtplib.SMTP(node["smtp_host"], node["smtp_port"], timeout=30) as client:
            client.starttls(context=client_context(fresh_network))
            client.login(account["username"], account["app_password"])
            client.send_message(message)

    attachment = tmp_path / "ban-do.bin"
    attachment.write_bytes(os.urandom(200_000))
    dispatch = Draft(
        recipients=("TU",),
        kind="document",
        metadata={"summary": "Bản đồ"},
        attachments=(Attachment(attachment.name, attachment),),
    )
    small_disk.fill(LEFT_BYTES)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await asyncio.to_thread(submit)
    assert refused.value.smtp_code == 452 and b"4.3.1" in refused.value.smtp_error
    assert list((camlo.settings.blob_dir / "staging").iterdir()) == []
    assert camlo.outbox is not None
    with pytest.raises(DiskFull):
        await camlo.outbox.send("HU-CAMLO", dispatch)
    assert list(camlo.outbox.spool.glob("*")) == []

    small_disk.empty()
    await asyncio.to_thread(submit)
    await camlo.outbox.send("HU-CAMLO", dispatch)


async def test_a_dispatch_the_hub_cannot_store_for_now_is_held_once_room_is_back(
    fresh_network: DemoNetwork, tmp_path: Path
) -> None:
    """The hub's disk has room for one small file, not two: the header it keeps last (its
    presence says the folder is complete) must not stay half written, or every later offer of
    the dispatch would be refused as another dispatch under the same id."""
    hub_dir = fresh_network.node_dir("TU")
    with node_on_small_disk(hub_dir, tmp_path / "hub-disk", DISK_MIB) as disk:
        hub = await start_node(fresh_network.settings("TU"))
        try:
            seal_document(
                fresh_network,
                tmp_path / "out",
                sender_node="TX-DONGHA",
                sender_unit="TX-DONGHA",
                to=("HU-CAMLO",),
            )
            async with aiohttp.ClientSession() as session:
                client = PeerClient(session, hub.peer_url, node_context(fresh_network, "TX-DONGHA"))
                disk.fill(PAGE_BYTES)
                with pytest.raises(PeerRefused) as refused:
                    await client.relay(tmp_path / "out", "HU-CAMLO")
                assert refused.value.code == "disk-full"
                disk.empty()
                await client.relay(tmp_path / "out", "HU-CAMLO")  # held
        finally:
            await hub.stop()
