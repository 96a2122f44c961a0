"""A unit whose signing certificate has expired cannot send: its own node will not seal with
it, and a receiving node that gets such a dispatch all the same decrypts it, finds the signer's
certificate past its validity and refuses it as ``expired``, with a signed receipt.

The certificate is issued by the province's real CA key, backdated (the ``congvan`` command
cannot do that), and put in the sending node's keystore, so the node seals with it as it would
with any other. ``openssl verify`` confirms that the certificate which travelled has expired
and that nothing else is wrong with it: the refusal does not rest on our own judgement only.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from config.errors import PeerRefused
from exchange.envelope import PAYLOAD_FILE
from exchange.models import InboundDispatch, Refusal
from exchange.peer_client import PeerClient
from exchange.receipts import check_receipt
from keys.ca import pem
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.dispatches import node_context, seal_document
from tests.support.keys import (
    age_identity_file,
    install_backdated_signing_certificate,
    keyring,
    run_tool,
    sender_of,
    tool_ok,
)
from tests.support.network import DemoNetwork
from tests.support.nodes import start


def payload_parts(payload_eml: Path) -> dict[str, bytes]:
    """The decrypted payload's MIME parts by file name, read with the standard library."""
    with payload_eml.open("rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    parts = {}
    for part in message.iter_attachments():
        name, content = part.get_filename(), part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(content, bytes)
        parts[name] = content
    return parts


async def test_a_dispatch_signed_with_an_expired_certificate_is_refused_as_expired(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    network = fresh_network
    ca_certificate = keyring(network, "TU").ca_certificate
    # Within the CA's own validity, and over a minute before the dispatch is even sealed.
    not_before = ca_certificate.not_valid_before_utc
    not_after = datetime.now(UTC) - timedelta(minutes=1)
    expired = install_backdated_signing_certificate(network, "TU", "TU", not_before, not_after)
    assert keyring(network, "TU").unit("TU").signing_certificate == expired

    # The sending node itself will not seal with it: the clerk is told at once.
    (tmp_path / "ke-hoach.txt").write_text("Kế hoạch số 12-KH/TU\n", encoding="utf-8")
    refused_at_send = await asyncio.to_thread(
        cli,
        "exchange",
        "send",
        "--dir",
        network.node_dir("TU"),
        "--from",
        "TU",
        "--to",
        "HU-CAMLO",
        "--file",
        tmp_path / "ke-hoach.txt",
        "--summary",
        "Kế hoạch chuyển đổi số",
        check=False,
    )
    assert refused_at_send.returncode != 0
    assert "expired" in refused_at_send.stderr
    assert "exchange.out" not in cli("exchange", "list", "--dir", network.node_dir("TU")).stdout

    # A dispatch sealed with it all the same (an old queue, a modified node) is refused by the
    # receiver as expired, with a signed receipt, and nothing is handed over.
    header = seal_document(
        network, tmp_path / "out", sender=sender_of(keyring(network, "TU"), "TU")
    )
    camlo, recorder = await start(network, "HU-CAMLO")
    try:
        async with aiohttp.ClientSession() as session:
            client = PeerClient(session, camlo.peer_url, node_context(network, "TU"))
            with pytest.raises(PeerRefused) as refused:
                await client.deliver(tmp_path / "out")
        async with camlo.sessions() as session:
            inbound = await session.get(InboundDispatch, header.id)
            refusals = (
                await session.scalars(select(Refusal).where(Refusal.dispatch_id == header.id))
            ).all()
    finally:
        await camlo.stop()
    assert refused.value.code == "expired"
    assert [(r.peer, r.code) for r in refusals] == [("TU", "expired")]
    assert inbound is not None
    assert (inbound.state, inbound.refusal_code) == ("refused", "expired")
    assert recorder.received == []
    receipt = refused.value.answer
    assert receipt is not None
    assert (
        check_receipt(receipt).subject
        == keyring(network, "HU-CAMLO").unit("HU-CAMLO").signing_certificate.subject
    )
    body = receipt["body"]
    assert (body["status"], body["code"], body["signer"]) == ("refused", "expired", "HU-CAMLO")
    shown = cli("exchange", "show", header.id, "--dir", network.node_dir("HU-CAMLO")).stdout
    assert "received from TU (node TU): refused (expired)" in shown
    sent_payload = tmp_path / "out" / PAYLOAD_FILE

    # An outsider's check of the certificate that travelled inside the dispatch.
    identity = age_identity_file(
        cli, network, "HU-CAMLO", "HU-CAMLO", tmp_path / "unit.agekey", secrets_seen
    )
    payload_eml = tmp_path / "payload.eml"
    tool_ok(run_tool("age", "-d", "-i", identity, "-o", payload_eml, sent_payload))
    parts = payload_parts(payload_eml)
    assert parts["signer.pem"] == pem(expired)
    for name in ("signer.pem", "chain.pem"):
        (tmp_path / name).write_bytes(parts[name])
    crl = network.node_dir("TU") / "ca" / "crl.pem"
    now = run_tool(
        "openssl",
        "verify",
        "-crl_check",
        "-CAfile",
        tmp_path / "chain.pem",
        "-CRLfile",
        crl,
        tmp_path / "signer.pem",
    )
    assert now.returncode != 0
    assert "certificate has expired" in (now.stdout + now.stderr).decode()
    while_valid = run_tool(
        "openssl",
        "verify",
        "-attime",
        str(int((not_after - timedelta(seconds=30)).timestamp())),
        "-CAfile",
        tmp_path / "chain.pem",
        tmp_path / "signer.pem",
    )
    assert f"{tmp_path / 'signer.pem'}: OK" in tool_ok(while_valid)
