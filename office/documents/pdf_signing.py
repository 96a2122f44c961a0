"""Outgoing documents as signed PDFs: a unit signs with its key, anyone checks against our CA.

Signatures are PAdES baseline B-B (``ETSI.CAdES.detached``) made with pyHanko: no time-stamp
authority exists on the network, so the signing time is the one the signer states. The CA of
the province is the only trust root; nothing is fetched (no OCSP, no CRL download), because
nodes run on closed networks.

Every function blocks on file I/O and CPU: call them through ``asyncio.to_thread`` or an
executor. Files stream through pyHanko and are written through a temporary file and a rename,
so a crash never leaves half a signed document under its final name.
"""

from __future__ import annotations

import contextlib
import html
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from config.errors import Invalid
from config.files import write_atomic
from config.refusals import Message
from office.documents import refusals
from office.documents.pdf_text import DAMAGED, PDF_MAGIC
from office.documents.pdf_verdicts import Role, SignatureEntry, SignatureStatus, State
from office.formats import format_datetime

#: The visible stamp, in points: it sits in the bottom margin of page 1 (2 cm = 56.7 pt).
STAMP_WIDTH, STAMP_HEIGHT, STAMP_MARGIN = 220, 42, 10
A4 = (0, 0, 595, 842)
PAGE_TREE_DEPTH = 32
#: Without a time stamp nothing proves the signature predates the certificate's expiry.
OUT_OF_VALIDITY = {
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
    AdESIndeterminate.EXPIRED,
    AdESIndeterminate.NOT_YET_VALID,
}
#: How pyHanko gives up on a damaged file: its own error, or the built-ins pypdf raises too.
MALFORMED = (PdfError, *DAMAGED)


def not_pdf(path: Path, why: Message) -> Invalid:
    return Invalid(refusals.NOT_SIGNABLE(name=path.name, why=why), code="not-pdf")


@dataclass(frozen=True)
class Source:
    reader: PdfFileReader
    field_name: str
    stamp_box: tuple[int, int, int, int]


def open_for_signing(handle: IO[bytes], path: Path) -> Source:
    """What pyHanko signs from, or ``Invalid`` saying what is wrong with the file.

    Strict parsing, as pyHanko defaults to: a signature appended to a file whose structure
    a validator reads differently from us is not worth making.
    """
    if handle.read(len(PDF_MAGIC)) != PDF_MAGIC:
        raise not_pdf(path, refusals.NO_PDF_HEADER)
    handle.seek(0)
    try:
        reader = PdfFileReader(handle)
        if reader.encrypted:
            raise not_pdf(path, refusals.PDF_ENCRYPTED)
        if int(reader.root["/Pages"]["/Count"]) < 1:
            raise not_pdf(path, refusals.PDF_WITHOUT_PAGES)
        taken = {name for name, _value, _ref in fields.enumerate_sig_fields(reader)}
        number = next(n for n in range(1, len(taken) + 2) if f"Signature{n}" not in taken)
        return Source(reader, f"Signature{number}", _stamp_box(reader))
    except MALFORMED as error:
        raise not_pdf(path, refusals.PDF_DAMAGED) from error


def is_pdf(path: Path) -> bool:
    """Whether ``path`` looks like a PDF :func:`sign_pdf` will take: an upload check.

    Cheap: header, cross-reference table, catalogue and page 1. Damage deeper in the file
    shows only when signing reads it, as the same ``not-pdf`` refusal.
    """
    try:
        with path.open("rb") as handle:
            open_for_signing(handle, path)
    except (Invalid, OSError):
        return False
    return True


