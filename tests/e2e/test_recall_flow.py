"""In a real browser on the running demo network, JavaScript off: the province recalls a letter
from one of its two recipients and names the letter that replaces it (Decree 30/2020 Art. 18:
the recipient cancels a recalled document in the system and tells the sender).

The province's clerk issues a letter to Cam Lộ and Đông Hà, then its replacement to both; recalls
the first from Cam Lộ only, choosing the replacement from the list. Cam Lộ's clerk sees the
request and the replacement linked, agrees: the letter leaves the queue, and a "Vào sổ" pressed
on a page opened before is refused. Đông Hà keeps its copy, unmarked. The province sees Cam Lộ's
answer on its line, and may still ask Đông Hà. Screenshots go to ``/tmp/e2e-shots``.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

from office.documents.pdf_signing import simple_pdf
from tests.conftest import SecretsSeen
from tests.e2e.test_document_flow import CHROMIUM, Shots, profile, reload_until, sign_in
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.demo import RunningDemo, running_demo

RECALLED = "Về việc tổ chức hội nghị sơ kết công tác văn thư (bản gửi nhầm)"
REPLACEMENT = "Về việc tổ chức hội nghị sơ kết văn thư, lưu trữ (thay thế)"
REASON = "Văn bản gửi nhầm thời gian tổ chức hội nghị; thay bằng văn bản mới."
LEADER = "Lãnh đạo TU, Phó Bí thư"


def issued_letter(
    clerk: Page, leader: Page, demo: RunningDemo, province: str, summary: str, pdf: Path
) -> tuple[str, str]:
    """The clerk drafts a letter to Cam Lộ and Đông Hà and submits it to the leader, who signs
    it with their PIN; the clerk issues it. Its page's address and its number."""
    clerk.goto(f"{province}/outgoing/new")
    clerk.select_option("#doc_type", "CV")
    clerk.fill("#summary", summary)
    clerk.fill("#signer_name", "Lãnh đạo TU")
    recipients = clerk.locator("#recipients")
    recipients.get_by_label("Huyện uỷ Cam Lộ", exact=True).check()
    recipients.get_by_label("Thị uỷ Đông Hà", exact=True).check()
    clerk.set_input_files("#file", pdf)
    clerk.click("#draft-form button[type=submit]")
    assert re.fullmatch(rf"{province}/outgoing/\d+", clerk.url), clerk.url
    url = clerk.url
    clerk.click("#submit-draft")
    clerk.select_option("#to", label=LEADER)
    clerk.click("#step-button")
    leader.goto(f"{url}/approve")
    leader.fill("#pin", demo.account("TU", "leader")["signing_pin"])
    leader.click("#step-button")
    expect(leader.locator("#state")).to_contain_text("Đã ký duyệt")
    clerk.goto(url)
    clerk.click("#issue-form button[type=submit]")
    expect(clerk.locator("#state")).to_have_text("Đã phát hành")
    number = clerk.locator("#number-symbol").inner_text().strip()
    assert re.fullmatch(r"\d{2,}-CV/TU", number), number
    return url, number


def queued(page: Page, district: str, summary: str) -> None:
    page.goto(f"{district}/incoming")
    reload_until(page, page.locator("#queue tbody tr", has_text=summary), f"{summary} queued")


def open_from_queue(page: Page, summary: str) -> str:
    page.locator("#queue tbody tr", has_text=summary).get_by_role("link").first.click()
    assert re.search(r"/incoming/\d+$", page.url), page.url
    return page.url


