"""A demo network's keys in the shapes the envelope takes, and the tools we did not write.

``openssl`` and ``age`` are Debian's; a test that checks a dispatch with them checks the format,
not our reading of it.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from subprocess import CompletedProcess

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from exchange.envelope import Sender
from keys.ca import CA_CERT_FILE, load_ca, new_serial, write_certificate_and_key
from keys.certificates import unit_key_paths
from keys.keyring import Keyring, load_keyring
from keys.revocation import RevocationChecker
from keys.trust import TrustStore
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.network import DemoNetwork


def keyring(network: DemoNetwork, node: str) -> Keyring:
    return load_keyring(network.settings(node), network.passphrase(node))


def sender_of(ring: Keyring, unit: str) -> Sender:
    """The ``Sender`` a node builds for one of its units: node key, unit key, chain to the CA."""
    keys = ring.unit(unit)
    return Sender(
        ring.node_name,
        ring.node_key,
        unit,
        keys.signing_key,
        keys.signing_certificate,
        (ring.ca_certificate,),
    )


def trust_store(network: DemoNetwork, node: str) -> TrustStore:
    """What ``node`` trusts: the CA in its ``pki/`` and the CRL its settings name."""
    settings = network.settings(node)
    ca = x509.load_pem_x509_certificate((settings.pki_dir / CA_CERT_FILE).read_bytes())
    return TrustStore(ca, RevocationChecker(ca, settings.crl_file))


def run_tool(*args: str | Path, stdin: bytes = b"") -> CompletedProcess[bytes]:
    """Run ``openssl`` or ``age``; bytes in and out (a decrypted payload is binary)."""
    return subprocess.run(
        list(map(str, args)), input=stdin, capture_output=True, timeout=60, check=False
    )


def tool_ok(result: CompletedProcess[bytes]) -> str:
    """The tool succeeded; its stdout and stderr as text."""
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return (result.stdout + result.stderr).decode(errors="replace")


def public_key_file(certificate_pem: Path, out: Path) -> Path:
    """``openssl x509 -pubkey``: the certificate's public key, as an outsider extracts it."""
    out.write_bytes(run_tool("openssl", "x509", "-pubkey", "-noout", "-in", certificate_pem).stdout)
    return out


def openssl_verifies(
    certificate_pem: Path, signature: Path, data: Path, scratch: Path
) -> CompletedProcess[bytes]:
    """``openssl dgst -sha256 -verify``: the certificate's key signed ``data``."""
    key = public_key_file(certificate_pem, scratch / f"{certificate_pem.stem}-public.pem")
    return run_tool("openssl", "dgst", "-sha256", "-verify", key, "-signature", signature, data)


def age_identity_file(
    cli: Cli, network: DemoNetwork, node: str, unit: str, out: Path, secrets_seen: SecretsSeen
) -> Path:
    """``congvan keys age-identity UNIT``: the unit's current key for ``age -d -i``."""
    cli("keys", "age-identity", unit, "--dir", network.node_dir(node), "--out", out)
    secrets_seen.add(
        *(line for line in out.read_text(encoding="utf-8").split() if line.startswith("AGE-"))
    )
    return out


def install_backdated_signing_certificate(
    network: DemoNetwork, node: str, unit: str, not_before: datetime, not_after: datetime
) -> x509.Certificate:
    """Issue ``unit`` a signing certificate valid only from ``not_before`` to ``not_after``,
    signed with the province's CA key, and put it with a new key where ``node`` keeps the
    unit's signing identity: from then on the node signs the unit's dispatches with it.

    ``congvan keys`` rightly cannot backdate a certificate; a test of an expired one needs it.
    Subject and extensions are those of the unit's current certificate, as the CA issues them.
    """
    ca = load_ca(network.settings("TU").ca_dir, network.passphrase("TU"))
    settings = network.settings(node)
    cert_path, key_path = unit_key_paths(settings.pki_dir, unit, "signing")
    current = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    ca_key_id = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    builder = (
        x509.CertificateBuilder()
        .subject_name(current.subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id.value),
            critical=False,
        )
        .add_extension(
            current.extensions.get_extension_for_class(x509.KeyUsage).value, critical=True
        )
    )
    certificate = builder.sign(ca.key, hashes.SHA256())
    write_certificate_and_key(cert_path, key_path, certificate, key, network.passphrase(node))
    return certificate
