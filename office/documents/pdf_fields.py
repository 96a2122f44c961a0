"""The number and date of an issued document as two form fields on page 1.

Why fields: at issue the clerk writes the number, symbol and date onto a document the signer
has already signed (Decree 30 Art. 13 and 15, HD 36 point 1.3.1), and any change to a page's
content after a signature makes that signature invalid (pyHanko's difference analysis, like
Acrobat's, lets a later revision only fill form fields and add signatures). So when the signer
signs, :func:`add_fields` moves the draft's placeholders (``Số: …/QĐ-UBND``, ``Quảng Trị, ngày …
tháng … năm …``) out of page 1's text into two text fields at the same place, whose appearance
shows the placeholder; at issue :func:`fill_fields` fills them in the unit's signed revision.
The placeholder's text leaves the page so that a reader of what is drawn (``pdftotext``, a
viewer's search) finds the number alone, not mixed into the placeholder beneath it; pypdf (the
search index) reads the page's text only, and sees neither. A draft without placeholders gets
the fields in a fixed box at the top left of page 1, empty until issue.

A placeholder is read as one line even when its writer split it into runs of several fonts:
a font without Vietnamese letters (Liberation Serif standing in for Times New Roman) sends
``ố`` or ``ả`` to a fallback font, and pypdf reads ``S``, ``ố``, `` …-BC/TU`` from one point.

The fields' faces are drawn by WeasyPrint (DejaVu Serif, the placeholder's size), which shapes
and embeds Vietnamese as pyHanko's own text appearances cannot; a line wider than its field
(a date written where a short centred placeholder stood) is drawn smaller, never cut.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.rw_common import find_inherited_value_in_tree
from pypdf import PdfReader
from pypdf.generic import ContentStream, NameObject

NUMBER_FIELD, DATE_FIELD = "congvan_number", "congvan_date"
_BLANK = r"(?:…|\.{2,}|_{2,})"
#: ``Số: …/QĐ-UBND`` (Decree 30) or ``Số …-NQ/TU`` (HD 36): "Số", then a blank, not a number.
NUMBER_PLACEHOLDER = re.compile(rf"^\s*Số\s*:?\s*(?:{_BLANK}|[-/])")
DATE_PLACEHOLDER = re.compile(rf"ngày\s*{_BLANK}\s*tháng\s*{_BLANK}\s*năm")
#: Operators that show text and nothing else (``'`` and ``"`` also move to the next line, so a
#: placeholder drawn by them stays, and the fixed box is used instead).
SHOW_TEXT = {b"Tj", b"TJ"}
#: The fixed box, in points from the top left of page 1: in the top margin (20-25 mm in HD 36
#: and Decree 30), inside the left margin (30 mm).
FIXED_LEFT, FIXED_TOP, FIXED_WIDTH, FIXED_SIZE = 85.0, 20.0, 280.0, 11.0
#: A field's height in font sizes: below the baseline, above it.
DESCENT, ASCENT = 0.3, 1.0
RIGHT_MARGIN, GAP = 28.0, 2.0
#: Runs read this close (points) are read from one point: the same line.
SAME_POINT = 0.5
#: CSS pixels in a point; the id of the mark at the end of a face's line.
PX_PER_PT, LINE_END = 4 / 3, "end"
READ_ONLY, PRINT = 1, 4


@dataclass(frozen=True)
class Slot:
    """Where a field goes on page 1 (user space, points), at what size, and what it shows
    until issue."""

    name: str
    box: tuple[float, float, float, float]
    size: float
    placeholder: str = ""


@dataclass(frozen=True)
class _Chunk:
    text: str
    x: float
    y: float
    size: float


def _origin(cm: list[float], tm: list[float]) -> tuple[float, float]:
    """Where text space's origin lands in user space: Tm then the CTM."""
    return (
        cm[0] * tm[4] + cm[2] * tm[5] + cm[4],
        cm[1] * tm[4] + cm[3] * tm[5] + cm[5],
    )


def _scale(matrix: list[float]) -> float:
    return float(abs(matrix[0] * matrix[3] - matrix[1] * matrix[2]) ** 0.5)


