"""The periodic IT report as a Word document, laid out from the same text as the HTML.

Units open the DOCX to add their own paragraphs before the report is signed, so it uses Word's
own structure (heading styles, real tables with a repeating header, inline pictures) rather than
a picture of the page. Times New Roman is the face offices use for official documents and has
every Vietnamese letter; the theme fonts of python-docx's template are dropped so headings use it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph

if TYPE_CHECKING:
    from docx.document import Document as DocumentObject

    from office.reports.letterhead import Letterhead
    from office.reports.rendering import Entry, ReportView, Table

FONT = "Times New Roman"
#: HD 36-HD/VPTW: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm. Every section (the
#: landscape one of the units table too) copies them from the first.
MARGINS = {
    "top_margin": Mm(20),
    "bottom_margin": Mm(20),
    "left_margin": Mm(30),
    "right_margin": Mm(15),
}
PICTURE_WIDTH = Cm(16)
_THEME_FONTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def write_docx(view: ReportView, text: Mapping[str, str]) -> bytes:
    document = Document()
    _set_up(document, view.title)

    _letterhead(document, view.letterhead)
    _centred(document, text["report"], bold=True, size=15)
    _centred(document, view.title, bold=True)

    document.add_heading(text["usage"], level=1)
    document.add_paragraph(view.paragraph)
    document.add_heading(text["summary"], level=2)
    _table(document, view.summary, widths=(6.0, 3.5, 3.5, 3.5))

    document.add_heading(text["charts"], level=2)
    if not view.charts:
        document.add_paragraph(text["no_charts"])
    for chart in view.charts:
        caption = _centred(document, chart.title, bold=True)
        caption.paragraph_format.keep_with_next = True
        document.add_picture(io.BytesIO(chart.png), width=PICTURE_WIDTH)
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    # The units table has fourteen columns: it gets a landscape page of its own.
    _new_section(document, landscape=True)
    document.add_heading(text["units"], level=1)
    _table(document, view.units, widths=(0.9, 4.2, 2.0, *(1.55,) * 10, 2.1), size=9)
    _new_section(document, landscape=False)

    for key, entries in (("late", view.late), ("idle", view.idle)):
        document.add_heading(text[key], level=1)
        _entries(document, entries, text["none"])
    document.add_heading(text["forms"], level=1)
    if not view.forms:
        document.add_paragraph(text["none"])
    for entry in view.forms:
        document.add_paragraph().add_run(entry.name).bold = True
        for label, detail in entry.fields:
            item = document.add_paragraph(style="List Bullet")
            item.add_run(f"{label}: ").bold = True
            item.add_run(detail)

    document.add_heading(text["notes"], level=2)
    for note in view.notes:
        document.add_paragraph(note, style="List Bullet")
    document.add_paragraph().add_run(view.generated).italic = True
    _signing(document, view.letterhead, text["recipients"])

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_up(document: DocumentObject, title: str) -> None:
    """A4 with HD 36's margins, Times New Roman 13 in Vietnamese for the body and the headings,
    page numbers at the top centre from the second page (HD 36-HD/VPTW)."""
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side, size in MARGINS.items():
        setattr(section, side, size)
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_field(number)
    document.core_properties.title = title
    document.core_properties.language = "vi-VN"
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet"):
        style = document.styles[name]
        assert isinstance(style, ParagraphStyle)
        style.font.name = FONT
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in _THEME_FONTS:
            fonts.attrib.pop(qn(attribute), None)
        if name.startswith("Heading"):
            style.font.color.rgb = RGBColor(0, 0, 0)
            style.font.size = Pt(14 if name == "Heading 1" else 13)
    normal = document.styles["Normal"]
    assert isinstance(normal, ParagraphStyle)
    normal.font.size = Pt(13)
    # Word refuses run properties out of schema order: w:lang goes before these.
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "vi-VN")
    normal.element.get_or_add_rPr().insert_element_before(
        language, "w:eastAsianLayout", "w:specVanish", "w:oMath"
    )


def _new_section(document: DocumentObject, *, landscape: bool) -> None:
    section = document.add_section()
    # Only the document's first page goes without a number; the section's header is the first's.
    section.different_first_page_header_footer = False
    short, long = sorted((section.page_width or Cm(21), section.page_height or Cm(29.7)))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long, short) if landscape else (short, long)


def _centred(
    document: DocumentObject, words: str, *, bold: bool = False, size: int = 0
) -> Paragraph:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(words)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    return paragraph


def _table(
    document: DocumentObject, table: Table, *, widths: tuple[float, ...], size: int = 11
) -> None:
    """A grid with the view's header (merged cells as the spans say) repeated on each page.

    Widths go both on the grid and on every cell: LibreOffice reads the first, Word the second.
    """
    columns = len(widths)
    header_rows = len(table.header)
    body = [*table.rows, *((table.total,) if table.total else ())]
    grid = document.add_table(rows=header_rows + len(body), cols=columns)
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for c, width in enumerate(widths):
        grid.columns[c].width = Cm(width)
    taken: set[tuple[int, int]] = set()
    for r, header in enumerate(table.header):
        _repeat_as_header(grid, r)
        c = 0
        for cell in header:
            while (r, c) in taken:
                c += 1
            taken.update((r + i, c + j) for i in range(cell.rowspan) for j in range(cell.colspan))
            target = grid.cell(r, c)
            if cell.rowspan > 1 or cell.colspan > 1:
                target = target.merge(grid.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
            target.width = Cm(sum(widths[c : c + cell.colspan]))
            _fill(target, cell.text, size=size, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
            c += cell.colspan
    for r, values in enumerate(body, start=header_rows):
        bold = bool(table.total) and r == header_rows + len(body) - 1
        for c, value in enumerate(values):
            align = WD_ALIGN_PARAGRAPH.RIGHT if table.figures[c] else WD_ALIGN_PARAGRAPH.LEFT
            target = grid.cell(r, c)
            target.width = Cm(widths[c])
            _fill(target, value, size=size, bold=bold, align=align)


def _fill(cell: _Cell, words: str, *, size: int, bold: bool, align: WD_ALIGN_PARAGRAPH) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    run = paragraph.add_run(words)
    run.bold = bold
    run.font.size = Pt(size)


def _repeat_as_header(grid: DocxTable, index: int) -> None:
    """Mark a row as a header row, which Word repeats at the top of every page of the table."""
    properties = grid.rows[index]._tr.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    properties.insert_element_before(marker, "w:tblCellSpacing", "w:jc", "w:hidden")


def _entries(document: DocumentObject, entries: tuple[Entry, ...], empty: str) -> None:
    if not entries:
        document.add_paragraph(empty)
    for entry in entries:
        item = document.add_paragraph(style="List Bullet")
        item.add_run(f"{entry.name}: ").bold = True
        item.add_run("; ".join(entry.details))


def _page_field(paragraph: Paragraph) -> None:
    """A PAGE field: Word and LibreOffice write the page's number in it."""
    run = paragraph.add_run()
    for kind, instruction in (("begin", ""), ("", " PAGE "), ("end", "")):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = instruction
        run._r.append(element)


