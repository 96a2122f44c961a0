"""A node receives dispatches over the peer API: accepts with a signed receipt, refuses with a
reason code, answers a duplicate with the first receipt, resumes a broken upload."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import PeerRefused
from config.settings import load_settings
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE, Header
from exchange.handlers import ReceivedDispatch
from exchange.models import EvidenceEntry, InboundDispatch, Refusal
from exchange.peer_client import INLINE_BYTES, PeerClient
from exchange.receipts import check_receipt
from keys.signatures import sign
from keys.trust import TrustStore
from office.node.app import RunningNode, start_node
from tests.support.cli import Cli
from tests.support.dispatches import node_context, seal_document
from tests.support.keys import keyring, sender_of
from tests.support.network import DemoNetwork
from tests.support.waiting import wait_for


class Recorder:
    """A handler that remembers what it was given, to count hand-overs."""

    def __init__(self) -> None:
        self.received: list[ReceivedDispatch] = []

    async def __call__(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        self.received.append(dispatch)


@pytest.fixture
async def camlo(demo_network: DemoNetwork) -> AsyncIterator[tuple[RunningNode, Recorder]]:
    node = await start_node(demo_network.settings("HU-CAMLO"))
    recorder = Recorder()
    node.handlers.replace("document", recorder)
    yield node, recorder
    await node.stop()


async def deliver_as(
    network: DemoNetwork, node: RunningNode, peer: str, folder: Path
) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, node.peer_url, node_context(network, peer))
        return await client.deliver(folder)


async def refusal_by_camlo_with(
    network: DemoNetwork, overrides: dict[str, str], tmp_path: Path, **seal_options: Any
) -> PeerRefused:
    """Start Cam Lộ with settings overridden, deliver a fresh document from TU, return the
    refusal."""
    node = await start_node(load_settings(network.node_dir("HU-CAMLO"), overrides))
    try:
        seal_document(network, tmp_path / "out", **seal_options)
        return await refusal_of(network, node, "TU", tmp_path / "out")
    finally:
        await node.stop()


async def refusal_of(
    network: DemoNetwork, node: RunningNode, peer: str, folder: Path
) -> PeerRefused:
    with pytest.raises(PeerRefused) as caught:
        await deliver_as(network, node, peer, folder)
    return caught.value


async def test_a_sealed_document_is_accepted_with_a_receipt_signed_by_the_receiving_unit(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, recorder = camlo
    header = seal_document(demo_network, tmp_path / "out")

    receipt = await deliver_as(demo_network, node, "TU", tmp_path / "out")

    assert receipt["body"]["status"] == "accepted"
    assert receipt["body"]["dispatch_id"] == header.id
    assert receipt["body"]["payload_sha256"] == header.payload_sha256
    assert receipt["body"]["units"] == ["HU-CAMLO"]
    signer = check_receipt(receipt)
    ring = keyring(demo_network, "TU")
    assert node.inbox is not None
    TrustStore(ring.ca_certificate, node.inbox.trust.revocation).check_unit_signer(
        signer, "HU-CAMLO", []
    )
    [handed] = recorder.received
    assert handed.header == header
    assert handed.metadata["so_ky_hieu"] == "05-NQ/TU"
    assert [path.name for path in handed.files] == ["Nghị quyết 05.pdf"]
    assert handed.files[0].read_bytes() == (tmp_path / "out-attachment.pdf").read_bytes()
    async with node.sessions() as session:
        row = await session.get(InboundDispatch, header.id)
        events = (
            await session.scalars(
                select(EvidenceEntry.event).where(EvidenceEntry.dispatch_id == header.id)
            )
        ).all()
    assert row is not None and row.state == "accepted" and row.handled
    assert list(events) == ["offered", "received"]


async def test_a_duplicate_gets_the_same_receipt_and_is_handled_once(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, recorder = camlo
    seal_document(demo_network, tmp_path / "out")
    first = await deliver_as(demo_network, node, "TU", tmp_path / "out")
    second = await deliver_as(demo_network, node, "TU", tmp_path / "out")
    assert second == first
    assert len(recorder.received) == 1


async def test_a_broken_upload_resumes_from_the_bytes_the_receiver_holds(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, recorder = camlo
    header = seal_document(demo_network, tmp_path / "out", content=b"x" * 300_000)
    payload = (tmp_path / "out" / PAYLOAD_FILE).read_bytes()
    first_half = tmp_path / "half"
    first_half.write_bytes(payload[: len(payload) // 2])
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, node.peer_url, node_context(demo_network, "TU"))
        reply = await client.offer(tmp_path / "out")
        assert reply["offset"] == 0 and "receipt" not in reply
        assert await client.upload(header.id, first_half, 0) == len(payload) // 2
        with pytest.raises(PeerRefused) as wrong_offset:
            await client.upload(header.id, first_half, 0)
        assert wrong_offset.value.code == "wrong-offset"
        assert await client.held(header.id) == len(payload) // 2
        receipt = await client.deliver(tmp_path / "out")
    assert receipt["body"]["status"] == "accepted"
    assert len(recorder.received) == 1


def _flip_a_byte(payload: Path) -> None:
    """One bit of the ciphertext changed, halfway through, after its header was signed."""
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    payload.write_bytes(bytes(data))


async def test_a_flipped_byte_in_the_ciphertext_is_refused_as_bad_digest(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, recorder = camlo
    header = seal_document(demo_network, tmp_path / "out")
    _flip_a_byte(tmp_path / "out" / PAYLOAD_FILE)

    refusal = await refusal_of(demo_network, node, "TU", tmp_path / "out")

    assert refusal.code == "bad-digest"
    assert refusal.answer is not None
    assert refusal.answer["body"]["status"] == "refused"
    assert refusal.answer["body"]["code"] == "bad-digest"
    check_receipt(refusal.answer)
    assert recorder.received == []
    async with node.sessions() as session:
        row = await session.get(InboundDispatch, header.id)
        recorded = (
            await session.scalars(select(Refusal).where(Refusal.dispatch_id == header.id))
        ).all()
    assert row is not None and row.state == "refused" and row.refusal_code == "bad-digest"
    assert [(r.peer, r.code) for r in recorded] == [("TU", "bad-digest")]
    assert node.inbox is not None
    kept = sorted(path.name for path in node.inbox.folder(header.id).iterdir())
    assert kept == ["header.json", "header.sig"]  # evidence kept, content discarded


async def test_a_flipped_byte_in_an_uploaded_payload_is_refused_as_bad_digest(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    """Past the inline size the payload is uploaded, and its digest taken as it is written
    (exchange.upload_digests) is held against the signed header."""
    node, recorder = camlo
    header = seal_document(demo_network, tmp_path / "out", content=os.urandom(2 * INLINE_BYTES))
    _flip_a_byte(tmp_path / "out" / PAYLOAD_FILE)

    refusal = await refusal_of(demo_network, node, "TU", tmp_path / "out")

    assert refusal.code == "bad-digest"
    assert recorder.received == []
    async with node.sessions() as session:
        row = await session.get(InboundDispatch, header.id)
    assert row is not None and row.state == "refused" and row.refusal_code == "bad-digest"


async def test_a_forged_header_is_refused_before_any_payload(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, _recorder = camlo
    header = seal_document(demo_network, tmp_path / "out")
    forged = Header(**{**header.__dict__, "urgency": 3})
    (tmp_path / "out" / HEADER_FILE).write_bytes(forged.to_bytes())

    refusal = await refusal_of(demo_network, node, "TU", tmp_path / "out")

    assert refusal.code == "bad-signature"
    assert refusal.answer is None  # no signed receipt for a header nobody authenticated
    async with node.sessions() as session:
        assert await session.get(InboundDispatch, header.id) is None


async def test_another_node_relaying_a_provincial_dispatch_is_refused_as_wrong_node(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, _recorder = camlo
    seal_document(demo_network, tmp_path / "out")
    refusal = await refusal_of(demo_network, node, "TX-DONGHA", tmp_path / "out")
    assert refusal.code == "wrong-node"


async def test_another_node_claiming_the_provincial_unit_is_refused_as_wrong_node(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    """Đông Hà's node signs a header that says it comes from Tỉnh uỷ: its certificate is good,
    but the directory says Tỉnh uỷ lives on node TU."""
    node, _recorder = camlo
    dongha = keyring(demo_network, "TX-DONGHA")
    impostor = sender_of(dongha, "TX-DONGHA")
    impostor = type(impostor)(**{**impostor.__dict__, "unit": "TU"})
    seal_document(demo_network, tmp_path / "out", sender_node="TX-DONGHA", sender=impostor)
    refusal = await refusal_of(demo_network, node, "TX-DONGHA", tmp_path / "out")
    assert refusal.code == "wrong-node"


async def test_a_unit_signature_that_does_not_hold_is_refused_at_commit(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, recorder = camlo
    ring = keyring(demo_network, "TU")
    honest = sender_of(ring, "TU")
    wrong_key = type(honest)(**{**honest.__dict__, "signing_key": ring.node_key})
    seal_document(demo_network, tmp_path / "out", sender=wrong_key)
    refusal = await refusal_of(demo_network, node, "TU", tmp_path / "out")
    assert refusal.code == "bad-signature"
    assert recorder.received == []
    assert node.inbox is not None
    header_id = json.loads((tmp_path / "out" / HEADER_FILE).read_bytes())["id"]
    assert not (node.inbox.folder(header_id) / "opened").exists()  # decrypted, then discarded


async def test_a_dispatch_for_another_unit_is_refused_as_not_addressed_here(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, _recorder = camlo
    seal_document(demo_network, tmp_path / "out", to=("TX-DONGHA",))
    refusal = await refusal_of(demo_network, node, "TU", tmp_path / "out")
    assert refusal.code == "not-addressed-here"
    assert refusal.answer is not None
    assert refusal.answer["body"]["signer"] == "HU-CAMLO"  # the node, no unit was addressed


async def test_a_sender_missing_from_the_directory_is_refused_as_unknown_sender(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, _recorder = camlo
    ring = keyring(demo_network, "TU")
    stranger = type(sender_of(ring, "TU"))(**{**sender_of(ring, "TU").__dict__, "unit": "XA-LAO"})
    seal_document(demo_network, tmp_path / "out", sender=stranger)
    refusal = await refusal_of(demo_network, node, "TU", tmp_path / "out")
    assert refusal.code == "unknown-sender"


async def test_an_oversized_dispatch_is_refused_at_the_offer(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    small_limit = {"CONGVAN_EXCHANGE_MAX_DISPATCH_BYTES": "2048"}
    refusal = await refusal_by_camlo_with(
        demo_network, small_limit, tmp_path, content=b"y" * 10_000
    )
    assert refusal.code == "too-large"
    assert refusal.answer is not None and refusal.answer["body"]["code"] == "too-large"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not an object"),
        (json.dumps({"header": "@@@", "signature": ""}).encode(), "not base64"),
    ],
)
async def test_a_garbled_offer_is_refused_as_malformed(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], body: bytes, reason: str
) -> None:
    node, _recorder = camlo
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{node.peer_url}/exchange/v1/dispatches",
            data=body,
            ssl=node_context(demo_network, "TU"),
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 400
        answer = await response.json()
    assert answer["error"] == "malformed"
    assert reason in answer["message"]


async def test_a_header_in_non_canonical_form_is_refused_as_malformed(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, _recorder = camlo
    header = seal_document(demo_network, tmp_path / "out")
    loose = json.dumps(header.as_dict(), indent=1).encode()
    (tmp_path / "out" / HEADER_FILE).write_bytes(loose)
    ring = keyring(demo_network, "TU")
    (tmp_path / "out" / HEADER_SIGNATURE_FILE).write_bytes(sign(ring.node_key, loose))
    refusal = await refusal_of(demo_network, node, "TU", tmp_path / "out")
    assert refusal.code == "malformed"
    async with node.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Refusal).where(Refusal.code == "malformed")
        )
    assert count and count >= 1


async def test_a_sender_whose_signing_certificate_was_revoked_is_refused(
    cli: Cli, fresh_network: DemoNetwork, tmp_path: Path
) -> None:
    """After the province revokes Tỉnh uỷ's signing certificate, Cam Lộ (which reads the
    province's CRL) refuses what it signs."""
    network = fresh_network
    signing = keyring(network, "TU").unit("TU").signing_certificate
    cli(
        "keys",
        "revoke",
        format(signing.serial_number, "X"),
        "--reason",
        "keyCompromise",
        "--dir",
        network.node_dir("TU"),
    )
    node = await start_node(network.settings("HU-CAMLO"))
    try:
        seal_document(network, tmp_path / "out")
        refusal = await refusal_of(network, node, "TU", tmp_path / "out")
    finally:
        await node.stop()
    assert refusal.code == "revoked"


