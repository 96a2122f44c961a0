"""DER ECDSA-SHA256 signatures over bytes: the one form every congvan signature takes, so that
``openssl dgst -sha256 -verify`` checks any of them."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def signature_holds(certificate: x509.Certificate, signature: bytes, data: bytes) -> bool:
    try:
        public_key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):  # cryptography reads the key only now
        return False
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return False
    try:
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
