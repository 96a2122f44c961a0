"""The periodic IT report as HTML, PDF or DOCX, with its charts.

Every figure is turned into text once, here, by :mod:`office.reports.wording`
(:func:`report_view`), so the three formats cannot disagree on a number or a rounding; the HTML
template and :mod:`office.reports.docx_report` only lay that text out. The PDF is the HTML
printed by WeasyPrint, so it looks like what the browser shows.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jinja2

from config.errors import Invalid
from office.formats import format_date
from office.reports import refusals, wording
from office.reports.periods import Period
from office.reports.summary import (
    EXEMPT,
    LATE,
    MISSING,
    NOT_DUE,
    ON_TIME,
    PeriodFigures,
    ProvinceReport,
    Reporting,
    UnitRow,
)

if TYPE_CHECKING:
    from office.reports.charts import Chart
    from office.reports.letterhead import Letterhead

FORMATS = ("html", "pdf", "docx")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
SUFFIXES = {"html": ".html", "pdf": ".pdf", "docx": ".docx"}

#: The report's fixed wording, shared by the HTML template and the DOCX writer.
TEXT = {
    "report": "BÁO CÁO",
    "recipients": "Nơi nhận:",
    "title": "Tình hình ứng dụng công nghệ thông tin {period}",
    "generated": "Số liệu lập ngày {date}.",
    "usage": "1. Tình hình sử dụng mạng và khai thác thông tin trên mạng",
    "summary": "Số liệu tổng hợp",
    "charts": "Biểu đồ",
    "no_charts": "Không có số liệu theo tháng.",
    "units": "2. Số liệu theo đơn vị",
    "late": "3. Đơn vị chậm hoặc chưa báo cáo",
    "idle": "4. Đơn vị chưa sử dụng hệ thống điều hành tác nghiệp",
    "forms": "5. Tình trạng mạng, sự cố và kiến nghị",
    "notes": "Ghi chú",
    "none": "Không có đơn vị nào.",
}
STATES = {
    EXEMPT: "không thuộc diện báo cáo",
    NOT_DUE: "chưa đến hạn",
    ON_TIME: "đúng hạn",
    LATE: "báo cáo chậm",
    MISSING: "chưa báo cáo",
}
FORM_FIELDS = (
    ("lan_state", "Tình trạng mạng LAN"),
    ("connection_state", "Kết nối mạng diện rộng"),
    ("incidents", "Sự cố"),
    ("proposals", "Kiến nghị, đề xuất"),
)
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV"}
#: The increase column against a previous figure that is not available.
NO_CHANGE = "-"


@dataclass(frozen=True)
class HeaderCell:
    text: str
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True)
class Table:
    header: tuple[tuple[HeaderCell, ...], ...]
    rows: tuple[tuple[str, ...], ...]
    #: The totals row, set apart in bold; empty when the table has none.
    total: tuple[str, ...] = ()
    #: Which columns hold figures (aligned right, never wrapped); the others hold words.
    figures: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Entry:
    """A unit in one of the report's lists, with what is said about it."""

    name: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class FormEntry:
    """What a unit wrote on its form, field by field (label, text); empty fields left out."""

    name: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ReportView:
    unit_name: str
    letterhead: Letterhead
    title: str
    generated: str
    paragraph: str
    summary: Table
    charts: tuple[Chart, ...]
    units: Table
    late: tuple[Entry, ...]
    idle: tuple[Entry, ...]
    forms: tuple[FormEntry, ...]
    notes: tuple[str, ...]


def report_title(period: Period) -> str:
    """The line under "BÁO CÁO": ``Tình hình ứng dụng công nghệ thông tin tháng 11 năm 2026``."""
    return TEXT["title"].format(period=period.label)


def report_view(report: ProvinceReport) -> ReportView:
    """The report with every figure already written out, ready to lay out in any format."""
    # Imported here: matplotlib takes seconds to load, and only a report needs it, not every
    # `congvan` command nor a node's start.
    from office.reports.charts import report_charts

    return ReportView(
        unit_name=report.unit_name,
        letterhead=report.letterhead,
        title=report_title(report.period),
        generated=TEXT["generated"].format(date=format_date(report.generated_at)),
        paragraph=report.paragraph,
        summary=_summary_table(report),
        charts=report_charts(report),
        units=_units_table(report),
        late=tuple(Entry(row.name, reporting_words(row.reporting)) for row in report.late_rows),
        idle=tuple(Entry(row.name, row.idle_reasons) for row in report.idle_rows),
        forms=tuple(entry for row in report.rows if (entry := _forms_entry(row)) is not None),
        notes=report.notes,
    )


