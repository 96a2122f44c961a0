"""Nothing more secret than a node's ``[office] max_secrecy_on_network`` (0 by default: only
Không mật) leaves it over the network, by any path a secret document or its file could take:
issuing, resending, a mail with its file attached (from the web mailbox, or queued and sealed
later), a report, a forward (any dispatch carrying its files), each refused where it starts and
again where the exchange seals the dispatch. Units of the same node are not the network. And a
receiver refuses, with a signed receipt, what a sender allowed more than it does
(``secrecy-not-allowed``). 2018 Law on Protection of State Secrets, Art. 5."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.errors import Forbidden
from exchange.envelope import Attachment, Draft
from exchange.models import InboundDispatch, OutboundDispatch, Refusal
from exchange.outbox import deliveries_of
from exchange.receipts import check_receipt
from mailgw.delivery import mail_dispatch_id
from mailgw.models import QueuedMail
from office.documents import outgoing, sending
from office.documents.models import Document, DocumentFile
from office.node.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.mailgw.test_submission import signed_in as smtp_signed_in
from tests.office.conftest import NewAccount
from tests.office.test_outgoing import issue, new_draft, signer_of
from tests.support.approval import approve, member_of
from tests.support.documents import (
    enter_paper,
    form_id,
    id_from_path,
    make_pdf,
    stored_document,
    version,
)
from tests.support.mail import message_from, wait_for_inbox
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings, start_camlo, states
from tests.support.waiting import wait_for
from tests.support.web import Page, StaffBrowser, new_account
from tests.support.webmail import FILES, mailbox_of, send

MAT, TOI_MAT = 1, 2
LIMIT = "CONGVAN_OFFICE_MAX_SECRECY_ON_NETWORK"
CAMLO_ADDRESS = "vanthu@camlo.quangtri.dcs.vn"
SYMBOL = re.compile(r"^\d{2,}-CV/TU$")


async def outbound(node: RunningNode) -> int:
    async with node.sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboundDispatch)) or 0


def step_form(page: Page) -> dict[str, str]:
    return {"csrf_token": page.form_token, "form_id": form_id(page), "version": version(page)}


async def secret_paper_document(
    browser: StaffBrowser, tmp_path: Path, secrecy: int = TOI_MAT
) -> tuple[int, bytes]:
    """A secret paper document registered with its scan; the id, and the scan as a clerk
    downloads it again."""
    scan = make_pdf(tmp_path, f"{uuid.uuid4().hex[:6]}.pdf", "TÀI LIỆU MẬT", "Kế hoạch bảo vệ")
    path = await enter_paper(browser, scan, "Kế hoạch bảo vệ", secrecy=str(secrecy))
    page = await browser.get(path)
    link = re.search(rf'href="(/documents/{id_from_path(path)}/files/\d+)"', page.text)
    assert link, page.text
    async with browser.http.get(browser.base_url + link.group(1)) as answer:
        assert answer.status == 200
        return id_from_path(path), await answer.read()


async def file_of(node: RunningNode, document_id: int) -> Path:
    assert node.desk is not None
    async with node.sessions() as session:
        sha256 = await session.scalar(
            select(DocumentFile.sha256).where(DocumentFile.document_id == document_id)
        )
    assert sha256 is not None
    return node.desk.blobs.path(sha256)


# Issuing, and units of the same node


async def test_a_secret_draft_for_another_node_is_refused_and_issued_on_paper_instead(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=3)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        draft_id = await new_draft(
            browser, tmp_path, recipients=("HU-CAMLO", "BTC"), secrecy=str(MAT)
        )
        await approve(tu, draft_id, await signer_of(tu))
        page = await browser.get(f"/outgoing/{draft_id}")
        barred = re.search(r'id="network-barred">(.*?)</p>', page.text, re.S)
        assert barred and "Huyện uỷ Cam Lộ" in barred.group(1)
        assert "Ban Tổ chức" not in barred.group(1)  # the same node: not the network
        assert 'id="issue-form"' not in page.text and 'id="issue-paper-form"' in page.text
        before = await outbound(tu)

        crafted = await browser.post(f"/outgoing/{draft_id}/issue", step_form(page))
        assert crafted.status == 403
        assert "không được gửi qua mạng tới Huyện uỷ Cam Lộ" in crafted.text
        assert "phát hành bản giấy" in crafted.text and "26/2020/NĐ-CP" in crafted.text
        refused = await stored_document(tu, draft_id)
        assert (refused.state, refused.register_number, refused.dispatch_id) == (
            "approved",
            None,
            None,
        )

        page = await browser.get(f"/outgoing/{draft_id}")
        on_paper = await browser.post(f"/outgoing/{draft_id}/issue-paper", step_form(page))
        assert (on_paper.status, on_paper.location) == (303, f"/outgoing/{draft_id}")
        issued = await stored_document(tu, draft_id)
        assert SYMBOL.match(issued.number_symbol), issued.number_symbol
        assert (issued.state, issued.register_series, issued.dispatch_id) == (
            "paper",
            "secret",
            None,
        )
        assert tu.desk is not None and issued.issued_on == tu.desk.today()
        shown = await browser.get(f"/outgoing/{draft_id}")
        assert "Đã phát hành bản giấy" in shown.text and "Cấp số, phát hành bản giấy" in shown.text
        assert 'id="issue-paper-form"' not in shown.text and 'id="resend-form"' not in shown.text
        crafted_again = {**step_form(page), "form_id": secrets.token_urlsafe(24)}
        again = await browser.post(f"/outgoing/{draft_id}/issue-paper", crafted_again)
        assert again.status == 409
        book = await browser.get("/outgoing?book=secret&state=paper")
        assert issued.number_symbol in book.text
    assert await outbound(tu) == before


async def test_a_secret_document_goes_to_a_unit_of_the_same_node_it_is_not_the_network(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=3)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        draft_id = await new_draft(browser, tmp_path, recipients=("BTC",), secrecy=str(TOI_MAT))
        assert 'id="network-barred"' not in (await browser.get(f"/outgoing/{draft_id}")).text
        assert (await issue(browser, draft_id, node=tu)).status == 303
    sent = await stored_document(tu, draft_id)
    assert sent.state == "sent" and sent.dispatch_id is not None

    async def filed() -> bool:
        async with tu.sessions() as session:
            return (
                await session.scalar(
                    select(Document.secrecy).where(
                        Document.dispatch_id == sent.dispatch_id, Document.unit_code == "BTC"
                    )
                )
                == TOI_MAT
            )

    await wait_for(filed)


async def test_a_resend_of_a_secret_document_issued_under_a_higher_limit_is_refused(
    demo_network: DemoNetwork, secrets_seen: SecretsSeen, tmp_path: Path
) -> None:
    """Issued while the node let Mật travel, never sent (it stopped midway); the limit is
    lowered: "Gửi lại" is refused, and the exchange's seal refuses the send itself."""
    node = await start_node(fast_settings(demo_network, "TU", **{LIMIT: "1"}))
    try:
        clerk = await new_account(node, role="clerk", clearance=3)
        secrets_seen.add(clerk.password, clerk.totp_secret)
        async with StaffBrowser(node.web_url) as browser:
            await browser.sign_in_as(clerk)
            draft_id = await new_draft(browser, tmp_path, secrecy=str(MAT))
        await approve(node, draft_id, await signer_of(node))
        desk = node.desk
        assert desk is not None
        async with node.sessions() as session, session.begin():
            issued = await outgoing.issue(
                session,
                await member_of(node, clerk.username),
                draft_id,
                (await stored_document(node, draft_id)).version,
                desk.now(),
                desk.today(),
                network=desk.network_limit,
            )
            symbol = issued.number_symbol
    finally:
        await node.stop()

    node = await start_node(fast_settings(demo_network, "TU"))
    try:
        before = await outbound(node)
        async with StaffBrowser(node.web_url) as browser:
            await browser.sign_in_as(clerk, at=time.time() + 30)  # the last code was used
            page = await browser.get(f"/outgoing/{draft_id}")
            assert 'id="network-barred"' in page.text and 'id="resend-form"' not in page.text
            crafted = await browser.post(f"/outgoing/{draft_id}/resend", step_form(page))
            assert crafted.status == 403 and "Huyện uỷ Cam Lộ" in crafted.text
            assert node.desk is not None
            reason = await sending.send_issued(node.desk, draft_id, None)
            assert reason is not None
            assert reason.startswith("Không được gửi qua mạng tài liệu độ Mật tới HU-CAMLO")
            assert (await stored_document(node, draft_id)).state == "issued"
            assert await outbound(node) == before

            page = await browser.get(f"/outgoing/{draft_id}")
            on_paper = await browser.post(f"/outgoing/{draft_id}/issue-paper", step_form(page))
            assert on_paper.status == 303
        kept = await stored_document(node, draft_id)
        assert (kept.state, kept.number_symbol) == ("paper", symbol)
        assert await outbound(node) == before
    finally:
        await node.stop()


