"""``congvan doctor``: run as an operator would, on demo nodes that are healthy, then broken one
thing at a time; each broken node fails with the line that names the fault and the fix, and
the fix it prints makes the node pass again."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from config import migrate
from config.settings import Settings
from keys.ca import create_ca, load_ca
from keys.revocation import crl_pem
from office.doctor.local import GIB, check_disk
from office.node.app import start_node
from tests.support.cli import Cli
from tests.support.keys import keyring
from tests.support.network import DemoNetwork
from tests.support.nodes import draft, fast_settings, start, states
from tests.support.waiting import wait_for


def doctor(cli: Cli, node_dir: Path) -> subprocess.CompletedProcess[str]:
    return cli("doctor", "--dir", node_dir, check=False)


def line(result: subprocess.CompletedProcess[str], start: str) -> str:
    """The output line that begins with ``start``, and the remedy line under it, if any."""
    lines = result.stdout.splitlines()
    for number, text in enumerate(lines):
        if text.startswith(start):
            following = lines[number + 1] if number + 1 < len(lines) else ""
            return text + ("\n" + following if following.startswith("     → ") else "")
    raise AssertionError(f"no line starting {start!r} in:\n{result.stdout}")


def labels(result: subprocess.CompletedProcess[str]) -> set[str]:
    return {text.split(" ", 1)[0] for text in result.stdout.splitlines()[:-1]} - {""}


@pytest.fixture
def copied(demo_network: DemoNetwork, tmp_path: Path) -> DemoNetwork:
    """A copy of the module's demo network to break files in (its nodes are not running)."""
    root = tmp_path / "copy"
    shutil.copytree(demo_network.root, root, symlinks=True)
    return DemoNetwork(root=root, document=demo_network.document)


async def test_a_district_whose_hub_and_peer_run_passes_every_check(
    demo_network: DemoNetwork, cli: Cli
) -> None:
    province = await start_node(fast_settings(demo_network, "TU"))
    dongha = await start_node(fast_settings(demo_network, "TX-DONGHA"))
    try:
        result = await asyncio.to_thread(doctor, cli, demo_network.node_dir("HU-CAMLO"))
    finally:
        await dongha.stop()
        await province.stop()
    assert result.returncode == 0, result.stdout
    assert labels(result) == {"OK"}
    assert line(result, "OK   hub TU: https://127.0.0.1:").endswith(" ms)")
    assert line(result, "OK   peer TX-DONGHA: ")
    assert line(result, "OK   migrations: at the head revision ")
    assert line(result, "OK   CRL: signed by the CA, next update ")
    assert line(result, "OK   certificate HU-CAMLO signing: valid until ")
    assert result.stdout.splitlines()[-1].startswith("all ")


def test_a_district_whose_hub_is_down_fails_and_says_to_start_it(
    demo_network: DemoNetwork, cli: Cli
) -> None:
    result = doctor(cli, demo_network.node_dir("HU-CAMLO"))
    assert result.returncode == 1
    hub = line(result, "FAIL hub TU: https://127.0.0.1:")
    assert "does not answer: cannot connect" in hub
    assert "→ start the provincial node" in hub
    # Another district down is only a warning: the outbox retries and goes through the hub.
    assert "goes through the hub" in line(result, "WARN peer TX-DONGHA: ")
    assert result.stdout.splitlines()[-1].startswith("1 problem, 1 warning in ")


async def test_a_database_behind_its_migrations_fails_until_upgraded(
    fresh_network: DemoNetwork, cli: Cli
) -> None:
    node_dir = fresh_network.node_dir("TU")
    head, previous = migrate.all_revisions()[-1], migrate.all_revisions()[-2]
    cli("db", "downgrade", "--dir", node_dir, previous)
    result = doctor(cli, node_dir)
    assert result.returncode == 1
    assert line(result, "FAIL migrations: ") == (
        f"FAIL migrations: the database is at revision {previous}, the code needs {head}\n"
        f"     → `congvan db upgrade --dir {node_dir.resolve()}`"
    )
    cli("db", "upgrade", "--dir", node_dir)
    healed = doctor(cli, node_dir)
    assert healed.returncode == 0, healed.stdout
    assert line(healed, f"OK   migrations: at the head revision {head}")


