"""The provincial CA seen from outside: what ``congvan keys`` writes, checked with ``openssl``.

Each CLI test runs the real command on a fresh provincial node (the ``province`` fixture) and asks
``openssl``, a tool we did not write, what it makes of the keys, certificates, CRL and signed
directory. The revocation checker every node runs is tested in-process at the end.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.errors import PeerRefused
from config.settings import Settings
from keys.ca import CertificateAuthority, create_ca, issue_tls, serial_hex
from keys.revocation import RevocationChecker, RevokedEntry, build_crl, crl_pem
from tests.conftest import SecretsSeen
from tests.support.cli import Cli

WRONG_PASSPHRASE = "not-the-node-passphrase-at-all"


def openssl(*args: str | Path, stdin: str = "") -> CompletedProcess[str]:
    return subprocess.run(
        ["openssl", *map(str, args)], input=stdin, capture_output=True, text=True, timeout=60
    )


def ok(result: CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def keys(cli: Cli, node: Settings, *args: str | Path, **options: Any) -> CompletedProcess[str]:
    """``congvan keys ARGS --dir NODE``; ``options`` (env, check) go to the ``cli`` fixture."""
    return cli("keys", *args, "--dir", node.node_dir, **options)


def refused(result: CompletedProcess[str], *words: str) -> str:
    """A refusal is exit 1 and one ``error:`` line that names what was refused."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


def serials(result: CompletedProcess[str]) -> dict[str, str]:
    """``{use: serial}`` from an issue or rotate command's ``OWNER USE SERIAL until ...`` lines."""
    return {line.split()[1]: line.split()[2] for line in result.stdout.splitlines()}


def listing(cli: Cli, node: Settings) -> list[list[str]]:
    return [line.split() for line in keys(cli, node, "list").stdout.splitlines()[1:]]


def files(*roots: Path) -> dict[str, bytes]:
    return {
        str(path): path.read_bytes() for root in roots for path in root.rglob("*") if path.is_file()
    }


def ca_pem(node: Settings) -> Path:
    return node.ca_dir / "ca.pem"


def secret_file(node: Settings) -> Path:
    return node.node_dir / "secret"


def node_files(node: Settings, name: str) -> Path:
    return node.ca_dir / "issued" / name


def unit_file(folder: Path, unit: str, name: str) -> Path:
    return folder / "units" / unit / name


def text_of(certificate: Path) -> str:
    return ok(openssl("x509", "-in", certificate, "-noout", "-text"))


def verify(node: Settings, certificate: Path, *options: str) -> CompletedProcess[str]:
    return openssl("verify", *options, "-CAfile", ca_pem(node), certificate)


def same_public_key(certificate: Path, key: Path, passphrase_file: Path) -> bool:
    from_cert = ok(openssl("x509", "-in", certificate, "-noout", "-pubkey"))
    from_key = openssl("pkey", "-in", key, "-passin", f"file:{passphrase_file}", "-pubout")
    return ok(from_key) == from_cert


def serial_of(certificate: Path) -> str:
    """The serial as ``openssl`` prints it: hex, padded to whole bytes."""
    return ok(openssl("x509", "-in", certificate, "-noout", "-serial")).strip().split("=")[1]


def openssl_date(output: str) -> datetime:  # "nextUpdate=Dec  4 07:40:57 2026 GMT"
    value = output.strip().split("=", 1)[1]
    return datetime.strptime(value, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)


def test_ca_is_p256_with_a_key_that_opens_only_with_the_node_passphrase(
    province: Settings,
) -> None:
    key = province.ca_dir / "ca.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert openssl("pkey", "-in", key, "-passin", "pass:WRONG", "-noout").returncode != 0
    assert openssl("pkey", "-in", key, "-passin", "stdin", "-noout").returncode != 0
    ok(openssl("pkey", "-in", key, "-passin", f"file:{secret_file(province)}", "-noout"))
    assert same_public_key(ca_pem(province), key, secret_file(province))
    text = text_of(ca_pem(province))
    assert "ASN1 OID: prime256v1" in text and "ecdsa-with-SHA256" in text
    assert "CA:TRUE" in text
    assert "Certificate Sign, CRL Sign" in text
    assert "ca.pem: OK" in ok(verify(province, ca_pem(province)))
    assert (province.pki_dir / "ca.pem").read_bytes() == ca_pem(province).read_bytes()


