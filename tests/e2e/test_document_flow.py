"""In a real browser on the running demo network, JavaScript off: a document's whole life.

The district's clerk drafts a report for the province, its leader signs it and the clerk issues
it; the province's clerk finds it in the queue, sees its signatures are valid and registers it;
the province's leader assigns it;
the member of staff finishes it; and the district's clerk watches each step arrive on the
document's timeline, then makes the district's IT report its next draft (Phát hành báo cáo).
Screenshots are kept in the test's folder and copied to ``/tmp/e2e-shots`` to be looked at.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from office.documents.pdf_signing import simple_pdf
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.demo import running_demo
from tests.support.web import StaffAccount

CHROMIUM = "/usr/bin/chromium"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SHARED_SHOTS = Path("/tmp/e2e-shots")
#: Delivery and statuses travel between nodes in the background.
TRAVEL_SECONDS = 30
POLL_SECONDS = 0.5

SUMMARY = "Báo cáo kết quả ứng dụng công nghệ thông tin năm 2026"
SIGNER = "Nguyễn Văn Hùng"
DIRECTION = "Giao Chuyên viên tổng hợp, tham mưu văn bản trả lời Huyện uỷ Cam Lộ."
RESULT = "Đã tổng hợp vào báo cáo chung của tỉnh, trình Thường trực Tỉnh uỷ."


class Shots:
    """Full-page screenshots, numbered in the order taken."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir()
        SHARED_SHOTS.mkdir(exist_ok=True)
        self.taken = 0

    def take(self, page: Page, name: str, *, phone: bool = False) -> Path:
        """The page as it is, or as a phone shows it (then back to the desktop's width)."""
        if phone:
            page.set_viewport_size(PHONE)
            # Nothing wider than the phone's screen (wide tables scroll inside their card).
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        self.taken += 1
        screen = "phone" if phone else "desktop"
        path = self.folder / f"flow-{self.taken:02d}-{name}-{screen}.png"
        page.screenshot(path=str(path), full_page=True)
        if phone:
            page.set_viewport_size(DESKTOP)
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        shutil.copy(path, SHARED_SHOTS / path.name)
        return path


def profile(browser: Browser) -> BrowserContext:
    """A person's own browser profile (own cookies), on a desktop screen."""
    return browser.new_context(java_script_enabled=False, viewport=DESKTOP, locale="vi-VN")


def sign_in(page: Page, web_url: str, path: str, account: StaffAccount) -> None:
    """Ask for ``path``, sign in on the way with a code from the authenticator, land on it."""
    page.goto(f"{web_url}{path}")
    assert page.url.startswith(f"{web_url}/login"), page.url
    page.fill("#username", account.username)
    page.fill("#password", account.password)
    page.fill("#totp", account.code())
    page.click("button[type=submit]")
    assert page.url == f"{web_url}{path}"


def reload_until(page: Page, wanted: Locator, what: str) -> None:
    """Reload the page until ``wanted`` shows, as a person waiting for news would."""
    deadline = time.monotonic() + TRAVEL_SECONDS
    while not wanted.count():
        assert time.monotonic() < deadline, f"{what}: not there after {TRAVEL_SECONDS}s"
        time.sleep(POLL_SECONDS)
        page.reload()


