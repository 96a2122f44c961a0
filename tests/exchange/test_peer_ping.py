"""The peer listener answers only nodes of our CA whose certificates still hold."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config.errors import PeerRefused
from config.settings import Settings, load_settings
from exchange.tls import peer_client_context, peer_server_context
from keys.ca import CA_CERT_FILE, create_ca, issue_tls, load_ca, write_certificate_and_key
from office.node.app import RunningNode, start_node
from tests.support.cli import Cli
from tests.support.keys import trust_store
from tests.support.network import DemoNetwork
from tests.support.peers import client_context, ping


@pytest.fixture
async def province_node(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(demo_network.settings("TU"))
    yield node
    await node.stop()


def _context_of(network: DemoNetwork, name: str) -> ssl.SSLContext:
    return peer_client_context(network.settings(name), network.passphrase(name))


async def test_a_district_node_certificate_is_answered_with_both_names(
    demo_network: DemoNetwork, province_node: RunningNode
) -> None:
    status, body = await ping(province_node.peer_url, _context_of(demo_network, "HU-CAMLO"))
    assert status == 200
    assert body == {"node": "TU", "peer": "HU-CAMLO"}


async def test_a_client_without_a_certificate_fails_the_handshake(
    demo_network: DemoNetwork, province_node: RunningNode
) -> None:
    context = client_context(demo_network.settings("TU").pki_dir / "ca.pem", None, None, None)
    with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
        await ping(province_node.peer_url, context)


async def test_a_certificate_from_another_ca_fails_the_handshake(
    demo_network: DemoNetwork, province_node: RunningNode, tmp_path: Path
) -> None:
    passphrase = b"another-ca-passphrase"
    rogue = create_ca("Rogue CA", tmp_path / "rogue", passphrase)
    certificate, key = issue_tls(rogue, "HU-CAMLO", ["127.0.0.1"], 30)
    write_certificate_and_key(tmp_path / "n.pem", tmp_path / "n.key", certificate, key, passphrase)
    context = client_context(
        demo_network.settings("TU").pki_dir / "ca.pem",
        tmp_path / "n.pem",
        tmp_path / "n.key",
        passphrase,
    )
    with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
        await ping(province_node.peer_url, context)


async def test_a_certificate_of_our_ca_without_extended_key_usage_is_not_a_node(
    demo_network: DemoNetwork, province_node: RunningNode, tmp_path: Path
) -> None:
    """RFC 5280 lets a certificate leave the extension out, and OpenSSL then accepts it for any
    purpose, so the handshake succeeds: the peer API itself must refuse it, not crash on it."""
    province = demo_network.settings("TU")
    ca = load_ca(province.ca_dir, demo_network.passphrase("TU"))
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "HU-GIOLINH")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    passphrase = b"no-usage-passphrase"
    write_certificate_and_key(tmp_path / "n.pem", tmp_path / "n.key", certificate, key, passphrase)
    context = client_context(
        province.pki_dir / "ca.pem", tmp_path / "n.pem", tmp_path / "n.key", passphrase
    )

    status, body = await ping(province_node.peer_url, context)

    assert (status, body["error"]) == (403, "not-a-node")
    with pytest.raises(PeerRefused) as refused:
        trust_store(demo_network, "TU").check_node(certificate, "HU-GIOLINH")
    assert refused.value.code == "not-a-node"


async def test_a_revoked_node_certificate_is_refused_with_its_reason(
    demo_network: DemoNetwork, province_node: RunningNode, cli: Cli, tmp_path: Path
) -> None:
    province = demo_network.settings("TU")
    issued = cli(
        "keys",
        "issue-node",
        "HU-GIOLINH",
        "--host",
        "127.0.0.1",
        "--out",
        tmp_path,
        "--dir",
        province.node_dir,
    )
    serial = issued.stdout.split()[2]
    context = client_context(
        province.pki_dir / "ca.pem",
        tmp_path / "node.pem",
        tmp_path / "node.key",
        demo_network.passphrase("TU"),
    )
    assert (await ping(province_node.peer_url, context))[0] == 200

    cli("keys", "revoke", serial, "--reason", "keyCompromise", "--dir", province.node_dir)

    # The node keeps the certificate it parsed at the first ping; revocation is checked anew.
    status, body = await ping(province_node.peer_url, context)
    assert status == 403
    assert body["error"] == "revoked"
    # Another node's certificate still works: only the revoked one is refused.
    assert (await ping(province_node.peer_url, _context_of(demo_network, "TX-DONGHA")))[0] == 200


async def test_a_node_without_a_current_crl_refuses_everyone(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    settings: Settings = demo_network.settings("HU-CAMLO")
    missing_crl = {"CONGVAN_KEYS_CRL_FILE": str(tmp_path / "no-such-crl.pem")}
    node = await start_node(load_settings(settings.node_dir, missing_crl))
    try:
        status, body = await ping(node.peer_url, _context_of(demo_network, "TU"))
    finally:
        await node.stop()
    assert status == 503
    assert body["error"] == "stale-crl"


def test_both_peer_contexts_trust_our_ca_and_nothing_else(demo_network: DemoNetwork) -> None:
    """Not the system's CA store: a certificate any public CA issued is no node of ours."""
    settings = demo_network.settings("HU-CAMLO")
    passphrase = demo_network.passphrase("HU-CAMLO")
    ca = x509.load_pem_x509_certificate((settings.pki_dir / CA_CERT_FILE).read_bytes())
    ours = ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    for context in (
        peer_client_context(settings, passphrase),
        peer_server_context(settings, passphrase),
    ):
        trusted = context.get_ca_certs()
        assert [dict(part[0] for part in c["subject"])["commonName"] for c in trusted] == [ours]
        assert context.cert_store_stats()["x509_ca"] == 1
        assert context.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(("section", "taken"), [("web", "web_url"), ("peer", "peer_url")])
async def test_a_port_another_program_holds_is_one_line_naming_the_setting(
    demo_network: DemoNetwork,
    province_node: RunningNode,
    cli: Cli,
    section: str,
    taken: str,
) -> None:
    """Cam Lộ told to listen where the province already does: exit 2 and a sentence, not a
    traceback."""
    port = int(getattr(province_node, taken).rsplit(":", 1)[1])
    result = await asyncio.to_thread(
        cli,
        "serve",
        "--dir",
        demo_network.node_dir("HU-CAMLO"),
        env={f"CONGVAN_{section.upper()}_PORT": str(port)},
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]  # after the node's own log lines
    assert line.startswith(f"config error: [{section}] port = {port}: cannot listen on ")
    assert "Address already in use" in line
