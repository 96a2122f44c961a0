"""Phát hành báo cáo over HTTP on a running provincial node: a clerk of the board (BTC) makes
the report shown the board's outgoing draft, with its PDF (``BÁO CÁO``, ``Số …-BC/BTC``); a
double submit makes one draft; the draft goes the ordinary way (submitted to the board's head,
signed with his key, issued by the clerk, sent to the province) and the issued PDF reads the
number the outgoing register gave it. Whoever may not read the report or draft the unit's
documents does not see the button and is refused; so is a report that names no signer, a unit
not hosted here and a form without its token; nothing is made."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

from sqlalchemy import func, select

from keys import accounts
from office.documents.models import Document, DocumentFile
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.office.test_outgoing import issue
from tests.office.test_report_pages import last_month
from tests.support.approval import approve, give_signing_key, member_of
from tests.support.documents import pdf_text, stored_document
from tests.support.web import Page, StaffBrowser, refusal_text

SIGNER = {
    "signer_authority": "T/M Ban Thường vụ",
    "signer_position": "Trưởng ban",
    "signer_name": "Lê Văn Ban",
}
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def view_path(unit: str, period: str, **issue: str) -> str:
    return "/reports/view?" + urlencode({"unit": unit, "period": period, **issue})


def publish_fields(page: Page) -> dict[str, str]:
    """The "Phát hành báo cáo" form as the page shows it."""
    form = page.text.split('id="publish-report"', 1)[1].split("</form>", 1)[0]
    return dict(HIDDEN.findall(form))


async def drafts_of(node: RunningNode, unit: str) -> list[Document]:
    async with node.sessions() as session:
        return list(
            await session.scalars(
                select(Document)
                .where(Document.unit_code == unit, Document.doc_type == "BC")
                .order_by(Document.id)
            )
        )


async def file_of(node: RunningNode, document_id: int, role: str) -> DocumentFile:
    async with node.sessions() as session:
        found = await session.scalar(
            select(DocumentFile).where(
                DocumentFile.document_id == document_id, DocumentFile.role == role
            )
        )
    assert found is not None, role
    return found


def text_of(node: RunningNode, stored: DocumentFile) -> str:
    assert node.desk is not None
    return pdf_text(node.desk.blobs.path(stored.sha256))


async def test_a_clerk_issues_the_report_as_a_draft_that_goes_the_outgoing_way(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk = await make_account(role="clerk", unit="BTC")
    head = await make_account(role="leader", unit="BTC", full_name="Lê Văn Ban")
    async with tu.sessions() as session, session.begin():
        await accounts.set_duties(session, head.username, title="Trưởng ban", may_sign=True)
    await give_signing_key(tu, head, full_name="Lê Văn Ban", title="Trưởng ban")
    period = last_month(tu)
    year, month = period.split("-")
    summary = f"Báo cáo tình hình ứng dụng công nghệ thông tin tháng {month} năm {year}"
    before = await drafts_of(tu, "BTC")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        assert 'href="/reports"' in (await browser.get("/")).text
        # The number and date asked for on the chooser are not the draft's: the issue writes them.
        page = await browser.get(view_path("BTC", period, number="7", **SIGNER))
        assert page.status == 200, page.text
        assert 'id="issue-report">Phát hành báo cáo</button>' in page.text
        fields = publish_fields(page)
        assert fields["csrf_token"] == page.form_token and "number" not in fields
        assert {fields[name] for name in SIGNER} == set(SIGNER.values())
        made = await browser.post("/reports/publish", fields)
        assert made.status == 303, made.text
        assert made.location is not None and made.location.endswith("?notice=from-report")
        again = await browser.post("/reports/publish", fields)  # a double submit
        assert (again.status, again.location) == (303, made.location)
        (draft,) = [found for found in await drafts_of(tu, "BTC") if found not in before]
        assert made.location == f"/outgoing/{draft.id}?notice=from-report"

        shown = await browser.get(made.location)
        assert 'id="outgoing-notice"' in shown.text and "Đã tạo dự thảo từ báo cáo" in shown.text
        assert f'id="doc-summary">{summary}</dd>' in shown.text
        assert '<dd id="recipients">Tỉnh uỷ Quảng Trị</dd>' in shown.text
        assert (draft.state, draft.summary, draft.recipients) == ("draft", summary, "TU")
        assert (draft.secrecy, draft.urgency, draft.signer_name) == (
            0,
            0,
            "Lê Văn Ban, Trưởng ban",
        )
        main = await file_of(tu, draft.id, "main")
        assert (main.name, main.content_type) == (f"bao-cao-BTC-{period}.pdf", "application/pdf")
        printed = text_of(tu, main)
        for line in ("BÁO CÁO", "Số …-BC/BTC", "Quảng Trị, ngày … tháng … năm …", "BAN TỔ CHỨC"):
            assert line in printed, line
        assert "Số 07-BC/BTC" not in printed

        # The ordinary way: submitted to the board's head, who signs; the clerk issues it.
        await approve(tu, draft.id, await member_of(tu, head.username))
        issued = await issue(browser, draft.id)
        assert issued.status == 303, issued.text
    sent = await stored_document(tu, draft.id)
    assert sent.state == "sent" and sent.register_number is not None
    assert sent.number_symbol == f"{sent.register_number:02d}-BC/BTC"
    printed = text_of(tu, await file_of(tu, draft.id, "signed"))
    assert f"Số {sent.number_symbol}" in printed
    assert sent.issued_on is not None
    dated = f"Quảng Trị, ngày {sent.issued_on:%d} tháng {sent.issued_on:%m} năm {sent.issued_on:%Y}"
    assert dated in printed
    assert "Số …" not in printed and "ngày … tháng" not in printed


async def post_publish(browser: StaffBrowser, unit: str, period: str, **fields: str) -> Page:
    """The form as a crafted post sends it: a token and a one-time id of the user's own."""
    page = await browser.get("/")
    form_id = secrets.token_urlsafe(24)
    form = {"csrf_token": page.form_token, "form_id": form_id, "unit": unit, "period": period}
    return await browser.post("/reports/publish", form | SIGNER | fields)


