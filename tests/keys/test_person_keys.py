"""Each signing person's own key and certificate (Decree 30 Art. 13), from the province's CA to
the moment of signing.

The CA (``TU`` of the demo network) issues with ``congvan keys issue-person``; Cam Lộ's node
installs with ``congvan keys install-person``; ``openssl`` says what it makes of the certificate.
Activation, PINs and unlocking are the service functions the signing pages call, on Cam Lộ's
database. Every activation code and PIN goes to the secrets guard, which fails the run if a log
line holds one.
"""

from __future__ import annotations

import asyncio
import subprocess
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import open_database
from config.errors import CongvanError
from keys import pinbox, signers
from keys.ca import PersonName, create_ca, issue_person
from keys.models import PersonKey, User
from keys.person_bundle import PersonBundle, write_person_bundle
from keys.revocation import RevocationChecker
from keys.signers import PIN_FAILURES, PIN_LOCKOUT
from keys.trust import TrustStore
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.keys import trust_store
from tests.support.network import DemoNetwork

CA = "TU"
NODE = "HU-CAMLO"
LEADER = "lanhdao.camlo"
FULL_NAME = "Nguyễn Văn An"
TITLE = "Phó Bí thư"
PIN = "hoa-sen-2026"
OTHER_PIN = "mai-vang-2027"


@dataclass(frozen=True)
class Issued:
    bundle: Path
    serial: str
    code: str


def issue(
    cli: Cli,
    network: DemoNetwork,
    out: Path | None,
    secrets_seen: SecretsSeen,
    username: str = LEADER,
    unit: str = NODE,
) -> Issued:
    """``congvan keys issue-person`` on the CA; the code it prints goes to the secrets guard."""
    args: list[str | Path] = ["keys", "issue-person", username, "--unit", unit]
    args += ["--name", FULL_NAME, "--title", TITLE, "--dir", network.node_dir(CA)]
    if out is not None:
        args += ["--out", out]
    lines = cli(*args).stdout.splitlines()
    code = lines[-1].rsplit(": ", 1)[1]
    secrets_seen.add(code, code.replace("-", ""))
    return Issued(out or Path(), lines[0].split()[2], code)  # no --out: installed on the CA


def install(cli: Cli, network: DemoNetwork, bundle: Path) -> str:
    return cli("keys", "install-person", bundle, "--dir", network.node_dir(NODE)).stdout


def openssl(*args: str | Path) -> str:
    result = subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def refusal(error: pytest.ExceptionInfo[CongvanError]) -> str:
    assert error.value.said is not None, "a refusal the signing page shows goes by key"
    assert error.value.text("en") != error.value.text("vi")
    return error.value.code


def listing(cli: Cli, network: DemoNetwork, node: str) -> dict[str, list[str]]:
    """``keys list``'s person rows, by serial: the words before the name."""
    out = cli("keys", "list", "--dir", network.node_dir(node)).stdout
    rows: dict[str, list[str]] = {}
    section = ""
    for line in out.splitlines():
        words = line.split()
        if words[:1] in (["PERSON"], ["SIGNING"]):
            section = words[0]
        elif section and words:
            rows.setdefault(words[1], []).append(f"{section} {' '.join(words[:4])}")
    return rows


@pytest.fixture
def network(fresh_network: DemoNetwork, secrets_seen: SecretsSeen) -> DemoNetwork:
    secrets_seen.add(PIN, OTHER_PIN)
    return fresh_network


@pytest.fixture
async def sessions(network: DemoNetwork) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Cam Lộ's database, without the key the demo gave its leader: these tests issue their
    own and count what the node holds."""
    async with open_database(network.settings(NODE)) as opened:
        async with opened() as session, session.begin():
            await session.execute(sa.delete(PersonKey))
        yield opened


async def user_id(sessions: async_sessionmaker[AsyncSession], username: str = LEADER) -> int:
    async with sessions() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, bytes, int]]:
    """Cam Lộ's person keys: serial, state, sealed key, PIN failures."""
    async with sessions() as session:
        found = await session.scalars(select(PersonKey).order_by(PersonKey.id))
        return [(row.serial, row.state, row.sealed_key, row.pin_failures) for row in found]


