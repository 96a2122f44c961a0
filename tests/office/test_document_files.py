"""A document's several files over HTTP, between real nodes on loopback: a draft's main PDF and
its appendices travel in one dispatch and arrive in order, each PDF's signature checked; files
are told by their content and a lying or unknown one is refused by name, leaving nothing; a
draft's appendices are added and removed; a refused form comes back as typed; and an urgent
document wears its badge in every list."""

from __future__ import annotations

import hashlib
import io
import re
import time
import uuid
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from keys.models import User
from office.documents import incoming
from office.documents.fields import DocumentFields
from office.documents.models import Assignment, Document, DocumentEvent
from office.node.app import RunningNode
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.office.test_document_refusals_in_english import english, said, speak
from tests.office.test_outgoing import signer_of
from tests.support.approval import approve
from tests.support.documents import (
    files_under,
    form_id,
    indexed,
    make_pdf,
    paper_fields,
    stored_files,
    version,
)
from tests.support.waiting import wait_for
from tests.support.web import Page, StaffBrowser, new_account, refusal_text

SIGNER = "Nguyễn Văn Hùng, Phó Bí thư"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The start of a PNG: what the content check reads.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"

Upload = tuple[str, bytes, str]
FILE_ITEM = re.compile(r'<li data-role="([a-z]+)" data-kind="([a-z]+)">')