async def outgoing_count(node: RunningNode) -> int:
    async with node.sessions() as session:
        found = await session.scalar(
            select(func.count(Document.id)).where(Document.direction == "outgoing")
        )
    return found or 0


async def test_only_a_clerk_of_the_unit_sees_the_button_and_every_other_post_is_refused(
    tu: RunningNode, make_account: NewAccount
) -> None:
    period = last_month(tu)
    leader, staff = await make_account(role="leader"), await make_account(role="staff")
    admin = await make_account(role="admin")
    board_clerk = await make_account(role="clerk", unit="BTC")
    before = await outgoing_count(tu)
    for account in (leader, admin):  # they read the report but draft no documents
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(account)
            page = await browser.get(view_path("TU", period, **SIGNER))
            assert page.status == 200 and 'id="report-frame"' in page.text
            assert 'id="issue-report"' not in page.text and "/reports/publish" not in page.text
            refused = await post_publish(browser, "TU", period)
            assert refused.status == 403
            assert "Bạn không có quyền phát hành báo cáo của đơn vị này." in refused.text
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(staff)  # drafts documents, reads no report: an unknown page
        assert (await browser.get(view_path("TU", period))).status == 404
        assert (await post_publish(browser, "TU", period)).status == 404
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(board_clerk)  # another unit's clerk: its own report only
        assert (await browser.get(view_path("TU", period))).status == 404
        own = await browser.get("/reports")
        assert '<option value="BTC" selected>' in own.text and 'value="TU"' not in own.text
        refused = await post_publish(browser, "TU", period)
        assert refused.status == 403
    assert await outgoing_count(tu) == before


async def test_a_report_without_signer_a_unit_not_hosted_or_a_missing_token_makes_nothing(
    tu: RunningNode, make_account: NewAccount
) -> None:
    period = last_month(tu)
    before = await outgoing_count(tu)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(await make_account(role="clerk"))
        nameless = await post_publish(browser, "TU", period, signer_name="")
        assert nameless.status == 400
        assert refusal_text(nameless).startswith("Báo cáo chưa ghi họ tên người ký")
        assert 'id="report-choose"' in nameless.text
        assert f'value="{SIGNER["signer_position"]}"' in nameless.text  # kept as it was
        assert (await post_publish(browser, "HU-CAMLO", period)).status == 404
        future = await post_publish(browser, "TU", f"{tu.reports.today().year + 1}-01")
        assert future.status == 400 and "chưa bắt đầu" in refusal_text(future)
        tokenless = await post_publish(browser, "TU", period, csrf_token="")
        assert tokenless.status == 403
        assert await outgoing_count(tu) == before

        # The province is at the top: its report has nobody above it, and its drafter chooses.
        page = await browser.get(view_path("TU", period, **SIGNER))
        made = await browser.post("/reports/publish", publish_fields(page))
        assert made.status == 303, made.text
    (draft,) = (await drafts_of(tu, "TU"))[-1:]
    assert (draft.recipients, draft.summary.startswith("Báo cáo tình hình")) == ("", True)
    assert await outgoing_count(tu) == before + 1
