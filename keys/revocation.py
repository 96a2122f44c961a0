"""Certificate revocation lists: the CA builds and signs them; every node checks against one.

Fail closed: a node refuses a peer when its CRL is missing, not signed by our CA, or past its
nextUpdate, because a stale list cannot tell a revoked certificate from a good one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from config.errors import PeerRefused
from keys.ca import CertificateAuthority

CRL_FILE = "crl.pem"

#: Revocation reasons an operator may give, as RFC 5280 names them.
REASONS = {
    flag.value: flag
    for flag in x509.ReasonFlags
    if flag not in (x509.ReasonFlags.remove_from_crl, x509.ReasonFlags.certificate_hold)
}


@dataclass(frozen=True)
class RevokedEntry:
    serial: str
    revoked_at: datetime
    reason: str


def build_crl(
    ca: CertificateAuthority, revoked: Iterable[RevokedEntry], valid_days: int
) -> x509.CertificateRevocationList:
    now = datetime.now(UTC)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now)
        .next_update(now + timedelta(days=valid_days))
        .add_extension(x509.CRLNumber(time.time_ns() // 1000), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(int(entry.serial, 16))
            .revocation_date(entry.revoked_at)
            .add_extension(x509.CRLReason(REASONS[entry.reason]), critical=False)
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256())


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


class RevocationChecker:
    """Answers "may this certificate be trusted now?" from the node's CRL file.

    The file is re-read when it is replaced on disk, so a CRL published by ``keys revoke`` or
    fetched from the hub takes effect without a restart.
    """

    def __init__(self, ca_certificate: x509.Certificate, crl_path: Path) -> None:
        self._ca = ca_certificate
        self._path = crl_path
        self._loaded_version: tuple[int, int] | None = None
        self._crl: x509.CertificateRevocationList | None = None

    def _current(self) -> x509.CertificateRevocationList:
        try:
            status = self._path.stat()
        except FileNotFoundError as error:
            raise PeerRefused(
                "chưa có danh sách thu hồi chứng thư (CRL); không thể kiểm tra", code="stale-crl"
            ) from error
        # A new CRL is written by an atomic rename: a new inode, even within one clock tick.
        version = (status.st_ino, status.st_mtime_ns)
        if self._crl is None or version != self._loaded_version:
            crl = x509.load_pem_x509_crl(self._path.read_bytes())
            if crl.issuer != self._ca.subject or not crl.is_signature_valid(
                self._ca.public_key()  # type: ignore[arg-type]
            ):
                raise PeerRefused("CRL không do CA của tỉnh ký", code="stale-crl")
            self._crl, self._loaded_version = crl, version
        return self._crl

    def next_update(self) -> datetime:
        """When the CRL in force falls due (a past time: it is stale). Raises
        :class:`PeerRefused` when it is missing or not signed by our CA."""
        next_update = self._current().next_update_utc
        if next_update is None:
            raise PeerRefused("CRL không ghi hạn cập nhật", code="stale-crl")
        return next_update

    def is_revoked(self, serial: int) -> bool:
        """Whether the CA revoked the certificate numbered ``serial`` (raises
        :class:`PeerRefused` when the CRL is missing, forged or out of date)."""
        crl = self._current()
        next_update = crl.next_update_utc
        if next_update is None or next_update < datetime.now(UTC):
            raise PeerRefused("CRL đã quá hạn cập nhật", code="stale-crl")
        return crl.get_revoked_certificate_by_serial_number(serial) is not None

    def check(self, certificate: x509.Certificate, now: datetime | None = None) -> None:
        """Raise :class:`PeerRefused` if ``certificate`` is revoked, expired or unverifiable."""
        now = now or datetime.now(UTC)
        crl = self._current()
        next_update = crl.next_update_utc
        if next_update is None or next_update < now:
            raise PeerRefused("CRL đã quá hạn cập nhật", code="stale-crl")
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise PeerRefused("chứng thư đã hết hạn hoặc chưa có hiệu lực", code="expired")
        if crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None:
            raise PeerRefused("chứng thư đã bị thu hồi", code="revoked")
