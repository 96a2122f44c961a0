"""Sửa và xoá dự thảo văn bản đi over HTTP, on a real node: an edit changes what the register
and the search show, a new PDF replaces the old one, a deletion leaves nothing of the draft but
its blobs; and every refusal (not a PDF, stale form, numbered document, someone else's draft,
another unit, no token) changes nothing."""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

import aiohttp
from sqlalchemy import func, select, text

from office.documents.models import Document, DocumentEvent, DocumentFile
from office.node.app import RunningNode
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.office.test_outgoing import SIGNER, SUMMARY, _account_in, a_pdf, issue, new_draft
from tests.support.documents import form_id, version
from tests.support.web import Page, StaffBrowser, refusal_text

OLD_SUMMARY = "Về việc hội nghị giao ban khối đảng"
NEW_SUMMARY = "Về việc triển khai chữ ký số quý IV"
NEW_SIGNER = "Lê Thị Mai, Chánh Văn phòng"
NOT_FOUND = "Không tìm thấy văn bản"
NUMBERED = "đã được cấp số"
DELETE_FORM_ID = re.compile(r'id="delete-form">.*?name="form_id" value="([^"]+)"', re.S)


async def post_edit(
    browser: StaffBrowser,
    document_id: int,
    *,
    form: Page | None = None,
    pdf: tuple[str, bytes, str] | None = None,
    token: bool = True,
    **changes: str,
) -> Page:
    """The edit form as a browser sends it: the token first, the fields, then the file input
    (empty when no new file is chosen)."""
    if form is None:
        form = await browser.get(f"/outgoing/{document_id}/edit")
        assert form.status == 200, form.text
    data = aiohttp.FormData()
    if token:
        data.add_field("csrf_token", form.form_token)
    fields = {
        "doc_type": "TB",
        "summary": NEW_SUMMARY,
        "signer_name": NEW_SIGNER,
        "urgency": "2",
        "secrecy": "0",
        "pages": "3",
        "note": "",
        "recipient": "TX-DONGHA",
        **changes,
    }
    if "form_id" not in fields:
        fields["form_id"] = form_id(form)
    if "version" not in fields:
        fields["version"] = version(form)
    for name, value in fields.items():
        data.add_field(name, value)
    name, content, content_type = pdf or ("", b"", "application/octet-stream")
    data.add_field("file", content, filename=name, content_type=content_type)
    return await browser.post(f"/outgoing/{document_id}/edit", data)


async def post_delete(
    browser: StaffBrowser, document_id: int, page: Page | None = None, *, token: bool = True
) -> Page:
    """The delete button of the draft's page (its own form id and the version shown)."""
    if page is None:
        page = await browser.get(f"/outgoing/{document_id}")
        assert page.status == 200, page.text
    found = DELETE_FORM_ID.search(page.text)
    assert found, "no delete form on the page"
    fields = {"form_id": found.group(1), "version": version(page)}
    if token:
        fields["csrf_token"] = page.form_token
    return await browser.post(f"/outgoing/{document_id}/delete", fields)


async def stored(node: RunningNode, document_id: int) -> Document | None:
    async with node.sessions() as session:
        return await session.get(Document, document_id)


async def main_files(node: RunningNode, document_id: int) -> list[DocumentFile]:
    async with node.sessions() as session:
        return list(
            await session.scalars(
                select(DocumentFile).where(
                    DocumentFile.document_id == document_id, DocumentFile.role == "main"
                )
            )
        )


async def events(node: RunningNode, document_id: int, action: str) -> int:
    async with node.sessions() as session:
        count = await session.scalar(
            select(func.count(DocumentEvent.id)).where(
                DocumentEvent.document_id == document_id, DocumentEvent.action == action
            )
        )
    return count or 0


async def test_an_edit_changes_the_draft_and_the_register_and_search_show_it(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff")
    await browser.sign_in_as(drafter)
    # Its PDF says SUMMARY: the old summary below is only in the draft's fields.
    document_id = await new_draft(browser, tmp_path, summary=OLD_SUMMARY)
    [original_file] = await main_files(tu, document_id)
    page = await browser.get(f"/outgoing/{document_id}")
    assert 'id="edit-draft"' in page.text and 'id="delete-form"' in page.text
    form = await browser.get(f"/outgoing/{document_id}/edit")
    assert form.status == 200
    assert OLD_SUMMARY in form.text and SIGNER in form.text
    assert 'value="HU-CAMLO" checked' in form.text and 'value="TX-DONGHA" checked' not in form.text
    assert original_file.name in form.text

    edited = await post_edit(browser, document_id, form=form)
    again = await post_edit(browser, document_id, form=form)  # a double submit
    assert edited.status == again.status == 303, edited.text
    assert edited.location == again.location == f"/outgoing/{document_id}"

    document = await stored(tu, document_id)
    assert document is not None
    assert (document.summary, document.signer_name, document.doc_type) == (
        NEW_SUMMARY,
        NEW_SIGNER,
        "TB",
    )
    assert (document.urgency, document.pages, document.recipients) == (2, 3, "TX-DONGHA")
    assert (document.state, document.version) == ("draft", 2)
    assert await events(tu, document_id, "edited") == 1
    assert [f.sha256 for f in await main_files(tu, document_id)] == [original_file.sha256]
    register = await browser.get("/outgoing")
    assert NEW_SUMMARY in register.text and OLD_SUMMARY not in register.text
    assert "Thị uỷ Đông Hà" in register.text and "Huyện uỷ Cam Lộ" not in register.text
    page = await browser.get(f"/outgoing/{document_id}")
    assert "Sửa dự thảo" in page.text and "Thông báo" in page.text
    found = await browser.get("/search?q=chu+ky+so+quy")
    assert f"/outgoing/{document_id}" in found.text
    gone = await browser.get("/search?q=hoi+nghi+giao+ban")
    assert f"/outgoing/{document_id}" not in gone.text


async def test_a_new_pdf_replaces_the_file_and_a_file_that_is_not_a_pdf_changes_nothing(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff")
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path)
    [old] = await main_files(tu, document_id)
    name, content, content_type = a_pdf(tmp_path, NEW_SUMMARY)
    replaced = await post_edit(browser, document_id, pdf=(name, content, content_type))
    assert replaced.status == 303, replaced.text
    [new] = await main_files(tu, document_id)
    assert (new.name, new.sha256) == (name, hashlib.sha256(content).hexdigest())
    assert new.sha256 != old.sha256
    async with browser.http.get(f"{tu.web_url}/documents/{document_id}/files/{new.id}") as got:
        assert got.status == 200 and await got.read() == content
    assert tu.desk is not None and tu.desk.blobs.path(old.sha256).exists()  # blobs stay

    before = await stored(tu, document_id)
    assert before is not None
    refused = await post_edit(
        browser,
        document_id,
        pdf=("du-thao.docx", b"PK\x03\x04 not a pdf", "application/pdf"),
        summary="Không được lưu",
    )
    assert refused.status == 400
    assert "không phải là tệp PDF" in refusal_text(refused)
    assert "Không được lưu" in refused.text  # the form comes back as typed
    assert f'name="version" value="{before.version}"' in refused.text
    after = await stored(tu, document_id)
    assert after is not None
    assert (after.summary, after.version) == (before.summary, before.version)
    assert [f.sha256 for f in await main_files(tu, document_id)] == [new.sha256]

    no_signer = await post_edit(browser, document_id, signer_name="")
    assert no_signer.status == 400 and "người ký" in refusal_text(no_signer)
    nobody = await post_edit(browser, document_id, recipient="HU-GIOLINH")
    assert nobody.status == 400 and "Nơi nhận" in refusal_text(nobody)
    unchanged = await stored(tu, document_id)
    assert unchanged is not None and unchanged.version == before.version


async def test_a_stale_form_is_refused_and_changes_nothing(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff")
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path)
    first_form = await browser.get(f"/outgoing/{document_id}/edit")
    second_form = await browser.get(f"/outgoing/{document_id}/edit")
    old_page = await browser.get(f"/outgoing/{document_id}")
    assert (await post_edit(browser, document_id, form=first_form)).status == 303

    stale = await post_edit(browser, document_id, form=second_form, summary="Bản sửa cũ")
    assert stale.status == 409
    assert "người khác thay đổi" in refusal_text(stale)
    stale_delete = await post_delete(browser, document_id, old_page)
    assert stale_delete.status == 409
    assert "người khác thay đổi" in refusal_text(stale_delete)
    document = await stored(tu, document_id)
    assert document is not None
    assert (document.summary, document.version) == (NEW_SUMMARY, 2)


async def test_a_numbered_document_can_be_neither_edited_nor_deleted(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    await browser.sign_in_as(clerk)
    document_id = await new_draft(browser, tmp_path)
    draft_page = await browser.get(f"/outgoing/{document_id}")
    edit_form = await browser.get(f"/outgoing/{document_id}/edit")
    assert (await issue(browser, document_id, node=tu)).status == 303
    issued = await stored(tu, document_id)
    assert issued is not None and issued.state in ("issued", "sent")

    page = await browser.get(f"/outgoing/{document_id}")
    assert 'id="edit-draft"' not in page.text and 'id="delete-form"' not in page.text
    form = await browser.get(f"/outgoing/{document_id}/edit")
    assert form.status == 409 and NUMBERED in refusal_text(form)
    # Forms opened while it was a draft: refused as numbered, whatever version they carry.
    edited = await post_edit(browser, document_id, form=edit_form)
    assert edited.status == 409 and NUMBERED in refusal_text(edited)
    deleted = await post_delete(browser, document_id, draft_page)
    assert deleted.status == 409 and NUMBERED in refusal_text(deleted)
    after = await stored(tu, document_id)
    assert after is not None
    assert (after.summary, after.state, after.version, after.number_symbol) == (
        SUMMARY,
        issued.state,
        issued.version,
        issued.number_symbol,
    )


async def test_deleting_a_draft_removes_it_its_rows_and_its_search_entry(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff")
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path, summary="Dự thảo sẽ bị xoá bỏ")
    kept = await new_draft(browser, tmp_path, summary="Dự thảo được giữ lại")
    [file] = await main_files(tu, document_id)
    page = await browser.get(f"/outgoing/{document_id}")

    deleted = await post_delete(browser, document_id, page)
    again = await post_delete(browser, document_id, page)  # a double submit
    assert deleted.status == again.status == 303, deleted.text
    assert deleted.location == again.location == "/outgoing?notice=deleted"
    register = await browser.get("/outgoing?notice=deleted")
    assert 'id="outgoing-notice">Đã xoá dự thảo.' in register.text
    assert "Dự thảo sẽ bị xoá bỏ" not in register.text and "Dự thảo được giữ lại" in register.text
    gone = await browser.get(f"/outgoing/{document_id}")
    assert gone.status == 404 and NOT_FOUND in refusal_text(gone)
    assert (await browser.get(f"/documents/{document_id}/files/{file.id}")).status == 404
    assert (await browser.get(f"/outgoing/{document_id}/edit")).status == 404

    assert await stored(tu, document_id) is None and await stored(tu, kept) is not None
    async with tu.sessions() as session:
        files = await session.scalar(
            select(func.count(DocumentFile.id)).where(DocumentFile.document_id == document_id)
        )
        logged = await session.scalar(
            select(func.count(DocumentEvent.id)).where(DocumentEvent.document_id == document_id)
        )
        # The search table's key column: FTS5's rowid on SQLite, document_id on PostgreSQL.
        key = "document_id" if session.get_bind().dialect.name == "postgresql" else "rowid"
        indexed = await session.scalar(
            text(f"SELECT count(*) FROM document_search WHERE {key} IN (:gone, :kept)"),  # noqa: S608
            {"gone": document_id, "kept": kept},
        )
    assert (files, logged, indexed) == (0, 0, 1)
    assert tu.desk is not None and tu.desk.blobs.path(file.sha256).exists()


async def test_only_the_drafter_and_the_units_clerks_and_leaders_may_change_a_draft(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff", clearance=1)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(drafter)
        document_id = await new_draft(browser, tmp_path, secrecy="1")
        too_secret = await post_edit(browser, document_id, secrecy="2")
        assert too_secret.status == 400 and "Độ mật" in refusal_text(too_secret)
        page = await browser.get(f"/outgoing/{document_id}")
    colleague = await make_account(role="staff", clearance=3)
    board_clerk = await _account_in(tu, "BTC", "clerk", 3, secrets_seen)
    low_clerk = await make_account(role="clerk", clearance=0)
    admin = await make_account(role="admin", clearance=0)
    for account in (colleague, board_clerk, low_clerk, admin):
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(account)
            nothing = await browser.get("/outgoing/99999999/edit")
            form = await browser.get(f"/outgoing/{document_id}/edit")
            assert (form.status, refusal_text(form)) == (404, refusal_text(nothing)), account
            home = await browser.get("/")
            # Their own token and form id, the version the drafter's page showed.
            edited = await post_edit(
                browser,
                document_id,
                form=home,
                form_id=secrets.token_urlsafe(24),
                version=version(page),
            )
            assert edited.status == 404 and NOT_FOUND in refusal_text(edited), account
            deleted = await browser.post(
                f"/outgoing/{document_id}/delete",
                {
                    "csrf_token": home.form_token,
                    "form_id": secrets.token_urlsafe(24),
                    "version": version(page),
                },
            )
            assert deleted.status == 404 and NOT_FOUND in refusal_text(deleted), account
    unchanged = await stored(tu, document_id)
    assert unchanged is not None and (unchanged.summary, unchanged.version) == (SUMMARY, 1)

    leader = await make_account(role="leader", clearance=1)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(leader)
        assert 'id="edit-draft"' in (await browser.get(f"/outgoing/{document_id}")).text
        edited = await post_edit(browser, document_id, secrecy="1")
        assert edited.status == 303, edited.text
    document = await stored(tu, document_id)
    assert document is not None and (document.summary, document.version) == (NEW_SUMMARY, 2)


async def test_a_form_without_its_token_is_refused(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff")
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path)
    no_token = await post_edit(browser, document_id, token=False)
    assert no_token.status == 403
    no_token_delete = await post_delete(browser, document_id, token=False)
    assert no_token_delete.status == 403
    document = await stored(tu, document_id)
    assert document is not None and (document.summary, document.version) == (SUMMARY, 1)