def _public_der(public_key: CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_key(key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
    """``Invalid`` (``key-mismatch``) when ``key`` is not the certificate's: pyHanko would
    write a signature no one can verify."""
    if _public_der(key.public_key()) != _public_der(certificate.public_key()):
        raise Invalid(refusals.KEY_MISMATCH(), code="key-mismatch")


def asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def pades_signer(
    key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
) -> signers.SimpleSigner:
    """pyHanko's in-memory signer; it wants asn1crypto objects, so keys cross over as DER."""
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # untyped __init__
    for extra in chain:
        registry.register(asn1_certificate(extra))
    return signers.SimpleSigner(
        signing_cert=asn1_certificate(certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=registry,
    )


def _stamp_box(reader: PdfFileReader) -> tuple[int, int, int, int]:
    """Bottom right of page 1, inside the margin, whatever the page size."""
    node: Any = reader.root["/Pages"]
    for _ in range(PAGE_TREE_DEPTH):  # a hostile file may make the tree a loop
        if "/Kids" not in node:
            break
        node = node["/Kids"][0]
    for _ in range(PAGE_TREE_DEPTH):  # the box may be inherited from a parent
        if "/MediaBox" in node or "/Parent" not in node:
            break
        node = node["/Parent"]
    left, bottom, right, _top = (float(value) for value in node.get("/MediaBox", A4))
    x2 = int(right) - 2 * STAMP_MARGIN
    x1 = max(int(left), x2 - STAMP_WIDTH)
    y1 = int(bottom) + STAMP_MARGIN
    return x1, y1, x2, y1 + STAMP_HEIGHT


def _render_stamp(target: Path, signer_name: str, reason: str, location: str) -> None:
    """The stamp's face, drawn by WeasyPrint: pyHanko's own text stamps cannot shape
    Vietnamese without HarfBuzz, and WeasyPrint already embeds DejaVu for the registers."""
    when = format_datetime(datetime.now(UTC))
    lines = [f"Ký bởi: {signer_name}", reason, f"{location}, {when}"]
    body = "<br>".join(html.escape(line) for line in lines)
    page = (
        f"<!doctype html><html lang='vi'><meta charset='utf-8'><style>"
        f"@page {{ size: {STAMP_WIDTH}pt {STAMP_HEIGHT}pt; margin: 0 }}"
        f"body {{ margin: 0; padding: 3pt 5pt; height: {STAMP_HEIGHT - 8}pt;"
        f" border: 1pt solid #b00; color: #b00; font: 7pt/1.35 'DejaVu Sans' }}"
        f"</style><body>{body}</body></html>"
    )
    from weasyprint import HTML  # seconds to load: only signing and printing need it

    HTML(string=page).write_pdf(target)


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[IO[bytes]]:
    """A read-write temporary file beside ``target`` that becomes ``target`` on success.

    pyHanko reads back what it wrote to compute the digest, so the file is opened ``w+b``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def sign_pdf(
    source: Path,
    target: Path,
    key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    *,
    reason: str,
    location: str,
    signer_name: str,
) -> None:
    """Sign ``source`` into ``target`` with a PAdES signature and a stamp on page 1.

    The signature is an incremental update: the bytes of ``source`` stay as they were, so an
    earlier signature on it stays valid. ``chain`` is embedded for validators that do not know
    our CA yet (the CA certificate, normally). A file that is not a PDF, or that is encrypted or
    damaged, raises ``Invalid`` with code ``not-pdf``; a key that is not the certificate's
    raises ``key-mismatch`` (pyHanko would write a signature no one can verify).
    """
    check_key(key, certificate)
    with source.open("rb") as handle:
        pdf = open_for_signing(handle, source)
        with tempfile.TemporaryDirectory(prefix="congvan-stamp-") as scratch:
            stamp = Path(scratch) / "stamp.pdf"
            _render_stamp(stamp, signer_name, reason, location)
            pdf_signer = signers.PdfSigner(
                signers.PdfSignatureMetadata(
                    field_name=pdf.field_name,
                    md_algorithm="sha256",
                    subfilter=fields.SigSeedSubFilter.PADES,
                    reason=reason,
                    location=location,
                    name=signer_name,
                ),
                signer=pades_signer(key, certificate, chain),
                stamp_style=StaticStampStyle.from_pdf_file(str(stamp), border_width=0),
                new_field_spec=fields.SigFieldSpec(
                    sig_field_name=pdf.field_name, on_page=0, box=pdf.stamp_box
                ),
            )
            writer = IncrementalPdfFileWriter.from_reader(pdf.reader)
            with atomic_output(target) as output:
                try:
                    pdf_signer.sign_pdf(writer, output=output)
                except MALFORMED as error:  # pyHanko reads the rest of the file only now
                    raise not_pdf(source, refusals.PDF_DAMAGED) from error


def _signer(certificate: asn1_x509.Certificate) -> tuple[str, Role]:
    """Who signed and as what. A person's certificate (``keys issue-person``) carries their
    title and username: ``Full name, Title (Unit)``. A unit's carries its name and code:
    ``Organization (CN)``."""
    subject = x509.load_der_x509_certificate(certificate.dump()).subject

    def first(oid: x509.ObjectIdentifier) -> str:
        found = subject.get_attributes_for_oid(oid)
        return str(found[0].value) if found else ""

    name, unit, title = (
        first(oid) for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.TITLE)
    )
    if title or first(NameOID.USER_ID):
        who = ", ".join(part for part in (name, title) if part)
        return (f"{who} ({unit})" if unit else who), "person"
    return (f"{unit} ({name})" if unit and name else unit or name), "unit"


def _judge(status: PdfSignatureStatus, last: bool) -> tuple[State, str]:
    """One signature's state and problem, by :func:`signature_status`'s rules."""
    if not (status.intact and status.valid):
        return "invalid", "tampered"
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if (last and not whole) or status.docmdp_ok is False:
        return "invalid", "modified-after-signing"
    if not status.trusted:
        expired = status.trust_problem_indic in OUT_OF_VALIDITY
        return "untrusted", "certificate-expired" if expired else "unknown-issuer"
    return "valid", ""


def signature_status(path: Path, trust_roots: Sequence[x509.Certificate]) -> SignatureStatus:
    """Check every signature in ``path``; the last one speaks for the document.

    ``valid`` needs all signatures intact, made by certificates that chain to ``trust_roots``,
    and the last one covering the file to its end: bytes appended after signing (an edit, a
    second revision) make the document ``invalid``, as does a damaged file. An earlier
    signature stays valid through later revisions that only fill form fields and add
    signatures (pyHanko's difference analysis): the signer's, then the unit's at issue
    (Decree 30 Art. 13). A sound signature by anyone else's certificate, or by ours outside
    its validity, is ``untrusted``. ``signatures`` lists each one's verdict, in signing order.
    Revocation is the caller's to check (nothing is fetched here): ``serial`` names the
    last certificate (``DocumentDesk.signature_of`` checks it against the node's CRL).
    """
    try:
        with path.open("rb") as handle:
            reader = PdfFileReader(handle)
            embedded = reader.embedded_regular_signatures
            if not embedded:
                return SignatureStatus("unsigned", problem="no-signature")
            context = ValidationContext(
                trust_roots=[asn1_certificate(root) for root in trust_roots],
                allow_fetching=False,
            )
            statuses = [validate_pdf_signature(signature, context) for signature in embedded]
            reason = str(embedded[-1].sig_object.get("/Reason", ""))
    except MALFORMED:
        return SignatureStatus("invalid", problem="damaged")
    entries = tuple(
        SignatureEntry(
            *_signer(status.signing_cert),
            *_judge(status, last=index == len(statuses) - 1),
            signed_at=status.signer_reported_dt,
            serial=int(status.signing_cert.serial_number),
        )
        for index, status in enumerate(statuses)
    )
    last = entries[-1]
    # The document's problem: damage first, then modification, then trust.
    problems = [entry.problem for entry in entries if entry.problem]
    state: State = "valid"
    problem = ""
    for worst in ("tampered", "modified-after-signing"):
        if worst in problems:
            state, problem = "invalid", worst
            break
    else:
        if problems:
            state, problem = "untrusted", problems[0]
    return SignatureStatus(
        state,
        signer=last.signer,
        signed_at=last.signed_at,
        covers_whole_file=statuses[-1].coverage == SignatureCoverageLevel.ENTIRE_FILE,
        reason=reason,
        problem=problem,
        serial=last.serial,
        signatures=entries,
    )


def simple_pdf(lines: Sequence[str], target: Path) -> None:
    """A one-page A4 document with ``lines`` as paragraphs, for tests and the demo."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    page = (
        "<!doctype html><html lang='vi'><meta charset='utf-8'><style>"
        "@page { size: A4; margin: 2cm } body { font: 13pt/1.4 'DejaVu Serif' }"
        f"</style><body>{body}</body></html>"
    )
    from weasyprint import HTML

    write_atomic(target, HTML(string=page).write_pdf())
