"""The IT report is a Party document (HD 36-HD/VPTW): heading, issuing body under its superior,
number line, place and date, signature block and "Nơi nhận", HD 36's margins and font, page
numbers from the second page; and its wording never compares with a figure that is not there."""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import docx
from docx.shared import Length

from config.database import open_database
from config.settings import Settings
from office.reports import wording
from office.reports.aggregate import UnitInfo
from office.reports.letterhead import (
    HEADING,
    Issue,
    Signer,
    issuing_body,
    letterhead,
    place_name,
)
from office.reports.periods import YEAR, Period
from office.reports.rendering import report_view, reporting_words, to_docx, to_html
from office.reports.service import Reports
from office.reports.summary import LATE, MISSING, PeriodFigures, Reporting, Usage
from tests.support.cli import Cli

UNITS = {
    unit.code: unit
    for unit in (
        UnitInfo("TU", "Tỉnh uỷ Quảng Trị", "province", None),
        UnitInfo("VPTU", "Văn phòng Tỉnh uỷ", "board", "TU"),
        UnitInfo("BTC", "Ban Tổ chức Tỉnh uỷ", "board", "TU"),
        UnitInfo("HU-CAMLO", "Huyện uỷ Cam Lộ", "district", "TU"),
        UnitInfo("DU-DCD", "Đảng uỷ cơ quan Dân Chính Đảng", "sector", "TU"),
        UnitInfo("X-CAMTHANH", "Đảng uỷ xã Cam Thành", "commune", "HU-CAMLO"),
    )
}
AS_OF = datetime(2006, 3, 31, 2, 0, tzinfo=UTC)


def test_the_issuing_body_is_written_under_its_superior_as_hd_36_says() -> None:
    def body(code: str) -> tuple[str, str]:
        unit = UNITS[code]
        return issuing_body(unit, UNITS.get(unit.parent or ""))

    assert body("TU") == ("", "TỈNH UỶ QUẢNG TRỊ")
    assert body("VPTU") == ("TỈNH UỶ QUẢNG TRỊ", "VĂN PHÒNG")
    assert body("BTC") == ("TỈNH UỶ QUẢNG TRỊ", "BAN TỔ CHỨC")
    assert body("HU-CAMLO") == ("ĐẢNG BỘ TỈNH QUẢNG TRỊ", "HUYỆN UỶ CAM LỘ")
    assert body("DU-DCD") == ("ĐẢNG BỘ TỈNH QUẢNG TRỊ", "ĐẢNG UỶ CƠ QUAN DÂN CHÍNH ĐẢNG")
    assert body("X-CAMTHANH") == ("ĐẢNG BỘ HUYỆN CAM LỘ", "ĐẢNG UỶ XÃ CAM THÀNH")


def test_the_place_is_the_nearest_committee_s() -> None:
    assert place_name(UNITS, "VPTU") == "Quảng Trị"
    assert place_name(UNITS, "HU-CAMLO") == "Cam Lộ"
    assert place_name(UNITS, "DU-DCD") == "Quảng Trị"
    assert place_name(UNITS, "X-CAMTHANH") == "Cam Lộ"


def test_what_is_not_given_is_left_blank_for_the_clerk_and_the_signer() -> None:
    head = letterhead(UNITS, "VPTU", "VPTU", Issue())
    assert head.heading == HEADING == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert head.number_line == "Số …-BC/VPTU"
    assert head.date_line == "Quảng Trị, ngày … tháng … năm …"
    assert all(line.startswith("……") for line in head.signature)
    assert head.recipients == ("- Tỉnh uỷ Quảng Trị,", "- Lưu Văn phòng Tỉnh uỷ.")
    top = letterhead(UNITS, "TU", "TU", Issue())
    assert top.superior == "" and top.recipients[0].startswith("- ……")


def test_a_given_number_date_and_signer_are_written_in() -> None:
    signer = Signer("T/M Ban Thường vụ", "Phó Bí thư", "Nguyễn Văn A")
    head = letterhead(UNITS, "TU", "TU", Issue(13, date(2006, 3, 31), signer))
    assert head.number_line == "Số 13-BC/TU"
    assert head.date_line == "Quảng Trị, ngày 31 tháng 03 năm 2006"
    assert head.signature == ("T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Nguyễn Văn A")


def mm(length: Length | None) -> float:
    """A margin in mm to 0,1 mm: Word keeps it in twentieths of a point (15 mm is 14,993 mm)."""
    assert length is not None
    return round(length.mm, 1)


def _pdf_text(path: Path, *pages: str) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *pages, str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_the_cli_writes_the_party_document_in_pdf_docx_and_html(
    province: Settings, cli: Cli, tmp_path: Path
) -> None:
    outputs = {}
    for file_format in ("html", "pdf", "docx"):
        outputs[file_format] = tmp_path / f"bao-cao.{file_format}"
        cli(
            "report",
            *("--dir", province.node_dir, "--unit", "BTC", "--period", "2005"),
            *("--format", file_format, "--out", outputs[file_format]),
        )
    expected = (
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "TỈNH UỶ QUẢNG TRỊ",
        "BAN TỔ CHỨC",
        "Số …-BC/BTC",
        "Quảng Trị, ngày … tháng … năm …",
        "Nơi nhận:",
        "- Tỉnh uỷ Quảng Trị,",
        "- Lưu Ban Tổ chức Tỉnh uỷ.",
        "BÁO CÁO",
    )
    html = outputs["html"].read_text(encoding="utf-8")
    pdf = _pdf_text(outputs["pdf"])
    document = docx.Document(str(outputs["docx"]))
    cells = [
        paragraph.text
        for table in document.tables
        for cell in table._cells
        for paragraph in cell.paragraphs
    ]
    words = "\n".join([*cells, *(paragraph.text for paragraph in document.paragraphs)])
    for text in expected:
        assert text in html, text
        assert text in pdf, text
        assert text in words, text
    # The heading is on the first page; page numbers start on the second, at its top.
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in _pdf_text(outputs["pdf"], "-f", "1", "-l", "1")
    assert not _pdf_text(outputs["pdf"], "-f", "1", "-l", "1").strip().startswith("1")
    assert _pdf_text(outputs["pdf"], "-f", "2", "-l", "2").strip().startswith("2")


