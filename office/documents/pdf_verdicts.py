"""What a PDF's signatures are judged to be (:class:`SignatureStatus`): the verdict the pages
and the register keep, apart from :mod:`office.documents.pdf_signing`, which reaches it with
pyHanko (some 45 MiB with pypdf, loaded only when a PDF is first checked or signed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

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