def test_the_province_recalls_a_letter_from_cam_lo_only_naming_its_replacement(
    cli: Cli, databases: DatabasePool, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    shots = Shots(tmp_path / "screenshots")
    letters = {}
    for name, summary in (("nham", RECALLED), ("thay-the", REPLACEMENT)):
        letters[summary] = tmp_path / f"cong-van-{name}.pdf"
        simple_pdf(
            ["TỈNH UỶ QUẢNG TRỊ", "Số: …-CV/TU", "Quảng Trị, ngày … tháng … năm …", summary],
            letters[summary],
        )
    with (
        running_demo(cli, databases, tmp_path / "demo", secrets_seen) as demo,
        sync_playwright() as playwright,
    ):
        province = demo.node("TU")["web_url"]
        camlo = demo.node("HU-CAMLO")["web_url"]
        dongha = demo.node("TX-DONGHA")["web_url"]
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            # 1. The province issues the letter, then its replacement, to both districts.
            clerk = profile(browser).new_page()
            sign_in(clerk, province, "/outgoing", demo.staff("TU", "clerk"))
            leader = profile(browser).new_page()
            sign_in(leader, province, "/outgoing/to-sign", demo.staff("TU", "leader"))
            recalled_url, _ = issued_letter(
                clerk, leader, demo, province, RECALLED, letters[RECALLED]
            )
            replacement_url, replacement_number = issued_letter(
                clerk, leader, demo, province, REPLACEMENT, letters[REPLACEMENT]
            )

            # 2. Both letters reach Cam Lộ and Đông Hà.
            camlo_clerk = profile(browser).new_page()
            sign_in(camlo_clerk, camlo, "/incoming", demo.staff("HU-CAMLO", "clerk"))
            queued(camlo_clerk, camlo, RECALLED)
            queued(camlo_clerk, camlo, REPLACEMENT)
            replacement_at_camlo = open_from_queue(camlo_clerk, REPLACEMENT)
            dongha_clerk = profile(browser).new_page()
            sign_in(dongha_clerk, dongha, "/incoming", demo.staff("TX-DONGHA", "clerk"))
            queued(dongha_clerk, dongha, RECALLED)

            # 3. The province recalls the first from Cam Lộ only, naming the replacement.
            clerk.goto(recalled_url)
            form = clerk.locator("#recall-form")
            expect(form.get_by_label("Huyện uỷ Cam Lộ")).to_be_checked()
            expect(form.get_by_label("Thị uỷ Đông Hà")).to_be_checked()  # all, by default
            form.get_by_label("Thị uỷ Đông Hà").uncheck()
            clerk.fill("#recall-note", REASON)
            option = form.locator("#recall-replacement option", has_text=replacement_number)
            clerk.select_option("#recall-replacement", value=option.get_attribute("value"))
            shots.take(clerk, "recall-form-province")
            form.locator("button[type=submit]").click()
            assert clerk.url == recalled_url
            camlo_line = clerk.locator("#timeline tr[data-unit=HU-CAMLO]")
            dongha_line = clerk.locator("#timeline tr[data-unit=TX-DONGHA]")
            expect(camlo_line.locator(".recall-state")).to_have_text("Đã đề nghị thu hồi")
            expect(camlo_line.locator("a.replacement-link")).to_have_text(replacement_number)
            expect(dongha_line.locator(".recall-state")).to_have_count(0)
            asked = clerk.locator("#recall-form").get_by_label("Huyện uỷ Cam Lộ")
            expect(asked).to_be_disabled()  # asked once; its answer shows on its line
            expect(asked).not_to_be_checked()
            shots.take(clerk, "recall-asked-province")

            # 4. Cam Lộ's clerk sees the request in the queue, the reason and the replacement.
            camlo_clerk.goto(f"{camlo}/incoming")
            row = camlo_clerk.locator("#queue tbody tr", has_text=RECALLED)
            reload_until(camlo_clerk, row.locator(".recall-asked"), "the request at Cam Lộ")
            shots.take(camlo_clerk, "recall-queue-camlo")
            recalled_at_camlo = open_from_queue(camlo_clerk, RECALLED)
            notice = camlo_clerk.locator("#recall")
            expect(notice).to_contain_text(REASON)
            link = notice.locator("a.replacement-link")
            expect(link).to_have_text(replacement_number)
            assert link.get_attribute("href") == replacement_at_camlo.removeprefix(camlo)
            # A second tab, opened before the answer, still shows "Vào sổ".
            stale_tab = camlo_clerk.context.new_page()
            stale_tab.goto(recalled_at_camlo)
            expect(stale_tab.locator("#register-form")).to_have_count(1)
            shots.take(camlo_clerk, "recall-request-camlo")
            shots.take(camlo_clerk, "recall-request-camlo", phone=True)
            camlo_clerk.get_by_role("button", name="Đồng ý thu hồi").click()
            assert camlo_clerk.url == recalled_at_camlo
            expect(camlo_clerk.locator("#recall")).to_contain_text("Đã đồng ý thu hồi")
            expect(camlo_clerk.locator("#register-form")).to_have_count(0)
            expect(camlo_clerk.locator("#recall a.replacement-link")).to_have_count(1)
            shots.take(camlo_clerk, "recalled-camlo")
            # Gone from the queue; "Vào sổ" from the older tab is refused.
            camlo_clerk.goto(f"{camlo}/incoming")
            expect(camlo_clerk.locator("#queue tbody tr", has_text=RECALLED)).to_have_count(0)
            expect(camlo_clerk.locator("#queue tbody tr", has_text=REPLACEMENT)).to_have_count(1)
            stale_tab.click("#register-form button[type=submit]")
            expect(stale_tab.locator("p.alert")).to_contain_text(
                "Văn bản đã được thu hồi theo đề nghị của nơi gửi"
            )
            shots.take(stale_tab, "register-refused-camlo")
            camlo_clerk.goto(recalled_at_camlo)
            camlo_clerk.click("#recall a.replacement-link")
            assert camlo_clerk.url == replacement_at_camlo
            expect(camlo_clerk.locator("dd#doc-summary")).to_have_text(REPLACEMENT)

            # 5. Đông Hà keeps its copy, unmarked, to register as usual.
            dongha_clerk.goto(f"{dongha}/incoming")
            kept = dongha_clerk.locator("#queue tbody tr", has_text=RECALLED)
            expect(kept).to_have_count(1)
            expect(kept.locator(".recall-asked")).to_have_count(0)
            open_from_queue(dongha_clerk, RECALLED)
            expect(dongha_clerk.locator("#recall")).to_have_count(0)
            expect(dongha_clerk.locator("#register-form")).to_have_count(1)
            shots.take(dongha_clerk, "kept-dongha")

            # 6. The province sees Cam Lộ's answer; Đông Hà may still be asked.
            clerk.goto(recalled_url)
            reload_until(clerk, camlo_line.locator("li.status-15"), "Cam Lộ's answer")
            expect(camlo_line.locator(".recall-state")).to_have_text("Đã thu hồi")
            expect(clerk.locator("#recall-outcome")).to_have_text("Đã thu hồi (1/2 nơi nhận)")
            expect(clerk.locator("#recall-form").get_by_label("Thị uỷ Đông Hà")).to_be_checked()
            shots.take(clerk, "recall-answered-province")
            shots.take(clerk, "recall-answered-province", phone=True)
            assert replacement_url != recalled_url
        finally:
            browser.close()
