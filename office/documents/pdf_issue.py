"""Approving is signing, issuing is the unit's countersignature: two PAdES signatures on a PDF.

Decree 30 Art. 13: on an electronic document the competent person signs with their own digital
signature, and the clerk adds the agency's when issuing. Appendix I: the signer's signature
shows on the document (here: the signing authority line, their title and name), the agency's
as its seal with the agency's name and the time of signing, in Vietnam time.

1. :func:`sign_as_person`, as the person approves: in one incremental revision, page 1's
   number and date placeholders become form fields (:mod:`office.documents.pdf_fields`), then
   the person's signature goes on the last page.
2. :func:`issue_and_sign_as_unit`, at issue: in one incremental revision, the clerk's number,
   symbol (HD 36 point 1.3.1, Decree 30 Art. 15) and date fill the fields, then the unit signs.
   Filling form fields and adding a signature are the only changes an earlier signature
   allows, so the person's signature stays valid; the number is part of what the unit signs.

Both block on file I/O and CPU: callers run them in a thread. Refusals are
:func:`office.documents.pdf_signing.sign_pdf`'s: ``not-pdf`` and ``key-mismatch``.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.stamp import StaticStampStyle
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from office.documents import refusals
from office.documents.pdf_fields import (
    DATE_FIELD,
    NUMBER_FIELD,
    add_fields,
    fill_fields,
    find_slots,
    lowest_signature,
    lowest_text,
    our_fields,
    page_size,
)
from office.documents.pdf_signing import (
    MALFORMED,
    atomic_output,
    check_key,
    not_pdf,
    open_for_signing,
    pades_signer,
)
from office.formats import format_datetime

#: The person's signature block and the unit's seal (Decree 30 Appendix I), in points: on the
#: right of the last page, under its text, the seal under the block; ``BOTTOM`` keeps them
#: inside the page's bottom margin (20-25 mm in HD 36) when there is no room under the text.
BLOCK_WIDTH, BLOCK_HEIGHT = 220, 92
SEAL_WIDTH, SEAL_HEIGHT = 220, 42
RIGHT, BOTTOM, SPACING = 20, 10, 4
APPROVE = "Ký duyệt"

Prepare = Callable[[IncrementalPdfFileWriter], None]


def _render(target: Path, width: int, height: int, body: str, style: str) -> None:
    """A stamp's face drawn by WeasyPrint (Vietnamese shaping, fonts embedded)."""
    page = (
        f"<!doctype html><html lang='vi'><meta charset='utf-8'><style>"
        f"@page {{ size: {width}pt {height}pt; margin: 0 }}"
        f"body {{ margin: 0; {style} }} p {{ margin: 0 }} .u {{ text-transform: uppercase }}"
        f"</style><body>{body}</body></html>"
    )
    from weasyprint import HTML  # seconds to load: only signing and printing need it

    HTML(string=page).write_pdf(target)


