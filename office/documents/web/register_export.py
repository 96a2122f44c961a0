"""The registers on paper and in a spreadsheet: the printed book (PDF, through WeasyPrint, in
the layout of the legal register) and an Excel workbook offices can sort and archive.

Both are built in a thread (``run_in_executor``): WeasyPrint takes a while for a long book.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from office.web.printing import html_to_pdf

#: A long book is split by the filters, not printed whole: one export holds at most this.
MAX_EXPORT_ROWS = 10_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class RegisterTable:
    """What both formats print: a title, the column headings and the cells, as text."""

    title: str
    subtitle: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    #: Relative column widths (characters in the spreadsheet).
    widths: Sequence[int]


def to_xlsx(table: RegisterTable) -> bytes:
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
    for row in table.rows:
        sheet.append(list(row))
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
            "documents/register_print.html", request, {"table": table, "unit_name": unit_name}
        )
        body, content_type = await loop.run_in_executor(None, html_to_pdf, html), "application/pdf"
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )
