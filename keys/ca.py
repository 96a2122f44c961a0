"""Certificate construction for the provincial CA (ECDSA P-256, SHA-256).

Pure functions over keys and names: :mod:`keys.certificates` records what is issued.
Certificates carry the extensions a chain (CA -> intermediate -> leaf) needs, so an intermediate
CA can be added later without reissuing leaves.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from config.errors import Invalid, NotFound
from config.files import write_atomic
from keys.keystore import PrivateKey, load_signing_key, save_private_key

CA_KEY_FILE = "ca.key"
CA_CERT_FILE = "ca.pem"
CA_YEARS = 20
CLOCK_SKEW = timedelta(minutes=5)
#: A node certificate serves its peer listener and calls other nodes with the same identity.
NODE_USAGES = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


@dataclass(frozen=True)
class CertificateAuthority:
    """The CA's certificate and private key, loaded with the passphrase."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def new_serial() -> int:
    """A random 159-bit serial number, as RFC 5280 and the CA/B baseline ask."""
    return secrets.randbits(159) | (1 << 64)


def serial_hex(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "X")


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(**enabled: bool) -> x509.KeyUsage:
    flags = {
        name: enabled.get(name, False)
        for name in (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        )
    }
    return x509.KeyUsage(**flags)


def create_ca(common_name: str, ca_dir: Path, passphrase: bytes) -> CertificateAuthority:
    """Create the root CA key and self-signed certificate in ``ca_dir``."""
    key_path, cert_path = ca_dir / CA_KEY_FILE, ca_dir / CA_CERT_FILE
    if key_path.exists() or cert_path.exists():
        raise Invalid(f"a CA already exists in {ca_dir}", code="ca-exists")
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    now = datetime.now(UTC)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(new_serial())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            _key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    save_private_key(key_path, key, passphrase)
    write_atomic(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    return CertificateAuthority(certificate, key)


def load_ca(ca_dir: Path, passphrase: bytes) -> CertificateAuthority:
    cert_path = ca_dir / CA_CERT_FILE
    if not cert_path.exists():
        raise NotFound(
            f"no CA in {ca_dir}: run `congvan keys ca-init` on the provincial node", code="no-ca"
        )
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return CertificateAuthority(certificate, load_signing_key(ca_dir / CA_KEY_FILE, passphrase))


def _leaf_builder(
    ca: CertificateAuthority,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey | x25519.X25519PublicKey,
    days: int,
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    not_after = min(now + timedelta(days=days), ca.certificate.not_valid_after_utc)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(new_serial())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )


def host_names(host: str) -> list[x509.GeneralName]:
    """SAN entries for a host: an IP address stays an IP address, anything else is DNS."""
    try:
        return [x509.IPAddress(ipaddress.ip_address(host))]
    except ValueError:
        return [x509.DNSName(host)]


def issue_tls(
    ca: CertificateAuthority, node_name: str, hosts: list[str], days: int
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A node's certificate for mutual TLS: serverAuth and clientAuth, hosts in the SAN."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        names.extend(name for name in host_names(host) if name not in names)
    certificate = (
        _leaf_builder(ca, _name(node_name, "congvan node"), key.public_key(), days)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return certificate, key


def issue_signing(
    ca: CertificateAuthority, unit_code: str, unit_name: str, days: int
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A unit's signing certificate: P-256, digitalSignature + nonRepudiation."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        _leaf_builder(ca, _name(unit_code, unit_name), key.public_key(), days)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    return certificate, key


@dataclass(frozen=True)
class PersonName:
    """Who a person's signing certificate names. The full name and title are what a reader of
    a signed document sees; the unit code and user name (``OU`` and ``UID``) tell apart two
    people of the same name, and the same user name on two nodes."""

    username: str
    unit_code: str
    unit_name: str
    full_name: str
    title: str

    @property
    def owner(self) -> str:
        """How the CA's records and ``keys list`` name the person: ``username@UNIT``."""
        return f"{self.username}@{self.unit_code}"

    def subject(self) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.unit_name),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, self.unit_code),
                x509.NameAttribute(NameOID.TITLE, self.title),
                x509.NameAttribute(NameOID.COMMON_NAME, self.full_name),
                x509.NameAttribute(NameOID.USER_ID, self.username),
            ]
        )

    @classmethod
    def of(cls, certificate: x509.Certificate) -> PersonName:
        """The person a certificate made by :func:`issue_person` names."""

        def value(oid: x509.ObjectIdentifier) -> str:
            found = certificate.subject.get_attributes_for_oid(oid)
            if not found:
                raise Invalid("not a person's signing certificate", code="not-a-person")
            return str(found[0].value)

        return cls(
            username=value(NameOID.USER_ID),
            unit_code=value(NameOID.ORGANIZATIONAL_UNIT_NAME),
            unit_name=value(NameOID.ORGANIZATION_NAME),
            full_name=value(NameOID.COMMON_NAME),
            title=value(NameOID.TITLE),
        )


def issue_person(
    ca: CertificateAuthority, person: PersonName, key: ec.EllipticCurvePrivateKey, days: int
) -> x509.Certificate:
    """A signing person's certificate (Decree 30 Art. 13: the competent person signs with their
    own signature): P-256, digitalSignature + nonRepudiation, like a unit's. The key is made by
    the caller, who seals it before the certificate is recorded."""
    return (
        _leaf_builder(ca, person.subject(), key.public_key(), days)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .sign(ca.key, hashes.SHA256())
    )


def issue_encryption(
    ca: CertificateAuthority, unit_code: str, unit_name: str, days: int
) -> tuple[x509.Certificate, x25519.X25519PrivateKey]:
    """A unit's encryption certificate: an X25519 key, keyAgreement only (used by age)."""
    key = x25519.X25519PrivateKey.generate()
    certificate = (
        _leaf_builder(ca, _name(unit_code, unit_name), key.public_key(), days)
        .add_extension(_key_usage(key_agreement=True), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    return certificate, key


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def write_certificate_and_key(
    cert_path: Path,
    key_path: Path,
    certificate: x509.Certificate,
    key: PrivateKey,
    passphrase: bytes,
) -> None:
    """Write the key first: a certificate on disk always has its key beside it."""
    save_private_key(key_path, key, passphrase)
    write_atomic(cert_path, pem(certificate))