async def test_the_sender_reads_why_a_receiver_refused_a_secret_in_words(
    demo_network: DemoNetwork, secrets_seen: SecretsSeen, tmp_path: Path
) -> None:
    """The province lets Mật travel, Cam Lộ does not: Cam Lộ's refusal comes back as a code,
    and the sender's page says what it means, not the code."""
    tu = await start_node(fast_settings(demo_network, "TU", **{LIMIT: "1"}))
    camlo = await start_camlo(demo_network)
    try:
        clerk = await new_account(tu, role="clerk", clearance=3)
        secrets_seen.add(clerk.password, clerk.totp_secret)
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(clerk)
            draft_id = await new_draft(browser, tmp_path, secrecy=str(MAT))
            issued = await issue(browser, draft_id, node=tu)
            assert issued.status == 303, issued.text
            dispatch_id = (await stored_document(tu, draft_id)).dispatch_id
            assert dispatch_id is not None

            async def refused() -> bool:
                return (await states(tu, dispatch_id)).get("HU-CAMLO") == "refused"

            await wait_for(refused)
            page = await browser.get(f"/outgoing/{draft_id}")
        assert "Nơi nhận từ chối nhận</strong>: văn bản có độ mật vượt mức" in page.text
        assert "secrecy-not-allowed" not in page.text
    finally:
        await camlo.stop()
        await tu.stop()