def now() -> datetime:
    return datetime.now(UTC)


async def activated(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> Issued:
    """Issued on the CA, installed on Cam Lộ, activated by the leader with ``PIN``."""
    issued = issue(cli, network, tmp_path / f"{LEADER}-{len(await rows(sessions))}", secrets_seen)
    install(cli, network, issued.bundle)
    await signers.activate_person_key(sessions, await user_id(sessions), issued.code, PIN, now())
    return issued


async def test_a_person_gets_a_certificate_of_their_own_that_signs_once_activated(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    issued = issue(cli, network, tmp_path / "an.person", secrets_seen)
    ca_pem = network.node_dir(CA) / "ca" / "ca.pem"
    assert "an.person: OK" in openssl("verify", "-CAfile", ca_pem, issued.bundle)
    text = openssl("x509", "-in", issued.bundle, "-noout", "-text", "-nameopt", "utf8")
    assert f"CN={FULL_NAME}" in text and f"title={TITLE}" in text
    assert f"UID={LEADER}" in text and f"OU={NODE}" in text and "O=Huyện uỷ Cam Lộ" in text
    assert "Digital Signature, Non Repudiation" in text and "CA:FALSE" in text
    assert "ASN1 OID: prime256v1" in text
    assert issued.bundle.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" not in issued.bundle.read_bytes()

    assert "installed" in install(cli, network, issued.bundle)
    leader = await user_id(sessions)
    typed = issued.code.replace("-", "").lower()  # as typed in a hurry
    await signers.activate_person_key(sessions, leader, typed, PIN, now())
    identity = await signers.unlock_signing_identity(
        sessions, leader, PIN, trust_store(network, NODE), now()
    )
    assert (identity.full_name, identity.title, identity.unit_code) == (FULL_NAME, TITLE, NODE)
    assert format(identity.certificate.serial_number, "X") == issued.serial
    assert identity.chain[-1] == trust_store(network, NODE).ca_certificate
    signature = identity.key.sign(b"van ban", ec.ECDSA(hashes.SHA256()))
    public_key = identity.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, b"van ban", ec.ECDSA(hashes.SHA256()))
    (row,) = listing(cli, network, CA)[issued.serial]
    assert row.split() == ["PERSON", f"{LEADER}@{NODE}", issued.serial, row.split()[3], "active"]


async def test_the_key_is_never_stored_in_clear_and_opens_only_with_its_secret(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    issued = issue(cli, network, tmp_path / "an.person", secrets_seen)
    install(cli, network, issued.bundle)
    ((_, state, pending, _),) = await rows(sessions)
    assert state == "pending"
    await signers.activate_person_key(sessions, await user_id(sessions), issued.code, PIN, now())
    ((_, state, active, _),) = await rows(sessions)
    assert state == "active" and active != pending
    for sealed in (pending, active):
        assert b"PRIVATE KEY" not in sealed and b"-----BEGIN" not in sealed
        for load in (serialization.load_der_private_key, serialization.load_pem_private_key):
            with pytest.raises(ValueError):
                load(sealed, password=None)
    assert pinbox.open_sealed(pending, pinbox.normal_code(issued.code)) is not None
    assert pinbox.open_sealed(pending, PIN) is None
    assert pinbox.open_sealed(active, PIN) is not None
    assert pinbox.open_sealed(active, pinbox.normal_code(issued.code)) is None


async def test_a_wrong_activation_code_or_a_short_pin_changes_nothing(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    issued = issue(cli, network, tmp_path / "an.person", secrets_seen)
    install(cli, network, issued.bundle)
    leader, before = await user_id(sessions), await rows(sessions)
    wrong = pinbox.new_activation_code()
    with pytest.raises(CongvanError) as error:
        await signers.activate_person_key(sessions, leader, wrong, PIN, now())
    assert refusal(error) == "bad-activation-code"
    with pytest.raises(CongvanError) as error:
        await signers.activate_person_key(sessions, leader, issued.code, "12345", now())
    assert refusal(error) == "weak-pin"
    assert await rows(sessions) == before
    with pytest.raises(CongvanError) as error:
        await signers.unlock_signing_identity(
            sessions, leader, PIN, trust_store(network, NODE), now()
        )
    assert refusal(error) == "no-signing-key"  # installed, not activated: cannot sign yet


async def test_a_person_without_a_key_cannot_sign(
    network: DemoNetwork, sessions: async_sessionmaker[AsyncSession]
) -> None:
    staff = await user_id(sessions, "chuyenvien.camlo")
    with pytest.raises(CongvanError) as error:
        await signers.unlock_signing_identity(
            sessions, staff, PIN, trust_store(network, NODE), now()
        )
    assert refusal(error) == "no-signing-key"
    with pytest.raises(CongvanError) as error:
        await signers.activate_person_key(sessions, staff, pinbox.new_activation_code(), PIN, now())
    assert refusal(error) == "no-pending-key"


async def test_wrong_pins_change_nothing_but_five_in_a_row_lock_signing_for_15_minutes(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    await activated(cli, network, sessions, tmp_path, secrets_seen)
    leader, trust, start = await user_id(sessions), trust_store(network, NODE), now()
    ((serial, state, sealed, _),) = await rows(sessions)
    for attempt in range(1, PIN_FAILURES):
        with pytest.raises(CongvanError) as error:
            await signers.unlock_signing_identity(sessions, leader, "sai-ma-pin", trust, start)
        assert refusal(error) == "bad-pin"
        assert f"{PIN_FAILURES - attempt} tries left" in error.value.text("en")
        assert await rows(sessions) == [(serial, state, sealed, attempt)]
    with pytest.raises(CongvanError) as error:
        await signers.unlock_signing_identity(sessions, leader, "sai-ma-pin", trust, start)
    assert refusal(error) == "signing-locked"
    # Locked: even the right PIN is refused, unchecked and uncounted, for 15 minutes.
    later = start + PIN_LOCKOUT - timedelta(seconds=1)
    for pin in (PIN, "sai-ma-pin"):
        with pytest.raises(CongvanError) as error:
            await signers.unlock_signing_identity(sessions, leader, pin, trust, later)
        assert refusal(error) == "signing-locked"
    assert await rows(sessions) == [(serial, state, sealed, PIN_FAILURES)]
    after = start + PIN_LOCKOUT + timedelta(seconds=1)
    await signers.unlock_signing_identity(sessions, leader, PIN, trust, after)
    assert await rows(sessions) == [(serial, state, sealed, 0)]


async def test_changing_the_pin_needs_the_old_one_and_counts_a_wrong_one(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    await activated(cli, network, sessions, tmp_path, secrets_seen)
    leader, trust = await user_id(sessions), trust_store(network, NODE)
    with pytest.raises(CongvanError) as error:
        await signers.change_pin(sessions, leader, "sai-ma-pin", OTHER_PIN, now())
    assert refusal(error) == "bad-pin"
    assert (await rows(sessions))[0][3] == 1
    with pytest.raises(CongvanError) as error:
        await signers.change_pin(sessions, leader, PIN, "123", now())
    assert refusal(error) == "weak-pin"
    await signers.change_pin(sessions, leader, PIN, OTHER_PIN, now())
    assert (await rows(sessions))[0][3] == 0
    with pytest.raises(CongvanError) as error:
        await signers.unlock_signing_identity(sessions, leader, PIN, trust, now())
    assert refusal(error) == "bad-pin"
    await signers.unlock_signing_identity(sessions, leader, OTHER_PIN, trust, now())


async def test_a_revoked_certificate_cannot_sign_and_the_pin_is_not_counted(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    """``keys revoke`` on the CA publishes the CRL Cam Lộ reads (the demo shares the hub's file,
    as a node's refresher keeps its copy of it)."""
    issued = await activated(cli, network, sessions, tmp_path, secrets_seen)
    cli("keys", "revoke", issued.serial, "--reason", "keyCompromise", "--dir", network.node_dir(CA))
    leader, before = await user_id(sessions), await rows(sessions)
    for pin in (PIN, "sai-ma-pin"):
        with pytest.raises(CongvanError) as error:
            await signers.unlock_signing_identity(
                sessions, leader, pin, trust_store(network, NODE), now()
            )
        assert refusal(error) == "certificate-revoked"
    assert await rows(sessions) == before
    assert listing(cli, network, CA)[issued.serial][0].endswith("revoked")
    assert listing(cli, network, NODE)[issued.serial][0].endswith("active,revoked")


async def test_an_expired_or_not_yet_valid_certificate_or_an_unknown_crl_cannot_sign(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    issued = await activated(cli, network, sessions, tmp_path, secrets_seen)
    certificate = x509.load_pem_x509_certificate(issued.bundle.read_bytes())
    leader, trust, before = (
        await user_id(sessions),
        trust_store(network, NODE),
        await rows(sessions),
    )
    for moment, code in [
        (certificate.not_valid_after_utc + timedelta(minutes=1), "certificate-expired"),
        (certificate.not_valid_before_utc - timedelta(minutes=1), "certificate-not-yet-valid"),
    ]:
        with pytest.raises(CongvanError) as error:
            await signers.unlock_signing_identity(sessions, leader, PIN, trust, moment)
        assert refusal(error) == code
    no_crl = TrustStore(
        trust.ca_certificate, RevocationChecker(trust.ca_certificate, tmp_path / "no-crl.pem")
    )
    with pytest.raises(CongvanError) as error:
        await signers.unlock_signing_identity(sessions, leader, PIN, no_crl, now())
    assert refusal(error) == "revocation-unknown"  # fail closed
    assert await rows(sessions) == before


async def test_a_new_key_replaces_the_old_once_activated(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    old = await activated(cli, network, sessions, tmp_path, secrets_seen)
    new = issue(cli, network, tmp_path / "rotated.person", secrets_seen)
    install(cli, network, new.bundle)
    leader, trust = await user_id(sessions), trust_store(network, NODE)
    # Until the new key is activated, the old one signs.
    identity = await signers.unlock_signing_identity(sessions, leader, PIN, trust, now())
    assert format(identity.certificate.serial_number, "X") == old.serial
    await signers.activate_person_key(sessions, leader, new.code, OTHER_PIN, now())
    assert [(serial, state) for serial, state, _, _ in await rows(sessions)] == [
        (old.serial, "replaced"),
        (new.serial, "active"),
    ]
    identity = await signers.unlock_signing_identity(sessions, leader, OTHER_PIN, trust, now())
    assert format(identity.certificate.serial_number, "X") == new.serial
    on_node = listing(cli, network, NODE)
    assert on_node[old.serial][0].split()[-1] == "replaced"
    assert on_node[new.serial][0].split()[-1] == "active"
    on_ca = listing(cli, network, CA)
    assert on_ca[old.serial][0].split()[-1] == "superseded"
    assert on_ca[new.serial][0].split()[-1] == "active"


async def test_the_ca_installs_a_key_for_a_unit_it_hosts_itself(
    cli: Cli, network: DemoNetwork, secrets_seen: SecretsSeen
) -> None:
    issued = issue(cli, network, None, secrets_seen, username="lanhdao.tu", unit=CA)
    async with open_database(network.settings(CA)) as province:
        leader = await user_id(province, "lanhdao.tu")
        await signers.activate_person_key(province, leader, issued.code, PIN, now())
        identity = await signers.unlock_signing_identity(
            province, leader, PIN, trust_store(network, CA), now()
        )
    assert identity.unit_code == CA
    rows_on_ca = listing(cli, network, CA)[issued.serial]
    assert [row.split()[0] for row in rows_on_ca] == ["PERSON", "SIGNING"]


def test_issuing_and_installing_refuse_what_they_cannot_vouch_for(
    cli: Cli, network: DemoNetwork, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    ca_dir = network.node_dir(CA)
    before = cli("keys", "list", "--dir", ca_dir).stdout
    person = ["--name", FULL_NAME, "--title", TITLE, "--dir", ca_dir]
    for args, words in [
        (["nobody", "--unit", CA], "no user nobody"),  # a unit the CA hosts: a known account
        ([LEADER, "--unit", NODE], "--out"),  # another node's: only through a bundle
        ([LEADER, "--unit", "NO-SUCH", "--out", tmp_path / "x"], "unknown unit"),
    ]:
        result = cli("keys", "issue-person", *args, *person, check=False)
        assert result.returncode == 1 and words in result.stderr, result.stderr
    assert cli("keys", "list", "--dir", ca_dir).stdout == before
    issued = issue(cli, network, tmp_path / "an.person", secrets_seen)
    for bundle, node, words in [
        (issued.bundle, "TX-DONGHA", "not hosted by this node"),
        (other_ca_bundle(tmp_path), NODE, "not issued by this node's CA"),
    ]:
        result = cli("keys", "install-person", bundle, "--dir", network.node_dir(node), check=False)
        assert result.returncode == 1 and words in result.stderr, result.stderr
    install(cli, network, issued.bundle)
    again = cli(
        "keys", "install-person", issued.bundle, "--dir", network.node_dir(NODE), check=False
    )
    assert again.returncode == 1 and "installed already" in again.stderr
    rotate = cli("keys", "rotate", f"{LEADER}@{NODE}", "--dir", ca_dir, check=False)
    assert rotate.returncode == 1 and "issue-person" in rotate.stderr


def other_ca_bundle(tmp_path: Path) -> Path:
    """A person bundle for Cam Lộ's leader from a CA that is not the province's."""
    authority = create_ca("Not the province", tmp_path / "other-ca", b"other-ca-passphrase")
    key = ec.generate_private_key(ec.SECP256R1())
    person = PersonName(LEADER, NODE, "Huyện uỷ Cam Lộ", FULL_NAME, TITLE)
    certificate = issue_person(authority, person, key, 30)
    sealed = pinbox.seal_key(key, pinbox.normal_code(pinbox.new_activation_code()))
    out = tmp_path / "other.person"
    write_person_bundle(out, PersonBundle(certificate, authority.certificate, sealed))
    return out


async def test_argon2_runs_in_a_thread_never_on_the_event_loop(
    cli: Cli,
    network: DemoNetwork,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def off_the_loop(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def checked(*args: Any) -> Any:
            with pytest.raises(RuntimeError):  # no running loop: a worker thread
                asyncio.get_running_loop()
            calls.append(name)
            return function(*args)

        return checked

    monkeypatch.setattr(signers, "open_sealed", off_the_loop("open", pinbox.open_sealed))
    monkeypatch.setattr(signers, "seal_key", off_the_loop("seal", pinbox.seal_key))
    await activated(cli, network, sessions, tmp_path, secrets_seen)
    leader = await user_id(sessions)
    await signers.change_pin(sessions, leader, PIN, OTHER_PIN, now())
    await signers.unlock_signing_identity(
        sessions, leader, OTHER_PIN, trust_store(network, NODE), now()
    )
    assert calls == ["open", "seal", "open", "seal", "open"]


def test_a_seal_opens_only_as_it_was_made() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sealed = pinbox.seal_key(key, "Trần Thị Bình")  # composed as typed on one keyboard
    decomposed = unicodedata.normalize("NFD", "Trần Thị Bình")
    opened = pinbox.open_sealed(sealed, decomposed)
    assert opened is not None and opened.private_numbers() == key.private_numbers()
    header_changed = bytearray(sealed)
    header_changed[20] ^= 1  # in the salt: the header is authenticated
    assert pinbox.open_sealed(bytes(header_changed), "Trần Thị Bình") is None
    with pytest.raises(CongvanError) as error:
        pinbox.open_sealed(b"-----BEGIN PRIVATE KEY-----", "Trần Thị Bình")
    assert error.value.code == "bad-seal"
    code = pinbox.new_activation_code()
    assert len(code) == 23 and code.count("-") == 3
    assert pinbox.normal_code(code.lower().replace("-", " ")) == code.replace("-", "")
