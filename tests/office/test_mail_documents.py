"""A mail handed to the clerk ("Chuyển văn thư vào sổ") becomes one incoming document in
the unit's queue, with the mail's PDFs (or the whole mail), however often it is handed over."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from office.documents.models import Document, DocumentEvent, DocumentFile
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support.documents import make_pdf
from tests.support.webmail import arrived, mailbox_of, send, signed_in


async def test_a_mail_becomes_one_incoming_document_in_the_clerks_queue(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    sender, handler, clerk = (
        await make_account(role="staff", full_name="Trần Văn Sơn"),
        await make_account(role="staff"),
        await make_account(role="clerk"),
    )
    handler_box, clerk_box = await mailbox_of(tu, handler), await mailbox_of(tu, clerk)
    pdf = make_pdf(tmp_path, "cv.pdf", "Công văn số 12").read_bytes()
    subject = "Công văn 12-CV/HU về chuyển đổi số"
    async with (
        await signed_in(tu, sender) as as_sender,
        await signed_in(tu, handler) as as_handler,
        await signed_in(tu, clerk) as as_clerk,
    ):
        await send(
            as_sender,
            f"{handler_box.address}, {clerk_box.address}",
            subject,
            files={
                "attachment": [
                    ("cv-12.pdf", pdf, "application/pdf"),
                    ("ghi-chu.txt", b"khong phai van ban", "text/plain"),
                ]
            },
        )
        handler_mail = await arrived(tu, handler_box, subject)
        clerk_mail = await arrived(tu, clerk_box, subject)

        page = await as_handler.get(f"/mail/{handler_mail}")
        first = await as_handler.post(
            f"/mail/{handler_mail}/to-document", {"csrf_token": page.form_token}
        )
        assert first.status == 303 and first.location is not None
        assert re.fullmatch(r"/incoming/\d+", first.location)  # they made it: they may see it
        again = await as_handler.post(
            f"/mail/{handler_mail}/to-document", {"csrf_token": page.form_token}
        )
        assert again.location == first.location
        # The clerk got the same mail and hands it over too: still the one document.
        clerk_page = await as_clerk.get(f"/mail/{clerk_mail}")
        by_clerk = await as_clerk.post(
            f"/mail/{clerk_mail}/to-document", {"csrf_token": clerk_page.form_token}
        )
        assert by_clerk.location == first.location
        queue = await as_clerk.get("/incoming")
        assert queue.text.count(subject) == 1
        document_page = await as_clerk.get(first.location)
        assert "Chuyển từ thư điện tử" in document_page.text

    document_id = int(first.location.rsplit("/", 1)[1])
    async with tu.sessions() as session:
        document = await session.get(Document, document_id)
        assert document is not None
        assert (document.state, document.summary, document.sender_name) == (
            "received",
            subject,
            "Trần Văn Sơn",
        )
        assert await session.scalar(select(func.count()).where(Document.summary == subject)) == 1
        files = (
            await session.scalars(
                select(DocumentFile).where(DocumentFile.document_id == document_id)
            )
        ).all()
        assert [(f.name, f.content_type) for f in files] == [("cv-12.pdf", "application/pdf")]
        events = (
            await session.scalars(
                select(DocumentEvent.action).where(DocumentEvent.document_id == document_id)
            )
        ).all()
        assert events.count("from-mail") == 1


async def test_a_mail_without_a_pdf_goes_to_the_clerk_whole_and_a_colleague_is_told(
    tu: RunningNode, make_account: NewAccount
) -> None:
    sender, handler = await make_account(role="staff"), await make_account(role="staff")
    colleague = await make_account(role="staff")
    boxes = [await mailbox_of(tu, a) for a in (handler, colleague)]
    subject = "Thông báo lịch trực Tết"
    async with (
        await signed_in(tu, sender) as as_sender,
        await signed_in(tu, colleague) as as_colleague,
        await signed_in(tu, handler) as as_handler,
    ):
        await send(as_sender, ", ".join(box.address for box in boxes), subject, "Trực từ 28 Tết.")
        mine, theirs = [await arrived(tu, box, subject) for box in boxes]
        page = await as_handler.get(f"/mail/{mine}")
        made = await as_handler.post(f"/mail/{mine}/to-document", {"csrf_token": page.form_token})
        assert made.location is not None and made.location.startswith("/incoming/")
        # A colleague who may not open the document is told the clerk has it already.
        page = await as_colleague.get(f"/mail/{theirs}")
        told = await as_colleague.post(
            f"/mail/{theirs}/to-document", {"csrf_token": page.form_token}
        )
        assert told.location == f"/mail/{theirs}?notice=document"
        assert 'id="mail-notice"' in (await as_colleague.get(told.location)).text
        sent_id = int(
            re.findall(r'href="/mail/(\d+)"', (await as_sender.get("/mail/sent")).text)[0]
        )
        sent_page = await as_sender.get(f"/mail/{sent_id}")
        assert 'id="to-document"' not in sent_page.text
    async with tu.sessions() as session:
        document_id = int(made.location.rsplit("/", 1)[1])
        files = (
            await session.scalars(
                select(DocumentFile).where(DocumentFile.document_id == document_id)
            )
        ).all()
        assert [(f.name, f.content_type) for f in files] == [("thu-dien-tu.eml", "message/rfc822")]
