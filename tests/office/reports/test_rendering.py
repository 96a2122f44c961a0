"""The periodic IT report rendered as HTML, PDF and DOCX, checked by reading the files back."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest

from config.errors import Invalid
from office.reports import wording
from office.reports.aggregate import UnitInfo
from office.reports.charts import ACCESSES_TITLE, VOLUME_TITLE, report_charts
from office.reports.letterhead import Issue, letterhead
from office.reports.periods import YEAR, Period
from office.reports.rendering import (
    CONTENT_TYPES,
    FORMATS,
    SUFFIXES,
    months_text,
    period_text,
    render,
    to_docx,
    to_html,
    to_pdf,
)
from office.reports.summary import (
    EXEMPT,
    LATE,
    MISSING,
    ON_TIME,
    MonthPoint,
    PeriodFigures,
    ProvinceReport,
    Reporting,
    UnitForm,
    UnitRow,
    Usage,
)

GB = wording.GIGABYTE
SEED_PARAGRAPH = (
    "Đến năm 2005 có 389/425 người biết sử dụng vi tính, 163 người trực tiếp tham gia sử dụng "
    "mạng tin học, có 43.785 lượt người truy cập mạng (năm 2004 là 6.014 người, tăng 37.771 "
    "lượt người). Bình quân mỗi tháng có 3.648 lượt truy cập, tăng 3.148 lượt. Tổng lượng "
    "thông tin trao đổi 14,57Gigabai (năm 2004: 3,5Gigabai, tăng hơn 11Gigabai)."
)
PROVINCE = "Văn phòng Tỉnh uỷ"
LATE_UNIT = "Thị uỷ Đông Hà"
IDLE_UNIT = "Đảng uỷ cơ quan Dân Chính Đảng"
FORM_UNIT = "Huyện uỷ Cam Lộ"
IDLE_REASON = "không vào sổ công văn đến nào trong kỳ"
DIRECTORY = {
    unit.code: unit
    for unit in (
        UnitInfo("TU", "Tỉnh uỷ Quảng Trị", "province", None),
        UnitInfo("VPTU", PROVINCE, "board", "TU"),
    )
}


def figures(accesses: int, gigabytes: float, people: int, staff: tuple[int, int]) -> PeriodFigures:
    size = round(gigabytes * GB)
    return PeriodFigures(
        usage=Usage(
            accesses=accesses,
            bytes_in=size // 2,
            bytes_out=size - size // 2,
            documents_sent=accesses // 40,
            documents_received=accesses // 20,
            incoming_registered=accesses // 25,
            incoming_done=accesses // 30,
            incoming_overdue=accesses // 900,
            mails_sent=accesses // 10,
        ),
        active_people=people,
        staff_computer_literate=staff[0],
        staff_total=staff[1],
        computers=people // 8,
        servers=2,
    )


def row(
    name: str,
    state: str,
    current: PeriodFigures,
    *,
    form: UnitForm | None = None,
    missing: tuple[str, ...] = (),
    late: tuple[str, ...] = (),
    idle: tuple[str, ...] = (),
) -> UnitRow:
    return UnitRow(
        code=name[:3],
        name=name,
        kind="unit",
        figures=current,
        previous=PeriodFigures(),
        form=form,
        reporting=Reporting(state, missing=missing, late=late),
        idle_reasons=idle,
    )


def monthly(total: int, previous: int, size: float, previous_size: float) -> tuple[MonthPoint, ...]:
    """Twelve months that add up to the year's figures, growing through the year."""
    weights = range(1, 13)

    def share(amount: int) -> list[int]:
        parts = [amount * w // 78 for w in weights]
        parts[-1] += amount - sum(parts)
        return parts

    return tuple(
        MonthPoint(month, *values)
        for month, *values in zip(
            range(1, 13),
            share(total),
            share(round(size * GB)),
            share(previous),
            share(round(previous_size * GB)),
            strict=True,
        )
    )


@pytest.fixture(scope="module")
def report() -> ProvinceReport:
    period = Period(2005, YEAR)
    total = figures(43785, 14.57, 163, (389, 425))
    previous = figures(6014, 3.5, 60, (300, 410))
    rows = (
        row(PROVINCE, EXEMPT, figures(30000, 10.0, 100, (200, 210))),
        row(
            LATE_UNIT,
            LATE,
            figures(9000, 3.0, 40, (100, 120)),
            missing=("2005-11", "2005-12"),
            late=("2005-10",),
        ),
        row(
            IDLE_UNIT,
            MISSING,
            figures(785, 0.07, 3, (29, 35)),
            missing=("2005-12",),
            idle=(IDLE_REASON,),
        ),
        row(
            FORM_UNIT,
            ON_TIME,
            figures(4000, 1.5, 20, (60, 60)),
            form=UnitForm(
                lan_state="Mạng LAN hoạt động ổn định",
                connection_state="Đường truyền chậm <giờ cao điểm>",
                incidents="",
                proposals="Đề nghị cấp thêm 01 máy chủ",
            ),
        ),
    )
    return ProvinceReport(
        unit="TU",
        unit_name="Tỉnh uỷ Quảng Trị",
        period=period,
        generated_at=datetime(2006, 3, 30, 20, 0, tzinfo=UTC),
        rows=rows,
        total=total,
        previous_total=previous,
        monthly=monthly(43785, 6014, 14.57, 3.5),
        paragraph=wording.usage_paragraph(period, total, previous),
        notes=wording.NOTES,
        letterhead=letterhead(DIRECTORY, "VPTU", "VPTU", Issue()),
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_fixture_writes_the_seed_reports_sentence(report: ProvinceReport) -> None:
    assert report.paragraph == SEED_PARAGRAPH


def test_html_carries_the_paragraph_verbatim_and_both_charts(report: ProvinceReport) -> None:
    html = to_html(report)
    assert f'<p class="usage">{SEED_PARAGRAPH}</p>' in html
    assert html.count('<img src="data:image/png;base64,') == 2
    assert f'alt="{ACCESSES_TITLE}"' in html
    assert f'alt="{VOLUME_TITLE}"' in html
    assert '<html lang="vi">' in html
    assert "Tình hình ứng dụng công nghệ thông tin năm 2005" in html
    # Generated at 20:00 UTC on 30 March, which is already 31 March in Vietnam.
    assert "31/03/2006" in html


def test_html_lists_late_and_idle_units_in_their_sections(report: ProvinceReport) -> None:
    html = to_html(report)
    late = html[html.index("3. Đơn vị chậm") : html.index("4. Đơn vị chưa sử dụng")]
    idle = html[html.index("4. Đơn vị chưa sử dụng") : html.index("5. Tình trạng mạng")]
    assert LATE_UNIT in late and IDLE_UNIT in late
    assert "chưa báo cáo 11/2005–12/2005; báo cáo chậm 10/2005" in late
    assert PROVINCE not in late and FORM_UNIT not in late
    assert IDLE_UNIT in idle and IDLE_REASON in idle
    assert LATE_UNIT not in idle


def test_html_tables_use_vietnamese_numbers(report: ProvinceReport) -> None:
    html = flat(to_html(report))
    assert '<td class="n">43.785</td><td class="n">6.014</td><td class="n">+37.771</td>' in html
    assert '<td class="n">3.648</td><td class="n">501</td><td class="n">+3.148</td>' in html
    assert '<td class="n">14,57</td><td class="n">3,5</td><td class="n">+11,07</td>' in html
    assert '<td class="n">389/425 (91,5%)</td>' in html
    assert "<td>không thuộc diện báo cáo</td>" in html and "<td>đúng hạn</td>" in html
    assert "<td>chưa báo cáo 11/2005–12/2005; báo cáo chậm 10/2005</td>" in html
    assert "<td>chưa báo cáo 12/2005</td>" in html


def test_html_escapes_what_units_typed(report: ProvinceReport) -> None:
    html = to_html(report)
    assert "Đường truyền chậm &lt;giờ cao điểm&gt;" in html
    assert "<giờ cao điểm>" not in html
    assert "Đề nghị cấp thêm 01 máy chủ" in html
    forms = html[html.index("5. Tình trạng mạng") : html.index("Ghi chú")]
    assert "Sự cố" not in forms  # left empty on the form


def test_a_report_without_months_has_no_charts(report: ProvinceReport) -> None:
    from dataclasses import replace

    bare = replace(report, monthly=(), rows=(report.rows[0],))
    html = to_html(bare)
    assert "<img" not in html
    assert "Không có số liệu theo tháng." in html
    assert html.count("Không có đơn vị nào.") == 3


def test_charts_are_distinct_deterministic_pngs(report: ProvinceReport) -> None:
    charts = report_charts(report)
    assert [chart.title for chart in charts] == [ACCESSES_TITLE, VOLUME_TITLE]
    for chart in charts:
        assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")
        assert b"Software" not in chart.png
    assert charts[0].png != charts[1].png
    assert report_charts(report) == charts


def test_pdf_shows_the_figures_the_units_and_two_charts(
    report: ProvinceReport, tmp_path: Path
) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(to_pdf(report))
    text = flat(
        subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
        ).stdout
    )
    assert flat(SEED_PARAGRAPH) in text
    for name in (LATE_UNIT, IDLE_UNIT, IDLE_REASON, ACCESSES_TITLE, VOLUME_TITLE):
        assert name in text
    assert "Tổng cộng" in text and "43.785" in text
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, check=True, text=True
    ).stdout.splitlines()[2:]
    assert [line.split()[2] for line in listing].count("image") == 2


