"""In a real browser on the running demo network, JavaScript off: an outgoing document's way from
its drafter to its recipients, as the rules require (Decree 30/2020 Art. 10-16, HD 36).

A specialist of Cam Lộ drafts a letter with an appendix and submits it to the head of their
department, who returns it with a comment; the specialist edits it and submits it to the
leader, who signs it with their own key and PIN; the clerk issues it. The issued PDF carries
the leader's signature then the unit's, both valid to ``pyhanko sign validate`` and ``pdfsig``
(tools we did not write), and its number and date for ``pdftotext``; the province's clerk sees
both files and both signatures valid. Screenshots go to ``/tmp/e2e-shots``.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from office.documents.pdf_signing import simple_pdf
from tests.conftest import SecretsSeen
from tests.e2e.test_document_flow import CHROMIUM, Shots, profile, reload_until, sign_in
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.demo import running_demo
from tests.support.web import StaffAccount

SUMMARY = "Về việc triển khai chữ ký số cá nhân cho lãnh đạo"
COMMENT = "Đề nghị bổ sung thời hạn hoàn thành ở mục 2."
REVIEWER_NAME = "Hoàng Văn Trưởng"
REVIEWER_TITLE = "Trưởng ban Tổ chức"


def _pyhanko() -> str:
    """The pyhanko command of this environment (it ships with the library we sign with)."""
    found = shutil.which("pyhanko", path=str(Path(sys.executable).parent))
    assert found, "pyhanko's command line is not installed beside python"
    return found


def run(*args: str | Path) -> str:
    done = subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args[0]} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def a_reviewer(cli: Cli, node_dir: str, tmp_path: Path, secrets_seen: SecretsSeen) -> StaffAccount:
    """The head of the drafting department, made as an administrator would: an account, its
    second factor, its title and review duty, each by its command."""
    username, password = "truongban.camlo", "Mat-khau-truong-ban-2026"
    password_file = tmp_path / "password"
    password_file.write_text(password)
    cli(
        "users", "add", username, "--unit", "HU-CAMLO", "--role", "staff", "--clearance", "1",
        "--full-name", REVIEWER_NAME, "--password-file", password_file, "--dir", node_dir,
    )  # fmt: skip
    uri = cli("users", "totp", username, "--dir", node_dir).stdout.splitlines()[0]
    secret = re.search(r"secret=([A-Z2-7]+)", uri)
    assert secret, uri
    cli(
        "users", "duties", username, "--title", REVIEWER_TITLE, "--reviewer", "--dir", node_dir
    )  # fmt: skip
    secrets_seen.add(password, secret.group(1))
    return StaffAccount(username, password, secret.group(1), "HU-CAMLO", REVIEWER_NAME)


def test_a_letter_is_reviewed_returned_signed_by_its_leader_issued_and_received(
    cli: Cli, databases: DatabasePool, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    shots = Shots(tmp_path / "screenshots")
    first = tmp_path / "cong-van-du-thao.pdf"
    simple_pdf(
        ["HUYỆN UỶ CAM LỘ", "Số: …-CV/HU", "Cam Lộ, ngày … tháng … năm …", "CÔNG VĂN", SUMMARY],
        first,
    )
    second = tmp_path / "cong-van-du-thao-2.pdf"
    simple_pdf(
        [
            "HUYỆN UỶ CAM LỘ",
            "Số: …-CV/HU",
            "Cam Lộ, ngày … tháng … năm …",
            "CÔNG VĂN",
            SUMMARY,
            "Thời hạn hoàn thành: trước ngày 31/12/2026.",
        ],
        second,
    )
    appendix = tmp_path / "phu-luc-danh-sach.docx"
    appendix.write_bytes(docx_bytes())
    with (
        running_demo(cli, databases, tmp_path / "demo", secrets_seen) as demo,
        sync_playwright() as playwright,
    ):
        district = demo.node("HU-CAMLO")["web_url"]
        province = demo.node("TU")["web_url"]
        reviewer_account = a_reviewer(cli, demo.node("HU-CAMLO")["dir"], tmp_path, secrets_seen)
        leader_pin = demo.account("HU-CAMLO", "leader")["signing_pin"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            # 1. The specialist drafts the letter with its appendix and submits it for review.
            drafter = profile(browser).new_page()
            sign_in(drafter, district, "/outgoing/new", demo.staff("HU-CAMLO", "staff"))
            drafter.select_option("#doc_type", "CV")
            drafter.fill("#summary", SUMMARY)
            drafter.fill("#signer_name", "Lãnh đạo HU-CAMLO")
            drafter.locator("#recipients").get_by_label("Tỉnh uỷ Quảng Trị", exact=True).check()
            drafter.set_input_files("#file", first)
            drafter.set_input_files("#attachments", appendix)
            drafter.click("#draft-form button[type=submit]")
            assert re.fullmatch(rf"{district}/outgoing/\d+", drafter.url), drafter.url
            draft_url = drafter.url
            draft_path = draft_url.removeprefix(district)
            expect(drafter.locator("#files li")).to_have_count(2)
            drafter.click("#submit-draft")
            drafter.select_option("#to", label=f"{REVIEWER_NAME}, {REVIEWER_TITLE}")
            shots.take(drafter, "chain-submit")
            drafter.click("#step-button")
            assert drafter.url == draft_url
            expect(drafter.locator("#state")).to_contain_text("Đang trình cho ý kiến")
            expect(drafter.locator("#edit-draft")).to_have_count(0)  # frozen

            # 2. The head of department finds it waiting and returns it with a comment.
            head = profile(browser).new_page()
            sign_in(head, district, "/outgoing/to-review", reviewer_account)
            head.locator("#review-list a", has_text=SUMMARY).click()
            assert head.url == draft_url
            head.click("#return-draft")
            head.fill("#comment", COMMENT)
            shots.take(head, "chain-return")
            head.click("#step-button")
            expect(head.locator("#state")).to_contain_text("Dự thảo")

            # 3. The specialist reads the comment, edits, and submits it to the leader.
            drafter.goto(f"{draft_url}/versions")
            expect(drafter.locator("#versions")).to_contain_text(COMMENT)
            drafter.goto(f"{draft_url}/edit")
            drafter.set_input_files("#file", second)
            drafter.click("#draft-edit-form button[type=submit]")
            assert drafter.url == draft_url
            drafter.click("#submit-draft")
            drafter.select_option("#to", label="Lãnh đạo HU-CAMLO, Phó Bí thư")
            drafter.click("#step-button")
            expect(drafter.locator("#state")).to_contain_text("Đang trình ký")
            drafter.goto(f"{draft_url}/versions?a=2&b=3")
            expect(drafter.locator("#comparison .change-changed")).to_contain_text(
                "cong-van-du-thao-2.pdf"
            )
            shots.take(drafter, "chain-versions")

            # 4. The leader signs it with their PIN, on behalf of the Standing Committee.
            leader = profile(browser).new_page()
            sign_in(leader, district, "/outgoing/to-sign", demo.staff("HU-CAMLO", "leader"))
            leader.locator("#review-list a", has_text=SUMMARY).click()
            leader.click("#approve-draft")
            leader.select_option("#authority", "tm")
            leader.fill("#on_behalf_of", "Ban Thường vụ")
            leader.fill("#pin", "000000" if leader_pin != "000000" else "111111")
            leader.click("#step-button")
            expect(leader.locator("p.alert")).to_contain_text("Mã PIN ký không đúng")
            leader.fill("#pin", leader_pin)
            shots.take(leader, "chain-approve")
            leader.click("#step-button")
            assert leader.url == draft_url
            expect(leader.locator("#state")).to_contain_text("Đã ký duyệt")
            expect(leader.locator("#authority")).to_have_text("T/M BAN THƯỜNG VỤ")

            # 5. The clerk issues it: number, date, the unit's signature, sent.
            clerk = profile(browser).new_page()
            sign_in(clerk, district, draft_path, demo.staff("HU-CAMLO", "clerk"))
            clerk.click("#issue-form button[type=submit]")
            expect(clerk.locator("#state")).to_have_text("Đã phát hành")
            symbol = clerk.locator("#number-symbol").inner_text().strip()
            assert re.fullmatch(r"\d{2}-CV/HU", symbol), symbol
            shots.take(clerk, "chain-issued")
            signed_link = clerk.locator("#files li[data-role=signed] a")
            answer = clerk.request.get(f"{district}{signed_link.get_attribute('href')}")
            assert answer.ok
            issued = tmp_path / "issued.pdf"
            issued.write_bytes(answer.body())

            ca = demo.document["ca"]
            validated = run(_pyhanko(), "sign", "validate", "--trust", ca, issued)
            verdicts = validated.strip().splitlines()
            assert len(verdicts) == 2 and all("INTACT:TRUSTED" in v for v in verdicts), validated
            report = run("pdfsig", issued)
            assert report.count("Signature Validation: Signature is Valid.") == 2, report
            assert report.index("Lãnh đạo HU-CAMLO") < report.index("CN=HU-CAMLO")
            text = " ".join(run("pdftotext", issued, "-").split())
            assert f"Số {symbol}" in text, text
            assert re.search(r"Cam Lộ, ngày \d{2} tháng \d{2} năm \d{4}", text), text

            # 6. The province's clerk sees both files, and both signatures valid.
            receiver = profile(browser).new_page()
            sign_in(receiver, province, "/incoming", demo.staff("TU", "clerk"))
            in_queue = receiver.locator("#queue tbody tr", has_text=SUMMARY)
            reload_until(receiver, in_queue, "the letter in the province's queue")
            in_queue.get_by_role("link").click()
            files = receiver.locator("#files li")
            expect(files).to_have_count(2)
            reload_until(receiver, files.first.locator(".signature-valid"), "signatures checked")
            expect(files.first.locator(".signature")).to_contain_text("Lãnh đạo HU-CAMLO")
            expect(files.first.locator(".signature")).to_contain_text("Huyện uỷ Cam Lộ")
            expect(files.nth(1)).to_contain_text("phu-luc-danh-sach.docx")
            shots.take(receiver, "chain-received-province")
        finally:
            browser.close()