def test_a_report_goes_from_district_to_province_is_handled_and_the_district_sees_each_step(
    cli: Cli, databases: DatabasePool, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    shots = Shots(tmp_path / "screenshots")
    report = tmp_path / "bao-cao-ung-dung-cntt-2026.pdf"
    simple_pdf(["HUYỆN UỶ CAM LỘ", "BÁO CÁO", SUMMARY], report)
    with (
        running_demo(cli, databases, tmp_path / "demo", secrets_seen) as demo,
        sync_playwright() as playwright,
    ):
        district = demo.node("HU-CAMLO")["web_url"]
        province = demo.node("TU")["web_url"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            # 1. The district's clerk drafts the report, addresses it to the province, issues it.
            sender = profile(browser).new_page()
            sign_in(sender, district, "/outgoing/new", demo.staff("HU-CAMLO", "clerk"))
            expect(sender.locator("h1")).to_have_text("Soạn văn bản đi")
            sender.select_option("#doc_type", "BC")
            sender.fill("#summary", SUMMARY)
            sender.fill("#signer_name", SIGNER)
            sender.locator("#recipients").get_by_label("Tỉnh uỷ Quảng Trị", exact=True).check()
            sender.set_input_files("#file", report)
            shots.take(sender, "draft-form-district")
            sender.click("#draft-form button[type=submit]")
            assert re.fullmatch(rf"{district}/outgoing/\d+", sender.url), sender.url
            outgoing_url = sender.url
            expect(sender.locator("#state")).to_have_text("Dự thảo")
            expect(sender.locator("dd#doc-summary")).to_have_text(SUMMARY)
            expect(sender.locator("#recipients")).to_have_text("Tỉnh uỷ Quảng Trị")
            expect(sender.locator("#number-symbol")).to_have_text("—")
            # The clerk submits it to the district's leader, who signs it with their PIN.
            sender.click("#submit-draft")
            sender.select_option("#to", label="Lãnh đạo HU-CAMLO, Phó Bí thư")
            sender.click("#step-button")
            approver = profile(browser).new_page()
            sign_in(
                approver,
                district,
                f"{outgoing_url.removeprefix(district)}/approve",
                demo.staff("HU-CAMLO", "leader"),
            )
            approver.fill("#pin", demo.account("HU-CAMLO", "leader")["signing_pin"])
            approver.click("#step-button")
            expect(approver.locator("#state")).to_contain_text("Đã ký duyệt")
            sender.reload()

            sender.click("#issue-form button[type=submit]")
            assert sender.url == outgoing_url
            expect(sender.locator("h1")).to_have_text("Báo cáo 01-BC/HU")
            expect(sender.locator("#number-symbol")).to_have_text("01-BC/HU")
            expect(sender.locator("#state")).to_have_text("Đã phát hành")
            expect(sender.locator("#send-problem")).to_have_count(0)
            expect(sender.locator("#issue-form")).to_have_count(0)
            to_province = sender.locator("#timeline tr[data-unit=TU]")
            expect(to_province).to_contain_text("Tỉnh uỷ Quảng Trị")
            expect(to_province.locator("li.step-sent")).to_have_text(re.compile("Đã gửi"))
            shots.take(sender, "outgoing-issued-district")

            # 2. The province's clerk finds it in the queue, checks the signature, registers it.
            clerk = profile(browser).new_page()
            sign_in(clerk, province, "/incoming", demo.staff("TU", "clerk"))
            expect(clerk.locator("h1")).to_have_text("Văn bản đến")
            in_queue = clerk.locator("#queue tbody tr", has_text=SUMMARY)
            reload_until(clerk, in_queue, "the report in the province's queue")
            expect(in_queue).to_contain_text("01-BC/HU")
            expect(in_queue).to_contain_text("Huyện uỷ Cam Lộ")
            shots.take(clerk, "queue-province")
            shots.take(clerk, "queue-province", phone=True)

            in_queue.get_by_role("link").click()
            assert re.fullmatch(rf"{province}/incoming/\d+", clerk.url), clerk.url
            incoming_path = clerk.url.removeprefix(province)
            expect(clerk.locator("h1")).to_have_text("Báo cáo 01-BC/HU")
            expect(clerk.locator("dd#doc-summary")).to_have_text(SUMMARY)
            expect(clerk.locator("#state")).to_have_text("Chờ vào sổ")
            # The file is the signed one, named after its number, signed by the district (the
            # signature is checked a moment after the document arrived).
            signed = clerk.locator(".files li")
            expect(signed).to_have_count(1)
            reload_until(clerk, signed.locator(".signature-valid"), "the signature checked")
            expect(signed.get_by_role("link")).to_have_text("01-BC-HU.pdf")
            expect(signed.locator(".signature")).to_have_class(re.compile("signature-valid"))
            expect(signed.locator(".signature")).to_have_text(
                "Chữ ký số hợp lệ: Lãnh đạo HU-CAMLO, Phó Bí thư (Huyện uỷ Cam Lộ); "
                "Huyện uỷ Cam Lộ (HU-CAMLO)"
            )
            # The register form comes filled from the document as it arrived.
            expect(clerk.locator("#register-form #summary")).to_have_value(SUMMARY)
            expect(clerk.locator("#register-form #number_symbol")).to_have_value("01-BC/HU")
            expect(clerk.locator("#register-form #doc_type")).to_have_value("BC")
            # It is presented to the unit's head unless the clerk chooses another leader.
            expect(clerk.locator("#register-form #leader option:checked")).to_contain_text(
                demo.staff("TU", "leader").full_name
            )
            shots.take(clerk, "incoming-received-province")

            clerk.click("#register-form button[type=submit]")
            assert clerk.url == f"{province}{incoming_path}"
            expect(clerk.locator("#state")).to_have_text("Đã vào sổ")
            expect(clerk.locator("#register-number")).to_have_text(re.compile(r"^1/\d{4}$"))
            expect(clerk.locator("#register-form")).to_have_count(0)
            expect(clerk.locator("#history")).to_contain_text("Vào sổ")
            shots.take(clerk, "incoming-registered-province")
            shots.take(clerk, "incoming-registered-province", phone=True)

            clerk.click("main a[href='/incoming']")
            expect(clerk.locator("#queue")).to_have_count(0)
            registered = clerk.locator("#register tbody tr", has_text=SUMMARY)
            expect(registered).to_contain_text("Đã vào sổ")
            expect(registered).to_contain_text("01-BC/HU")
            shots.take(clerk, "register-province")
            shots.take(clerk, "register-province", phone=True)

            # 3. The province's leader sees it waiting on the home page and assigns it.
            staff_account = demo.staff("TU", "staff")
            leader = profile(browser).new_page()
            sign_in(leader, province, "/", demo.staff("TU", "leader"))
            waiting = leader.locator("#home-presented")
            expect(waiting.locator("h2")).to_have_text("Văn bản trình tôi (1)")
            waiting.get_by_role("link", name=SUMMARY).click()
            assert leader.url == f"{province}{incoming_path}"
            expect(leader.locator("#register-form")).to_have_count(0)
            leader.fill("#direction-note", DIRECTION)
            leader.select_option("#lead", label=staff_account.full_name)
            leader.fill("#days", "5")
            shots.take(leader, "direction-form-province")
            leader.click("#direct-form button[type=submit]")
            assert leader.url == f"{province}{incoming_path}"
            expect(leader.locator("#state")).to_have_text("Đang xử lý")
            expect(leader.locator("#due")).to_have_text(re.compile(r"^\d{2}/\d{2}/\d{4}$"))
            expect(leader.locator("dl.facts")).to_contain_text(DIRECTION)
            lead_row = leader.locator("#assignments tr", has_text=staff_account.full_name)
            expect(lead_row).to_contain_text("Chủ trì")
            expect(lead_row).to_contain_text("Đang xử lý")
            shots.take(leader, "incoming-assigned-province")

            # 4. The member of staff finds it under "Việc của tôi" and finishes it.
            handler = profile(browser).new_page()
            sign_in(handler, province, "/", staff_account)
            expect(handler.locator("h1")).to_have_text(f"Xin chào, {staff_account.full_name}")
            tasks = handler.locator("#home-tasks")
            expect(tasks.locator("h2")).to_have_text("Việc của tôi (1)")
            expect(tasks.locator("li")).to_contain_text("Chủ trì")
            shots.take(handler, "home-staff-province")
            shots.take(handler, "home-staff-province", phone=True)
            tasks.get_by_role("link", name=re.compile(re.escape(SUMMARY))).click()
            assert handler.url == f"{province}{incoming_path}"
            expect(handler.locator("#direct-form")).to_have_count(0)
            handler.fill("#finish-note", RESULT)
            # The outcome goes to the sender only when the handler says so.
            handler.check("#finish-form input[name=share_note]")
            shots.take(handler, "incoming-handling-staff")
            handler.click("#finish-form button[type=submit]")
            assert handler.url == f"{province}{incoming_path}"
            expect(handler.locator("#state")).to_have_text("Hoàn thành")
            expect(handler.locator("#finish-form")).to_have_count(0)
            expect(handler.locator("#history")).to_contain_text(RESULT)
            handler.click("a.brand")
            expect(tasks.locator("h2")).to_have_text("Việc của tôi (0)")

            # 5. The district's clerk, still signed in, watches the province's answers arrive.
            sender.goto(outgoing_url)
            assert sender.url == outgoing_url
            done = to_province.locator("li.status-06")
            reload_until(sender, done, "Hoàn thành reported by TU")
            expect(to_province.locator("li.step-delivered")).to_contain_text("Đã đến")
            expect(to_province.locator("li.status-03")).to_contain_text("Đã vào sổ")
            expect(to_province.locator("li.status-04")).to_contain_text("Đã phân công")
            expect(done).to_contain_text(f"Hoàn thành: {RESULT}")
            # In the order they happened.
            steps = [
                (li.get_attribute("class") or "").split()[-1]
                for li in to_province.locator("ol.history li").all()
            ]
            in_order = ["step-sent", "step-delivered", "status-03", "status-04", "status-06"]
            assert [step for step in steps if step in in_order] == in_order, steps
            shots.take(sender, "outgoing-timeline-district")
            shots.take(sender, "outgoing-timeline-district", phone=True)

            # 6. The clerk makes the district's IT report its next draft (Phát hành báo cáo).
            sender.click("#nav-reports")
            expect(sender.locator("#unit option:checked")).to_have_text("Huyện uỷ Cam Lộ")
            sender.fill("#signer_name", SIGNER)
            sender.click("#show-report")
            expect(sender.locator("#issue-report")).to_have_text("Phát hành báo cáo")
            shots.take(sender, "report-district")
            sender.click("#issue-report")
            assert re.fullmatch(rf"{district}/outgoing/\d+\?notice=from-report", sender.url)
            expect(sender.locator("#outgoing-notice")).to_contain_text("Đã tạo dự thảo từ báo cáo")
            expect(sender.locator("dd#doc-summary")).to_have_text(
                re.compile("^Báo cáo tình hình ứng dụng công nghệ thông tin tháng ")
            )
            expect(sender.locator("#recipients")).to_have_text("Tỉnh uỷ Quảng Trị")
            expect(sender.locator("#state")).to_have_text("Dự thảo")
            expect(sender.locator("#files li[data-role=main]")).to_contain_text("bao-cao-HU-CAMLO-")
            shots.take(sender, "report-draft-district")
        finally:
            browser.close()