def find_slots(reader: PdfReader) -> tuple[list[Slot], bytes | None]:
    """The number and date slots of page 1, and page 1's content with the placeholders' text
    taken out (``None`` when it keeps it all).

    pypdf reads the text with its position; a placeholder is a run of text on one line, up to
    the next run on that line (the date beside the number in a two-column heading) or the right
    margin. Only text in the page's own content is moved; a placeholder pypdf sees elsewhere
    (in a form XObject) stays, and its field goes to the fixed box.
    """
    page = reader.pages[0]
    left, _bottom, right, top = (float(value) for value in page.mediabox)
    content = ContentStream(page.get_contents(), reader, "bytes")  # a blank page: no operations
    page[NameObject("/Contents")] = content  # pypdf then walks these very operand lists
    index_of = {id(operands): index for index, (operands, _) in enumerate(content.operations)}
    runs: list[tuple[int, float, float]] = []
    chunks: list[_Chunk] = []

    def before(operator: bytes, operands: Any, cm: list[float], tm: list[float]) -> None:
        if operator in SHOW_TEXT and id(operands) in index_of:
            runs.append((index_of[id(operands)], *_origin(cm, tm)))

    def text(found: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        chunks.append(_Chunk(found, *_origin(cm, tm), size * _scale(tm) * _scale(cm)))

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    removed: set[int] = set()
    slots: dict[str, Slot] = {}
    for chunk in _lines(chunks):
        name = (
            NUMBER_FIELD
            if NUMBER_PLACEHOLDER.search(chunk.text)
            else DATE_FIELD
            if DATE_PLACEHOLDER.search(chunk.text)
            else None
        )
        if name is None or name in slots:
            continue
        same_line = [
            other.x
            for other in chunks
            if abs(other.y - chunk.y) < chunk.size and other.x > chunk.x + 1
        ]
        end = min(same_line, default=right - RIGHT_MARGIN + GAP) - GAP
        mine = {
            index
            for index, x, y in runs
            if abs(y - chunk.y) < chunk.size / 2 and chunk.x - 1 <= x < end
        }
        if not mine:
            continue
        removed |= mine
        box = (chunk.x, chunk.y - DESCENT * chunk.size, end, chunk.y + ASCENT * chunk.size)
        slots[name] = Slot(name, box, chunk.size, chunk.text)
    for row, name in enumerate((NUMBER_FIELD, DATE_FIELD)):
        if name not in slots:
            y2 = top - FIXED_TOP - row * (ASCENT + DESCENT + 0.2) * FIXED_SIZE
            y1 = y2 - (ASCENT + DESCENT) * FIXED_SIZE
            x1 = left + FIXED_LEFT
            slots[name] = Slot(name, (x1, y1, min(x1 + FIXED_WIDTH, right), y2), FIXED_SIZE)
    if not removed:
        return list(slots.values()), None
    content.operations = [op for index, op in enumerate(content.operations) if index not in removed]
    return list(slots.values()), content.get_data()


def _lines(chunks: list[_Chunk]) -> list[_Chunk]:
    """The text read, with the runs read one after another from the same point joined (one
    line split by font fallback: see the module's docstring), stripped, the empty ones left
    out."""
    joined: list[_Chunk] = []
    for chunk in chunks:
        last = joined[-1] if joined else None
        if (
            last is not None
            and not last.text.endswith("\n")
            and abs(last.x - chunk.x) < SAME_POINT
            and abs(last.y - chunk.y) < SAME_POINT
        ):
            joined[-1] = replace(last, text=last.text + chunk.text)
        else:
            joined.append(chunk)
    return [replace(chunk, text=chunk.text.strip()) for chunk in joined if chunk.text.strip()]


def lowest_text(reader: PdfReader, index: int) -> float | None:
    """How low the text of page ``index`` reaches (user space, points; ``None`` on a page
    without text): a signature drawn below it covers none of it."""
    lows: list[float] = []

    def text(found: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        if found.strip():
            lows.append(_origin(cm, tm)[1] - DESCENT * size * _scale(tm) * _scale(cm))

    reader.pages[index].extract_text(visitor_text=text)
    return min(lows, default=None)


def lowest_signature(writer: IncrementalPdfFileWriter, index: int) -> float | None:
    """How low the signatures already drawn on page ``index`` reach (``None`` when none is)."""
    try:  # indexing resolves indirect objects, ``get`` does not
        annotations = _page(writer, index)[1]["/Annots"]
    except KeyError:
        return None
    return min(
        (
            min(float(annotation["/Rect"][1]), float(annotation["/Rect"][3]))
            for annotation in (reference.get_object() for reference in annotations)
            if annotation.get("/FT") == "/Sig" and "/Rect" in annotation
        ),
        default=None,
    )


def _dictionary(entries: Mapping[str, Any]) -> generic.DictionaryObject:
    return generic.DictionaryObject(  # type: ignore[no-untyped-call]  # untyped in pyHanko
        {pdf_name(key): value for key, value in entries.items()}
    )


def _numbers(values: Iterable[float]) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(value) for value in values)  # type: ignore[no-untyped-call]


def _page(writer: IncrementalPdfFileWriter, index: int) -> tuple[generic.IndirectObject, Any]:
    """A page's reference and its dictionary."""
    reference = writer.find_page_for_modification(index)[0]  # type: ignore[no-untyped-call]
    return reference, reference.get_object()


def _face_page(text: str, width: float, height: float, size: float) -> str:
    """The face's page: ``text`` on one line at ``size``, then a mark where the line ends."""
    return (
        f"<!doctype html><html lang='vi'><meta charset='utf-8'><style>"
        f"@page {{ size: {width}pt {height}pt; margin: 0 }}"
        f"body {{ margin: 0; white-space: nowrap; overflow: hidden;"
        f" font: {size}pt/{height}pt 'DejaVu Serif' }}"
        f"</style><body>{html.escape(text)}<span id='{LINE_END}'></span></body></html>"
    )


def _face(writer: IncrementalPdfFileWriter, text: str, slot: Slot) -> generic.IndirectObject:
    """A form XObject the size of the slot showing ``text`` on the placeholder's baseline,
    drawn by WeasyPrint and imported as pyHanko imports a stamp's face. A line that would run
    past the slot (WeasyPrint says where it ends) is drawn again at the size that fits."""
    x1, y1, x2, y2 = slot.box
    width, height = x2 - x1, y2 - y1
    if not text:
        empty = {"/Type": pdf_name("/XObject"), "/Subtype": pdf_name("/Form")}
        bbox = {"/BBox": _numbers((0, 0, width, height))}
        return writer.add_object(generic.StreamObject(_dictionary(empty | bbox), stream_data=b""))
    from weasyprint import HTML  # seconds to load: only signing and printing need it

    document = HTML(string=_face_page(text, width, height, slot.size)).render()
    drawn_width = document.pages[0].anchors[LINE_END][0] / PX_PER_PT
    if drawn_width > width:
        smaller = math.floor(10 * slot.size * width / drawn_width) / 10
        document = HTML(string=_face_page(text, width, height, smaller)).render()
    drawn = PdfFileReader(io.BytesIO(document.write_pdf()))
    face: generic.IndirectObject = writer.import_page_as_xobject(drawn)
    return face


def add_fields(
    writer: IncrementalPdfFileWriter, slots: Iterable[Slot], content: bytes | None
) -> None:
    """Page 1 without its placeholders' text (``content``, when some were found) and read-only
    text fields in their place, showing the placeholders. Before any signature: a page's
    content may change only in a revision the first signature covers."""
    page_ref, page = _page(writer, 0)
    if content is not None:
        stream = generic.StreamObject(stream_data=content)
        stream.compress()  # type: ignore[no-untyped-call]  # untyped in pyHanko
        page[pdf_name("/Contents")] = writer.add_object(stream)
        writer.update_container(page)
    if "/AcroForm" not in writer.root:
        writer.root[pdf_name("/AcroForm")] = _dictionary({"/Fields": generic.ArrayObject()})
        writer.update_root()  # type: ignore[no-untyped-call]  # untyped in pyHanko
    form = writer.root["/AcroForm"]
    # A viewer told to make appearances itself would draw ours again with /Helv, which has no
    # Vietnamese letters.
    form.pop(pdf_name("/NeedAppearances"), None)
    if "/Fields" not in form:
        form[pdf_name("/Fields")] = generic.ArrayObject()
    for slot in slots:
        field = {
            "/FT": pdf_name("/Tx"),
            "/T": pdf_string(slot.name),
            "/Ff": generic.NumberObject(READ_ONLY),  # type: ignore[no-untyped-call]
            "/DA": pdf_string(f"/Helv {slot.size:g} Tf 0 g"),
            "/Type": pdf_name("/Annot"),
            "/Subtype": pdf_name("/Widget"),
            "/F": generic.NumberObject(PRINT),  # type: ignore[no-untyped-call]
            "/P": page_ref,
            "/Rect": _numbers(slot.box),
            "/AP": _dictionary({"/N": _face(writer, slot.placeholder, slot)}),
        }
        reference = writer.add_object(_dictionary(field))
        form["/Fields"].append(reference)
        writer.register_annotation(page_ref, reference)  # type: ignore[no-untyped-call]
    writer.update_container(form)


def page_size(writer: IncrementalPdfFileWriter, index: int) -> tuple[float, float, float, float]:
    """A page's media box (it may be inherited from the page tree)."""
    box = find_inherited_value_in_tree(  # type: ignore[no-untyped-call]  # untyped in pyHanko
        _page(writer, index)[1], "/MediaBox", "/Parent"
    )
    left, bottom, right, top = (float(value) for value in box)
    return left, bottom, right, top


def our_fields(writer: IncrementalPdfFileWriter) -> dict[str, generic.DictionaryObject]:
    """The number and date fields :func:`add_fields` made, by name (none on a draft no one
    signed)."""
    found: dict[str, generic.DictionaryObject] = {}
    try:  # indexing resolves indirect objects, ``get`` does not
        references = writer.root["/AcroForm"]["/Fields"]
    except KeyError:
        return found
    for reference in references:
        field = reference.get_object()
        if str(field.get("/T", "")) in (NUMBER_FIELD, DATE_FIELD):
            found[str(field["/T"])] = field
    return found


def fill_fields(writer: IncrementalPdfFileWriter, values: Mapping[str, str]) -> None:
    """Set each field's value and a new appearance showing it: form filling, which an earlier
    signature allows (new appearance streams, never the old ones rewritten in place)."""
    for name, field in our_fields(writer).items():
        x1, y1, x2, y2 = (float(value) for value in field["/Rect"])
        size = float(str(field["/DA"]).split()[1])
        slot = Slot(name, (x1, y1, x2, y2), size)
        field[pdf_name("/V")] = pdf_string(values[name])
        field[pdf_name("/AP")] = _dictionary({"/N": _face(writer, values[name], slot)})
        writer.update_container(field)
