"""The registers on paper and in a spreadsheet: the printed book (PDF, through WeasyPrint, in
the layout of the legal register) and an Excel workbook offices can sort and archive.

The cells are typed: a number is a number and a day a date in the workbook (with a
``dd/mm/yyyy`` format), so a spreadsheet sorts and sums them; the print writes them the
Vietnamese way. One export is one book: the ordinary one, or the secret one (sổ mật) with the
mark in its title and its file name (:mod:`office.documents.books`).

Both are built in a thread (``run_in_executor``): WeasyPrint takes a while for a long book.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiohttp_jinja2
from aiohttp import web

from office.documents import books
from office.formats import format_datetime, format_day, local_time
from office.web.messages import Translator
from office.web.printing import html_to_pdf

#: A long book is split by the filters, not printed whole: one export holds at most this.
MAX_EXPORT_ROWS = 10_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel's formats for a day and for a moment, the Vietnamese way.
DAY_FORMAT = "dd/mm/yyyy"
MOMENT_FORMAT = "dd/mm/yyyy hh:mm"

#: A cell: text, a number, a day, a moment (aware: shown in Vietnam's time), or nothing.
Cell = str | int | date | datetime | None


@dataclass(frozen=True)
class RegisterTable:
    """What both formats print: a title, the column headings and the typed cells."""

    title: str
    subtitle: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    #: Relative column widths (characters in the spreadsheet).
    widths: Sequence[int]


def book_title(translate: Translator, register: str, book: str) -> str:
    """ "Sổ văn bản đến", and "Sổ văn bản đến (sổ mật)" for the secret book."""
    title = translate(register)
    return f"{title} {translate('register.secret')}" if book == books.SECRET else title


def book_file_stem(stem: str, book: str) -> str:
    """``so-van-ban-den``, and ``so-van-ban-den-mat`` for the secret book."""
    return f"{stem}-mat" if book == books.SECRET else stem


def cell_text(value: Cell) -> str:
    """A cell as the printed book writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_day(value)
    return str(value)


def _sheet_value(value: Cell) -> tuple[str | int | date | datetime | None, str | None]:
    """A cell as the workbook stores it, and its number format: Excel keeps no time zone, so
    a moment is written in Vietnam's time."""
    if isinstance(value, datetime):
        return local_time(value).replace(tzinfo=None), MOMENT_FORMAT
    if isinstance(value, date):
        return value, DAY_FORMAT
    return value, None


def to_xlsx(table: RegisterTable) -> bytes:
    # openpyxl (with numpy, some 33 MiB) loads on the first export, not when the node starts.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "So"
    sheet.append([table.title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([table.subtitle])
    sheet.append(list(table.columns))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row_number, row in enumerate(table.rows, start=4):
        for column, value in enumerate(row, start=1):
            stored, number_format = _sheet_value(value)
            cell = sheet.cell(row=row_number, column=column, value=stored)
            if number_format is not None:
                cell.number_format = number_format
    for index, width in enumerate(table.widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A4"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


async def export_response(
    request: web.Request, table: RegisterTable, fmt: str, unit_name: str, stem: str
) -> web.Response:
    """The table as a download: ``xlsx``, or ``pdf`` printed from ``register_print.html``."""
    loop = asyncio.get_running_loop()
    if fmt == "xlsx":
        body, content_type = await loop.run_in_executor(None, to_xlsx, table), XLSX_TYPE
    else:
        html = aiohttp_jinja2.render_string(
            "documents/register_print.html",
            request,
            {
                "table": table,
                "rows": [[cell_text(value) for value in row] for row in table.rows],
                "unit_name": unit_name,
            },
        )
        body, content_type = await loop.run_in_executor(None, html_to_pdf, html), "application/pdf"
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )
