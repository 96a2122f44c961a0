"""The onboarding bundle: one file that carries a node's keys and trust data from the CA to it.

``congvan keys onboard`` writes it on the provincial node; ``congvan init --from-bundle`` (a new
node) or ``congvan keys install`` (new keys for a node already running) takes it. Inside, a tar::

    bundle.json                 the node, its units, its peer URL, the hub and the hub's URL
    pki/ca.pem  pki/crl.pem  pki/directory.json  pki/directory.json.sig
    pki/node.pem  pki/node.key  pki/units/<CODE>/{signing,encryption}.{pem,key}

encrypted with age to a passphrase (scrypt), the way a backup's key is (office/backup/sealed.py):
the bundle is a few kilobytes, so it needs no stream, and ``age -d NODE.bundle | tar -t`` shows
what it holds. The private keys inside are encrypted with that passphrase too; the node
re-encrypts them with its own passphrase as it installs them, so nothing on the node opens
with the bundle's.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyrage
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from config.errors import Conflict, Invalid
from config.files import write_atomic, write_secret
from keys.ca import CA_CERT_FILE
from keys.certificates import NODE_KEY_FILE, archive_key, unit_key_paths
from keys.directory import DIRECTORY_FILE, SIGNATURE_SUFFIX
from keys.keystore import MIN_PASSPHRASE_LENGTH, PrivateKey, save_private_key
from keys.revocation import CRL_FILE
from keys.signatures import signature_holds

VERSION = 1
MANIFEST = "bundle.json"
PKI = "pki"
#: A bundle holds a few certificates and a directory of a few hundred units: far below this.
SIZE_LIMIT = 16 * 1024 * 1024
#: Bundle passphrases the CA makes up: 32 characters of base64url (192 bits).
GENERATED_BYTES = 24
DIRECTORY_SIGNATURE = DIRECTORY_FILE + SIGNATURE_SUFFIX
#: Where ``init --from-bundle`` and ``keys install`` look for the passphrase before asking.
PASSPHRASE_VARIABLE = "CONGVAN_BUNDLE_PASSPHRASE"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class Bundle:
    """A node's keys and trust data, as the CA hands them over."""

    node: str
    units: tuple[str, ...]
    #: The node's own peer URL (how the others reach it), recorded in the directory.
    peer_url: str
    #: The hub (the CA's node) and its peer URL, where the node fetches trust data.
    hub: str
    hub_url: str
    #: Public files by their path under ``pki/``: certificates, the CRL, the directory.
    files: dict[str, bytes] = field(repr=False)
    #: Private keys by their path under ``pki/``, in the clear in memory only.
    keys: dict[str, PrivateKey] = field(repr=False)

    def manifest(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "node": self.node,
            "units": list(self.units),
            "peer_url": self.peer_url,
            "hub": self.hub,
            "hub_url": self.hub_url,
        }

    def directory_document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.files[DIRECTORY_FILE])
        return document


def key_paths(units: tuple[str, ...]) -> list[str]:
    """Where the bundle (and a node's ``pki/``) keeps each private key, relative to ``pki/``."""
    found = [NODE_KEY_FILE]
    for code in units:
        for use in ("signing", "encryption"):
            found.append(unit_key_paths(Path(), code, use)[1].as_posix())
    return found


def certificate_paths(units: tuple[str, ...]) -> list[str]:
    return [PurePosixPath(path).with_suffix(".pem").as_posix() for path in key_paths(units)]


def check_passphrase(passphrase: bytes) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise Invalid(
            f"a bundle passphrase has at least {MIN_PASSPHRASE_LENGTH} characters",
            code="short-passphrase",
        )
    return passphrase