def _stale_crl(network: DemoNetwork) -> None:
    """A CRL truly signed by the CA, whose next update passed yesterday."""
    authority = load_ca(network.settings("TU").ca_dir, network.passphrase("TU"))
    now = datetime.now(UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(now - timedelta(days=8))
        .next_update(now - timedelta(days=1))
        .sign(authority.key, hashes.SHA256())
    )
    (network.node_dir("TU") / "pki" / "crl.pem").write_bytes(crl_pem(crl))


def _forged_crl(network: DemoNetwork) -> None:
    """A fresh CRL signed by a CA of the same name that is not ours."""
    ours = network.settings("TU")
    impostor = create_ca("Tỉnh uỷ Quảng Trị - CA (demo)", ours.node_dir / "forger", b"x" * 16)
    now = datetime.now(UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(impostor.certificate.subject)
        .last_update(now)
        .next_update(now + timedelta(days=7))
        .sign(impostor.key, hashes.SHA256())
    )
    (ours.pki_dir / "crl.pem").write_bytes(crl_pem(crl))


def _no_crl(network: DemoNetwork) -> None:
    (network.node_dir("TU") / "pki" / "crl.pem").unlink()


@pytest.mark.parametrize(
    ("spoil", "fault"),
    [
        (_no_crl, "pki/crl.pem is missing: peers are refused"),
        (_stale_crl, "pki/crl.pem is past its next update ("),
        (_forged_crl, "pki/crl.pem is not signed by our CA: peers are refused"),
    ],
)
def test_a_missing_stale_or_forged_crl_fails_until_the_ca_signs_a_new_one(
    copied: DemoNetwork, cli: Cli, spoil: Callable[[DemoNetwork], None], fault: str
) -> None:
    node_dir = copied.node_dir("TU")
    spoil(copied)
    result = doctor(cli, node_dir)
    assert result.returncode == 1
    crl = line(result, "FAIL CRL: ")
    assert fault in crl
    assert crl.endswith(
        f"→ `congvan keys crl --dir {node_dir.resolve()}` (the running hub re-signs it)"
    )
    cli("keys", "crl", "--dir", node_dir)
    healed = doctor(cli, node_dir)
    assert healed.returncode == 0, healed.stdout
    assert line(healed, "OK   CRL: signed by the CA")


def test_a_private_key_others_may_read_fails_with_the_chmod_to_run(
    copied: DemoNetwork, cli: Cli
) -> None:
    node_dir = copied.node_dir("TU")
    key = node_dir.resolve() / "pki" / "units" / "BTC" / "signing.key"
    key.chmod(0o644)
    result = doctor(cli, node_dir)
    assert result.returncode == 1
    assert line(result, "FAIL key files: ") == (
        f"FAIL key files: others may read pki/units/BTC/signing.key (0644)\n     → chmod 600 {key}"
    )
    key.chmod(0o600)
    assert doctor(cli, node_dir).returncode == 0


def test_settings_that_do_not_load_exit_2_with_the_config_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "node.toml").write_text(
        '[node]\nname = "HU-CAMLO"\nunits = ["HU-CAMLO"]\n\n[peer]\nport = 70000\n',
        encoding="utf-8",
    )
    result = doctor(cli, tmp_path)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "FAIL settings: config error: [peer] port = 70000: must be 1-65535",
        f"     → correct {tmp_path / 'node.toml'} or the CONGVAN_* variable it names "
        "(docs/settings.md lists every key)",
    ]


