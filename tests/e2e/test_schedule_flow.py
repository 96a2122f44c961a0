"""In a real browser on the running demo network, JavaScript off: a week's work schedule.

The province's clerk drafts a line of the week (chaired by the leader, attended by a member of
staff) and submits the week; the leader approves it, which publishes it; the member of staff
finds the line under "my week". The demo week's marks (Tối mật, Hoãn/huỷ, Điều chỉnh) sit in
their rows on a desktop, a phone and paper. Screenshots go to ``/tmp/e2e-shots`` to be looked
at.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from office.formats import local_time
from office.schedules.rules import monday_of
from tests.conftest import SecretsSeen
from tests.e2e.test_document_flow import CHROMIUM, SHARED_SHOTS, profile, sign_in
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.demo import running_demo
from tests.support.documents import pdf_text

CONTENT = "Làm việc với Ban Tuyên giáo về đề án chuyển đổi số"


def shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(exist_ok=True)
    SHARED_SHOTS.mkdir(exist_ok=True)
    path = folder / f"schedule-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, SHARED_SHOTS / path.name)


def test_a_clerk_drafts_the_week_a_leader_approves_it_and_staff_see_it_under_my_week(
    cli: Cli, databases: DatabasePool, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    # Three weeks ahead: the demo seeds this week's schedule.
    week = monday_of(local_time(datetime.now(UTC)).date()) + timedelta(days=21)
    thursday = week + timedelta(days=3)
    week_path = f"/schedule?week={week.isoformat()}"
    shots = tmp_path / "screenshots"
    with (
        running_demo(cli, databases, tmp_path / "demo", secrets_seen) as demo,
        sync_playwright() as playwright,
    ):
        province = demo.node("TU")["web_url"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            # 1. The clerk adds a line to the week and submits it.
            clerk = profile(browser).new_page()
            sign_in(clerk, province, week_path, demo.staff("TU", "clerk"))
            expect(clerk.locator("h1")).to_have_text("Lịch công tác tuần")
            clerk.click("#add-entry")
            expect(clerk.locator("h1")).to_have_text("Thêm nội dung vào lịch tuần")
            clerk.fill("#day", thursday.isoformat())
            clerk.fill("#start_time", "14:00")
            clerk.fill("#end_time", "16:30")
            clerk.fill("#content", CONTENT)
            clerk.select_option("#chair_user_id", label="Lãnh đạo TU")
            clerk.locator("#attendees").get_by_label("Chuyên viên TU").check()
            clerk.fill("#attendees_text", "Lãnh đạo Ban Tuyên giáo Tỉnh uỷ")
            clerk.fill("#place", "Phòng họp tầng 2")
            clerk.fill("#prepared_by", "Văn phòng Tỉnh uỷ")
            shot(clerk, shots, "01-entry-form")
            clerk.click("#save-entry")
            assert clerk.url == f"{province}{week_path}", clerk.url
            row = clerk.locator("#week-table tr.entry")
            expect(row).to_have_count(1)
            expect(row).to_contain_text(CONTENT)
            expect(row).to_contain_text("Thứ Năm")
            expect(row).to_contain_text("14:00–16:30")
            expect(row).to_contain_text("Lãnh đạo TU")
            expect(row).to_contain_text("Chuyên viên TU; Lãnh đạo Ban Tuyên giáo Tỉnh uỷ")
            expect(clerk.locator("#week-state")).to_contain_text("Đang soạn")
            clerk.click("#step-submit")
            expect(clerk.locator("#week-state")).to_contain_text("Chờ lãnh đạo duyệt")
            expect(clerk.locator("#add-entry")).to_have_count(0)
            shot(clerk, shots, "02-submitted")

            # 2. The leader approves it: the week is published.
            leader = profile(browser).new_page()
            sign_in(leader, province, week_path, demo.staff("TU", "leader"))
            expect(leader.locator("#week-table")).to_contain_text(CONTENT)
            leader.click("#step-approve")
            expect(leader.locator("#week-state")).to_contain_text("Đã công bố")
            expect(leader.locator("#week-state")).to_contain_text("Phiên bản 1")
            shot(leader, shots, "03-published")

            # 3. The member of staff finds it under "my week".
            staff = profile(browser).new_page()
            sign_in(staff, province, week_path, demo.staff("TU", "staff"))
            expect(staff.locator("#week-table")).to_contain_text(CONTENT)
            staff.click("#my-week")
            expect(staff.locator("h1")).to_have_text("Lịch của tôi trong tuần")
            mine = staff.locator("#mine-table tr.entry")
            expect(mine).to_have_count(1)
            expect(mine).to_contain_text(CONTENT)
            expect(mine).to_contain_text("Phòng họp tầng 2")
            shot(staff, shots, "04-my-week")
        finally:
            browser.close()


#: The demo week's secret line (Tối mật) and its cancelled, adjusted line.
SECRET_CONTENT = "Họp Ban Thường vụ cho ý kiến về công tác nhân sự"
CANCELLED_CONTENT = "Làm việc với Ủy ban Kiểm tra về kết quả giám sát quý IV"
WIDE: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def marks_in_their_rows(page: Page, table: str) -> dict[str, list[str]]:
    """Each row's marks (badges) by the row's text, after checking that every mark's box lies
    within its row's box: a mark positioned out of its row would mark nothing."""
    marks: dict[str, list[str]] = {}
    rows = page.locator(f"{table} tr.entry")
    for index in range(rows.count()):
        row = rows.nth(index)
        row_box = row.bounding_box()
        assert row_box is not None
        badges = row.locator(".badge")
        for badge_index in range(badges.count()):
            badge = badges.nth(badge_index)
            box = badge.bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0
            assert row_box["x"] <= box["x"], (badge.inner_text(), box, row_box)
            assert box["x"] + box["width"] <= row_box["x"] + row_box["width"] + 0.5
            assert row_box["y"] <= box["y"], (badge.inner_text(), box, row_box)
            assert box["y"] + box["height"] <= row_box["y"] + row_box["height"] + 0.5
            marks.setdefault(row.inner_text(), []).append(badge.inner_text())
    return marks


