"""Private keys at rest: PKCS#8, encrypted with the node's passphrase, mode 0600.

The passphrase comes from ``[keys] passphrase_file`` or ``CONGVAN_KEYS_PASSPHRASE``; it is never
written into ``node.toml`` and never logged.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from config.errors import ConfigError, Invalid
from config.files import write_secret
from config.settings import Settings

PrivateKey = ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey

#: A node's keys are as safe as this passphrase: at least as long as a 96-bit random one in
#: base64 (init generates 43 characters).
MIN_PASSPHRASE_LENGTH = 16


def node_passphrase(settings: Settings) -> bytes:
    """The passphrase that protects this node's private keys."""
    if settings.keys.passphrase:
        passphrase = settings.keys.passphrase
    elif settings.keys.passphrase_file:
        path = settings.path(settings.keys.passphrase_file)
        try:
            passphrase = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(
                f'config error: [keys] passphrase_file = "{path}": cannot read: {error.strerror}'
            ) from error
    else:
        raise ConfigError(
            "config error: [keys] passphrase: not set; set CONGVAN_KEYS_PASSPHRASE "
            "or [keys] passphrase_file"
        )
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise ConfigError(
            f"config error: [keys] passphrase: must be at least {MIN_PASSPHRASE_LENGTH} characters"
        )
    return passphrase.encode("utf-8")


def save_private_key(path: Path, key: PrivateKey, passphrase: bytes) -> None:
    data = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )
    write_secret(path, data)


def load_private_key(path: Path, passphrase: bytes) -> PrivateKey:
    """Load an encrypted key; a wrong passphrase is a clear error, not a traceback."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise Invalid(f"cannot read private key {path}: {error.strerror}", code="no-key") from error
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError) as error:
        raise Invalid(
            f"cannot open private key {path}: wrong passphrase or damaged file",
            code="bad-passphrase",
        ) from error
    if not isinstance(key, ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey):
        raise Invalid(f"private key {path} is of an unexpected type", code="bad-key")
    return key


def load_signing_key(path: Path, passphrase: bytes) -> ec.EllipticCurvePrivateKey:
    key = load_private_key(path, passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise Invalid(f"private key {path} is not an ECDSA key", code="bad-key")
    return key
