"""Sending: a queued dispatch reaches every addressed node, later if a node is down, most
urgent first; a failed delivery waits for the admin's retry; outsiders can check what arrived."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from config.errors import Invalid, NotFound, PeerRefused
from config.settings import load_settings
from exchange.outbox import SEALING_SUFFIX, SIGNER_CHECK_SECONDS, deliveries_of
from exchange.statuses import timeline
from office.node.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.keys import keyring
from tests.support.network import DemoNetwork
from tests.support.nodes import draft, fast_settings, start, states
from tests.support.waiting import wait_for


@pytest.fixture
async def province(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node, _ = await start(demo_network, "TU")
    yield node
    await node.stop()


async def test_a_dispatch_sent_from_the_command_line_is_delivered_with_a_receipt(
    demo_network: DemoNetwork, province: RunningNode, cli: Cli, tmp_path: Path
) -> None:
    camlo, recorder = await start(demo_network, "HU-CAMLO")
    try:
        (tmp_path / "nghi-quyet.pdf").write_bytes(b"%PDF-1.4 nghi quyet\n")
        dispatch_id = cli(
            "exchange",
            "send",
            "--dir",
            demo_network.node_dir("TU"),
            "--from",
            "TU",
            "--to",
            "HU-CAMLO",
            "--file",
            tmp_path / "nghi-quyet.pdf",
            "--summary",
            "Nghị quyết về chuyển đổi số",
            "--urgency",
            "2",
        ).stdout.strip()

        async def delivered() -> bool:
            return await states(province, dispatch_id) == {"HU-CAMLO": "delivered"}

        await wait_for(delivered)
    finally:
        await camlo.stop()
    [handed] = recorder.received
    assert handed.header.id == dispatch_id
    assert handed.metadata == {"summary": "Nghị quyết về chuyển đổi số"}
    shown = cli("exchange", "show", dispatch_id, "--dir", demo_network.node_dir("TU")).stdout
    assert "HU-CAMLO: delivered, 1 attempts" in shown
    assert "receipt: accepted by HU-CAMLO" in shown
    listed = cli("exchange", "list", "--dir", demo_network.node_dir("HU-CAMLO")).stdout
    assert f"in  {dispatch_id}" in listed and "[accepted]" in listed


async def test_a_receiver_that_is_down_gets_the_dispatch_when_it_comes_up(
    demo_network: DemoNetwork, province: RunningNode, tmp_path: Path
) -> None:
    assert province.outbox is not None
    header = await province.outbox.send("TU", draft(tmp_path, ("TX-DONGHA",), summary="down"))

    async def retrying() -> bool:
        async with province.sessions() as session:
            [delivery] = await deliveries_of(session, header.id)
        return delivery.state == "retry-wait" and delivery.attempts >= 1

    await wait_for(retrying)
    dongha, recorder = await start(demo_network, "TX-DONGHA")
    try:

        async def delivered() -> bool:
            return await states(province, header.id) == {"TX-DONGHA": "delivered"}

        await wait_for(delivered)
    finally:
        await dongha.stop()
    assert [d.header.id for d in recorder.received] == [header.id]


async def test_a_dead_peer_does_not_hold_up_another(
    demo_network: DemoNetwork, province: RunningNode, tmp_path: Path
) -> None:
    assert province.outbox is not None
    camlo, recorder = await start(demo_network, "HU-CAMLO")
    try:
        header = await province.outbox.send(
            "TU", draft(tmp_path, ("HU-CAMLO", "TX-DONGHA"), summary="both")
        )

        async def camlo_done() -> bool:
            found = await states(province, header.id)
            return found.get("HU-CAMLO") == "delivered" and found.get("TX-DONGHA") in {
                "retry-wait",
                "sending",
            }

        await wait_for(camlo_done)
    finally:
        await camlo.stop()
    assert [d.header.id for d in recorder.received] == [header.id]


async def test_a_delivery_that_runs_out_of_attempts_fails_until_the_admin_retries(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    province, _ = await start(fresh_network, "TU", CONGVAN_EXCHANGE_RETRY_MAX="2")
    try:
        assert province.outbox is not None
        header = await province.outbox.send("TU", draft(tmp_path, ("HU-CAMLO",), summary="fail"))

        async def failed() -> bool:
            return await states(province, header.id) == {"HU-CAMLO": "failed"}

        await wait_for(failed)
        shown = cli("exchange", "show", header.id, "--dir", fresh_network.node_dir("TU")).stdout
        assert "HU-CAMLO: failed, 2 attempts, last error:" in shown
        camlo, recorder = await start(fresh_network, "HU-CAMLO")
        try:
            retried = cli("exchange", "retry", header.id, "--dir", fresh_network.node_dir("TU"))
            assert retried.stdout.strip() == "1 deliveries queued again"

            async def delivered() -> bool:
                return await states(province, header.id) == {"HU-CAMLO": "delivered"}

            await wait_for(delivered)
        finally:
            await camlo.stop()
    finally:
        await province.stop()
    assert len(recorder.received) == 1
    again = cli("exchange", "retry", header.id, "--dir", fresh_network.node_dir("TU"), check=False)
    assert again.returncode == 1
    assert "has no failed delivery" in again.stderr


async def test_a_revoked_signing_certificate_stops_sending_within_the_check_period(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender's check of its own signing certificate is kept for a short time, not made
    for every dispatch; once that time is over, a revocation stops sending."""
    province, _ = await start(fresh_network, "TU")
    try:
        outbox = province.outbox
        assert outbox is not None
        now = [1000.0]
        monkeypatch.setattr(outbox, "_clock", lambda: now[0])
        await outbox.send("TU", draft(tmp_path, ("HU-CAMLO",), summary="truoc"))
        signing = keyring(fresh_network, "TU").unit("TU").signing_certificate
        serial = format(signing.serial_number, "X")
        cli(
            "keys",
            "revoke",
            serial,
            "--reason",
            "keyCompromise",
            "--dir",
            fresh_network.node_dir("TU"),
        )
        now[0] += SIGNER_CHECK_SECONDS - 1
        await outbox.send("TU", draft(tmp_path, ("HU-CAMLO",), summary="trong-han"))
        now[0] += 2
        for _ in range(2):  # a refusal is not kept as an answer: asked again, refused again
            with pytest.raises(Invalid) as refused:
                await outbox.send("TU", draft(tmp_path, ("HU-CAMLO",), summary="sau"))
            assert refused.value.code == "revoked"
    finally:
        await province.stop()


