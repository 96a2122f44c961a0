"""Signed receipts: the receiving side's word that it accepted or refused a dispatch, and why.

The body is canonical JSON signed (DER ECDSA-SHA256) by the receiving unit, or by the receiving
node when no unit of it was addressed; the certificate travels with it, so the sender can keep
the receipt as proof and check it later with openssl.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from config.errors import PeerRefused
from exchange.envelope import utc_timestamp
from keys.directory import canonical_json
from keys.signatures import sign, signature_holds

ACCEPTED, REFUSED = "accepted", "refused"
RECEIPT_PARTS = ("body", "signature", "certificate")


@dataclass(frozen=True)
class Signer:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def make_receipt(
    signer: Signer,
    *,
    dispatch_id: str,
    payload_sha256: str | None,
    node: str,
    units: list[str],
    status: str,
    code: str | None = None,
) -> dict[str, Any]:
    body = {
        "v": 1,
        "dispatch_id": dispatch_id,
        "payload_sha256": payload_sha256,
        "node": node,
        "units": units,
        "signer": signer.name,
        "time": utc_timestamp(),
        "status": status,
        "code": code,
    }
    raw = canonical_json(body)
    return {
        "body": body,
        "signature": base64.b64encode(sign(signer.key, raw)).decode("ascii"),
        "certificate": signer.certificate.public_bytes(serialization.Encoding.PEM).decode(),
    }


def receipt_json(receipt: dict[str, Any]) -> str:
    return json.dumps(receipt, ensure_ascii=False, sort_keys=True)


def check_receipt(receipt: dict[str, Any]) -> x509.Certificate:
    """The receipt's signature holds for its certificate; the caller checks that certificate.
    A receipt comes from a peer: any part of it may be of the wrong type or unreadable."""
    body, signature, certificate = (receipt.get(part) for part in RECEIPT_PARTS)
    if not (isinstance(body, dict) and isinstance(signature, str) and isinstance(certificate, str)):
        raise PeerRefused("biên nhận thiếu phần hoặc sai kiểu", code="malformed")
    try:
        signer = x509.load_pem_x509_certificate(certificate.encode())
        raw = canonical_json(body)
        signed = base64.b64decode(signature, validate=True)
    except (ValueError, x509.InvalidVersion) as error:
        # ValueError: not PEM, not base64, or a lone surrogate (no UTF-8); InvalidVersion is
        # cryptography's own, for a certificate version byte it does not know.
        raise PeerRefused("biên nhận không đọc được", code="malformed") from error
    if not signature_holds(signer, signed, raw):
        raise PeerRefused("chữ ký trên biên nhận không đúng", code="bad-signature")
    return signer
