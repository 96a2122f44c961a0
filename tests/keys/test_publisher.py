"""The hub re-signs the CRL and the directory before they run out, by itself, and reads the
directory it publishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509

from config.database import open_database
from config.settings import Settings
from keys.ca import CA_CERT_FILE
from keys.directory import DIRECTORY_FILE, SIGNATURE_SUFFIX
from keys.keystore import node_passphrase
from keys.publisher import TrustPublisher
from keys.revocation import CRL_FILE
from keys.signed_directory import SignedDirectory
from tests.support.cli import Cli
from tests.support.keys import public_key_file, run_tool, tool_ok


def crl_number(settings: Settings) -> int:
    crl = x509.load_pem_x509_crl((settings.ca_dir / CRL_FILE).read_bytes())
    return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)


def test_a_hub_reads_the_directory_it_publishes(province: Settings, cli: Cli) -> None:
    cli("keys", "directory", "--dir", province.node_dir)
    assert province.directory_file == province.ca_dir / DIRECTORY_FILE
    ca = x509.load_pem_x509_certificate((province.ca_dir / CA_CERT_FILE).read_bytes())
    assert SignedDirectory(ca, province.directory_file).hub_name() == "TU"


async def test_the_hub_re_signs_crl_and_directory_when_half_their_validity_is_gone(
    province: Settings, cli: Cli
) -> None:
    # Published for one day only: less than half of the node's `crl_days` (7) is left.
    short = {"CONGVAN_KEYS_CRL_DAYS": "1"}
    cli("keys", "crl", "--dir", province.node_dir, env=short)
    cli("keys", "directory", "--dir", province.node_dir, env=short)
    before = crl_number(province)
    async with open_database(province) as sessions:
        publisher = TrustPublisher(province, sessions, node_passphrase(province))
        assert await publisher.publish_if_due()
        assert crl_number(province) > before
        republished = crl_number(province)
        assert not await publisher.publish_if_due()  # fresh now: nothing to do
        assert crl_number(province) == republished
        later = datetime.now(UTC) + timedelta(days=province.keys.crl_days / 2, hours=1)
        assert publisher.due(later)
    crl_next, directory_next = publisher.next_updates()
    assert crl_next is not None and directory_next is not None
    fresh_until = datetime.now(UTC) + timedelta(days=province.keys.crl_days, minutes=-5)
    assert crl_next > fresh_until and directory_next > fresh_until
    # Checked by tools we did not write: the CRL under the CA, the directory's signature.
    ca_pem = province.ca_dir / CA_CERT_FILE
    checked = tool_ok(
        run_tool("openssl", "crl", "-in", province.ca_dir / CRL_FILE, "-CAfile", ca_pem, "-noout")
    )
    assert "verify OK" in checked
    key = public_key_file(ca_pem, province.node_dir / "ca-public.pem")
    directory_path = province.ca_dir / DIRECTORY_FILE
    signature = directory_path.with_name(DIRECTORY_FILE + SIGNATURE_SUFFIX)
    verified = tool_ok(
        run_tool(
            "openssl", "dgst", "-sha256", "-verify", key, "-signature", signature, directory_path
        )
    )
    assert "Verified OK" in verified


async def test_a_hub_that_never_published_a_directory_publishes_one(province: Settings) -> None:
    assert not (province.ca_dir / DIRECTORY_FILE).exists()
    async with open_database(province) as sessions:
        assert await TrustPublisher(province, sessions, node_passphrase(province)).publish_if_due()
    ca = x509.load_pem_x509_certificate((province.ca_dir / CA_CERT_FILE).read_bytes())
    assert SignedDirectory(ca, province.directory_file).hub_name() == "TU"