def test_ca_init_twice_is_refused_and_keeps_the_first_ca(cli: Cli, province: Settings) -> None:
    before, rows = files(province.ca_dir, province.pki_dir), listing(cli, province)
    refused(keys(cli, province, "ca-init", check=False), "already exists")
    assert files(province.ca_dir, province.pki_dir) == before
    assert listing(cli, province) == rows


@pytest.mark.parametrize(
    "command",
    [["issue-unit", "TU"], ["issue-node", "HU-CAMLO", "--host", "127.0.0.1"], ["crl"]],
    ids=["issue-unit", "issue-node", "crl"],
)
def test_a_wrong_passphrase_is_refused_and_writes_nothing(
    cli: Cli, province: Settings, secrets_seen: SecretsSeen, command: list[str]
) -> None:
    secrets_seen.add(WRONG_PASSPHRASE)
    before, rows = files(province.ca_dir, province.pki_dir), listing(cli, province)
    env = {"CONGVAN_KEYS_PASSPHRASE": WRONG_PASSPHRASE}
    refused(keys(cli, province, *command, env=env, check=False), "wrong passphrase", "ca.key")
    assert files(province.ca_dir, province.pki_dir) == before
    assert not (province.ca_dir / "issued").exists()
    assert listing(cli, province) == rows