async def test_a_node_without_a_current_directory_refuses_as_stale_directory(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    missing = {"CONGVAN_KEYS_DIRECTORY_FILE": str(tmp_path / "no-directory.json")}
    refusal = await refusal_by_camlo_with(demo_network, missing, tmp_path)
    assert refusal.code == "stale-directory"


async def test_a_directory_not_signed_by_the_ca_is_refused_as_stale_directory(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    published = demo_network.node_dir("TU") / "ca" / "directory.json"
    forged = tmp_path / "directory.json"
    forged.write_bytes(published.read_bytes().replace(b'"HU-CAMLO"', b'"HU-CAMLO" ', 1))
    (tmp_path / "directory.json.sig").write_bytes(
        (published.parent / "directory.json.sig").read_bytes()
    )
    forged_setting = {"CONGVAN_KEYS_DIRECTORY_FILE": str(forged)}
    refusal = await refusal_by_camlo_with(demo_network, forged_setting, tmp_path)
    assert refusal.code == "stale-directory"


async def crash_before_handling(_session: AsyncSession, _dispatch: ReceivedDispatch) -> None:
    raise RuntimeError("the node stopped before the document was filed")


async def test_a_dispatch_accepted_without_a_handler_is_handed_over_after_a_restart(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """Accepted while nothing handled its kind (as after a crash between accepting and
    handling): the next start hands it over, once."""
    node = await start_node(demo_network.settings("HU-CAMLO"))
    node.handlers.replace("document", crash_before_handling)
    try:
        header = seal_document(demo_network, tmp_path / "out")
        receipt = await deliver_as(demo_network, node, "TU", tmp_path / "out")
        assert receipt["body"]["status"] == "accepted"
    finally:
        await node.stop()
    recorder = Recorder()
    node = await start_node(demo_network.settings("HU-CAMLO"))
    node.handlers.replace("document", recorder)
    try:

        async def handed_and_marked() -> bool:
            # The handler runs inside the transaction that marks the row: wait for its commit.
            async with node.sessions() as session:
                row = await session.get(InboundDispatch, header.id)
            return row is not None and row.handled

        await wait_for(handed_and_marked)
        [dispatch] = [d for d in recorder.received if d.header.id == header.id]
        assert [path.name for path in dispatch.files] == ["Nghị quyết 05.pdf"]
        assert dispatch.files[0].read_bytes() == (tmp_path / "out-attachment.pdf").read_bytes()
    finally:
        await node.stop()
    again = Recorder()
    node = await start_node(demo_network.settings("HU-CAMLO"))
    node.handlers.replace("document", again)
    try:
        assert node.inbox is not None
        assert await node.upkeep.hand_over_pending() == 0
    finally:
        await node.stop()
    assert all(d.header.id != header.id for d in again.received)


async def test_a_small_dispatch_travels_in_one_request_and_a_large_one_in_three(
    demo_network: DemoNetwork, camlo: tuple[RunningNode, Recorder], tmp_path: Path
) -> None:
    node, recorder = camlo
    small = seal_document(demo_network, tmp_path / "small")
    large = seal_document(demo_network, tmp_path / "large", content=os.urandom(400_000))
    assert small.size <= INLINE_BYTES < large.size
    paths: list[str] = []

    async def remember(
        _session: Any, context: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        paths.append(f"{params.method} {params.url.path.rsplit('/', 1)[-1]}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(remember)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = PeerClient(session, node.peer_url, node_context(demo_network, "TU"))
        assert (await client.deliver(tmp_path / "small"))["body"]["status"] == "accepted"
        assert paths == ["POST dispatches"]
        paths.clear()
        assert (await client.deliver(tmp_path / "large"))["body"]["status"] == "accepted"
        assert paths == ["POST dispatches", "PUT payload", "POST commit"]
    assert [d.header.id for d in recorder.received] == [small.id, large.id]


async def test_a_receipt_signed_with_a_key_revoked_since_is_given_again_signed_anew(
    cli: Cli, fresh_network: DemoNetwork, tmp_path: Path
) -> None:
    """Cam Lộ accepted a dispatch just before its signing key was revoked: the sender, asking
    again, gets the same decision signed with Cam Lộ's new key, not a receipt it must refuse."""
    network = fresh_network
    camlo_dir, province_dir = network.node_dir("HU-CAMLO"), network.node_dir("TU")
    header = seal_document(network, tmp_path / "out")
    node = await start_node(network.settings("HU-CAMLO"))
    try:
        first = await deliver_as(network, node, "TU", tmp_path / "out")
    finally:
        await node.stop()
    old = check_receipt(first)
    cli("keys", "revoke", format(old.serial_number, "X"), "--reason", "keyCompromise",
        "--dir", province_dir)  # fmt: skip
    cli("keys", "rotate", "HU-CAMLO", "--use", "signing", "--dir", province_dir,
        "--out", network.settings("HU-CAMLO").pki_dir,
        "--key-passphrase-file", camlo_dir / "secret")  # fmt: skip

    node = await start_node(network.settings("HU-CAMLO"))
    try:
        again = await deliver_as(network, node, "TU", tmp_path / "out")
        assert node.inbox is not None
        trust = node.inbox.trust
        async with node.sessions() as session:
            row = await session.get(InboundDispatch, header.id)
    finally:
        await node.stop()

    signer = check_receipt(again)
    assert signer.serial_number != old.serial_number
    trust.check_unit_signer(signer, "HU-CAMLO", [])
    with pytest.raises(PeerRefused) as refused:
        trust.check_unit_signer(old, "HU-CAMLO", [])
    assert refused.value.code == "revoked"
    kept = ("dispatch_id", "payload_sha256", "status", "units", "code")
    assert {k: again["body"][k] for k in kept} == {k: first["body"][k] for k in kept}
    assert row is not None and json.loads(row.receipt or "") == again