def office_zip(*entries: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in entries:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def docx(name: str = "phu-luc.docx") -> Upload:
    return name, office_zip("[Content_Types].xml", "word/document.xml"), "application/msword"


def xlsx(name: str = "bieu-mau.xlsx") -> Upload:
    return name, office_zip("[Content_Types].xml", "xl/workbook.xml"), "text/plain"


def png(name: str = "so-do.png") -> Upload:
    return name, PNG, "image/png"


def pdf(tmp_path: Path, name: str, *lines: str) -> Upload:
    path = make_pdf(tmp_path, f"{uuid.uuid4().hex[:6]}-{name}", *(lines or (name,)))
    return name, path.read_bytes(), "application/pdf"


async def post_draft(
    browser: StaffBrowser,
    main: Upload | None,
    attachments: Sequence[Upload] = (),
    **changes: str,
) -> Page:
    """The draft form as a browser sends it: the token first, the fields, the main file, then
    the appendices in the order chosen."""
    form = await browser.get("/outgoing/new")
    assert form.status == 200, form.text
    data = aiohttp.FormData()
    data.add_field("csrf_token", form.form_token)
    fields = {
        "form_id": form_id(form),
        "doc_type": "CV",
        "summary": "Về việc gửi kèm phụ lục",
        "signer_name": SIGNER,
        "urgency": "0",
        "secrecy": "0",
        "pages": "2",
        "note": "Ghi chú của người soạn",
        "recipient": "HU-CAMLO",
        **changes,
    }
    for name, value in fields.items():
        data.add_field(name, value)
    if main is not None:
        data.add_field("file", main[1], filename=main[0], content_type=main[2])
    for name, content, content_type in attachments:
        # A file object: aiohttp will not send a large bytes value as a form field.
        data.add_field("attachments", io.BytesIO(content), filename=name, content_type=content_type)
    return await browser.post("/outgoing/new", data)


async def post_paper(
    browser: StaffBrowser, files: Sequence[Upload], summary: str, **changes: str
) -> Page:
    """The paper entry form: the scan in ``file``, the appendices in ``attachments``."""
    form = await browser.get("/incoming/new")
    assert form.status == 200, form.text
    data = aiohttp.FormData()
    data.add_field("csrf_token", form.form_token)
    for name, value in {"form_id": form_id(form), **paper_fields(summary, **changes)}.items():
        data.add_field(name, value)
    for index, (name, content, content_type) in enumerate(files):
        field = "file" if index == 0 else "attachments"
        data.add_field(field, content, filename=name, content_type=content_type)
    return await browser.post("/incoming/new", data)


def document_id(page: Page) -> int:
    assert page.status == 303, page.text
    assert page.location is not None
    return int(page.location.rsplit("/", 1)[1])


async def document_count(node: RunningNode) -> int:
    async with node.sessions() as session:
        return await session.scalar(select(func.count(Document.id))) or 0


def listed(page: Page) -> list[tuple[str, str]]:
    """(role, kind) of each file the document's page lists, in its order."""
    return FILE_ITEM.findall(page.text)


async def test_a_draft_s_appendices_travel_with_it_and_arrive_in_order_with_their_signatures(
    tu: RunningNode,
    camlo: RunningNode,
    make_account: NewAccount,
    secrets_seen: SecretsSeen,
    tmp_path: Path,
) -> None:
    clerk = await make_account(role="clerk")
    main = pdf(tmp_path, "to-trinh.pdf", "Tờ trình")
    appendix_pdf = pdf(tmp_path, "phu-luc-2.pdf", "Phụ lục 2")
    sent_files = [docx(), png(), appendix_pdf]
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        draft_id = document_id(await post_draft(browser, main, sent_files))
        drafted = await stored_files(tu, draft_id)
        assert [(f.name, f.role, f.content_type) for f in drafted] == [
            ("to-trinh.pdf", "main", "application/pdf"),
            ("phu-luc.docx", "attachment", DOCX),  # the content's type, not the browser's
            ("so-do.png", "attachment", "image/png"),
            ("phu-luc-2.pdf", "attachment", "application/pdf"),
        ]
        await approve(tu, draft_id, await signer_of(tu))
        page = await browser.get(f"/outgoing/{draft_id}")
        # The draft's PDF, the one its signer signed, then the appendices.
        assert [kind for _role, kind in listed(page)] == [
            "pdf",
            "pdf",
            "docx",
            "png",
            "pdf",
        ]
        assert "Word (DOCX)" in page.text and "Ảnh PNG" in page.text
        issued = await browser.post(
            f"/outgoing/{draft_id}/issue",
            {"csrf_token": page.form_token, "form_id": form_id(page), "version": version(page)},
        )
        assert issued.status == 303, issued.text
        async with tu.sessions() as session:
            sent = await session.get(Document, draft_id)
        assert sent is not None and sent.state == "sent" and sent.dispatch_id is not None
        signed = next(f for f in await stored_files(tu, draft_id) if f.role == "signed")
        page = await browser.get(f"/outgoing/{draft_id}")
        assert [role for role, _kind in listed(page)] == [
            "main",
            "approved",
            "signed",
            "attachment",
            "attachment",
            "attachment",
        ]

    async def arrived() -> Document | None:
        async with camlo.sessions() as session:
            return await session.scalar(
                select(Document).where(Document.dispatch_id == sent.dispatch_id)
            )

    async def there() -> bool:
        return await arrived() is not None

    await wait_for(there)
    received = await arrived()
    assert received is not None
    await indexed(camlo)  # the received PDFs' signatures, checked after the arrival committed
    files = await stored_files(camlo, received.id)
    assert [(f.name, f.role, f.content_type) for f in files] == [
        (signed.name, "main", "application/pdf"),
        ("phu-luc.docx", "attachment", DOCX),
        ("so-do.png", "attachment", "image/png"),
        ("phu-luc-2.pdf", "attachment", "application/pdf"),
    ]
    assert [f.sha256 for f in files] == [signed.sha256] + [
        hashlib.sha256(content).hexdigest() for _name, content, _type in sent_files
    ]
    assert [f.signature_state for f in files] == ["valid", None, None, "unsigned"]

    camlo_clerk = await new_account(camlo, role="clerk")
    secrets_seen.add(camlo_clerk.password, camlo_clerk.totp_secret)
    async with StaffBrowser(camlo.web_url) as district:
        await district.sign_in_as(camlo_clerk)
        page = await district.get(f"/incoming/{received.id}")
        assert [kind for _role, kind in listed(page)] == [
            "pdf",
            "docx",
            "png",
            "pdf",
        ]
        assert "signature-valid" in page.text and "signature-unsigned" in page.text
        async with district.http.get(
            f"{camlo.web_url}/documents/{received.id}/files/{files[1].id}"
        ) as download:
            assert download.status == 200
            assert download.headers["Content-Type"] == DOCX
            assert await download.read() == sent_files[0][1]


#: Each refused file and why; an empty content stands for a PDF (made in the test's folder).
LYING_FILES = [
    (("bao-cao.pdf", office_zip("a.txt"), "application/pdf"), "không thuộc loại được nhận"),
    (("du-thao.docx", b"", DOCX), "có nội dung là PDF"),
    (("anh.png", b"MZ\x90\x00\x03" + bytes(300), "image/png"), "không thuộc loại được nhận"),
    (("bang.pdf", office_zip("[Content_Types].xml", "xl/workbook.xml"), ""), "là XLSX"),
]


@pytest.mark.parametrize(("lying", "reason"), LYING_FILES, ids=lambda v: str(v)[:20])
async def test_a_file_not_of_a_kind_or_not_what_its_name_says_is_refused_and_nothing_is_kept(
    tu: RunningNode,
    make_account: NewAccount,
    tmp_path: Path,
    lying: Upload,
    reason: str,
) -> None:
    name, content, content_type = lying
    if not content:  # a PDF named as a Word document
        content = pdf(tmp_path, "x.pdf")[1]
    clerk = await make_account(role="clerk")
    blobs = tu.settings.blob_dir
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        await browser.get("/")
        before, documents = files_under(blobs), await document_count(tu)
        as_appendix = await post_draft(
            browser, pdf(tmp_path, "chinh.pdf"), [png(), (name, content, content_type)]
        )
        on_paper = await post_paper(
            browser, [pdf(tmp_path, "scan.pdf"), (name, content, content_type)], "Có tệp sai"
        )
        for refused in (as_appendix, on_paper):
            assert refused.status == 400, refused.text
            said = refusal_text(refused)
            assert f"“{name}”" in said and reason in said, said
        assert files_under(blobs) == before
        assert await document_count(tu) == documents


async def test_a_zip_of_a_hundred_thousand_entries_is_refused_quickly(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w/>")
        for index in range(100_000):
            archive.writestr(str(index), "")
    bomb = ("bom.docx", buffer.getvalue(), DOCX)
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        documents = await document_count(tu)
        started = time.monotonic()
        refused = await post_draft(browser, pdf(tmp_path, "chinh.pdf"), [bomb])
        took = time.monotonic() - started
    assert refused.status == 400 and "quá nhiều thành phần" in refusal_text(refused)
    assert took < 10, took  # the upload itself is 8 MB; the check reads only the end record
    assert await document_count(tu) == documents


async def test_a_draft_s_appendices_are_added_and_removed_on_edit(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(drafter)
        draft_id = document_id(await post_draft(browser, pdf(tmp_path, "a.pdf"), [docx(), png()]))
        before = await stored_files(tu, draft_id)
        form = await browser.get(f"/outgoing/{draft_id}/edit")
        assert 'name="attachments"' in form.text and "phu-luc.docx" in form.text
        data = aiohttp.FormData()
        data.add_field("csrf_token", form.form_token)
        for field, value in {
            "form_id": form_id(form),
            "version": version(form),
            "doc_type": "CV",
            "summary": "Về việc gửi kèm phụ lục (sửa)",
            "signer_name": SIGNER,
            "urgency": "0",
            "secrecy": "0",
            "recipient": "HU-CAMLO",
            "remove_attachment": str(before[1].id),
        }.items():
            data.add_field(field, value)
        data.add_field("file", b"", filename="", content_type="application/octet-stream")
        name, content, content_type = xlsx()
        data.add_field("attachments", content, filename=name, content_type=content_type)
        saved = await browser.post(f"/outgoing/{draft_id}/edit", data)
        assert saved.status == 303, saved.text
    after = await stored_files(tu, draft_id)
    assert [(f.name, f.role, f.content_type) for f in after] == [
        ("a.pdf", "main", "application/pdf"),
        ("so-do.png", "attachment", "image/png"),
        ("bieu-mau.xlsx", "attachment", XLSX),
    ]
    async with tu.sessions() as session:
        note = await session.scalar(
            select(DocumentEvent.note).where(
                DocumentEvent.document_id == draft_id, DocumentEvent.action == "edited"
            )
        )
    assert note == "bieu-mau.xlsx; bỏ phu-luc.docx"


async def test_a_refused_form_comes_back_with_what_was_typed(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        paper = await post_paper(
            browser,
            [pdf(tmp_path, "scan.pdf")],
            "Về việc giữ lại nội dung đã nhập",
            issued_on="31/02/2026",
            number_symbol="77-CV/HU",
            sender_name="Huyện uỷ Gio Linh",
            note="Bản gốc lưu tại văn thư",
            secrecy="1",
        )
        assert paper.status == 400 and "Ngày văn bản" in refusal_text(paper)
        for kept in (
            ">Về việc giữ lại nội dung đã nhập</textarea>",
            'value="77-CV/HU"',
            'value="Huyện uỷ Gio Linh"',
            'value="31/02/2026"',
            'value="Bản gốc lưu tại văn thư"',
            '<option value="1" selected>',
            'id="files-again"',
        ):
            assert kept in paper.text, kept
        original = await post_paper(
            browser, [pdf(tmp_path, "a.pdf")], "Bản gốc", number_symbol="78-CV/HU"
        )
        assert original.status == 303, original.text
        duplicate = await post_paper(
            browser, [pdf(tmp_path, "b.pdf")], "Bản thứ hai", number_symbol="78-CV/HU"
        )
        assert duplicate.status == 409 and ">Bản thứ hai</textarea>" in duplicate.text

        drafted = await post_draft(
            browser,
            pdf(tmp_path, "chinh.pdf"),
            [("lap-trinh.exe", b"MZ" + bytes(100), "application/octet-stream")],
            summary="Về việc dự thảo bị từ chối",
            pages="4",
            urgency="2",
        )
        assert drafted.status == 400 and "lap-trinh.exe" in refusal_text(drafted)
        for kept in (
            ">Về việc dự thảo bị từ chối</textarea>",
            f'value="{SIGNER}"',
            'value="4"',
            'value="Ghi chú của người soạn"',
            '<option value="2" selected>',
            'value="HU-CAMLO" checked',
            'id="files-again"',
        ):
            assert kept in drafted.text, kept

        draft_id = document_id(await post_draft(browser, pdf(tmp_path, "c.pdf"), [png()]))
        form = await browser.get(f"/outgoing/{draft_id}/edit")
        [attachment] = [f for f in await stored_files(tu, draft_id) if f.role == "attachment"]
        data = aiohttp.FormData()
        data.add_field("csrf_token", form.form_token)
        for field, value in {
            "form_id": form_id(form),
            "version": version(form),
            "doc_type": "CV",
            "summary": "Tóm tắt đã sửa nhưng số tờ sai",
            "signer_name": SIGNER,
            "pages": "bốn",
            "urgency": "0",
            "secrecy": "0",
            "recipient": "HU-CAMLO",
            "remove_attachment": str(attachment.id),
        }.items():
            data.add_field(field, value)
        data.add_field("file", b"", filename="", content_type="application/octet-stream")
        edited = await browser.post(f"/outgoing/{draft_id}/edit", data)
        assert edited.status == 400 and "Số tờ" in refusal_text(edited)
        assert ">Tóm tắt đã sửa nhưng số tờ sai</textarea>" in edited.text
        assert f'value="{attachment.id}" checked' in edited.text
    assert len(await stored_files(tu, draft_id)) == 2  # nothing changed


async def receive_urgent(node: RunningNode, summary: str) -> None:
    """A Thượng khẩn document from the network, waiting in the clerk's queue."""
    async with node.sessions() as session, session.begin():
        await incoming.receive(
            session,
            ["TU"],
            DocumentFields("CĐ", summary, f"{uuid.uuid4().hex[:6]}-CĐ/HU", urgency=2),
            [],
            dispatch_id=str(uuid.uuid4()),
            sender_unit="HU-CAMLO",
            now=datetime.now(UTC),
        )


async def assign(node: RunningNode, document_id: int, handler: str, leader: str) -> None:
    """``handler`` leads the document's handling, due in a month (as a direction gives it)."""
    async with node.sessions() as session, session.begin():
        users = {
            row.username: row.id
            for row in await session.execute(
                select(User.username, User.id).where(User.username.in_((handler, leader)))
            )
        }
        session.add(
            Assignment(
                document_id=document_id,
                user_id=users[handler],
                part="lead",
                due_on=date.today() + timedelta(days=30),
                assigned_by=users[leader],
            )
        )


async def test_an_urgent_document_wears_its_badge_in_every_list(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    word = f"baonhanh{uuid.uuid4().hex[:8]}"
    clerk = await make_account(role="clerk")
    handler = await make_account(role="staff")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        entered = document_id(
            await post_paper(
                browser,
                [pdf(tmp_path, "a.pdf")],
                f"Công điện {word} về phòng chống lũ",
                urgency="3",
            )
        )
        urgent_draft = document_id(
            await post_draft(
                browser, pdf(tmp_path, "b.pdf"), summary=f"Dự thảo {word} khẩn", urgency="1"
            )
        )
        ordinary_draft = document_id(
            await post_draft(browser, pdf(tmp_path, "c.pdf"), summary=f"Dự thảo {word} thường")
        )
        badge = '<span class="urgent urgent-{}">{}</span>'
        register = await browser.get("/incoming")
        row = register.text.split(f'href="/incoming/{entered}"', 1)[0].rsplit("<tr", 1)[1]
        assert badge.format(3, "Hỏa tốc") in row
        drafts = await browser.get("/outgoing")
        table = drafts.text.split('id="drafts"', 1)[1].split("</table>", 1)[0]
        assert badge.format(1, "Khẩn") in table
        # A work queue: the urgent draft before the newer ordinary one.
        assert table.index(f"/outgoing/{urgent_draft}") < table.index(f"/outgoing/{ordinary_draft}")
        found = await browser.get(f"/search?q={word}")
        assert badge.format(3, "Hỏa tốc") in found.text and badge.format(1, "Khẩn") in found.text
        await receive_urgent(tu, f"Công điện {word} chờ vào sổ")
        await assign(tu, entered, handler.username, clerk.username)
        home = await browser.get("/")
        queue = home.text.split('id="home-queue"', 1)[1].split("</section>", 1)[0]
        assert badge.format(2, "Thượng khẩn") in queue
        queued = await browser.get("/incoming")
        in_queue = queued.text.split('id="queue"', 1)[1].split("</table>", 1)[0]
        assert badge.format(2, "Thượng khẩn") in in_queue
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(handler)
        home = await browser.get("/")
        tasks = home.text.split('id="home-tasks"', 1)[1].split("</section>", 1)[0]
        assert badge.format(3, "Hỏa tốc") in tasks and word in tasks


async def test_a_refused_file_reads_in_the_reader_s_language(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        await speak(browser, "en")
        scan = pdf(tmp_path, "scan.pdf")
        wrong_name = await post_paper(browser, [scan, ("anh.png", scan[1], "image/png")], "Paper")
        assert english(said(wrong_name, 400)) == (
            "The file “anh.png” holds PDF, not what its name's extension says."
        )
        unknown = await post_draft(browser, scan, [("ghi-chu.txt", b"words", "text/plain")])
        assert english(said(unknown, 400)) == (
            "The file “ghi-chu.txt” is not of a kind accepted (PDF, DOCX, XLSX, ODT, ODS, PNG, "
            "JPEG)."
        )
        assert "please choose the files again" in unknown.text