async def test_the_most_urgent_dispatch_is_delivered_first(
    fresh_network: DemoNetwork, tmp_path: Path
) -> None:
    """Queued while Cam Lộ is down: Hỏa tốc (3) goes before Khẩn (1) before Thường (0).

    Deliveries start in that order; with one in flight at a time (``[exchange] window``) they
    also arrive in it, which is what this test can see."""
    province_settings = fast_settings(fresh_network, "TU")
    parts_node = await start_node(
        load_settings(province_settings.node_dir, {"CONGVAN_EXCHANGE_POLL_SECONDS": "3600"})
    )
    try:
        assert parts_node.outbox is not None
        ids = {}
        for urgency, summary in [(0, "thuong"), (3, "hoa-toc"), (1, "khan")]:
            header = await parts_node.outbox.send(
                "TU", draft(tmp_path, ("HU-CAMLO",), urgency, summary)
            )
            ids[header.id] = summary
    finally:
        await parts_node.stop()
    camlo, recorder = await start(fresh_network, "HU-CAMLO")
    province, _ = await start(fresh_network, "TU", CONGVAN_EXCHANGE_WINDOW="1")
    try:

        async def all_three() -> bool:
            return len(recorder.received) == 3

        await wait_for(all_three)
    finally:
        await province.stop()
        await camlo.stop()
    assert [ids[d.header.id] for d in recorder.received] == ["hoa-toc", "khan", "thuong"]