def to_html(report: ProvinceReport) -> str:
    """A standalone page (styles and charts inline) that prints on A4."""
    template = _environment().get_template("it_report.html")
    return template.render(view=report_view(report), text=TEXT)


def to_pdf(report: ProvinceReport) -> bytes:
    # Imported here: WeasyPrint loads Pango and fonts, which only a PDF needs.
    from weasyprint import HTML

    pdf: bytes = HTML(string=to_html(report)).write_pdf()
    return pdf


def to_docx(report: ProvinceReport) -> bytes:
    """The same report as a Word document, for units that edit it before signing."""
    from office.reports.docx_report import write_docx  # python-docx: only a DOCX needs it

    return write_docx(report_view(report), TEXT)


def render(report: ProvinceReport, format: str) -> bytes:
    """The report in one of :data:`FORMATS`; refuse any other name."""
    if format == "html":
        return to_html(report).encode("utf-8")
    if format == "pdf":
        return to_pdf(report)
    if format == "docx":
        return to_docx(report)
    raise Invalid(refusals.BAD_FORMAT(name=format), code="report-format")


def period_text(key: str) -> str:
    """A period key as the report writes it: ``2005-11`` -> ``11/2005``, ``2005-Q4`` -> ``quý
    IV/2005``, ``2005`` -> ``2005``."""
    year, _, part = key.partition("-")
    if not part:
        return year
    if part.startswith("Q"):
        return f"quý {_ROMAN.get(part[1:], part[1:])}/{year}"
    return f"{part}/{year}"


def months_text(months: Sequence[str]) -> str:
    """Months as ``01/2006–10/2006, 12/2006``: a run of consecutive months as one range, so a
    unit that has not reported all year takes a line, not twelve entries."""
    runs: list[list[str]] = []
    for month in sorted(months):
        year, number = int(month[:4]), int(month[5:7])
        if runs:
            last = runs[-1][-1]
            follows = (int(last[:4]) * 12 + int(last[5:7])) + 1 == year * 12 + number
            if follows:
                runs[-1].append(month)
                continue
        runs.append([month])
    return ", ".join(
        period_text(run[0]) if len(run) == 1 else f"{period_text(run[0])}–{period_text(run[-1])}"
        for run in runs
    )


