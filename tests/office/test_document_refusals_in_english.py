"""The refusals the document pages show, in the reader's language: with the English pages chosen
(``/language/en``), a refusal of each module that refuses by key reads in English, without a
Vietnamese letter; with the Vietnamese pages, the same refusal reads as it always did. Logs,
JSON answers and the command line keep the Vietnamese (``error.message``)."""

from __future__ import annotations

import html
import re
import secrets
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from config.errors import CongvanError, Invalid, NotFound
from office.documents import incoming, numbering, sending
from office.documents.fields import DocumentFields
from office.documents.pdf_signing import sign_pdf
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.office.test_outgoing import a_pdf, issue, new_draft, post_draft
from tests.support.documents import form_id, paper_fields, upload, version
from tests.support.web import Page, StaffBrowser, account_id, refusal_text
from tests.test_refusals import VIETNAMESE

NOT_SIGNABLE_VI = (
    "Tệp “scan.pdf” không phải là tệp PDF ký được (có thể tệp bị hỏng hoặc có mật khẩu). "
    "Vui lòng xuất văn bản ra PDF rồi tải lên lại."
)
NOT_SIGNABLE_EN = (
    "The file “scan.pdf” is not a PDF that can be signed (it may be damaged or protected by a "
    "password). Please export the document to PDF and upload it again."
)
NUMBERED_VI = (
    "Văn bản đã được cấp số nên không thể sửa hoặc xoá: số của nó đã vào sổ văn bản đi. "
    "Nếu cần thay đổi, hãy thu hồi văn bản rồi soạn văn bản mới."
)
NUMBERED_EN = (
    "The document has been numbered, so it can no longer be edited or deleted: its number is in "
    "the outgoing register. To change it, recall the document and draft a new one."
)
LOWERED_VI = (
    "Văn bản đến ở độ mật “Mật”: không được vào sổ ở độ mật thấp hơn. "
    "Chỉ cơ quan ban hành mới được giảm độ mật hoặc giải mật."
)
LOWERED_EN = (
    "The incoming document is at secrecy level “Confidential”: it may not be registered at a "
    "lower level. Only the issuing body may lower its secrecy level or declassify it."
)
NO_SCAN_VI = "Chưa đính kèm bản quét văn bản (PDF)."
NO_SCAN_EN = "The scan of the document (PDF) is not attached."
#: The file input left empty: the form is still multipart.
NO_FILE = {"file": ("", b"", "application/octet-stream")}


def said(page: Page, status: int) -> str:
    """The refusal a page shows, as the reader reads it."""
    assert page.status == status, page.text
    return html.unescape(refusal_text(page))


def english(text: str) -> str:
    assert not VIETNAMESE.search(text), text
    return text


async def speak(browser: StaffBrowser, language: str) -> None:
    chosen = await browser.get(f"/language/{language}?next=/")
    assert chosen.status == 303
    assert browser.cookie("congvan_lang") == language


async def received(node: RunningNode, summary: str, secrecy: int = 0) -> int:
    """A document as the network hands it over, waiting in the clerk's queue."""
    async with node.sessions() as session, session.begin():
        [document] = await incoming.receive(
            session,
            ["TU"],
            DocumentFields(
                "CV",
                summary,
                f"{secrets.randbelow(10**6)}-CV/HU",
                "Huyen uy Cam Lo",
                secrecy=secrecy,
            ),
            [],
            dispatch_id=str(uuid.uuid4()),
            sender_unit="HU-CAMLO",
            now=node.desk.now() if node.desk else None,  # type: ignore[arg-type]
        )
    return document.id


async def post_step(
    browser: StaffBrowser, document_id: int, step: str, page: Page, **fields: str
) -> Page:
    """A step of an incoming document's page, with a new form id (a new submit)."""
    return await browser.post(
        f"/incoming/{document_id}/{step}",
        {"csrf_token": page.form_token, "form_id": secrets.token_urlsafe(24), **fields},
    )


