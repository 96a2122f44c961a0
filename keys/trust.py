"""Is this certificate one of ours, for this purpose, now? The checks a receiver makes.

cryptography's X.509 verifier validates TLS server and client chains but not document-signing
certificates, and takes no CRL; so the chain walk is done here, with ``verify_directly_issued_by``
at each step, and revocation through :class:`keys.revocation.RevocationChecker`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from config.errors import PeerRefused
from keys.revocation import RevocationChecker

MAX_CHAIN = 4


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


class TrustStore:
    def __init__(self, ca_certificate: x509.Certificate, revocation: RevocationChecker) -> None:
        self.ca_certificate = ca_certificate
        self.revocation = revocation

    def _chain_to_ca(self, certificate: x509.Certificate, chain: list[x509.Certificate]) -> None:
        current = certificate
        candidates = [*chain, self.ca_certificate]
        for _ in range(MAX_CHAIN):
            try:
                at_root = current.issuer == self.ca_certificate.subject
                issuer = (
                    self.ca_certificate
                    if at_root
                    else next((c for c in candidates if c.subject == current.issuer), None)
                )
            except ValueError as error:  # cryptography parses a name only when it is read
                raise PeerRefused("chứng thư không đọc được", code="unknown-sender") from error
            if issuer is None:
                break
            try:
                current.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature) as error:
                raise PeerRefused(
                    "chứng thư không do CA của tỉnh cấp", code="unknown-sender"
                ) from error
            if at_root:
                return
            if not _may_issue(issuer):
                raise PeerRefused(
                    f"{common_name(issuer)} không phải CA: không được cấp chứng thư",
                    code="unknown-sender",
                )
            self.revocation.check(issuer)
            current = issuer
        raise PeerRefused("chứng thư không do CA của tỉnh cấp", code="unknown-sender")

    def check(
        self,
        certificate: x509.Certificate,
        *,
        owner: str,
        chain: list[x509.Certificate] | None = None,
        now: datetime | None = None,
    ) -> None:
        """Chain to our CA, name ``owner``, in its validity period, not revoked."""
        self._chain_to_ca(certificate, chain or [])
        if common_name(certificate) != owner:
            raise PeerRefused(
                f"chứng thư của {common_name(certificate)}, không phải của {owner}",
                code="unknown-sender",
            )
        self.revocation.check(certificate, now or datetime.now(UTC))

    def check_unit_signer(
        self, certificate: x509.Certificate, unit: str, chain: list[x509.Certificate]
    ) -> None:
        self.check(certificate, owner=unit, chain=chain)
        usage = _key_usage(certificate)
        if usage is None or not (usage.digital_signature and usage.content_commitment):
            raise PeerRefused("chứng thư không dùng để ký văn bản", code="bad-signature")

    def check_node(self, certificate: x509.Certificate, node: str) -> None:
        self.check(certificate, owner=node)
        if not is_node_certificate(certificate):
            raise PeerRefused("chứng thư không phải chứng thư nút", code="not-a-node")


def is_node_certificate(certificate: x509.Certificate) -> bool:
    """A node's TLS certificate says it may authenticate as a client; unit certificates do not.

    A certificate without the extension is not a node's. RFC 5280 4.2.1.12 forbids an empty
    extension, and cryptography refuses to build one since 44 (an error since 51), so its
    absence is tested for, not stood in for by an empty list.
    """
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in usages


def _may_issue(certificate: x509.Certificate) -> bool:
    """An intermediate must say it is a CA and may sign certificates (RFC 5280 4.2.1.9)."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    usage = _key_usage(certificate)
    return constraints.ca and usage is not None and usage.key_cert_sign


def _key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