def _two_columns(document: DocumentObject, widths: tuple[float, float]) -> tuple[_Cell, _Cell]:
    """A borderless two-column table, the way HD 36 sets the heading and the signature."""
    grid = document.add_table(rows=1, cols=2)
    grid.autofit = False
    cells = grid.rows[0].cells
    for cell, width in zip(cells, widths, strict=True):
        cell.width = Cm(width)
    return cells[0], cells[1]


def _line(
    cell: _Cell,
    words: str,
    *,
    first: bool = False,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
) -> None:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = align
    run = paragraph.add_run(words)
    run.bold, run.italic, run.underline = bold, italic, underline


def _letterhead(document: DocumentObject, head: Letterhead) -> None:
    """Left: the superior, the issuer in bold, ``*``, the number line; right: the heading and
    the place and date (HD 36)."""
    left, right = _two_columns(document, (7.5, 9.0))
    lines = [(head.superior, False)] if head.superior else []
    for index, (words, bold) in enumerate([*lines, (head.issuer, True), ("*", False)]):
        _line(left, words, first=index == 0, bold=bold)
    _line(left, head.number_line)
    _line(right, head.heading, first=True, bold=True, underline=True)
    _line(right, head.date_line, italic=True)


def _signing(document: DocumentObject, head: Letterhead, recipients: str) -> None:
    """Left: "Nơi nhận"; right: the authority, the position, room to sign, the name."""
    left, right = _two_columns(document, (7.5, 9.0))
    _line(left, recipients, first=True, italic=True, underline=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    for words in head.recipients:
        _line(left, words, align=WD_ALIGN_PARAGRAPH.LEFT)
    authority, position, name = head.signature
    _line(right, authority, first=True, bold=True)
    _line(right, position, bold=True)
    for _ in range(3):
        _line(right, "")
    _line(right, name, bold=True)