def _lines(*lines: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


@dataclass(frozen=True)
class _Face:
    """A signature's drawn face, its size, and the room it leaves under it at the bottom of the
    page (the person's block leaves the seal's)."""

    path: Path
    width: int
    height: int
    lift: int = 0
    #: With no room under the text: two abreast, then a row higher, beside the signatures
    #: already there (joint approvers), rather than over them.
    beside_earlier: bool = False


@dataclass(frozen=True)
class _Draft:
    """What is read from the source with pypdf before pyHanko signs it: the step that makes the
    number and date fields, and how low the last page's text reaches."""

    add_fields: Prepare
    text_bottom: float | None


def _box(
    face: _Face, page: tuple[float, float, float, float], above: float | None, earlier: int
) -> tuple[int, int, int, int]:
    """Where a signature goes on the last page: right-aligned just under what is there
    (``above``: the text, the signatures drawn before), as the signature block follows the
    text; when there is no room, at the bottom right, over whatever text is there."""
    _left, bottom, right, _top = page
    x2 = int(right) - RIGHT
    floor = int(bottom) + BOTTOM + face.lift
    if above is not None and above - 3 * SPACING - face.height >= floor:
        y2 = int(above) - 3 * SPACING
        return x2 - face.width, y2 - face.height, x2, y2
    row, column = divmod(earlier, 2) if face.beside_earlier else (0, 0)
    x2 -= column * (face.width + SPACING)
    y1 = floor + row * (face.height + SPACING)
    return x2 - face.width, y1, x2, y1 + face.height


def _sign(
    source: Path,
    target: Path,
    key: ec.EllipticCurvePrivateKey,
    chain: tuple[x509.Certificate, Sequence[x509.Certificate]],
    metadata: tuple[str, str, str],
    face: _Face,
    draft: _Draft,
    prepare: Prepare,
) -> None:
    """One incremental revision: ``prepare`` changes the document, then a visible PAdES
    signature with ``face`` goes on the last page (:func:`_box`); ``metadata`` is the
    signature's stated name, reason and location."""
    certificate, extra = chain
    check_key(key, certificate)
    name, reason, location = metadata
    with source.open("rb") as handle:
        pdf = open_for_signing(handle, source)
        writer = IncrementalPdfFileWriter.from_reader(pdf.reader)
        try:
            prepare(writer)
            last = int(writer.root["/Pages"]["/Count"]) - 1
            drawn = [
                y for y in (draft.text_bottom, lowest_signature(writer, last)) if y is not None
            ]
            earlier = len(list(fields.enumerate_sig_fields(pdf.reader)))
            box = _box(face, page_size(writer, last), min(drawn, default=None), earlier)
            pdf_signer = signers.PdfSigner(
                signers.PdfSignatureMetadata(
                    field_name=pdf.field_name,
                    md_algorithm="sha256",
                    subfilter=fields.SigSeedSubFilter.PADES,
                    reason=reason,
                    location=location,
                    name=name,
                ),
                signer=pades_signer(key, certificate, extra),
                stamp_style=StaticStampStyle.from_pdf_file(str(face.path), border_width=0),
                new_field_spec=fields.SigFieldSpec(
                    sig_field_name=pdf.field_name, on_page=last, box=box
                ),
            )
            with atomic_output(target) as output:
                pdf_signer.sign_pdf(writer, output=output)
        except MALFORMED as error:  # pyHanko reads the rest of the file only now
            raise not_pdf(source, refusals.PDF_DAMAGED) from error


def _read_draft(source: Path) -> _Draft:
    """Page 1's placeholders and the last page's text, read by pypdf. The fields step does
    nothing when an earlier signer's revision has made the fields (adding fields after a
    signature would break it)."""
    with source.open("rb") as handle:
        open_for_signing(handle, source)  # the same refusals as signing: header, encryption
        handle.seek(0)
        try:
            reader = PdfReader(handle)
            slots, content = find_slots(reader)
            text_bottom = lowest_text(reader, len(reader.pages) - 1)
        except (PyPdfError, *MALFORMED) as error:
            raise not_pdf(source, refusals.PDF_DAMAGED) from error

    def add(writer: IncrementalPdfFileWriter) -> None:
        if not our_fields(writer):
            add_fields(writer, slots, content)

    return _Draft(add, text_bottom)


def sign_as_person(
    source: Path,
    target: Path,
    key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    *,
    signer_name: str,
    title: str,
    authority_line: str,
    unit_name: str,
    reason: str = APPROVE,
) -> None:
    """The competent person approves ``source`` by signing it into ``target`` (Decree 30
    Art. 13): the number and date placeholders become fields the clerk fills at issue, and the
    person's signature shows ``authority_line`` (``T/M BAN THƯỜNG VỤ``, ``KT. CHỦ TỊCH``; may be
    empty), ``title`` and ``signer_name`` at the bottom right of the last page."""
    draft = _read_draft(source)
    with tempfile.TemporaryDirectory(prefix="congvan-stamp-") as scratch:
        face = Path(scratch) / "block.pdf"
        when = format_datetime(datetime.now(UTC))
        body = "".join(
            f"<b class='u'>{html.escape(line)}</b><br>" for line in (authority_line, title) if line
        ) + (f"<i>(Đã ký số, {html.escape(when)})</i><br><br><b>{html.escape(signer_name)}</b>")
        _render(
            face,
            BLOCK_WIDTH,
            BLOCK_HEIGHT,
            body,
            "text-align: center; font: 9pt/1.45 'DejaVu Serif'; color: #00309a",
        )
        _sign(
            source,
            target,
            key,
            (certificate, chain),
            (signer_name, reason, unit_name),
            _Face(face, BLOCK_WIDTH, BLOCK_HEIGHT, SEAL_HEIGHT + SPACING, beside_earlier=True),
            draft,
            draft.add_fields,
        )


def issue_and_sign_as_unit(
    source: Path,
    target: Path,
    unit_key: ec.EllipticCurvePrivateKey,
    unit_certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    *,
    number_line: str,
    date_line: str,
    unit_name: str,
    reason: str,
) -> None:
    """The clerk issues ``source`` into ``target``: ``number_line`` (``Số 05-NQ/TU``, ``Số:
    15/QĐ-UBND``) and ``date_line`` (``Quảng Trị, ngày 07 tháng 12 năm 2026``) fill the fields
    the signer's revision made, and the unit's seal-style signature follows (Decree 30 Appendix
    I: the unit's name and the time, Vietnam time). A draft no one signed gets its fields in
    this same revision, there being no signature to keep valid."""
    draft = _read_draft(source)
    values = {NUMBER_FIELD: number_line, DATE_FIELD: date_line}

    def prepare(writer: IncrementalPdfFileWriter) -> None:
        draft.add_fields(writer)
        fill_fields(writer, values)

    with tempfile.TemporaryDirectory(prefix="congvan-stamp-") as scratch:
        face = Path(scratch) / "seal.pdf"
        when = format_datetime(datetime.now(UTC))
        _render(
            face,
            SEAL_WIDTH,
            SEAL_HEIGHT,
            _lines(f"Ký bởi: {unit_name}", reason, f"Thời gian ký: {when}"),
            f"padding: 3pt 5pt; height: {SEAL_HEIGHT - 8}pt; border: 1pt solid #b00;"
            " color: #b00; font: 7pt/1.35 'DejaVu Sans'",
        )
        _sign(
            source,
            target,
            unit_key,
            (unit_certificate, chain),
            (unit_name, reason, unit_name),
            _Face(face, SEAL_WIDTH, SEAL_HEIGHT),
            draft,
            prepare,
        )
