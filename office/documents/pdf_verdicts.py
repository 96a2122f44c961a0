"""What a PDF's signatures are judged to be (:class:`SignatureStatus`), and the two checks the
node runs on a PDF, without loading pyHanko until a PDF is checked.

pyHanko and pypdf cost some 45 MiB of resident memory: a node imports this module at start
(its desk, its upload pages) and :mod:`office.documents.pdf_signing` only when a first PDF is
checked or signed (``tests/config/test_lazy_imports.py`` keeps it so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from cryptography import x509

State = Literal["valid", "invalid", "unsigned", "untrusted", "revoked"]
#: A person signs as they approve, a unit as it issues (Decree 30 Art. 13).
Role = Literal["person", "unit"]


@dataclass(frozen=True)
class SignatureEntry:
    """One signature of a document: who made it, as a person or as a unit, and its verdict
    (``state`` and ``problem`` as :class:`SignatureStatus` has them)."""

    signer: str
    role: Role
    state: State
    problem: str
    signed_at: datetime | None
    serial: int


#: How much of "who signed" a file's row keeps (``document_files.signature_signer``).
SIGNERS_SHOWN = 255


@dataclass(frozen=True)
class SignatureStatus:
    """What the office shows next to a PDF: may it be relied on, who signed it and when.

    ``reason`` and ``signed_at`` are what the signer stated (no time-stamp authority vouches
    for the time). ``problem`` is a stable code for the interface catalogue (``""`` when
    valid): ``no-signature``, ``damaged``, ``tampered``, ``modified-after-signing``,
    ``unknown-issuer``, ``certificate-expired``; the office adds ``certificate-revoked`` and
    ``revocation-unknown`` after checking ``serial`` against the CRL.
    """

    state: State
    signer: str = ""
    signed_at: datetime | None = None
    covers_whole_file: bool = False
    reason: str = ""
    problem: str = ""
    #: The signing certificate's serial number, for the revocation check.
    serial: int | None = None
    #: Every signature, in signing order: on an issued document the signer's, then the unit's.
    signatures: tuple[SignatureEntry, ...] = ()

    @property
    def signed_by(self) -> str:
        """Who signed, in order (``Nguyễn Văn Hùng; Tỉnh uỷ Quảng Trị (TU)``): what a page shows
        beside the file, since an issued document carries its signer's and its unit's."""
        names = "; ".join(entry.signer for entry in self.signatures) or self.signer
        # Kept in a column of SIGNERS_SHOWN characters: a file with many signatures is cut.
        return names if len(names) <= SIGNERS_SHOWN else names[: SIGNERS_SHOWN - 1] + "…"


def check_signatures(path: Path, trust_roots: Sequence[x509.Certificate]) -> SignatureStatus:
    """:func:`office.documents.pdf_signing.signature_status`, which see (blocking)."""
    from office.documents.pdf_signing import signature_status

    return signature_status(path, trust_roots)


def looks_signable(path: Path) -> bool:
    """:func:`office.documents.pdf_signing.is_pdf`, which see (blocking)."""
    from office.documents.pdf_signing import is_pdf

    return is_pdf(path)