def pdf_lines(path: Path) -> list[str]:
    """The PDF's text as poppler lays it out, a table's row across its columns."""
    layout = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return layout.stdout.splitlines()


def marks_of(marks: dict[str, list[str]], content: str) -> list[str]:
    (found,) = [row_marks for text, row_marks in marks.items() if content in text]
    return found


def test_the_secrecy_cancelled_and_adjusted_marks_sit_in_their_rows_on_screen_phone_and_paper(
    cli: Cli, databases: DatabasePool, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    shots = tmp_path / "screenshots"
    with (
        running_demo(cli, databases, tmp_path / "demo", secrets_seen) as demo,
        sync_playwright() as playwright,
    ):
        province = demo.node("TU")["web_url"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            for role in ("leader", "clerk"):  # the clerk's table has its edit column
                context = browser.new_context(
                    java_script_enabled=False, viewport=WIDE, locale="vi-VN"
                )
                page = context.new_page()
                sign_in(page, province, "/schedule", demo.staff("TU", role))
                for screen, size in (("desktop", WIDE), ("phone", PHONE)):
                    page.set_viewport_size(size)
                    marks = marks_in_their_rows(page, "#week-table")
                    assert marks_of(marks, SECRET_CONTENT) == ["Tối mật"], screen
                    assert marks_of(marks, CANCELLED_CONTENT) == ["Hoãn/huỷ", "Điều chỉnh"]
                    # Nothing wider than the phone's screen: the table scrolls in its card.
                    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
                    shot(page, shots, f"marks-{role}-{screen}")
                page.set_viewport_size(WIDE)
                page.emulate_media(media="print")
                marks = marks_in_their_rows(page, "#week-table")
                assert marks_of(marks, SECRET_CONTENT) == ["Tối mật"]
                assert marks_of(marks, CANCELLED_CONTENT) == ["Hoãn/huỷ", "Điều chỉnh"]
                shot(page, shots, f"marks-{role}-print")
                printed = tmp_path / f"week-{role}-browser.pdf"
                page.pdf(path=str(printed), format="A4", landscape=True)
                # The mark and the line's first words on one printed line.
                (line,) = [line for line in pdf_lines(printed) if "Tối mật" in line]
                assert "Họp Ban Thường vụ" in line and "08:00–11:30" in line
                assert "Sửa" not in " ".join(pdf_lines(printed))  # no edit column on paper
                # The office's own print (WeasyPrint) marks the line in its cell as well.
                answer = context.request.get(f"{province}/schedule/print.pdf")
                assert answer.status == 200
                printed = tmp_path / f"week-{role}-print.pdf"
                printed.write_bytes(answer.body())
                text = " ".join(pdf_text(printed).split())
                assert f"(Tối mật) {SECRET_CONTENT}" in text
                assert "(Hoãn/huỷ) (Điều chỉnh)" in text
                context.close()
        finally:
            browser.close()