def _run(*command: str | Path) -> str:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


async def test_an_exported_dispatch_checks_out_with_age_and_openssl(
    demo_network: DemoNetwork,
    province: RunningNode,
    cli: Cli,
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    """Exactly the commands of docs/dispatch-format.md."""
    camlo, _recorder = await start(demo_network, "HU-CAMLO")
    try:
        assert province.outbox is not None
        header = await province.outbox.send(
            "TU", draft(tmp_path, ("HU-CAMLO",), summary="kiem-tra")
        )

        async def delivered() -> bool:
            return await states(province, header.id) == {"HU-CAMLO": "delivered"}

        await wait_for(delivered)
    finally:
        await camlo.stop()
    out = tmp_path / "export"
    camlo_dir = demo_network.node_dir("HU-CAMLO")
    cli("exchange", "export", header.id, "--out", out, "--dir", camlo_dir)
    cli("keys", "age-identity", "HU-CAMLO", "--dir", camlo_dir, "--out", tmp_path / "unit.agekey")
    secrets_seen.add((tmp_path / "unit.agekey").read_text().splitlines()[-1])
    ca_dir = demo_network.node_dir("TU") / "ca"

    _run(
        "openssl",
        "x509",
        "-pubkey",
        "-noout",
        "-in",
        out / "node.pem",
        "-out",
        out / "node-public.pem",
    )
    assert "Verified OK" in _run(
        "openssl",
        "dgst",
        "-sha256",
        "-verify",
        out / "node-public.pem",
        "-signature",
        out / "header.sig",
        out / "header.json",
    )
    assert _run("sha256sum", out / "payload.age").split()[0] == header.payload_sha256
    _run(
        "age", "-d", "-i", tmp_path / "unit.agekey", "-o", out / "payload.eml", out / "payload.age"
    )
    assert b"manifest.json" in (out / "payload.eml").read_bytes()
    _run(
        "openssl",
        "x509",
        "-pubkey",
        "-noout",
        "-in",
        out / "signer.pem",
        "-out",
        out / "signer-public.pem",
    )
    assert "Verified OK" in _run(
        "openssl",
        "dgst",
        "-sha256",
        "-verify",
        out / "signer-public.pem",
        "-signature",
        out / "manifest.sig",
        out / "manifest.json",
    )
    assert "signer.pem: OK" in _run(
        "openssl",
        "verify",
        "-crl_check",
        "-CAfile",
        out / "chain.pem",
        "-CRLfile",
        ca_dir / "crl.pem",
        out / "signer.pem",
    )
    assert (out / "files" / "kiem-tra.txt").read_text(encoding="utf-8") == "Công văn: kiem-tra\n"


async def test_statuses_reported_by_the_recipient_make_the_senders_timeline(
    demo_network: DemoNetwork, province: RunningNode, cli: Cli, tmp_path: Path
) -> None:
    camlo, _recorder = await start(demo_network, "HU-CAMLO")
    try:
        assert province.outbox is not None and camlo.statuses is not None
        header = await province.outbox.send("TU", draft(tmp_path, ("HU-CAMLO",), summary="tt"))

        async def delivered() -> bool:
            return await states(province, header.id) == {"HU-CAMLO": "delivered"}

        await wait_for(delivered)
        await camlo.statuses.send_status(header.id, "HU-CAMLO", "03", "Số đến 125")
        cli(
            "exchange",
            "status",
            header.id,
            "--unit",
            "HU-CAMLO",
            "--code",
            "06",
            "--note",
            "Đã xử lý xong",
            "--dir",
            demo_network.node_dir("HU-CAMLO"),
        )

        async def two_statuses() -> bool:
            async with province.sessions() as session:
                return len(await timeline(session, header.id)) == 2

        await wait_for(two_statuses)
    finally:
        await camlo.stop()
    async with province.sessions() as session:
        found = await timeline(session, header.id)
    assert [(s.unit, s.code, s.label, s.note) for s in found] == [
        ("HU-CAMLO", "03", "Đã vào sổ", "Số đến 125"),
        ("HU-CAMLO", "06", "Hoàn thành", "Đã xử lý xong"),
    ]
    shown = cli("exchange", "show", header.id, "--dir", demo_network.node_dir("TU")).stdout
    assert "status 03 Đã vào sổ from HU-CAMLO" in shown
    assert "status 06 Hoàn thành from HU-CAMLO" in shown


async def test_a_status_is_refused_for_a_dispatch_the_unit_did_not_receive(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    camlo, _ = await start(demo_network, "HU-CAMLO")
    try:
        assert camlo.statuses is not None
        with pytest.raises(NotFound):
            await camlo.statuses.send_status(str(uuid.uuid4()), "HU-CAMLO", "03")
        with pytest.raises(Invalid):
            await camlo.statuses.send_status(str(uuid.uuid4()), "HU-CAMLO", "99")
    finally:
        await camlo.stop()


async def test_a_receipt_for_another_dispatch_does_not_close_a_delivery(
    demo_network: DemoNetwork, province: RunningNode, tmp_path: Path
) -> None:
    camlo, _ = await start(demo_network, "HU-CAMLO")
    try:
        assert province.outbox is not None
        first = await province.outbox.send("TU", draft(tmp_path, ("HU-CAMLO",), summary="mot"))

        async def delivered() -> bool:
            return await states(province, first.id) == {"HU-CAMLO": "delivered"}

        await wait_for(delivered)
        async with province.sessions() as session:
            [delivery] = await deliveries_of(session, first.id)
        receipt = delivery.receipt
        assert receipt is not None
        second = await province.outbox.send("TU", draft(tmp_path, ("HU-CAMLO",), summary="hai"))
        outbox = province.outbox

        async def closes(dispatch_id: str, node: str, units: list[str]) -> dict[str, Any]:
            sent = await outbox.sent(dispatch_id)
            assert sent is not None
            return outbox._receipt_closes(receipt, dispatch_id, node, units, sent)

        assert (await closes(first.id, "HU-CAMLO", ["HU-CAMLO"]))["status"] == "accepted"
        for dispatch_id, node, units in [
            (second.id, "HU-CAMLO", ["HU-CAMLO"]),  # an old receipt for a new dispatch
            (first.id, "TX-DONGHA", ["TX-DONGHA"]),  # signed by a unit not addressed there
        ]:
            with pytest.raises(PeerRefused) as refused:
                await closes(dispatch_id, node, units)
            assert refused.value.code == "bad-receipt"
        with pytest.raises(PeerRefused) as refused:  # a dispatch this node never sent
            await outbox.close_with_receipt(str(uuid.uuid4()), "HU-CAMLO", ["HU-CAMLO"], receipt)
        assert refused.value.code == "bad-receipt"
    finally:
        await camlo.stop()


async def test_the_folder_of_a_send_killed_while_sealing_is_removed_by_the_sweep(
    province: RunningNode,
) -> None:
    """A process killed between sealing and queueing leaves its ``.sealing`` folder, whole
    ciphertext and all; no row names it. The sweep removes one a check's lease old, not one a
    live process may still be writing."""
    assert province.outbox is not None and province.sweeper is not None
    spool = province.outbox.spool
    abandoned = spool / f"{uuid.uuid4()}.{uuid.uuid4().hex}{SEALING_SUFFIX}"
    under_way = spool / f"{uuid.uuid4()}.{uuid.uuid4().hex}{SEALING_SUFFIX}"
    for folder in (abandoned, under_way):
        folder.mkdir(parents=True)
        (folder / "payload.age").write_bytes(b"age-encryption.org/v1\n")
    lease = province.settings.exchange.verify_lease_seconds
    long_ago = time.time() - lease - 60
    os.utime(abandoned, (long_ago, long_ago))

    await province.sweeper.sweep_once()

    assert not abandoned.exists()
    assert under_way.exists()