def test_the_docx_has_hd_36_margins_font_and_page_numbers(
    province: Settings, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "bao-cao.docx"
    cli(
        "report",
        *("--dir", province.node_dir, "--unit", "TU", "--period", "2005"),
        *("--format", "docx", "--out", out, "--number", "13", "--date", "2006-03-31"),
        *("--signer-authority", "T/M Ban Thường vụ", "--signer-name", "Nguyễn Văn A"),
    )
    document = docx.Document(str(out))
    assert len(document.sections) == 3  # portrait, the landscape units table, portrait
    for section in document.sections:
        assert 30 <= mm(section.left_margin) <= 35
        assert 15 <= mm(section.right_margin) <= 20
        assert 20 <= mm(section.top_margin) <= 25
        assert 20 <= mm(section.bottom_margin) <= 25
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman"
    assert normal.size is not None and 13 <= normal.size.pt <= 14
    first = document.sections[0]
    assert first.different_first_page_header_footer
    assert "PAGE" in first.header._element.xml
    assert not any(section.different_first_page_header_footer for section in document.sections[1:])
    head, *_rest, signing = document.tables
    head_text = [p.text for cell in head._cells for p in cell.paragraphs]
    assert head_text == [
        "TỈNH UỶ QUẢNG TRỊ",
        "*",
        "Số 13-BC/TU",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Quảng Trị, ngày 31 tháng 03 năm 2006",
    ]
    signing_text = [p.text for cell in signing._cells for p in cell.paragraphs]
    assert "T/M BAN THƯỜNG VỤ" in signing_text and "Nguyễn Văn A" in signing_text
    assert "……………………" in signing_text  # the position, not given


async def test_the_signer_comes_from_the_settings_unless_given(province: Settings) -> None:
    settings = replace(
        province.reports,
        signer_authority="T/M Ban Thường vụ",
        signer_position="Phó Bí thư",
        signer_name="Nguyễn Văn A",
    )
    async with open_database(province) as sessions:
        reports = Reports(sessions, settings, province.node.units, clock=lambda: AS_OF)
        made = await reports.report("BTC", "2005")
        given = await reports.report("BTC", "2005", Issue(signer=Signer(name="Trần Thị B")))
    assert made.letterhead.signature == ("T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Nguyễn Văn A")
    assert given.letterhead.signature == ("T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Trần Thị B")
    assert made.letterhead.superior == "TỈNH UỶ QUẢNG TRỊ"
    assert made.letterhead.issuer == "BAN TỔ CHỨC"
    html = to_html(made)
    assert "Nguyễn Văn A" in html and "BAN TỔ CHỨC" in html
    assert "Nguyễn Văn A" in [
        p.text
        for table in docx.Document(io.BytesIO(to_docx(made))).tables
        for cell in table._cells
        for p in cell.paragraphs
    ]


def _figures(accesses: int, staff: tuple[int, int] = (0, 0)) -> PeriodFigures:
    return PeriodFigures(
        usage=Usage(accesses=accesses, bytes_in=accesses * 1000),
        active_people=accesses // 10,
        staff_computer_literate=staff[0],
        staff_total=staff[1],
    )


def test_nothing_is_compared_with_a_previous_figure_that_is_not_available() -> None:
    period = Period(2026, YEAR)
    paragraph = wording.usage_paragraph(period, _figures(428, (60, 66)), _figures(0))
    assert "tăng" not in paragraph and "giảm" not in paragraph
    assert "(năm 2025 chưa có số liệu để so sánh)" in paragraph
    assert not wording.counted_before(_figures(0)) and not wording.counted_before(None)
    assert wording.counted_before(_figures(1))


async def test_the_summary_table_says_a_missing_previous_figure_is_not_available(
    province: Settings,
) -> None:
    async with open_database(province) as sessions:
        reports = Reports(sessions, province.reports, province.node.units, clock=lambda: AS_OF)
        await reports.save_form(
            "BTC",
            "2005",
            {"staff_total": 70, "staff_computer_literate": 66, "computers": 9, "servers": 1},
            entered_by="test",
        )
        report = await reports.report("TU", "2005")
    rows = {row[0]: row[1:] for row in report_view(report).summary.rows}
    # 66 people able to use a computer, and no form a year before: not "+66".
    assert rows["Cán bộ biết sử dụng vi tính / tổng số"] == (
        "66/70 (94,3%)",
        wording.NOT_AVAILABLE,
        "-",
    )
    assert rows["Lượt truy cập mạng"] == ("0", wording.NOT_AVAILABLE, "-")
    assert not any(change.startswith("+") for *_figures, change in rows.values())
    assert "(năm 2004 chưa có số liệu để so sánh)" in report.paragraph


def test_the_units_table_and_section_3_say_the_same_of_each_unit() -> None:
    missing_and_late = Reporting(MISSING, missing=("2005-11", "2005-12"), late=("2005-10",))
    assert reporting_words(missing_and_late) == (
        "chưa báo cáo 11/2005–12/2005",
        "báo cáo chậm 10/2005",
    )
    assert reporting_words(Reporting(LATE, late=("2005-10",))) == ("báo cáo chậm 10/2005",)
