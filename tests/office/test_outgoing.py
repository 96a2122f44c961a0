"""Văn bản đi over HTTP, between real nodes on loopback: a draft is numbered, signed with the
unit's key and sent; it arrives pre-filled in the district clerk's queue; the sender follows it
per recipient (delivered, registered); a recall goes out and its answer comes back; and every
refusal (not a PDF, too large, no token, stale, double submit, wrong unit, role or clearance)
changes nothing."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import openpyxl
from sqlalchemy import func, select, update

from exchange.models import OutboundDispatch
from exchange.statuses import timeline
from keys import accounts
from keys.keystore import node_passphrase
from keys.models import User
from keys.sealing import SecretBox
from keys.signin import StaffMember, staff_member
from office.documents import incoming
from office.documents.fields import from_metadata
from office.documents.models import Document, DocumentEvent, DocumentFile
from office.documents.pdf_signing import signature_status
from office.node.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.approval import SIGNER_NAME, approve, member_of, new_signer
from tests.support.documents import (
    arrived,
    form_id,
    make_pdf,
    pdf_text,
    stored_document,
    version,
)
from tests.support.keys import run_tool, tool_ok
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings, states
from tests.support.waiting import wait_for
from tests.support.web import Page, StaffAccount, StaffBrowser, new_account, refusal_text

SUMMARY = "Về việc tổng kết công tác chuyển đổi số năm 2026"
SIGNER = "Nguyễn Văn Hùng, Phó Bí thư"
SYMBOL = re.compile(r"^(\d{2,})-CV/TU$")


async def post_draft(
    browser: StaffBrowser,
    pdf: tuple[str, bytes, str],
    *,
    summary: str = SUMMARY,
    recipients: Sequence[str] = ("HU-CAMLO",),
    groups: Sequence[str] = (),
    secrecy: str = "0",
    token: bool = True,
) -> Page:
    """The draft form as a browser sends it: the token first, then the fields, then the file."""
    form = await browser.get("/outgoing/new")
    assert form.status == 200, form.text
    data = aiohttp.FormData()
    if token:
        data.add_field("csrf_token", form.form_token)
    fields = {
        "form_id": form_id(form),
        "doc_type": "CV",
        "summary": summary,
        "signer_name": SIGNER,
        "urgency": "1",
        "secrecy": secrecy,
        "pages": "1",
    }
    for name, value in fields.items():
        data.add_field(name, value)
    for code in recipients:
        data.add_field("recipient", code)
    for group in groups:
        data.add_field("group", group)
    name, content, content_type = pdf
    data.add_field("file", content, filename=name, content_type=content_type)
    return await browser.post("/outgoing/new", data)


def a_pdf(tmp_path: Path, summary: str = SUMMARY) -> tuple[str, bytes, str]:
    path = make_pdf(tmp_path, f"{uuid.uuid4().hex[:6]}.pdf", "TỈNH UỶ QUẢNG TRỊ", summary)
    return path.name, path.read_bytes(), "application/pdf"


async def new_draft(browser: StaffBrowser, tmp_path: Path, **options: object) -> int:
    page = await post_draft(browser, a_pdf(tmp_path), **options)  # type: ignore[arg-type]
    assert page.status == 303, page.text
    assert page.location is not None
    return int(page.location.rsplit("/", 1)[1])


async def issue(
    browser: StaffBrowser,
    document_id: int,
    action: str = "issue",
    *,
    node: RunningNode | None = None,
) -> Page:
    """Press the clerk's button; with ``node``, the draft is first approved by a signer of its
    unit (issuing needs that: :mod:`tests.support.approval`)."""
    if node is not None:
        await approve(node, document_id, await signer_of(node))
    page = await browser.get(f"/outgoing/{document_id}")
    assert page.status == 200, page.text
    return await browser.post(
        f"/outgoing/{document_id}/{action}",
        {"csrf_token": page.form_token, "form_id": form_id(page), "version": version(page)},
    )


async def signer_of(node: RunningNode) -> StaffMember:
    """The node's signer: the one made for an earlier document of this database, or a new
    one (issuing a key takes the CA)."""
    async with node.sessions() as session:
        username = await session.scalar(
            select(User.username)
            .where(User.full_name == SIGNER_NAME, User.may_sign.is_(True))
            .limit(1)
        )
    if username is None:
        return (await new_signer(node)).member
    return await member_of(node, username)


async def camlo_page(node: RunningNode, seen: SecretsSeen, path: str) -> str:
    """A page of ``node`` as one of its clerks sees it."""
    account = await new_account(node, role="clerk")
    seen.add(account.password, account.totp_secret)
    async with StaffBrowser(node.web_url) as browser:
        await browser.sign_in_as(account)
        page = await browser.get(path)
    assert page.status == 200, page.text
    return page.text


async def clerk_of(node: RunningNode, secrets_seen: SecretsSeen) -> StaffMember:
    account = await new_account(node, role="clerk")
    secrets_seen.add(account.password, account.totp_secret)
    async with node.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.username == account.username))
        assert user_id is not None
        member = await staff_member(session, user_id)
    assert member is not None
    return member


async def outgoing_count(node: RunningNode) -> int:
    async with node.sessions() as session:
        return (
            await session.scalar(
                select(func.count(Document.id)).where(Document.direction == "outgoing")
            )
            or 0
        )


async def codes(node: RunningNode, dispatch_id: str) -> list[str]:
    async with node.sessions() as session:
        return [view.code for view in await timeline(session, dispatch_id)]


async def test_a_draft_is_numbered_signed_sent_and_followed_to_the_district_register(
    tu: RunningNode,
    camlo: RunningNode,
    make_account: NewAccount,
    secrets_seen: SecretsSeen,
    tmp_path: Path,
) -> None:
    assert tu.desk is not None and camlo.desk is not None
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        form = await browser.get("/outgoing/new")
        assert "Huyện uỷ Cam Lộ" in form.text and "Tất cả huyện, thị, thành uỷ" in form.text
        first_id = await new_draft(browser, tmp_path)
        drafts = await browser.get("/outgoing")
        assert SUMMARY in drafts.text and "Dự thảo chờ phát hành (1)" in drafts.text
        issued = await issue(browser, first_id, node=tu)
        assert issued.status == 303 and issued.location == f"/outgoing/{first_id}"
        second_id = await new_draft(browser, tmp_path, summary="Về việc thứ hai")
        assert (await issue(browser, second_id, node=tu)).status == 303
        # Its number runs per type and term, not per year: the search shows the symbol alone.
        found = await browser.get("/search?q=ve viec thu hai")
        assert f"/outgoing/{second_id}" in found.text and "<td>Đi</td>" in found.text
        for fmt in ("pdf", "xlsx"):
            async with browser.http.get(f"{tu.web_url}/outgoing/register.{fmt}") as answer:
                assert answer.status == 200
                (tmp_path / f"register.{fmt}").write_bytes(await answer.read())
        assert "Về việc thứ hai" in " ".join(pdf_text(tmp_path / "register.pdf").split())
        sheet = openpyxl.load_workbook(tmp_path / "register.xlsx").active
        assert sheet is not None
        assert [cell.value for cell in sheet[3]][:3] == [
            "Số, ký hiệu",
            "Ngày tháng",
            "Tên loại và trích yếu nội dung",
        ]
        assert any("Về việc thứ hai" in str(row[2]) for row in sheet.iter_rows(values_only=True))

        first, second = await stored_document(tu, first_id), await stored_document(tu, second_id)
        assert first.state == second.state == "sent"
        found = SYMBOL.match(first.number_symbol)
        assert found, first.number_symbol
        number = int(found.group(1))
        assert second.number_symbol == f"{number + 1:02d}-CV/TU"
        assert first.issued_on is not None
        assert (first.register_series, first.register_year) == ("normal", first.issued_on.year)

        async with tu.sessions() as session:
            signed = await session.scalar(
                select(DocumentFile).where(
                    DocumentFile.document_id == first_id, DocumentFile.role == "signed"
                )
            )
        assert signed is not None and signed.signature_state == "valid"
        assert signed.name == f"{first.number_symbol.replace('/', '-')}.pdf"
        report = tool_ok(run_tool("pdfsig", tu.desk.blobs.path(signed.sha256)))
        # The signer's own signature, then the unit's, both valid (Decree 30 Art. 13).
        assert report.count("Signature Validation: Signature is Valid.") == 2, report
        assert report.index(f"CN={SIGNER_NAME}") < report.index("CN=TU,O=Tỉnh uỷ Quảng Trị")
        # The number and the date, stamped in the unit's revision.
        text = " ".join(pdf_text(tu.desk.blobs.path(signed.sha256)).split())
        day = first.issued_on
        assert f"Số {first.number_symbol}" in text, text
        assert f"ngày {day:%d} tháng {day:%m} năm {day:%Y}" in text, text
        assert tu.outbox is not None
        checked = await asyncio.to_thread(
            signature_status, tu.desk.blobs.path(signed.sha256), [tu.outbox.keyring.ca_certificate]
        )
        assert (checked.state, checked.reason) == (
            "valid",
            f"Phát hành văn bản số {first.number_symbol}",
        )
        assert [entry.role for entry in checked.signatures] == ["person", "unit"]
        async with browser.http.get(f"{tu.web_url}/documents/{first_id}/files/{signed.id}") as got:
            assert got.status == 200
            assert hashlib.sha256(await got.read()).hexdigest() == signed.sha256

        assert first.dispatch_id is not None
        received = await arrived(camlo, first.dispatch_id)
        assert (received.state, received.direction, received.sender_unit) == (
            "received",
            "incoming",
            "TU",
        )
        assert (received.number_symbol, received.summary, received.signer_name) == (
            first.number_symbol,
            SUMMARY,
            SIGNER,
        )
        assert (received.sender_name, received.issued_on, received.urgency) == (
            "Tỉnh uỷ Quảng Trị",
            first.issued_on,
            1,
        )
        async with camlo.sessions() as session:
            [arrived_file] = await session.scalars(
                select(DocumentFile).where(DocumentFile.document_id == received.id)
            )
        assert arrived_file.sha256 == signed.sha256

        async def checked_on_arrival() -> bool:
            async with camlo.sessions() as session:
                row = await session.get(DocumentFile, arrived_file.id)
            return row is not None and row.signature_state == "valid"

        # The district sees both signatures valid, its signer's and its unit's.
        await wait_for(checked_on_arrival)
        district_page = await camlo_page(camlo, secrets_seen, f"/incoming/{received.id}")
        assert SIGNER_NAME in district_page and "Tỉnh uỷ Quảng Trị (TU)" in district_page

        async def delivered() -> bool:
            return await states(tu, first.dispatch_id or "") == {"HU-CAMLO": "delivered"}

        await wait_for(delivered)
        page = await browser.get(f"/outgoing/{first_id}")
        assert 'class="step-delivered"' in page.text and "Đã đến" in page.text

        camlo_clerk = await clerk_of(camlo, secrets_seen)
        async with camlo.desk.transaction() as session:
            _registered, notices = await incoming.register(
                session,
                camlo_clerk,
                received.id,
                received.version,
                from_metadata({"summary": SUMMARY, "number_symbol": first.number_symbol}, "TU"),
                camlo.desk.now(),
                year=camlo.desk.today().year,
            )
        await camlo.desk.report(notices)

        async def registered() -> bool:
            return "03" in await codes(tu, first.dispatch_id or "")

        await wait_for(registered)
        page = await browser.get(f"/outgoing/{first_id}")
        assert "status-03" in page.text and "Đã vào sổ" in page.text
        register = await browser.get("/outgoing")
        assert first.number_symbol in register.text and "1/1 đơn vị" in register.text
        filtered = await browser.get("/outgoing?type=QĐ")
        assert first.number_symbol not in filtered.text
    async with tu.sessions() as session:
        viewed = await session.scalar(
            select(func.count(DocumentEvent.id)).where(
                DocumentEvent.document_id == first_id, DocumentEvent.action == "viewed"
            )
        )
    assert viewed is not None and viewed >= 2


async def test_a_recall_reaches_the_receiver_and_its_agreement_comes_back(
    tu: RunningNode,
    camlo: RunningNode,
    make_account: NewAccount,
    secrets_seen: SecretsSeen,
    tmp_path: Path,
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        document_id = await new_draft(browser, tmp_path, summary="Văn bản sẽ thu hồi")
        assert (await issue(browser, document_id, node=tu)).status == 303
        sent = await stored_document(tu, document_id)
        assert sent.dispatch_id is not None
        received = await arrived(camlo, sent.dispatch_id)
        page = await browser.get(f"/outgoing/{document_id}")
        asked = await browser.post(
            f"/outgoing/{document_id}/recall",
            {
                "csrf_token": page.form_token,
                "form_id": form_id(page),
                "version": version(page),
                "note": "Ban hành nhầm phiên bản",
                "recipient": "HU-CAMLO",
            },
        )
        assert asked.status == 303, asked.text
        assert (await stored_document(tu, document_id)).recall_state == "requested"

        async def marked() -> bool:
            return (await stored_document(camlo, received.id)).recall_state == "requested"

        await wait_for(marked)
        account = await new_account(camlo, role="clerk")
        secrets_seen.add(account.password, account.totp_secret)
        async with StaffBrowser(camlo.web_url) as district:
            await district.sign_in_as(account)
            home = await district.get("/")
            stale = await district.post(
                f"/incoming/{received.id}/recall/agree",
                {
                    "csrf_token": home.form_token,
                    "form_id": secrets.token_urlsafe(24),
                    "version": str(received.version),
                },
            )
            assert stale.status == 409, stale.text
            current = await stored_document(camlo, received.id)
            no_reason = await district.post(
                f"/incoming/{received.id}/recall/refuse",
                {
                    "csrf_token": home.form_token,
                    "form_id": secrets.token_urlsafe(24),
                    "version": str(current.version),
                },
            )
            assert no_reason.status == 400 and "Chưa nhập lý do" in refusal_text(no_reason)
            assert (await stored_document(camlo, received.id)).version == current.version
            agreed = await district.post(
                f"/incoming/{received.id}/recall/agree",
                {
                    "csrf_token": home.form_token,
                    "form_id": secrets.token_urlsafe(24),
                    "version": str(current.version),
                },
            )
            assert agreed.status == 303, agreed.text
            assert agreed.location == f"/incoming/{received.id}"
        assert (await stored_document(camlo, received.id)).recall_state == "agreed"

        async def answered() -> bool:
            return "15" in await codes(tu, sent.dispatch_id or "")

        await wait_for(answered)
        page = await browser.get(f"/outgoing/{document_id}")
        assert "status-13" in page.text and "status-15" in page.text
        assert 'id="recall-outcome">Đã thu hồi' in page.text


async def test_a_file_that_is_not_a_pdf_is_refused_and_nothing_is_kept(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="staff")
    before = await outgoing_count(tu)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        page = await post_draft(
            browser, ("cong-van.docx", b"PK\x03\x04 not a pdf", "application/pdf")
        )
        assert page.status == 400
        assert "không phải là tệp PDF" in refusal_text(page)
        assert SUMMARY in page.text  # the form comes back as typed
        no_one = await post_draft(browser, a_pdf(tmp_path), recipients=())
        assert no_one.status == 400 and "Chưa chọn nơi nhận" in refusal_text(no_one)
        stranger = await post_draft(browser, a_pdf(tmp_path), recipients=("HU-GIOLINH",))
        assert stranger.status == 400 and "Nơi nhận" in refusal_text(stranger)
        tokenless = await post_draft(browser, a_pdf(tmp_path), token=False)
        assert tokenless.status == 403
    assert await outgoing_count(tu) == before


async def test_an_upload_over_the_limit_is_refused_with_the_limit(
    demo_network: DemoNetwork, secrets_seen: SecretsSeen, tmp_path: Path
) -> None:
    node = await start_node(
        fast_settings(demo_network, "TU", CONGVAN_OFFICE_MAX_UPLOAD_BYTES="2048")
    )
    try:
        account = await new_account(node, role="clerk")
        secrets_seen.add(account.password, account.totp_secret)
        before = await outgoing_count(node)
        async with StaffBrowser(node.web_url) as browser:
            await browser.sign_in_as(account)
            page = await post_draft(browser, a_pdf(tmp_path))
        assert page.status == 413
        assert "2.048 byte" in refusal_text(page)
        assert await outgoing_count(node) == before
    finally:
        await node.stop()


async def test_a_double_submit_and_a_stale_form_take_no_second_number(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        document_id = await new_draft(browser, tmp_path)
        await approve(tu, document_id, await signer_of(tu))
        page = await browser.get(f"/outgoing/{document_id}")
        form = {"csrf_token": page.form_token, "form_id": form_id(page), "version": version(page)}
        first = await browser.post(f"/outgoing/{document_id}/issue", form)
        again = await browser.post(f"/outgoing/{document_id}/issue", form)
        assert first.status == again.status == 303 and again.location == first.location
        other = await new_draft(browser, tmp_path, summary="Dự thảo khác")
        await approve(tu, other, await signer_of(tu))
        page = await browser.get(f"/outgoing/{other}")
        old_version = version(page)
        async with tu.sessions() as session, session.begin():
            await session.execute(
                update(Document).where(Document.id == other).values(version=Document.version + 1)
            )
        stale = await browser.post(
            f"/outgoing/{other}/issue",
            {"csrf_token": page.form_token, "form_id": form_id(page), "version": old_version},
        )
        assert stale.status == 409
        assert "người khác thay đổi" in refusal_text(stale)
        missing_token = await browser.post(
            f"/outgoing/{other}/issue",
            {"form_id": secrets.token_urlsafe(24), "version": str(int(old_version) + 1)},
        )
        assert missing_token.status == 403
    issued = await stored_document(tu, document_id)
    assert (await stored_document(tu, other)).state == "approved"
    async with tu.sessions() as session:
        numbered = await session.scalar(
            select(func.count(Document.id)).where(
                Document.direction == "outgoing",
                Document.register_period == issued.register_period,
                Document.register_series == "normal",
                Document.doc_type == issued.doc_type,
                Document.register_number == issued.register_number,
            )
        )
        dispatches = await session.scalar(
            select(func.count(OutboundDispatch.id)).where(OutboundDispatch.id == issued.dispatch_id)
        )
    assert numbered == 1 and dispatches == 1


async def test_a_failed_send_keeps_its_number_and_a_resend_sends_that_dispatch_once(
    tu: RunningNode, camlo: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        document_id = await new_draft(browser, tmp_path, summary="Gửi tới đơn vị chưa có khoá")
        # As if Gio Linh had keys when the draft was made, and lost them since.
        async with tu.sessions() as session, session.begin():
            await session.execute(
                update(Document).where(Document.id == document_id).values(recipients="HU-GIOLINH")
            )
        assert (await issue(browser, document_id, node=tu)).status == 303
        stuck = await stored_document(tu, document_id)
        assert stuck.state == "issued" and SYMBOL.match(stuck.number_symbol)
        page = await browser.get(f"/outgoing/{document_id}")
        assert 'id="send-problem"' in page.text and "Gửi lại" in page.text
        async with tu.sessions() as session, session.begin():
            await session.execute(
                update(Document).where(Document.id == document_id).values(recipients="HU-CAMLO")
            )
        resent = await issue(browser, document_id, "resend")
        assert resent.status == 303, resent.text
        sent = await stored_document(tu, document_id)
        assert (sent.state, sent.number_symbol, sent.dispatch_id) == (
            "sent",
            stuck.number_symbol,
            stuck.dispatch_id,
        )
        assert sent.dispatch_id is not None
        await arrived(camlo, sent.dispatch_id)
        # The node stopped after the exchange queued the dispatch, before "sent" was written:
        # the next attempt finds the dispatch and does not send a second one.
        async with tu.sessions() as session, session.begin():
            await session.execute(
                update(Document).where(Document.id == document_id).values(state="issued")
            )
        busy = await issue(browser, document_id, "resend")
        assert busy.status == 409 and "đang được gửi" in refusal_text(busy)
        async with tu.sessions() as session, session.begin():
            await session.execute(
                update(DocumentEvent)
                .where(DocumentEvent.document_id == document_id)
                .values(at=datetime.now(UTC) - timedelta(minutes=5))
            )
        assert (await issue(browser, document_id, "resend")).status == 303
    assert (await stored_document(tu, document_id)).state == "sent"
    async with tu.sessions() as session:
        signed = await session.scalar(
            select(func.count(DocumentFile.id)).where(
                DocumentFile.document_id == document_id, DocumentFile.role == "signed"
            )
        )
    async with camlo.sessions() as session:
        copies = await session.scalar(
            select(func.count(Document.id)).where(Document.dispatch_id == sent.dispatch_id)
        )
    assert signed == 1 and copies == 1


async def _account_in(
    node: RunningNode, unit: str, role: str, clearance: int, seen: SecretsSeen
) -> StaffAccount:
    """An account in a unit of the node other than its first (new_account takes the first)."""
    settings = node.settings
    username = f"cb.{uuid.uuid4().hex[:10]}"
    password = f"Thanh-Co {secrets.token_urlsafe(12)}"
    box = SecretBox(node_passphrase(settings), settings.node.name)
    async with node.sessions() as session, session.begin():
        await accounts.add_user(
            session, username, password, unit, role, clearance, settings.node.units, "Trần Văn B"
        )
        enrolment = await accounts.enrol_totp(session, username, box)
    seen.add(password, enrolment.secret)
    return StaffAccount(username, password, enrolment.secret, unit, "Trần Văn B")


async def test_other_units_lower_clearance_and_other_roles_see_nothing(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff", clearance=1)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(drafter)
        secret_id = await new_draft(browser, tmp_path, summary="Văn bản mật", secrecy="1")
        too_high = await post_draft(browser, a_pdf(tmp_path), secrecy="2")
        assert too_high.status == 400 and "Độ mật" in refusal_text(too_high)
        assert (await browser.get(f"/outgoing/{secret_id}")).status == 200
        refused = await browser.post(
            f"/outgoing/{secret_id}/issue",
            {
                "csrf_token": (await browser.get("/")).form_token,
                "form_id": secrets.token_urlsafe(24),
                "version": "1",
            },
        )
        assert refused.status == 403  # a specialist drafts; the clerk issues
    board_clerk = await _account_in(tu, "BTC", "clerk", 3, secrets_seen)
    low_clerk = await make_account(role="clerk", clearance=0)
    other_staff = await make_account(role="staff", clearance=3)
    admin = await make_account(role="admin", clearance=0)
    for account in (board_clerk, low_clerk, other_staff, admin):
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(account)
            page = await browser.get(f"/outgoing/{secret_id}")
            assert page.status == 404, account
            assert "Văn bản mật" not in (await browser.get("/outgoing")).text
            if account is admin:
                assert (await browser.get("/outgoing/new")).status == 404
    clerk = await make_account(role="clerk", clearance=1)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        # Mật may not go to Cam Lộ over the network: issued on paper (test_secrecy_network.py).
        assert (await issue(browser, secret_id, "issue-paper", node=tu)).status == 303
    secret = await stored_document(tu, secret_id)
    assert secret.register_series == "secret" and secret.state == "paper"
