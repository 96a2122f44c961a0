"""A unit's X25519 encryption key in age's own notation (bech32 ``age1…`` / ``AGE-SECRET-KEY-1…``).

The key lives in the unit's encryption certificate and its PKCS#8 file; age (and pyrage) want
the same 32 bytes spelled their way. An operator checking a dispatch with ``age -d`` exports the
identity with ``congvan keys age-identity``.
"""

from __future__ import annotations

import bech32
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from config.errors import Invalid

RECIPIENT_HRP = "age"
IDENTITY_HRP = "age-secret-key-"


def _encode(hrp: str, raw: bytes) -> str:
    words = bech32.convertbits(raw, 8, 5)
    if words is None:  # cannot happen for 32 bytes; bech32 signals errors with None
        raise Invalid("cannot encode key for age")
    return bech32.bech32_encode(hrp, words)


def encryption_key_of(certificate: x509.Certificate) -> x25519.X25519PublicKey:
    """The X25519 key of a unit's encryption certificate."""
    public_key = certificate.public_key()
    if not isinstance(public_key, x25519.X25519PublicKey):
        raise Invalid("not an encryption certificate (X25519)", code="bad-certificate")
    return public_key


def recipient_of(certificate: x509.Certificate) -> str:
    """The ``age1…`` recipient of a unit's encryption certificate."""
    raw = encryption_key_of(certificate).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return _encode(RECIPIENT_HRP, raw)


def identity_of(key: x25519.X25519PrivateKey) -> str:
    """The ``AGE-SECRET-KEY-1…`` identity for a unit's X25519 private key."""
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return _encode(IDENTITY_HRP, raw).upper()