# Mail


async def test_a_secret_documents_file_cannot_be_mailed_to_another_node(
    tu: RunningNode, demo_network: DemoNetwork, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk, colleague = await make_account(role="clerk", clearance=3), await make_account()
    colleague_box = await mailbox_of(tu, colleague)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        _id, scan = await secret_paper_document(browser, tmp_path)
        async with tu.sessions() as session:
            queued = await session.scalar(select(func.count()).select_from(QueuedMail))
        for name in ("ke-hoach.pdf", "anh-chup.png"):  # a new name changes nothing
            files: FILES = {"attachment": [(name, scan, "application/pdf")]}
            refused = await send(browser, CAMLO_ADDRESS, "Gửi kế hoạch", files=files)
            assert refused.status == 400
            assert "có tệp của văn bản mật: không được gửi qua mạng" in refused.text
            async with tu.sessions() as session:
                assert await session.scalar(select(func.count()).select_from(QueuedMail)) == queued
        # A mail client's submission is answered 550 after DATA, and queues nothing either.
        demo_clerk = demo_network.account("TU", "clerk")

        def by_smtp() -> tuple[int, bytes]:
            message = message_from(demo_clerk["email"], [CAMLO_ADDRESS], "Qua SMTP", "Gửi kèm.")
            message.add_attachment(scan, maintype="application", subtype="pdf", filename="k.pdf")
            with smtp_signed_in(tu, demo_network, "clerk") as client:
                try:
                    client.send_message(message)
                except smtplib.SMTPDataError as refusal:
                    return refusal.smtp_code, refusal.smtp_error
            return 250, b""

        code, reply = await asyncio.to_thread(by_smtp)
        assert code == 550 and reply.startswith(b"5.7.1 A file of a secret document"), reply
        async with tu.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(QueuedMail)) == queued
        # The same file to a colleague of this node does not cross the network.
        kept = await send(
            browser,
            colleague_box.address,
            "Kế hoạch (nội bộ)",
            files={"attachment": files["attachment"]},
        )
        assert kept.status == 303
    await wait_for_inbox(tu, colleague.username, "Kế hoạch (nội bộ)")