async def test_the_incoming_pages_refuse_in_the_readers_language(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk = await make_account(role="clerk", clearance=1)
    leader = await make_account(role="leader", clearance=1)
    await make_account(role="staff", full_name="Le Thi Hoa")
    secret = await received(tu, "Secret arrival", secrecy=1)
    plain = await received(tu, "Plain arrival")
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_leader:
        await as_clerk.sign_in_as(clerk)
        await as_leader.sign_in_as(leader)
        await speak(as_clerk, "en")
        await speak(as_leader, "en")

        # office/documents/web/incoming.py, and office/web/forms.py under it
        form = await as_clerk.get("/incoming/new")
        fields = {"form_id": form_id(form), **paper_fields("Paper")}
        no_scan = await upload(as_clerk, "/incoming/new", fields, NO_FILE, form.form_token)
        assert english(said(no_scan, 400)) == NO_SCAN_EN
        not_multipart = await upload(as_clerk, "/incoming/new", fields, {}, form.form_token)
        assert english(said(not_multipart, 400)) == (
            "The file upload form is not in the expected format."
        )
        del fields["form_id"]
        no_form_id = await upload(as_clerk, "/incoming/new", fields, NO_FILE, form.form_token)
        assert english(said(no_form_id, 400)) == (
            "The form is missing its submission code. Please reload the page."
        )

        # office/documents/incoming.py: a message named inside another, in the same language
        page = await as_clerk.get(f"/incoming/{secret}")
        lowered = await post_step(
            as_clerk, secret, "register", page, version=version(page), **paper_fields("Secret")
        )
        assert english(said(lowered, 400)) == LOWERED_EN

        # office/documents/web/requests.py
        page = await as_clerk.get(f"/incoming/{plain}")
        no_version = await post_step(as_clerk, plain, "return", page, reason="Wrong unit")
        assert english(said(no_version, 400)) == (
            "The form is missing the document's version. Please reload the page."
        )

        # office/documents/records.py: a form shown before the document changed
        registered = await post_step(
            as_clerk,
            plain,
            "register",
            page,
            version=version(page),
            leader=str(await account_id(tu, leader)),
            **paper_fields("Plain"),
        )
        assert registered.status == 303, registered.text
        stale = await post_step(
            as_clerk, plain, "return", page, version=version(page), reason="Wrong unit"
        )
        assert english(said(stale, 409)) == (
            "Someone else changed the document after you opened the page. "
            "Nothing has been saved: please look at it again, then redo what you did."
        )

        # office/documents/incoming.py: the leader's direction
        page = await as_leader.get(f"/incoming/{plain}")
        lead = re.findall(r'<option value="(\d+)">', page.text.split('id="lead"', 1)[1])[0]
        twice = await post_step(
            as_leader,
            plain,
            "direct",
            page,
            version=version(page),
            note="Handle it",
            lead=lead,
            co=lead,
            days="5",
        )
        assert english(said(twice, 400)) == "The lead handler cannot also be a co-handler."

        # The same refusals in Vietnamese, as they always read.
        await speak(as_clerk, "vi")
        await speak(as_leader, "vi")
        page = await as_clerk.get(f"/incoming/{secret}")
        lowered = await post_step(
            as_clerk, secret, "register", page, version=version(page), **paper_fields("Secret")
        )
        assert said(lowered, 400) == LOWERED_VI
        form = await as_clerk.get("/incoming/new")
        fields = {"form_id": form_id(form), **paper_fields("Paper")}
        no_scan = await upload(as_clerk, "/incoming/new", fields, NO_FILE, form.form_token)
        assert said(no_scan, 400) == NO_SCAN_VI
        page = await as_leader.get(f"/incoming/{plain}")
        twice = await post_step(
            as_leader,
            plain,
            "direct",
            page,
            version=version(page),
            note="Giao xử lý",
            lead=lead,
            co=lead,
            days="5",
        )
        assert said(twice, 400) == "Người chủ trì không đồng thời là người phối hợp."


async def test_the_outgoing_pages_refuse_in_the_readers_language(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        await speak(browser, "en")

        # office/documents/web/outgoing.py: the draft's form again, with the reason
        not_pdf = await post_draft(browser, ("scan.pdf", b"not a pdf", "application/pdf"))
        assert english(said(not_pdf, 400)) == NOT_SIGNABLE_EN
        # office/documents/outgoing.py
        no_one = await post_draft(browser, a_pdf(tmp_path), recipients=())
        assert english(said(no_one, 400)) == "No recipient has been chosen."

        document_id = await new_draft(browser, tmp_path)
        draft_page = await browser.get(f"/outgoing/{document_id}")
        # office/documents/recall_requests.py
        too_soon = await browser.post(
            f"/outgoing/{document_id}/recall",
            {
                "csrf_token": draft_page.form_token,
                "form_id": secrets.token_urlsafe(24),
                "version": version(draft_page),
                "note": "Wrong version",
            },
        )
        assert english(said(too_soon, 409)) == "Only an issued document can be recalled."

        assert (await issue(browser, document_id, node=tu)).status == 303
        # office/documents/outgoing.py: a second issue, from the page shown before the first
        again = await browser.post(
            f"/outgoing/{document_id}/issue",
            {
                "csrf_token": draft_page.form_token,
                "form_id": secrets.token_urlsafe(24),
                "version": version(draft_page),
            },
        )
        assert english(said(again, 409)) == "This document has already been issued."
        # office/documents/drafts.py
        numbered = await browser.get(f"/outgoing/{document_id}/edit")
        assert english(said(numbered, 409)) == NUMBERED_EN

        await speak(browser, "vi")
        not_pdf = await post_draft(browser, ("scan.pdf", b"not a pdf", "application/pdf"))
        assert said(not_pdf, 400) == NOT_SIGNABLE_VI
        assert said(await browser.get(f"/outgoing/{document_id}/edit"), 409) == NUMBERED_VI


def in_both(error: CongvanError) -> tuple[str, str]:
    """What an error says in Vietnamese (its message: logs, JSON, command line) and English."""
    assert error.text("vi") == error.message
    return error.message, english(error.text("en"))


async def test_the_refusals_no_document_page_triggers_read_in_english_too(
    tu: RunningNode, tmp_path: Path
) -> None:
    """Signing (its refusals are logged on the document), sending without the exchange,
    numbering (the command line's) and the exchange's statuses."""
    assert tu.desk is not None and tu.desk.outbox is not None and tu.desk.statuses is not None
    keys = tu.desk.outbox.keyring.unit("TU")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"not a pdf")
    with pytest.raises(Invalid) as signing:
        sign_pdf(
            scan,
            tmp_path / "signed.pdf",
            keys.signing_key,
            keys.signing_certificate,
            (),
            reason="Test",
            location="TU",
            signer_name="TU",
        )
    assert in_both(signing.value) == (
        "Tệp scan.pdf không phải là PDF ký được: thiếu phần đầu %PDF-",
        "The file scan.pdf is not a PDF that can be signed: it lacks the %PDF- header",
    )

    offline = cast(Any, SimpleNamespace(outbox=None, statuses=None))
    with pytest.raises(Invalid) as unsent:
        await sending.send_issued(offline, 1, None)
    assert in_both(unsent.value) == (
        "Máy chủ này không nối mạng trao đổi văn bản.",
        "This server is not connected to the document exchange network.",
    )

    async with tu.sessions() as session:
        with pytest.raises(NotFound) as unknown:
            await numbering.set_style(session, "HU-XX", "party", "HU", ("TU",))
    assert in_both(unknown.value) == (
        "Đơn vị HU-XX không thuộc máy chủ này.",
        "Unit HU-XX is not hosted on this server.",
    )

    with pytest.raises(Invalid) as bad_code:
        await tu.desk.statuses.send_status("no-such-dispatch", "TU", "99")
    assert in_both(bad_code.value) == (
        "mã trạng thái '99' không có trong edXML",
        "status code '99' is not in edXML",
    )