def seal_bundle(out: Path, bundle: Bundle, passphrase: bytes) -> None:
    """Write ``bundle`` to ``out`` (mode 0600), encrypted to ``passphrase``. Blocking (scrypt
    takes a few seconds on purpose)."""
    check_passphrase(passphrase)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, MANIFEST, json.dumps(bundle.manifest(), indent=2).encode() + b"\n")
        for name, data in sorted(bundle.files.items()):
            _add(tar, f"{PKI}/{name}", data)
        for name, key in sorted(bundle.keys.items()):
            encrypted = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(passphrase),
            )
            _add(tar, f"{PKI}/{name}", encrypted)
    write_secret(out, pyrage.passphrase.encrypt(archive.getvalue(), passphrase.decode()))


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def open_bundle(source: Path, passphrase: bytes) -> Bundle:
    """Decrypt and check a bundle: every part there, the directory and the CRL signed by the
    CA it carries, every certificate issued by that CA, every key opening. Blocking."""
    try:
        with source.open("rb") as reader:
            sealed = reader.read(SIZE_LIMIT + 1)
    except OSError as error:
        raise Invalid(
            f"cannot read the bundle {source}: {error.strerror}", code="no-bundle"
        ) from error
    if len(sealed) > SIZE_LIMIT:
        raise _not_a_bundle(source)
    try:
        plain = pyrage.passphrase.decrypt(sealed, passphrase.decode("utf-8", "replace"))
    except pyrage.DecryptError as error:
        raise Invalid(
            f"cannot open the bundle {source}: wrong passphrase, or the file is damaged",
            code="bad-passphrase",
        ) from error
    members = _members(plain, source)
    try:
        manifest = json.loads(members.pop(MANIFEST))
        if manifest.get("version") != VERSION:
            raise Invalid(
                f"{source} is a bundle of version {manifest.get('version')}, this congvan reads "
                f"version {VERSION}",
                code="bundle-version",
            )
        units = tuple(str(code) for code in manifest["units"])
        files = {name: members.pop(name) for name in _public_names(units)}
        sealed_keys = {name: members.pop(name) for name in key_paths(units)}
        bundle = Bundle(
            node=str(manifest["node"]),
            units=units,
            peer_url=str(manifest["peer_url"]),
            hub=str(manifest["hub"]),
            hub_url=str(manifest["hub_url"]),
            files=files,
            keys={name: _open_key(data, passphrase, source) for name, data in sealed_keys.items()},
        )
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise _not_a_bundle(source) from error
    _check_trust(bundle, source)
    return bundle


def _public_names(units: tuple[str, ...]) -> list[str]:
    return [CA_CERT_FILE, CRL_FILE, DIRECTORY_FILE, DIRECTORY_SIGNATURE, *certificate_paths(units)]


def _members(plain: bytes, source: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
            for member in tar:
                reader = tar.extractfile(member) if member.isfile() else None
                if reader is None:
                    raise _not_a_bundle(source)
                name = member.name
                found[name.removeprefix(f"{PKI}/") if name != MANIFEST else name] = reader.read()
    except tarfile.TarError as error:
        raise _not_a_bundle(source) from error
    return found


def _open_key(data: bytes, passphrase: bytes, source: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(data, password=passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey):
        raise _not_a_bundle(source)
    return key


def _check_trust(bundle: Bundle, source: Path) -> None:
    try:
        ca = x509.load_pem_x509_certificate(bundle.files[CA_CERT_FILE])
        crl = x509.load_pem_x509_crl(bundle.files[CRL_FILE])
        certificates = [
            x509.load_pem_x509_certificate(bundle.files[name])
            for name in certificate_paths(bundle.units)
        ]
        for certificate in certificates:
            certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError) as error:
        raise _not_a_bundle(source) from error
    signed = signature_holds(ca, bundle.files[DIRECTORY_SIGNATURE], bundle.files[DIRECTORY_FILE])
    if not signed or not crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
        raise Invalid(
            f"{source}: its directory or CRL is not signed by its CA", code="bad-signature"
        )


def _not_a_bundle(source: Path) -> Invalid:
    return Invalid(f"{source} is not a congvan bundle (or is damaged)", code="not-a-bundle")


def install_bundle(
    bundle: Bundle, pki_dir: Path, crl_file: Path, directory_file: Path, passphrase: bytes
) -> None:
    """Put the bundle's keys (encrypted with the node's ``passphrase``), certificates and trust
    data in place. Keys replaced are kept in ``archive/`` beside them, so old dispatches stay
    readable; a bundle from another CA than the node's is refused before anything is written."""
    held_ca = pki_dir / CA_CERT_FILE
    if held_ca.exists() and held_ca.read_bytes() != bundle.files[CA_CERT_FILE]:
        raise Conflict(
            f"the bundle was made by another CA than the one in {held_ca}", code="other-ca"
        )
    write_atomic(held_ca, bundle.files[CA_CERT_FILE])
    # Keys first: a certificate on disk always has its key beside it.
    for key_name, cert_name in zip(
        key_paths(bundle.units), certificate_paths(bundle.units), strict=True
    ):
        archive_key(pki_dir / cert_name, pki_dir / key_name)
        save_private_key(pki_dir / key_name, bundle.keys[key_name], passphrase)
        write_atomic(pki_dir / cert_name, bundle.files[cert_name])
    write_atomic(crl_file, bundle.files[CRL_FILE])
    # The signature before the document, as the refresher writes them: a reader that sees the
    # new document finds its signature.
    signature = directory_file.with_name(directory_file.name + SIGNATURE_SUFFIX)
    write_atomic(signature, bundle.files[DIRECTORY_SIGNATURE])
    write_atomic(directory_file, bundle.files[DIRECTORY_FILE])