def test_a_too_short_passphrase_is_a_config_error(cli: Cli, province: Settings) -> None:
    env = {"CONGVAN_KEYS_PASSPHRASE": "short"}
    result = keys(cli, province, "issue-unit", "TU", env=env, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("config error: [keys] passphrase")


def test_node_certificate_verifies_and_serves_both_ends_of_mutual_tls(
    cli: Cli, province: Settings
) -> None:
    keys(cli, province, "issue-node", "HU-CAMLO", "--host", "127.0.0.1", "--host", "localhost")
    folder = node_files(province, "HU-CAMLO")
    assert "node.pem: OK" in ok(verify(province, folder / "node.pem"))
    text = text_of(folder / "node.pem")
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text
    assert "IP Address:127.0.0.1, DNS:localhost" in text
    assert "CN = HU-CAMLO" in text and "CA:FALSE" in text
    assert (folder / "node.key").stat().st_mode & 0o777 == 0o600
    assert same_public_key(folder / "node.pem", folder / "node.key", secret_file(province))
    assert (folder / "ca.pem").read_bytes() == ca_pem(province).read_bytes()
    assert not (province.pki_dir / "node.pem").exists()


def test_issue_node_with_out_writes_there_and_twice_is_refused(
    cli: Cli, province: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "for-camlo"
    keys(cli, province, "issue-node", "HU-CAMLO", "--host", "127.0.0.1", "--out", out)
    assert "OK" in ok(verify(province, out / "node.pem"))
    assert not node_files(province, "HU-CAMLO").exists()
    again = keys(cli, province, "issue-node", "HU-CAMLO", "--host", "127.0.0.1", check=False)
    refused(again, "HU-CAMLO", "keys rotate HU-CAMLO")


def test_unit_gets_a_p256_signing_and_an_x25519_key_agreement_certificate(
    cli: Cli, province: Settings
) -> None:
    keys(cli, province, "issue-unit", "HU-CAMLO")
    folder = node_files(province, "HU-CAMLO")
    expected = {
        "signing": ("ASN1 OID: prime256v1", "Digital Signature, Non Repudiation"),
        "encryption": ("Public Key Algorithm: X25519", "Key Agreement"),
    }
    for use, (algorithm, usage) in expected.items():
        certificate, key = (unit_file(folder, "HU-CAMLO", f"{use}.{ext}") for ext in ("pem", "key"))
        assert f"{use}.pem: OK" in ok(verify(province, certificate))
        text = text_of(certificate)
        assert algorithm in text
        assert text.split("X509v3 Key Usage: critical\n", 1)[1].splitlines()[0].strip() == usage
        assert key.stat().st_mode & 0o777 == 0o600
        assert same_public_key(certificate, key, secret_file(province))
    assert not (province.pki_dir / "units" / "HU-CAMLO").exists()


def test_an_unknown_unit_is_refused_by_name(cli: Cli, province: Settings) -> None:
    before = files(province.ca_dir, province.pki_dir)
    refused(keys(cli, province, "issue-unit", "HU-NOWHERE", check=False), "HU-NOWHERE")
    assert files(province.ca_dir, province.pki_dir) == before


def test_issuing_a_unit_twice_is_refused_with_advice_to_rotate(
    cli: Cli, province: Settings
) -> None:
    keys(cli, province, "issue-unit", "BTC")
    rows = listing(cli, province)
    refused(keys(cli, province, "issue-unit", "BTC", check=False), "keys rotate BTC")
    assert listing(cli, province) == rows


def test_a_revoked_node_certificate_fails_openssl_crl_check(cli: Cli, province: Settings) -> None:
    keys(cli, province, "issue-node", "HU-CAMLO", "--host", "127.0.0.1")
    keys(cli, province, "issue-unit", "TU")
    node_pem = node_files(province, "HU-CAMLO") / "node.pem"
    serial = serial_of(node_pem)
    keys(cli, province, "revoke", serial, "--reason", "keyCompromise")
    crl = province.ca_dir / "crl.pem"
    result = verify(province, node_pem, "-crl_check", "-CRLfile", str(crl))
    assert result.returncode != 0 and "certificate revoked" in result.stdout + result.stderr
    signing = unit_file(province.pki_dir, "TU", "signing.pem")
    assert "OK" in ok(verify(province, signing, "-crl_check", "-CRLfile", str(crl)))
    text = ok(openssl("crl", "-in", crl, "-noout", "-text"))
    assert "Next Update:" in text and "Key Compromise" in text and serial.lstrip("0") in text
    assert (province.pki_dir / "crl.pem").read_bytes() == crl.read_bytes()
    checker = RevocationChecker(x509.load_pem_x509_certificate(ca_pem(province).read_bytes()), crl)
    with pytest.raises(PeerRefused) as refusal:
        checker.check(x509.load_pem_x509_certificate(node_pem.read_bytes()))
    assert refusal.value.code == "revoked"


def test_revoking_an_unknown_serial_twice_or_the_ca_is_refused_and_changes_nothing(
    cli: Cli, province: Settings
) -> None:
    serial = serials(keys(cli, province, "issue-unit", "TU"))["signing"]
    before, rows = files(province.ca_dir, province.pki_dir), listing(cli, province)
    result = keys(cli, province, "revoke", "DEADBEEF", "--reason", "superseded", check=False)
    refused(result, "no certificate", "DEADBEEF")
    ca_serial = next(row[2] for row in rows if row[1] == "ca")
    refused(keys(cli, province, "revoke", ca_serial, "--reason", "keyCompromise", check=False))
    assert files(province.ca_dir, province.pki_dir) == before
    assert listing(cli, province) == rows
    keys(cli, province, "revoke", f"00{serial.lower()}", "--reason", "superseded")
    again = keys(cli, province, "revoke", serial, "--reason", "superseded", check=False)
    refused(again, serial, "already revoked")
    assert [row[4] for row in listing(cli, province) if row[2] == serial] == ["revoked"]


def test_crl_verifies_against_the_ca_and_lasts_crl_days(cli: Cli, province: Settings) -> None:
    crl = province.ca_dir / "crl.pem"
    for days, env in [(province.keys.crl_days, None), (3, {"CONGVAN_KEYS_CRL_DAYS": "3"})]:
        keys(cli, province, "crl", env=env)
        assert "verify OK" in ok(
            openssl("crl", "-in", crl, "-noout", "-CAfile", ca_pem(province), "-verify")
        )
        next_update = openssl_date(ok(openssl("crl", "-in", crl, "-noout", "-nextupdate")))
        expected = datetime.now(UTC) + timedelta(days=days)
        assert abs(next_update - expected) < timedelta(minutes=5)


def test_rotating_supersedes_the_old_certificate_and_archives_the_old_key(
    cli: Cli, province: Settings
) -> None:
    old = serials(keys(cli, province, "issue-unit", "TU"))
    new = serials(keys(cli, province, "rotate", "TU", "--use", "encryption"))
    assert list(new) == ["encryption"] and new["encryption"] != old["encryption"]
    status = {row[2]: row[4] for row in listing(cli, province) if row[0] == "TU"}
    assert status == {
        old["encryption"]: "superseded",
        old["signing"]: "active",
        new["encryption"]: "active",
    }
    archive = province.pki_dir / "units" / "TU" / "archive"
    archived = archive / f"encryption-{old['encryption']}.pem"
    assert serial_of(archived).lstrip("0") == old["encryption"]
    assert same_public_key(archived, archived.with_suffix(".key"), secret_file(province))
    current = unit_file(province.pki_dir, "TU", "encryption.pem")
    assert serial_of(current).lstrip("0") == new["encryption"]
    assert "OK" in ok(verify(province, current))
    refused(keys(cli, province, "rotate", "BTC", check=False), "BTC", "no active certificate")


def test_a_unit_whose_signing_certificate_was_revoked_gets_a_new_one_by_rotating(
    cli: Cli, province: Settings
) -> None:
    old = serials(keys(cli, province, "issue-unit", "TU"))
    keys(cli, province, "revoke", old["signing"], "--reason", "keyCompromise")
    refused(keys(cli, province, "issue-unit", "TU", check=False), "already has", "rotate")

    new = serials(keys(cli, province, "rotate", "TU", "--use", "signing"))

    assert list(new) == ["signing"] and new["signing"] != old["signing"]
    status = {row[2]: row[4] for row in listing(cli, province) if row[0] == "TU"}
    assert status[old["signing"]] == "revoked" and status[new["signing"]] == "active"
    assert status[old["encryption"]] == "active"
    current = unit_file(province.pki_dir, "TU", "signing.pem")
    assert serial_of(current).lstrip("0") == new["signing"]
    crl = province.ca_dir / "crl.pem"
    assert "OK" in ok(
        openssl("verify", "-crl_check", "-CAfile", ca_pem(province), "-CRLfile", crl, current)
    )


def test_rotating_a_name_that_is_both_a_node_and_a_unit_needs_use(
    cli: Cli, province: Settings
) -> None:
    """The province's node and unit are both TU, as a district's are both HU-CAMLO."""
    keys(cli, province, "issue-node", "TU", "--host", "127.0.0.1")
    keys(cli, province, "issue-unit", "TU")
    before = listing(cli, province)
    refused(keys(cli, province, "rotate", "TU", check=False), "both a node and a unit", "--use")
    assert listing(cli, province) == before
    assert list(serials(keys(cli, province, "rotate", "TU", "--use", "tls"))) == ["tls"]


def test_signed_directory_verifies_with_the_ca_public_key(
    cli: Cli, province: Settings, tmp_path: Path
) -> None:
    keys(cli, province, "issue-unit", "TU")
    keys(cli, province, "issue-unit", "HU-CAMLO")
    keys(cli, province, "issue-node", "HU-CAMLO", "--host", "127.0.0.1")
    document_path = tmp_path / "directory.json"
    keys(cli, province, "directory", "--out", document_path)
    public_key = tmp_path / "ca-public.pem"
    public_key.write_text(ok(openssl("x509", "-in", ca_pem(province), "-pubkey", "-noout")))
    signature = tmp_path / "directory.json.sig"
    check = ["dgst", "-sha256", "-verify", public_key, "-signature", signature, document_path]
    assert "Verified OK" in ok(openssl(*check))

    document = json.loads(document_path.read_text(encoding="utf-8"))
    units = {unit["code"]: unit for unit in document["units"]}
    assert units["TU"]["node"] == "TU" and units["HU-CAMLO"]["node"] == "HU-CAMLO"
    assert all(unit["mail_domain"] for unit in units.values())
    signing = unit_file(province.pki_dir, "TU", "signing.pem").read_text()
    assert units["TU"]["certificates"]["signing"] == signing
    assert sorted(units["HU-CAMLO"]["certificates"]) == ["encryption", "signing"]
    assert units["BTC"]["certificates"] == {}
    nodes = {node["name"]: node for node in document["nodes"]}
    assert sorted(nodes["HU-CAMLO"]["certificates"]) == ["tls"]

    data = bytearray(document_path.read_bytes())
    data[len(data) // 2] ^= 0x01
    document_path.write_bytes(bytes(data))
    tampered = openssl(*check)
    assert tampered.returncode != 0 and "Verification failure" in tampered.stdout


def test_keys_list_shows_status_and_warns_of_certificates_expiring_soon(
    cli: Cli, province: Settings
) -> None:
    short = serials(keys(cli, province, "issue-unit", "TU", env={"CONGVAN_KEYS_CERT_DAYS": "10"}))
    normal = serials(keys(cli, province, "issue-unit", "BTC"))
    result = keys(cli, province, "list")
    assert result.stdout.split()[:6] == ["OWNER", "USE", "SERIAL", "NOT", "AFTER", "STATUS"]
    for unit, issued in [("TU", short), ("BTC", normal)]:
        signing = unit_file(province.pki_dir, unit, "signing.pem")
        end = openssl_date(ok(openssl("x509", "-in", signing, "-noout", "-enddate")))
        row = [unit, "signing", issued["signing"], f"{end:%Y-%m-%d}", "active"]
        assert row in listing(cli, province)
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2  # TU's two; BTC's and the CA's are years away
    for use, serial in short.items():
        assert any(f"TU {use} certificate {serial} expires in 9 days" in line for line in warnings)
    quiet = keys(cli, province, "list", env={"CONGVAN_KEYS_EXPIRY_WARNING_DAYS": "5"})
    assert "warning" not in quiet.stderr


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return create_ca("CA kiểm thử", tmp_path_factory.mktemp("ca"), b"checker-test-passphrase")


@pytest.fixture(scope="module")
def leaves(authority: CertificateAuthority) -> list[x509.Certificate]:
    return [issue_tls(authority, f"NODE-{n}", ["127.0.0.1"], days=30)[0] for n in range(5)]


def write_crl(
    path: Path, ca: CertificateAuthority, revoked: list[x509.Certificate], days: int = 7
) -> Path:
    now = datetime.now(UTC)
    entries = [RevokedEntry(serial_hex(leaf), now, "keyCompromise") for leaf in revoked]
    path.write_bytes(crl_pem(build_crl(ca, entries, days)))
    return path


def refusal_code(
    checker: RevocationChecker, leaf: x509.Certificate, now: datetime | None = None
) -> str | None:
    try:
        checker.check(leaf, now)
    except PeerRefused as error:
        return error.code
    return None


@hypothesis_settings(max_examples=20, deadline=None)
@given(revoked=st.sets(st.integers(min_value=0, max_value=4)))
def test_checker_refuses_exactly_the_revoked_certificates(
    authority: CertificateAuthority, leaves: list[x509.Certificate], revoked: set[int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        crl = write_crl(Path(folder) / "crl.pem", authority, [leaves[i] for i in revoked])
        checker = RevocationChecker(authority.certificate, crl)
        codes = [refusal_code(checker, leaf) for leaf in leaves]
    assert codes == ["revoked" if i in revoked else None for i in range(len(leaves))]


@pytest.mark.parametrize("name", ["CA kiểm thử", "Another CA"], ids=["same-name", "other-name"])
def test_checker_refuses_a_crl_signed_by_another_ca(
    authority: CertificateAuthority, leaves: list[x509.Certificate], tmp_path: Path, name: str
) -> None:
    impostor = create_ca(name, tmp_path / "impostor", b"impostor-passphrase")
    crl = write_crl(tmp_path / "crl.pem", impostor, [])
    assert refusal_code(RevocationChecker(authority.certificate, crl), leaves[0]) == "stale-crl"


def test_checker_fails_closed_without_a_current_crl_and_on_expired_certificates(
    authority: CertificateAuthority, leaves: list[x509.Certificate], tmp_path: Path
) -> None:
    checker = RevocationChecker(authority.certificate, tmp_path / "crl.pem")
    assert refusal_code(checker, leaves[0]) == "stale-crl"  # no CRL at all
    write_crl(tmp_path / "crl.pem", authority, [], days=60)
    assert refusal_code(checker, leaves[0]) is None
    later = datetime.now(UTC) + timedelta(days=31)
    assert refusal_code(checker, leaves[0], later) == "expired"  # leaves last 30 days
    assert refusal_code(checker, leaves[0], later + timedelta(days=30)) == "stale-crl"


def test_checker_reads_a_newly_published_crl_without_restart(
    authority: CertificateAuthority, leaves: list[x509.Certificate], tmp_path: Path
) -> None:
    crl = write_crl(tmp_path / "crl.pem", authority, [])
    checker = RevocationChecker(authority.certificate, crl)
    assert refusal_code(checker, leaves[1]) is None
    write_crl(tmp_path / "crl.new", authority, [leaves[1]]).replace(crl)
    assert refusal_code(checker, leaves[1]) == "revoked"
