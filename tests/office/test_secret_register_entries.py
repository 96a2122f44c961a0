"""Secret documents of either direction registered from paper as register entries only: the
fields the register needs and no file (a file, if attached, never leaves the node:
``test_secrecy_network.py``). Incoming: the paper form takes a secret document without a scan,
not an ordinary one. Outgoing: "Vào sổ văn bản mật đi" gives the next number of the secret
series, issued on paper, nothing sent. Only a clerk enters one; nobody below its level, nor
another unit of the node, sees it. 2018 Law on Protection of State Secrets Art. 5; Decree
26/2020/NĐ-CP."""

from __future__ import annotations

import re
import secrets
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from exchange.models import OutboundDispatch
from keys import accounts
from keys.keystore import node_passphrase
from keys.sealing import SecretBox
from office.documents.models import Document, DocumentFile
from office.node.app import RunningNode
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.documents import (
    form_id,
    make_pdf,
    paper_fields,
    stored_document,
)
from tests.support.web import Page, StaffAccount, StaffBrowser

MAT, TOI_MAT = 1, 2
SECRET_SYMBOL = re.compile(r"^(\d{2,})-CV/TU$")


async def files_of(node: RunningNode, document_id: int) -> int:
    async with node.sessions() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(DocumentFile)
                .where(DocumentFile.document_id == document_id)
            )
            or 0
        )


async def outbound(node: RunningNode) -> int:
    async with node.sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboundDispatch)) or 0


async def enter_outgoing(
    browser: StaffBrowser,
    *,
    secrecy: int,
    summary: str = "Về công tác bảo vệ bí mật",
    files: tuple[Path, ...] = (),
) -> Page:
    """The paper entry form as a browser posts it: the token first, the fields, the files."""
    form = await browser.get("/outgoing/paper")
    assert form.status == 200, form.text
    # Multipart with or without a file, as a browser sends a form with a file input.
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("csrf_token", form.form_token)
    fields = {
        "form_id": form_id(form),
        "doc_type": "CV",
        "summary": summary,
        "signer_name": "Nguyễn Văn Hùng, Phó Bí thư",
        "urgency": "0",
        "secrecy": str(secrecy),
        "pages": "2",
    }
    for name, value in fields.items():
        data.add_field(name, value)
    data.add_field("recipient", "HU-CAMLO")
    data.add_field("recipient", "TX-DONGHA")
    for path in files:
        data.add_field("attachments", path.read_bytes(), filename=path.name)
    return await browser.post("/outgoing/paper", data)


async def enter_incoming(browser: StaffBrowser, fields: dict[str, str]) -> Page:
    """The paper form with no file chosen, as a browser posts it (multipart all the same)."""
    form = await browser.get("/incoming/new")
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("csrf_token", form.form_token)
    for name, value in {"form_id": form_id(form), **fields}.items():
        data.add_field(name, value)
    return await browser.post("/incoming/new", data)


async def other_unit_clerk(node: RunningNode, seen: SecretsSeen) -> StaffAccount:
    """A clerk of the province's node, of its other unit (Ban Tổ chức), cleared for all."""
    username = f"cb.{uuid.uuid4().hex[:10]}"
    password = f"Thanh-Co {secrets.token_urlsafe(12)}"
    box = SecretBox(node_passphrase(node.settings), node.settings.node.name)
    async with node.sessions() as session, session.begin():
        await accounts.add_user(
            session, username, password, "BTC", "clerk", 3, node.settings.node.units, "Trần Văn B"
        )
        enrolment = await accounts.enrol_totp(session, username, box)
    seen.add(password, enrolment.secret)
    return StaffAccount(username, password, enrolment.secret, "BTC", "Trần Văn B")


async def test_a_secret_paper_document_is_registered_without_a_scan_an_ordinary_one_is_not(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk = await make_account(role="clerk", clearance=3)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        form = await browser.get("/incoming/new")
        assert "không cần bản quét" in form.text
        assert re.search(r'<input id="file"[^>]*required', form.text) is None

        ordinary = await enter_incoming(browser, paper_fields("Thông báo thường"))
        assert ordinary.status == 400 and "Chưa đính kèm bản quét" in ordinary.text
        secret = await enter_incoming(
            browser, paper_fields("Kế hoạch tối mật", secrecy=str(TOI_MAT))
        )
        assert secret.status == 303, secret.text
        assert secret.location is not None
        document_id = int(secret.location.rsplit("/", 1)[1])
        page = await browser.get(secret.location)
        assert page.status == 200 and "Kế hoạch tối mật" in page.text
    entry = await stored_document(tu, document_id)
    assert (entry.state, entry.secrecy, entry.register_series) == ("registered", TOI_MAT, "secret")
    assert entry.register_number is not None
    assert await files_of(tu, document_id) == 0


async def test_a_secret_outgoing_document_is_entered_from_paper_numbered_and_never_sent(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=3)
    before = await outbound(tu)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        listing = await browser.get("/outgoing")
        assert 'href="/outgoing/paper"' in listing.text

        not_secret = await enter_outgoing(browser, secrecy=0)
        assert not_secret.status == 400
        assert "Chỉ văn bản mật (Mật, Tối mật, Tuyệt mật)" in not_secret.text

        first = await enter_outgoing(browser, secrecy=MAT, summary="Về việc thứ nhất")
        assert first.status == 303, first.text
        appendix = make_pdf(tmp_path, "phu-luc.pdf", "Phụ lục mật")
        second = await enter_outgoing(
            browser, secrecy=TOI_MAT, summary="Về việc thứ hai", files=(appendix,)
        )
        assert second.status == 303, second.text
        assert first.location is not None and second.location is not None
        first_id = int(first.location.rsplit("/", 1)[1])
        second_id = int(second.location.rsplit("/", 1)[1])
        page = await browser.get(second.location)
        assert "Đã phát hành bản giấy" in page.text and "phu-luc.pdf" in page.text
        assert 'id="issue-form"' not in page.text and 'id="resend-form"' not in page.text
        book = await browser.get("/outgoing?book=secret")
        assert "Về việc thứ nhất" in book.text and "Về việc thứ hai" in book.text
        assert "Về việc thứ hai" not in (await browser.get("/outgoing")).text  # not mixed

    one, two = await stored_document(tu, first_id), await stored_document(tu, second_id)
    for entry in (one, two):
        assert (entry.state, entry.register_series, entry.dispatch_id) == ("paper", "secret", None)
        assert entry.recipients == "HU-CAMLO,TX-DONGHA"
    numbers = [SECRET_SYMBOL.match(entry.number_symbol) for entry in (one, two)]
    assert numbers[0] and numbers[1], (one.number_symbol, two.number_symbol)
    assert int(numbers[1].group(1)) == int(numbers[0].group(1)) + 1  # one secret series
    assert (await files_of(tu, first_id), await files_of(tu, second_id)) == (0, 1)
    assert await outbound(tu) == before

    # Who may not see it: staff below its level, the clerk of another unit of this node;
    # who may not enter one: anyone but a clerk.
    staff = await make_account(role="staff", clearance=MAT)
    neighbour = await other_unit_clerk(tu, secrets_seen)
    for account in (staff, neighbour):
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(account)
            assert (await browser.get(f"/outgoing/{second_id}")).status == 404
            book = await browser.get("/outgoing?book=secret")
            assert "Về việc thứ hai" not in book.text
            if account is staff:
                assert (await browser.get("/outgoing/paper")).status == 404
                assert 'href="/outgoing/paper"' not in book.text
    async with tu.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Document).where(Document.state == "paper")
        )
    assert count == 2
