"""This node's own keys, loaded once with the passphrase: the node's TLS key (it also signs
dispatch headers), each hosted unit's signing key, and each unit's encryption identities,
current and archived, so a dispatch sealed before a rotation still opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from config.errors import ConfigError, NotFound
from config.settings import Settings
from keys.ca import CA_CERT_FILE
from keys.certificates import node_tls_paths, unit_key_paths
from keys.keystore import load_private_key, load_signing_key


@dataclass(frozen=True)
class UnitKeys:
    code: str
    signing_key: ec.EllipticCurvePrivateKey
    signing_certificate: x509.Certificate
    encryption_certificate: x509.Certificate
    #: The current identity first, then the archived ones.
    identities: tuple[x25519.X25519PrivateKey, ...]


@dataclass(frozen=True)
class Keyring:
    node_name: str
    node_key: ec.EllipticCurvePrivateKey
    node_certificate: x509.Certificate
    ca_certificate: x509.Certificate
    units: dict[str, UnitKeys]

    def unit(self, code: str) -> UnitKeys:
        try:
            return self.units[code]
        except KeyError:
            raise NotFound(f"unit {code} is not hosted by node {self.node_name}") from None


def _certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError as error:
        raise ConfigError(f"config error: {path} is missing: ask the CA to issue it") from error


def _identities(folder: Path, passphrase: bytes) -> tuple[x25519.X25519PrivateKey, ...]:
    paths = [folder / "encryption.key"]
    archive = folder / "archive"
    if archive.is_dir():
        paths += sorted(archive.glob("encryption-*.key"))
    keys = [load_private_key(path, passphrase) for path in paths if path.exists()]
    return tuple(key for key in keys if isinstance(key, x25519.X25519PrivateKey))


def load_keyring(settings: Settings, passphrase: bytes) -> Keyring:
    pki = settings.pki_dir
    cert_path, key_path = node_tls_paths(pki)
    units: dict[str, UnitKeys] = {}
    for code in settings.node.units:
        signing_cert, signing_key = unit_key_paths(pki, code, "signing")
        encryption_cert, encryption_key = unit_key_paths(pki, code, "encryption")
        if not signing_cert.exists():
            continue  # a unit whose keys the CA has not issued yet cannot send or receive
        units[code] = UnitKeys(
            code=code,
            signing_key=load_signing_key(signing_key, passphrase),
            signing_certificate=_certificate(signing_cert),
            encryption_certificate=_certificate(encryption_cert),
            identities=_identities(encryption_key.parent, passphrase),
        )
    return Keyring(
        node_name=settings.node.name,
        node_key=load_signing_key(key_path, passphrase),
        node_certificate=_certificate(cert_path),
        ca_certificate=_certificate(pki / CA_CERT_FILE),
        units=units,
    )
