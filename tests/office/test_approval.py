"""Ký duyệt over HTTP, on a real node: the signer opens the draft submitted to them, chooses the
authority they sign under and types their PIN; the PDF then carries their own signature (checked
with ``pdfsig``, a tool we did not write) with the authority line, and the draft is ``approved``.
Each refusal changes nothing: a wrong PIN, no activated key, signing authority taken away, a
revoked personal certificate, a stale form; a double submit approves once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from config.database import open_database
from config.settings import load_settings
from keys import accounts, certificates
from keys.keystore import node_passphrase
from keys.models import PersonKey
from office.documents.models import Document, DocumentFile
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.office.test_outgoing import new_draft
from tests.support.approval import PIN, give_signing_key, member_of
from tests.support.documents import form_id, pdf_text, version
from tests.support.keys import run_tool, tool_ok
from tests.support.web import Page, StaffAccount, StaffBrowser, refusal_text

SIGNER = "Trần Thị Bình"
TITLE = "Phó Bí thư"


async def approve_form(browser: StaffBrowser, document_id: int) -> Page:
    page = await browser.get(f"/outgoing/{document_id}/approve")
    assert page.status == 200, page.text
    return page


async def post_approval(
    browser: StaffBrowser,
    document_id: int,
    page: Page,
    *,
    pin: str = PIN,
    authority: str = "tm",
    on_behalf_of: str = "Ban Thường vụ",
) -> Page:
    return await browser.post(
        f"/outgoing/{document_id}/approve",
        {
            "csrf_token": page.form_token,
            "form_id": form_id(page),
            "version": version(page),
            "authority": authority,
            "on_behalf_of": on_behalf_of,
            "pin": pin,
            "comment": "Đồng ý ban hành.",
        },
    )


async def state(node: RunningNode, document_id: int) -> tuple[str, int, int]:
    """The draft's state, version and how many files it has: what a refusal must not change."""
    async with node.sessions() as session:
        document = await session.get(Document, document_id)
        files = await session.scalar(
            select(func.count(DocumentFile.id)).where(DocumentFile.document_id == document_id)
        )
    assert document is not None
    return document.state, document.version, files or 0


@pytest.fixture
async def at_signer(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> tuple[int, StaffAccount]:
    """A draft submitted to a leader who may sign and has an activated key."""
    drafter = await make_account(role="staff")
    signer = await make_account(role="leader", clearance=3, full_name=SIGNER)
    async with tu.sessions() as session, session.begin():
        await accounts.set_duties(session, signer.username, title=TITLE, may_sign=True)
    await give_signing_key(tu, signer, full_name=SIGNER, title=TITLE)
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path)
    member = await member_of(tu, signer.username)
    page = await browser.get(f"/outgoing/{document_id}/submit")
    submitted = await browser.post(
        f"/outgoing/{document_id}/submit",
        {
            "csrf_token": page.form_token,
            "form_id": form_id(page),
            "version": version(page),
            "to": f"sign:{member.id}",
        },
    )
    assert submitted.status == 303, submitted.text
    return document_id, signer


async def test_the_signer_signs_with_their_pin_under_the_authority_they_chose(
    tu: RunningNode, at_signer: tuple[int, StaffAccount]
) -> None:
    document_id, signer = at_signer
    async with StaffBrowser(tu.web_url) as leader:
        await leader.sign_in_as(signer)
        form = await approve_form(leader, document_id)
        wrong = await post_approval(leader, document_id, form, pin="000000")
        assert wrong.status == 403
        assert "Mã PIN ký không đúng" in refusal_text(wrong)
        assert PIN not in wrong.text and "000000" not in wrong.text  # never echoed
        assert await state(tu, document_id) == ("signing", *(await state(tu, document_id))[1:])
        before = await state(tu, document_id)

        done = await post_approval(leader, document_id, await approve_form(leader, document_id))
        assert (done.status, done.location) == (303, f"/outgoing/{document_id}")
    after = await state(tu, document_id)
    assert after[0] == "approved" and after[2] == before[2] + 1
    async with tu.sessions() as session:
        document = await session.get(Document, document_id)
        approved = await session.scalar(
            select(DocumentFile).where(
                DocumentFile.document_id == document_id, DocumentFile.role == "approved"
            )
        )
        failures = await session.scalar(
            select(PersonKey.pin_failures)
            .limit(1)
            .where(PersonKey.user_id == (await member_of(tu, signer.username)).id)
        )
    assert document is not None and approved is not None
    assert (document.authority, document.signer_name) == ("T/M BAN THƯỜNG VỤ", f"{SIGNER}, {TITLE}")
    assert failures == 0  # the right PIN clears the count
    assert tu.desk is not None
    path = tu.desk.blobs.path(approved.sha256)
    report = tool_ok(run_tool("pdfsig", path))
    assert report.count("Signature Validation: Signature is Valid.") == 1, report
    assert f"CN={SIGNER}" in report
    text = " ".join(pdf_text(path).split())
    assert "T/M BAN THƯỜNG VỤ" in text and "PHÓ BÍ THƯ" in text.upper() and SIGNER in text


async def test_a_double_submitted_approval_approves_once(
    tu: RunningNode, at_signer: tuple[int, StaffAccount]
) -> None:
    document_id, signer = at_signer
    async with StaffBrowser(tu.web_url) as leader:
        await leader.sign_in_as(signer)
        form = await approve_form(leader, document_id)
        first = await post_approval(leader, document_id, form)
        again = await post_approval(leader, document_id, form)
    assert first.status == again.status == 303 and first.location == again.location
    async with tu.sessions() as session:
        kept = await session.scalar(
            select(func.count(DocumentFile.id)).where(
                DocumentFile.document_id == document_id, DocumentFile.role == "approved"
            )
        )
    assert kept == 1


async def test_a_stale_approval_form_changes_nothing(
    tu: RunningNode, at_signer: tuple[int, StaffAccount]
) -> None:
    document_id, signer = at_signer
    async with StaffBrowser(tu.web_url) as leader:
        await leader.sign_in_as(signer)
        form = await approve_form(leader, document_id)
        async with tu.sessions() as session, session.begin():
            await session.execute(
                update(Document)
                .where(Document.id == document_id)
                .values(version=Document.version + 1)
            )
        before = await state(tu, document_id)
        stale = await post_approval(leader, document_id, form)
    assert stale.status == 409
    assert "người khác thay đổi" in refusal_text(stale)
    assert await state(tu, document_id) == before


async def test_without_an_activated_key_or_signing_authority_nobody_signs(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff")
    keyless = await make_account(role="leader", full_name="Lê Văn Chưa Có Khoá")
    async with tu.sessions() as session, session.begin():
        await accounts.set_duties(session, keyless.username, title=TITLE, may_sign=True)
    member = await member_of(tu, keyless.username)
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path)
    page = await browser.get(f"/outgoing/{document_id}/submit")
    await browser.post(
        f"/outgoing/{document_id}/submit",
        {
            "csrf_token": page.form_token,
            "form_id": form_id(page),
            "version": version(page),
            "to": f"sign:{member.id}",
        },
    )
    before = await state(tu, document_id)
    assert before[0] == "signing"
    async with StaffBrowser(tu.web_url) as leader:
        await leader.sign_in_as(keyless)
        no_key = await post_approval(leader, document_id, await approve_form(leader, document_id))
        assert no_key.status == 403
        assert "chưa có khoá ký số riêng" in refusal_text(no_key)
        # Signing authority taken away while the draft waited: refused before any PIN is read.
        async with tu.sessions() as session, session.begin():
            await accounts.set_duties(session, keyless.username, may_sign=False)
        taken = await post_approval(leader, document_id, await approve_form(leader, document_id))
        assert taken.status == 403
        assert "Bạn không có quyền ký duyệt dự thảo này" in refusal_text(taken)
    assert await state(tu, document_id) == before


async def test_a_revoked_personal_certificate_cannot_sign(
    tu: RunningNode, at_signer: tuple[int, StaffAccount]
) -> None:
    document_id, signer = at_signer
    member = await member_of(tu, signer.username)
    async with tu.sessions() as session:
        serial = await session.scalar(
            select(PersonKey.serial).where(
                PersonKey.user_id == member.id, PersonKey.state == "active"
            )
        )
    assert serial is not None
    # `keys revoke` on the CA (the province's node here), which publishes the CRL it reads.
    ca_settings = load_settings(tu.settings.node_dir, {})
    authority = certificates.open_ca(ca_settings, node_passphrase(ca_settings))
    async with (
        open_database(ca_settings) as sessions,
        sessions() as session,
        session.begin(),
    ):
        await certificates.revoke(session, ca_settings, authority, serial, "keyCompromise")
    before = await state(tu, document_id)
    async with StaffBrowser(tu.web_url) as leader:
        await leader.sign_in_as(signer)
        refused = await post_approval(leader, document_id, await approve_form(leader, document_id))
    assert refused.status == 403
    assert "đã bị thu hồi" in refusal_text(refused)
    assert await state(tu, document_id) == before
