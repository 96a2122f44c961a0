"""Fed with report 13-BC/TU's own 2004 and 2005 figures, the report writes the report's own
paragraph on network use, every number identical, and the CLI puts it in HTML, PDF and DOCX."""

from __future__ import annotations

import random
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest

from config.database import open_database
from config.settings import Settings
from office.reports.service import Reports
from office.reports.wording import GIGABYTE
from tests.support.cli import Cli
from tests.support.usage import Events, seed_year

SEED_PARAGRAPH = (
    "Đến năm 2005 có 389/425 người biết sử dụng vi tính, 163 người trực tiếp tham gia sử dụng "
    "mạng tin học, có 43.785 lượt người truy cập mạng (năm 2004 là 6.014 người, tăng 37.771 "
    "lượt người). Bình quân mỗi tháng có 3.648 lượt truy cập, tăng 3.148 lượt. Tổng lượng "
    "thông tin trao đổi 14,57Gigabai (năm 2004: 3,5Gigabai, tăng hơn 11Gigabai)."
)
#: The province's node hosts these two units; 163 people used the network in 2005.
PEOPLE_2005 = {"TU": [f"tu{n:03d}" for n in range(100)], "BTC": [f"btc{n:02d}" for n in range(63)]}
PEOPLE_2004 = {"TU": [f"tu{n:03d}" for n in range(30)], "BTC": [f"btc{n:02d}" for n in range(9)]}
AS_OF = datetime(2006, 3, 31, 2, 0, tzinfo=UTC)


@pytest.fixture
async def seeded(province: Settings) -> Settings:
    rng = random.Random(2005)
    events = Events()
    seed_year(
        events, 2005, units=PEOPLE_2005, accesses=43_785, volume=int(14.57 * GIGABYTE), rng=rng
    )
    seed_year(events, 2004, units=PEOPLE_2004, accesses=6_014, volume=int(3.5 * GIGABYTE), rng=rng)
    async with open_database(province) as sessions:
        await events.write_and_roll_up(sessions)
        reports = Reports(sessions, province.reports, province.node.units, clock=lambda: AS_OF)
        for unit, staff, literate in (("TU", 240, 221), ("BTC", 185, 168)):
            await reports.save_form(
                unit,
                "2005",
                {
                    "staff_total": staff,
                    "staff_computer_literate": literate,
                    "computers": 40,
                    "servers": 2,
                    "lan_state": "Mạng LAN hoạt động ổn định",
                },
                entered_by="test",
            )
    return province


async def test_the_yearly_report_writes_the_seed_paragraph_from_counted_figures(
    seeded: Settings,
) -> None:
    async with open_database(seeded) as sessions:
        reports = Reports(sessions, seeded.reports, seeded.node.units, clock=lambda: AS_OF)
        report = await reports.report("TU", "2005")
    assert report.paragraph == SEED_PARAGRAPH
    assert report.total.usage.accesses == 43_785
    assert report.previous_total.usage.accesses == 6_014
    assert report.total.active_people == 163
    assert sum(point.accesses for point in report.monthly) == 43_785
    assert sum(point.previous_bytes_exchanged for point in report.monthly) == int(3.5 * GIGABYTE)


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_cli_writes_the_paragraph_into_html_pdf_and_docx(
    seeded: Settings, cli: Cli, tmp_path: Path
) -> None:
    outputs = {}
    for file_format in ("html", "pdf", "docx"):
        out = tmp_path / f"bao-cao-2005.{file_format}"
        cli(
            "report",
            "--dir",
            seeded.node_dir,
            "--unit",
            "TU",
            "--period",
            "2005",
            "--format",
            file_format,
            "--out",
            out,
        )
        outputs[file_format] = out
    assert SEED_PARAGRAPH in outputs["html"].read_text(encoding="utf-8")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", outputs["pdf"], "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert _words(SEED_PARAGRAPH) in _words(text)
    paragraphs = [p.text for p in docx.Document(str(outputs["docx"])).paragraphs]
    assert SEED_PARAGRAPH in paragraphs


def test_the_cli_refuses_a_future_or_malformed_period_and_an_unknown_unit(
    province: Settings, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    for period, unit, message in (
        ("2999", "TU", "chưa bắt đầu"),
        ("2005-13", "TU", "không hợp lệ"),
        ("2005-Q5", "TU", "không hợp lệ"),
        ("2005", "HU-KHONGCO", "không có trong danh bạ"),
    ):
        result = cli(
            "report",
            "--dir",
            province.node_dir,
            "--unit",
            unit,
            "--period",
            period,
            "--out",
            out,
            check=False,
        )
        assert result.returncode == 1, result
        assert message in result.stderr
    assert not out.exists()


def test_a_unit_s_form_is_entered_from_the_cli_and_a_wrong_one_refused(
    province: Settings, cli: Cli
) -> None:
    base = ["report", "form", "--dir", province.node_dir, "--unit", "BTC", "--period", "2005-11"]
    figures = ["--staff-total", "20", "--computers", "8", "--servers", "1"]
    refused = cli(*base, *figures, "--staff-computer-literate", "21", check=False)
    assert refused.returncode == 1
    assert "không thể lớn hơn tổng số cán bộ (20)" in refused.stderr
    saved = cli(*base, *figures, "--staff-computer-literate", "18", "--incidents", "Không có")
    assert "form saved" in saved.stdout
    elsewhere = cli(
        *base[:5], "HU-CAMLO", *base[6:], *figures, "--staff-computer-literate", "1", check=False
    )
    assert elsewhere.returncode == 1
    assert "không thuộc máy chủ này" in elsewhere.stderr