async def test_a_queued_mail_carrying_a_secret_file_is_bounced_at_the_seal_never_sent(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    """A mail already queued (as one from another node, or a bounce, is queued: not through
    the submission's check), with the secret file inside a forwarded message: the exchange's
    seal refuses it, and the sender gets a bounce at once, not after retries."""
    clerk = await make_account(role="clerk", clearance=3)
    clerk_box = await mailbox_of(tu, clerk)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        _id, scan = await secret_paper_document(browser, tmp_path)
    inner = message_from(clerk_box.address, [CAMLO_ADDRESS], "Tài liệu", "Xem tệp.")
    inner.add_attachment(scan, maintype="application", subtype="pdf", filename="tl.pdf")
    outer = message_from(clerk_box.address, [CAMLO_ADDRESS], "Chuyển tiếp tài liệu", "Fw.")
    outer.add_attachment(inner)
    assert isinstance(outer, EmailMessage) and tu.mail is not None
    blob = tu.mail.blobs.put_bytes(outer.as_bytes())
    queue_id = str(uuid.uuid4())
    async with tu.sessions() as session, session.begin():
        await tu.mail.enqueue(
            session,
            queue_id,
            blob,
            mail_from=clerk_box.address,
            recipients=[CAMLO_ADDRESS],
            unit="TU",
            origin="smtp",
        )
    tu.mail.queued.set()
    await wait_for_inbox(tu, clerk.username, "Undelivered mail: Chuyển tiếp tài liệu")
    async with tu.sessions() as session:
        job = await session.get(QueuedMail, queue_id)
        dispatch = await session.get(OutboundDispatch, mail_dispatch_id(queue_id, "HU-CAMLO"))
    assert job is not None and (job.state, job.attempts) == ("done", 1)
    assert dispatch is None


# The exchange's seal: reports, forwards, anything


async def test_the_seal_refuses_any_dispatch_carrying_a_secret_file_or_declaring_a_secret(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    """Whatever makes the dispatch: a report with the file attached, a forward (a ``document``
    dispatch carrying a received secret document's files, under another name), one that says
    it is secret. A unit of the same node may have it; a plain dispatch goes."""
    clerk = await make_account(role="clerk", clearance=3)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        document_id, _scan = await secret_paper_document(browser, tmp_path, secrecy=MAT)
    secret = await file_of(tu, document_id)
    renamed = tmp_path / "bao-cao-so-lieu.pdf"
    renamed.write_bytes(secret.read_bytes())
    plain = make_pdf(tmp_path, "thong-bao.pdf", "Thông báo")
    outbox = tu.outbox
    assert outbox is not None
    before = await outbound(tu)
    barred = {
        "report": Draft(
            ("HU-CAMLO",),
            "report",
            {"unit": "TU", "period": "2026-11"},
            (Attachment(renamed.name, renamed, "application/pdf"),),
        ),
        "forward": Draft(
            ("HU-CAMLO", "TX-DONGHA"),
            "document",
            {"summary": "Chuyển tiếp", "secrecy": 0},
            (Attachment("van-ban.pdf", renamed, "application/pdf"),),
        ),
        "declared": Draft(("TX-DONGHA",), "document", {"summary": "Mật", "secrecy": MAT}),
        "declared oddly": Draft(("TX-DONGHA",), "document", {"summary": "?", "secrecy": "Mật"}),
    }
    for case, draft in barred.items():
        with pytest.raises(Forbidden) as refused:
            await outbox.send("TU", draft)
        assert refused.value.code == "secrecy-not-allowed", case
        assert "Nghị định 26/2020/NĐ-CP" in refused.value.message, case
    assert await outbound(tu) == before

    same_node = Draft(("BTC",), "document", {"summary": "Nội bộ", "secrecy": MAT})
    await outbox.send("TU", same_node)
    ordinary = Draft(
        ("HU-CAMLO",), "document", {"summary": "Thông báo"}, (Attachment(plain.name, plain),)
    )
    await outbox.send("TU", ordinary)
    assert await outbound(tu) == before + 2


# The receiving side


@pytest.mark.parametrize("payload", ["inline", "uploaded"])
async def test_a_receiver_refuses_a_secret_its_sender_allowed_with_a_signed_receipt(
    demo_network: DemoNetwork, tmp_path: Path, payload: str
) -> None:
    """The province lets Tối mật travel (as where the cipher service carries it); Cam Lộ keeps
    the default. Small payloads come inline in the offer, large ones are uploaded: both are
    opened, refused and discarded, and the province keeps Cam Lộ's signed refusal."""
    tu = await start_node(fast_settings(demo_network, "TU", **{LIMIT: "2"}))
    camlo = await start_camlo(demo_network)
    try:
        pdf = make_pdf(tmp_path, "toi-mat.pdf", "Tài liệu tối mật")
        files = [Attachment(pdf.name, pdf, "application/pdf")]
        if payload == "uploaded":
            bulky = tmp_path / "phu-luc.bin"
            bulky.write_bytes(os.urandom(400 * 1024))
            files.append(Attachment(bulky.name, bulky))
        assert tu.outbox is not None
        header = await tu.outbox.send(
            "TU",
            Draft(
                ("HU-CAMLO",),
                "document",
                {"doc_type": "CV", "summary": "Tối mật", "secrecy": TOI_MAT},
                tuple(files),
            ),
        )

        async def decided() -> bool:
            return (await states(tu, header.id)).get("HU-CAMLO") == "refused"

        await wait_for(decided)
        async with tu.sessions() as session:
            [delivery] = await deliveries_of(session, header.id)
        assert delivery.receipt is not None
        body = delivery.receipt["body"]
        assert (body["status"], body["code"], body["signer"]) == (
            "refused",
            "secrecy-not-allowed",
            "HU-CAMLO",
        )
        signer = check_receipt(delivery.receipt)
        assert "HU-CAMLO" in signer.subject.rfc4514_string()

        async with camlo.sessions() as session:
            row = await session.get(InboundDispatch, header.id)
            refusal = await session.scalar(select(Refusal).where(Refusal.dispatch_id == header.id))
            filed = await session.scalar(
                select(func.count()).select_from(Document).where(Document.dispatch_id == header.id)
            )
        assert row is not None and (row.state, row.refusal_code) == (
            "refused",
            "secrecy-not-allowed",
        )
        assert refusal is not None and refusal.code == "secrecy-not-allowed"
        assert refusal.reason.startswith("nút nhận không nhận qua mạng tài liệu độ Tối mật")
        assert filed == 0
        spool = camlo.settings.node_dir / "spool" / "in" / header.id
        assert not (spool / "payload.age").exists() and not (spool / "opened").exists()
    finally:
        await camlo.stop()
        await tu.stop()
