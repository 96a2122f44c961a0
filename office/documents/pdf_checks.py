"""The two checks a node runs on a PDF, for callers imported at start (the desk, the upload
pages): pyHanko loads with the first PDF checked, not with the node (some 45 MiB with pypdf;
``tests/config/test_lazy_imports.py`` keeps it so). Both block: run them in a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from office.documents.pdf_verdicts import SignatureStatus


def check_signatures(path: Path, trust_roots: Sequence[x509.Certificate]) -> SignatureStatus:
    """:func:`office.documents.pdf_signing.signature_status`, which see (blocking)."""
    from office.documents.pdf_signing import signature_status

    return signature_status(path, trust_roots)


def looks_signable(path: Path) -> bool:
    """:func:`office.documents.pdf_signing.is_pdf`, which see (blocking)."""
    from office.documents.pdf_signing import is_pdf

    return is_pdf(path)