@functools.cache
def _environment() -> jinja2.Environment:
    """One environment per process: templates ship with the code and never change under it."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("office.reports"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )
    environment.filters["data_uri"] = _png_data_uri
    return environment


def _png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _signed(difference: float, text: str) -> str:
    """``+37.771``, ``-12``, ``0``: the increase column of the summary table."""
    if difference > 0:
        return "+" + text
    if difference < 0:
        return "-" + text
    return text


def _summary_table(report: ProvinceReport) -> Table:
    """This period against the same period a year before. A previous figure that is not
    available (a year before the system counted, a form never entered) is said to be so, and
    no increase is written against it: the whole figure is not an increase."""
    now, before = report.total, report.previous_total
    counted = wording.counted_before(before)
    rows: list[tuple[str, ...]] = [
        (
            "Cán bộ biết sử dụng vi tính / tổng số",
            _staff(now),
            _staff(before) if before.staff_total else wording.NOT_AVAILABLE,
            _count_change(now.staff_computer_literate, before.staff_computer_literate)
            if now.staff_total and before.staff_total
            else NO_CHANGE,
        )
    ]

    def compared(label: str, current: str, previous: str, change: str) -> None:
        if counted:
            rows.append((label, current, previous, change))
        else:
            rows.append((label, current, wording.NOT_AVAILABLE, NO_CHANGE))

    def whole(label: str, current: int, previous: int) -> None:
        compared(
            label, wording.count(current), wording.count(previous), _count_change(current, previous)
        )

    whole("Lượt truy cập mạng", now.usage.accesses, before.usage.accesses)
    step = wording.round_half_up(now.monthly_accesses - before.monthly_accesses)
    compared(
        "Bình quân lượt truy cập mỗi tháng",
        wording.count(math.floor(now.monthly_accesses)),
        wording.count(math.floor(before.monthly_accesses)),
        _signed(step, wording.count(abs(step))),
    )
    whole("Người trực tiếp sử dụng mạng", now.active_people, before.active_people)
    volume = wording.gigabytes(now.usage.bytes_exchanged)
    before_volume = wording.gigabytes(before.usage.bytes_exchanged)
    change = round(volume - before_volume, 2)
    compared(
        "Lượng thông tin trao đổi (Gigabai)",
        wording.decimal(volume),
        wording.decimal(before_volume),
        _signed(change, wording.decimal(abs(change))),
    )
    whole("Văn bản điện tử gửi đi", now.usage.documents_sent, before.usage.documents_sent)
    whole("Văn bản điện tử nhận về", now.usage.documents_received, before.usage.documents_received)
    whole("Công văn đến vào sổ", now.usage.incoming_registered, before.usage.incoming_registered)
    whole("Công văn đến đã giải quyết", now.usage.incoming_done, before.usage.incoming_done)
    whole("Công văn đến quá hạn", now.usage.incoming_overdue, before.usage.incoming_overdue)
    whole("Thư điện tử gửi đi", now.usage.mails_sent, before.usage.mails_sent)
    header = (
        HeaderCell("Chỉ tiêu"),
        HeaderCell(report.period.label.capitalize()),
        HeaderCell(report.period.previous_year().label.capitalize()),
        HeaderCell("Tăng (+), giảm (-)"),
    )
    return Table((header,), tuple(rows), figures=(False, True, True, True))


def _count_change(current: int, previous: int) -> str:
    return _signed(current - previous, wording.count(abs(current - previous)))


def _staff(figures: PeriodFigures) -> str:
    """``389/425 (91,5%)``; ``-`` when no form gave the staff count."""
    if not figures.staff_total:
        return "-"
    literate, total = figures.staff_computer_literate, figures.staff_total
    return f"{wording.count(literate)}/{wording.count(total)} ({wording.percent(literate, total)})"


UNITS_HEADER = (
    (
        HeaderCell("STT", rowspan=2),
        HeaderCell("Đơn vị", rowspan=2),
        HeaderCell("Biết vi tính / tổng số cán bộ", rowspan=2),
        HeaderCell("Máy tính", rowspan=2),
        HeaderCell("Máy chủ", rowspan=2),
        HeaderCell("Lượt truy cập", rowspan=2),
        HeaderCell("Người sử dụng", rowspan=2),
        HeaderCell("Thông tin trao đổi (GB)", rowspan=2),
        HeaderCell("Văn bản điện tử", colspan=2),
        HeaderCell("Công văn đến", colspan=3),
        HeaderCell("Báo cáo định kỳ", rowspan=2),
    ),
    (
        HeaderCell("Gửi"),
        HeaderCell("Nhận"),
        HeaderCell("Vào sổ"),
        HeaderCell("Đã giải quyết"),
        HeaderCell("Quá hạn"),
    ),
)


def _unit_figures(figures: PeriodFigures) -> tuple[str, ...]:
    usage = figures.usage
    staff = (
        f"{wording.count(figures.staff_computer_literate)}/{wording.count(figures.staff_total)}"
        if figures.staff_total
        else "-"
    )
    return (
        staff,
        wording.count(figures.computers),
        wording.count(figures.servers),
        wording.count(usage.accesses),
        wording.count(figures.active_people),
        wording.decimal(wording.gigabytes(usage.bytes_exchanged)),
        wording.count(usage.documents_sent),
        wording.count(usage.documents_received),
        wording.count(usage.incoming_registered),
        wording.count(usage.incoming_done),
        wording.count(usage.incoming_overdue),
    )


def _units_table(report: ProvinceReport) -> Table:
    rows = tuple(
        (
            str(number),
            row.name,
            *_unit_figures(row.figures),
            "; ".join(reporting_words(row.reporting)),
        )
        for number, row in enumerate(report.rows, start=1)
    )
    total = ("", "Tổng cộng", *_unit_figures(report.total), "")
    return Table(UNITS_HEADER, rows, total, figures=(True, False, *(True,) * 11, False))


def reporting_words(reporting: Reporting) -> tuple[str, ...]:
    """How a unit stands with its periodic reports, in the words both the units table and
    section 3 use, so they cannot disagree: ``chưa báo cáo 11/2005–12/2005`` (due and not
    come), ``báo cáo chậm 10/2005`` (came after its due date), or the state alone."""
    details = []
    if reporting.missing:
        details.append(f"{STATES[MISSING]} {months_text(reporting.missing)}")
    if reporting.late:
        details.append(f"{STATES[LATE]} {months_text(reporting.late)}")
    return tuple(details) or (STATES.get(reporting.state, reporting.state),)


def _forms_entry(row: UnitRow) -> FormEntry | None:
    if row.form is None:
        return None
    fields = tuple(
        (label, text)
        for name, label in FORM_FIELDS
        if (text := str(getattr(row.form, name)).strip())
    )
    return FormEntry(row.name, fields) if fields else None