async def test_a_delivery_that_gave_up_is_a_warning_that_names_the_retry(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    node_dir = fresh_network.node_dir("TU")
    province, _ = await start(fresh_network, "TU", CONGVAN_EXCHANGE_RETRY_MAX="0")
    try:
        assert province.outbox is not None
        header = await province.outbox.send("TU", draft(tmp_path, ("HU-CAMLO",)))

        async def failed() -> bool:
            return await states(province, header.id) == {"HU-CAMLO": "failed"}

        await wait_for(failed)
    finally:
        await province.stop()
    result = doctor(cli, node_dir)
    assert result.returncode == 0, result.stdout  # warnings only: the node works
    outbox = line(result, "WARN outbox: ")
    assert f"1 dispatches failed after every retry (to HU-CAMLO): {header.id}" in outbox
    assert f"`congvan exchange retry {header.id} --dir {node_dir.resolve()}`" in outbox
    cli("exchange", "retry", header.id, "--dir", node_dir)
    assert line(doctor(cli, node_dir), "OK   outbox: no delivery has given up")


async def test_a_certificate_near_its_end_is_a_warning_that_names_the_rotation(
    fresh_network: DemoNetwork, cli: Cli
) -> None:
    node_dir = fresh_network.node_dir("TU")
    cli(
        "keys",
        "rotate",
        "BTC",
        "--use",
        "signing",
        "--dir",
        node_dir,
        env={"CONGVAN_KEYS_CERT_DAYS": "10"},
    )
    result = doctor(cli, node_dir)
    assert result.returncode == 0, result.stdout
    soon = line(result, "WARN certificate BTC signing: expires in 9 days (")
    assert soon.endswith(f"→ `congvan keys rotate BTC --use signing --dir {node_dir.resolve()}`")
    assert line(result, "OK   certificate BTC encryption: valid until ")


def test_a_revoked_unit_signing_certificate_fails_and_its_rotation_mends_it(
    fresh_network: DemoNetwork, cli: Cli
) -> None:
    """Every dispatch the unit sends is refused once its signing key is revoked: the doctor
    says so, with the rotation that gives the unit a new key."""
    node_dir = fresh_network.node_dir("TU")
    serial = format(keyring(fresh_network, "TU").unit("BTC").signing_certificate.serial_number, "X")
    cli("keys", "revoke", serial, "--reason", "keyCompromise", "--dir", node_dir)

    result = doctor(cli, node_dir)

    assert result.returncode == 1, result.stdout
    found = line(result, "FAIL certificate BTC signing: revoked (")
    fix = f"`congvan keys rotate BTC --use signing --dir {node_dir.resolve()}`"
    assert found.endswith(f"→ {fix}")
    assert line(result, "OK   certificate BTC encryption: valid until ")
    cli("keys", "rotate", "BTC", "--use", "signing", "--dir", node_dir)
    mended = doctor(cli, node_dir)
    assert mended.returncode == 0, mended.stdout
    assert line(mended, "OK   certificate BTC signing: valid until ")


class Usage(NamedTuple):
    total: int
    used: int
    free: int


@pytest.mark.parametrize(
    ("total", "free", "status"),
    [
        (500 * GIB, 100 * GIB, "ok"),
        (500 * GIB, 50 * GIB, "warning"),
        (500 * GIB, 20 * GIB, "problem"),
        (2 * GIB, GIB // 2, "problem"),
    ],
)
def test_free_disk_below_15_percent_warns_and_below_5_percent_or_a_gib_fails(
    demo_network: DemoNetwork,
    monkeypatch: pytest.MonkeyPatch,
    total: int,
    free: int,
    status: str,
) -> None:
    settings: Settings = demo_network.settings("HU-CAMLO")
    monkeypatch.setattr(
        "office.doctor.local.shutil.disk_usage", lambda _path: Usage(total, total - free, free)
    )
    findings = check_disk(settings)
    assert [finding.status for finding in findings] == [status]
    if status != "ok":
        assert "free space on the file system of" in findings[0].remedy