def test_docx_has_the_paragraph_tables_and_two_pictures(report: ProvinceReport) -> None:
    document = docx.Document(io.BytesIO(to_docx(report)))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert SEED_PARAGRAPH in texts
    _letterhead, summary, units, _signing = document.tables
    assert [cell.text for cell in summary.rows[2].cells] == [
        "Lượt truy cập mạng",
        "43.785",
        "6.014",
        "+37.771",
    ]
    names = [r.cells[1].text for r in units.rows]
    assert names[2:] == [PROVINCE, LATE_UNIT, IDLE_UNIT, FORM_UNIT, "Tổng cộng"]
    assert len(document.inline_shapes) == 2
    assert f"{LATE_UNIT}: chưa báo cáo 11/2005–12/2005; báo cáo chậm 10/2005" in texts
    assert f"{IDLE_UNIT}: {IDLE_REASON}" in texts
    assert document.styles["Normal"].font.name == "Times New Roman"


@pytest.mark.parametrize("name", FORMATS)
def test_render_gives_each_format_its_own_bytes(report: ProvinceReport, name: str) -> None:
    body = render(report, name)
    magic = {"html": b"<!doctype html>", "pdf": b"%PDF-", "docx": b"PK\x03\x04"}[name]
    assert body.startswith(magic)
    assert SUFFIXES[name] == "." + name
    assert CONTENT_TYPES[name]


def test_render_refuses_an_unknown_format(report: ProvinceReport) -> None:
    with pytest.raises(Invalid) as refused:
        render(report, "xlsx")
    assert refused.value.code == "report-format"


@pytest.mark.parametrize(
    ("key", "text"),
    [("2005-11", "11/2005"), ("2005-01", "01/2005"), ("2005-Q4", "quý IV/2005"), ("2005", "2005")],
)
def test_period_keys_read_as_the_report_writes_them(key: str, text: str) -> None:
    assert period_text(key) == text


def test_consecutive_months_are_written_as_one_range() -> None:
    months = ("2005-11", "2005-12", "2006-01", "2006-03", "2006-05", "2006-06")
    assert months_text(months) == "11/2005–01/2006, 03/2006, 05/2006–06/2006"
    assert months_text(("2006-02",)) == "02/2006"
