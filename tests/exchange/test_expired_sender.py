"""A unit whose signing certificate has expired cannot send: the receiving node decrypts the
dispatch, finds the signer's certificate past its validity and refuses it as ``expired``, with
a signed receipt that leaves the sender's delivery ``refused``.

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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import load_settings
from exchange.envelope import PAYLOAD_FILE
from exchange.handlers import ReceivedDispatch
from exchange.models import InboundDispatch, Refusal
from exchange.outbox import deliveries_of
from exchange.receipts import check_receipt
from keys.ca import pem
from office.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.keys import (
    age_identity_file,
    install_backdated_signing_certificate,
    keyring,
    run_tool,
    tool_ok,
)
from tests.support.network import DemoNetwork
from tests.support.waiting import wait_for

FAST = {
    "CONGVAN_EXCHANGE_RETRY_BASE_SECONDS": "1",
    "CONGVAN_EXCHANGE_RETRY_CAP_SECONDS": "2",
    "CONGVAN_EXCHANGE_POLL_SECONDS": "1",
}


class Recorder:
    def __init__(self) -> None:
        self.received: list[ReceivedDispatch] = []

    async def __call__(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        self.received.append(dispatch)


async def start(network: DemoNetwork, name: str) -> tuple[RunningNode, Recorder]:
    node = await start_node(load_settings(network.node_dir(name), FAST))
    recorder = Recorder()
    node.handlers.register("document", recorder)
    return node, recorder


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

    camlo, recorder = await start(network, "HU-CAMLO")
    province, _ = await start(network, "TU")
    try:
        (tmp_path / "ke-hoach.txt").write_text("Kế hoạch số 12-KH/TU\n", encoding="utf-8")
        sent = await asyncio.to_thread(
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
        )
        dispatch_id = sent.stdout.strip()

        async def decided() -> bool:
            async with province.sessions() as session:
                [delivery] = await deliveries_of(session, dispatch_id)
            return delivery.state not in {"queued", "sending", "retry-wait"}

        await wait_for(decided)
        async with province.sessions() as session:
            [delivery] = await deliveries_of(session, dispatch_id)
        async with camlo.sessions() as session:
            inbound = await session.get(InboundDispatch, dispatch_id)
            refusals = (
                await session.scalars(select(Refusal).where(Refusal.dispatch_id == dispatch_id))
            ).all()
        assert province.outbox is not None
        sent_payload = province.outbox.folder(dispatch_id) / PAYLOAD_FILE
    finally:
        await province.stop()
        await camlo.stop()

    # The receiver refused it as expired, recorded why, and handed nothing over.
    assert [(r.peer, r.code) for r in refusals] == [("TU", "expired")]
    assert inbound is not None
    assert (inbound.state, inbound.refusal_code) == ("refused", "expired")
    assert recorder.received == []
    # The sender holds the receiver's signed refusal and stops trying: one attempt, refused.
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("refused", 1, "expired")
    assert delivery.receipt is not None
    assert (
        check_receipt(delivery.receipt).subject
        == keyring(network, "HU-CAMLO").unit("HU-CAMLO").signing_certificate.subject
    )
    body = delivery.receipt["body"]
    assert (body["status"], body["code"], body["signer"]) == ("refused", "expired", "HU-CAMLO")
    shown = cli("exchange", "show", dispatch_id, "--dir", network.node_dir("TU")).stdout
    assert "HU-CAMLO: refused, 1 attempts, last error: expired" in shown
    assert "receipt: refused by HU-CAMLO" in shown and "(expired)" in shown
    shown = cli("exchange", "show", dispatch_id, "--dir", network.node_dir("HU-CAMLO")).stdout
    assert "received from TU (node TU): refused (expired)" in shown

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
