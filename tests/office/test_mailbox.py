"""The web mailbox over HTTP: writing to a colleague, reading (HTML made safe), unread counts,
search without diacritics, attachments, reply and forward, every refusal, and the CA
certificate mail clients install."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailgw import mailbox
from mailgw.models import INBOX, SENT
from office.documents.models import Document
from office.node.app import RunningNode, start_node
from tests.office.conftest import NewAccount
from tests.support.documents import make_pdf
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.web import StaffBrowser, new_account, refusal_text
from tests.support.webmail import (
    arrived,
    field,
    mailbox_of,
    raw_mail,
    send,
    signed_in,
    unread_badge,
)


@pytest.fixture
async def small_mail(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(
        fast_settings(demo_network, "TU", CONGVAN_SMTP_MAX_MESSAGE_BYTES="20000")
    )
    yield node
    await node.stop()


async def test_a_mail_written_in_the_web_reaches_a_colleague_and_is_counted_until_read(
    tu: RunningNode, make_account: NewAccount
) -> None:
    alice, bob = await make_account(role="staff"), await make_account(role="staff")
    bob_box = await mailbox_of(tu, bob)
    async with await signed_in(tu, alice) as as_alice, await signed_in(tu, bob) as as_bob:
        sent = await send(as_alice, bob_box.address, "Lịch họp chi bộ tháng 12", "Họp lúc 8h.")
        assert (sent.status, sent.location) == (303, "/mail/sent?notice=sent")
        sent_page = await as_alice.get("/mail/sent?notice=sent")
        assert 'id="mail-notice"' in sent_page.text
        assert "Lịch họp chi bộ tháng 12" in sent_page.text

        mail_id = await arrived(tu, bob_box, "Lịch họp chi bộ tháng 12")
        inbox = await as_bob.get("/mail")
        assert unread_badge(inbox) == 1
        assert '<tr class="unread">' in inbox.text and f'href="/mail/{mail_id}"' in inbox.text
        assert unread_badge(await as_bob.get("/")) == 1  # the menu counts on every page

        read = await as_bob.get(f"/mail/{mail_id}")
        assert read.status == 200
        assert "Họp lúc 8h." in read.text and alice.full_name in read.text
        assert unread_badge(read) == 0
        assert 'class="unread"' not in (await as_bob.get("/mail")).text

        unread = await as_bob.post(f"/mail/{mail_id}/unread", {"csrf_token": read.form_token})
        assert (unread.status, unread.location) == (303, "/mail?notice=unread")
        assert unread_badge(await as_bob.get("/mail")) == 1


async def test_search_finds_subjects_without_diacritics_in_ones_own_folder_only(
    tu: RunningNode, make_account: NewAccount
) -> None:
    alice, bob = await make_account(role="staff"), await make_account(role="staff")
    bob_box = await mailbox_of(tu, bob)
    async with await signed_in(tu, alice) as as_alice, await signed_in(tu, bob) as as_bob:
        await send(as_alice, bob_box.address, "Công văn về Đông Hà")
        await send(as_alice, bob_box.address, "Giấy mời hội nghị")
        await arrived(tu, bob_box, "Giấy mời hội nghị")
        await arrived(tu, bob_box, "Công văn về Đông Hà")
        found = await as_bob.get("/mail?q=cong+van+dong+ha")
        assert "Công văn về Đông Hà" in found.text and "Giấy mời" not in found.text
        assert "Công văn về Đông Hà" in (await as_alice.get("/mail/sent?q=CONG%20VAN")).text
        assert 'id="no-results"' in (await as_alice.get("/mail?q=cong+van")).text


async def test_another_users_mail_answers_as_if_it_did_not_exist(
    tu: RunningNode, make_account: NewAccount
) -> None:
    alice, bob, eve = [await make_account(role="staff") for _ in range(3)]
    bob_box = await mailbox_of(tu, bob)
    async with await signed_in(tu, alice) as as_alice, await signed_in(tu, eve) as as_eve:
        await send(
            as_alice,
            bob_box.address,
            "Riêng cho Bình",
            files={"attachment": [("ghi-chu.txt", b"bi mat", "text/plain")]},
        )
        mail_id = await arrived(tu, bob_box, "Riêng cho Bình")
        token = (await as_eve.get("/mail")).form_token
        for path in (
            f"/mail/{mail_id}",
            f"/mail/{mail_id}/attachments/0",
            f"/mail/compose?reply={mail_id}",
            f"/mail/compose?forward={mail_id}",
            f"/mail/{mail_id + 100000}",
        ):
            page = await as_eve.get(path)
            assert page.status == 404, path
            assert "bi mat" not in page.text and "Riêng cho Bình" not in page.text
        for action in ("unread", "to-document"):
            refused = await as_eve.post(f"/mail/{mail_id}/{action}", {"csrf_token": token})
            assert refused.status == 404
    async with tu.sessions() as session:
        assert (await mailbox.message(session, bob_box.user_id, mail_id)).seen is False


async def test_an_html_mail_is_shown_without_scripts_images_or_anything_remote(
    tu: RunningNode, make_account: NewAccount
) -> None:
    alice, bob = await make_account(role="staff"), await make_account(role="staff")
    alice_box, bob_box = await mailbox_of(tu, alice), await mailbox_of(tu, bob)
    message = EmailMessage()
    message["From"], message["To"] = alice_box.header_address, bob_box.address
    message["Subject"] = "Bản tin HTML"
    message.set_content("Bản tin dạng văn bản.")
    message.add_alternative(
        "<html><head><title>Tiêu đề ẩn</title><style>body{background:url(https://x.example/b.png)}"
        "</style></head><body><p style='color:red' onclick='alert(1)'>Xin <b>chào</b></p>"
        "<img src='https://tracker.example/pixel.gif'><script>alert('xss')</script>"
        "<iframe src='https://x.example/'></iframe><form action='https://x.example/'>"
        "<input name='p'></form><a href='javascript:alert(1)'>xấu</a>"
        "<a href='https://thongtin.example/bai-viet'>Đọc tiếp</a><a href='/logout'>ra</a>"
        "</body></html>",
        subtype="html",
    )
    assert tu.mail is not None
    await tu.mail.submit(
        alice_box, alice_box.address, [bob_box.address], message.as_bytes(), origin="web"
    )
    mail_id = await arrived(tu, bob_box, "Bản tin HTML")
    async with await signed_in(tu, bob) as as_bob:
        page = await as_bob.get(f"/mail/{mail_id}")
    body = page.text.split('id="mail-body">', 1)[1].split("</section>", 1)[0]
    assert "Xin <b>chào</b>" in body
    for banned in ("<img", "<script", "alert", "<iframe", "<form", "<input", "style", "onclick"):
        assert banned not in body, banned
    assert "Tiêu đề ẩn" not in body and "tracker.example" not in body
    assert '<a href="https://thongtin.example/bai-viet" rel="noopener noreferrer">' in body
    assert 'href="/logout"' not in body and "javascript:" not in body
    policy = page.headers["Content-Security-Policy"]
    assert "img-src 'none'" in policy and "default-src 'none'" in policy


async def test_attachments_are_sent_and_downloaded_as_files(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    alice, bob = await make_account(role="staff"), await make_account(role="staff")
    bob_box = await mailbox_of(tu, bob)
    pdf = make_pdf(tmp_path, "bao-cao.pdf", "Báo cáo quý IV").read_bytes()
    async with await signed_in(tu, alice) as as_alice, await signed_in(tu, bob) as as_bob:
        sent = await send(
            as_alice,
            bob_box.address,
            "Gửi báo cáo quý",
            files={
                "attachment": [
                    ("Báo cáo quý.pdf", pdf, "application/pdf"),
                    ("số liệu.csv", "đơn vị;số\nTU;3\n".encode(), "text/csv"),
                ]
            },
        )
        assert sent.status == 303, sent.text
        mail_id = await arrived(tu, bob_box, "Gửi báo cáo quý")
        page = await as_bob.get(f"/mail/{mail_id}")
        assert "Báo cáo quý.pdf" in page.text and "số liệu.csv" in page.text
        async with as_bob.http.get(f"{tu.web_url}/mail/{mail_id}/attachments/0") as download:
            assert download.status == 200
            assert await download.read() == pdf
            assert download.headers["Content-Type"] == "application/pdf"
            disposition = download.headers["Content-Disposition"]
            assert disposition.startswith("attachment;")
            assert "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20qu%C3%BD.pdf" in disposition
            assert "sandbox" in download.headers["Content-Security-Policy"]
        assert (await as_bob.get(f"/mail/{mail_id}/attachments/2")).status == 404


async def test_reply_and_forward_start_from_the_original_and_keep_the_thread(
    tu: RunningNode, make_account: NewAccount
) -> None:
    alice, bob, chi = [await make_account(role="staff") for _ in range(3)]
    alice_box, bob_box, chi_box = [await mailbox_of(tu, a) for a in (alice, bob, chi)]
    async with await signed_in(tu, alice) as as_alice, await signed_in(tu, bob) as as_bob:
        await send(
            as_alice,
            bob_box.address,
            "Dự thảo nghị quyết",
            "Dòng một.\nDòng hai.",
            files={"attachment": [("du-thao.txt", b"noi dung du thao", "text/plain")]},
        )
        original_id = await arrived(tu, bob_box, "Dự thảo nghị quyết")
        original = await raw_mail(tu, bob_box, original_id)

        reply_form = await as_bob.get(f"/mail/compose?reply={original_id}")
        assert field(reply_form, "to") == original.from_text
        assert field(reply_form, "subject") == "Re: Dự thảo nghị quyết"
        assert "> Dòng một.\n> Dòng hai." in field(reply_form, "body")
        replied = await send(
            as_bob,
            alice_box.address,
            field(reply_form, "subject"),
            "Đồng ý.",
            form_path=f"/mail/compose?reply={original_id}",
        )
        assert replied.status == 303, replied.text
        reply = await raw_mail(
            tu, alice_box, await arrived(tu, alice_box, "Re: Dự thảo nghị quyết")
        )
        assert reply.in_reply_to == original.message_id
        assert original.message_id in reply.references.split()

        forward_form = await as_bob.get(f"/mail/compose?forward={original_id}")
        assert field(forward_form, "subject") == "Fwd: Dự thảo nghị quyết"
        assert "Dòng một." in field(forward_form, "body")
        assert 'id="carried"' in forward_form.text and "du-thao.txt" in forward_form.text
        forwarded = await send(
            as_bob,
            chi_box.address,
            "Fwd: Dự thảo nghị quyết",
            field(forward_form, "body"),
            form_path=f"/mail/compose?forward={original_id}",
        )
        assert forwarded.status == 303, forwarded.text
        carried = await raw_mail(tu, chi_box, await arrived(tu, chi_box, "Fwd: Dự thảo nghị quyết"))
        assert [a.name for a in carried.attachments] == ["du-thao.txt"]


async def test_a_refused_mail_is_shown_on_the_form_with_what_was_typed(
    tu: RunningNode, make_account: NewAccount
) -> None:
    alice, bob = await make_account(role="staff"), await make_account(role="staff")
    bob_box = await mailbox_of(tu, bob)
    async with await signed_in(tu, alice) as as_alice:
        outside = await send(as_alice, "ai.do@gmail.com", "Ra ngoài mạng", "Nội dung giữ lại")
        assert outside.status == 400
        assert "không thuộc đơn vị nào trong mạng" in refusal_text(outside)
        assert field(outside, "to") == "ai.do@gmail.com"
        assert field(outside, "body").strip() == "Nội dung giữ lại"
        bad = await send(as_alice, "khong hop le", "Địa chỉ sai")
        assert bad.status == 400 and "không hợp lệ" in refusal_text(bad)
        # The refused form, corrected, is sent: its one-time id was given back.
        corrected = await send(as_alice, bob_box.address, "Sửa lại người nhận", form=outside)
        assert (corrected.status, corrected.location) == (303, "/mail/sent?notice=sent")
        await arrived(tu, bob_box, "Sửa lại người nhận")


async def test_a_form_sent_twice_sends_one_mail(tu: RunningNode, make_account: NewAccount) -> None:
    alice, bob = await make_account(role="staff"), await make_account(role="staff")
    alice_box, bob_box = await mailbox_of(tu, alice), await mailbox_of(tu, bob)
    async with await signed_in(tu, alice) as as_alice:
        form = await as_alice.get("/mail/compose")
        for _click in range(2):
            page = await send(as_alice, bob_box.address, "Bấm gửi hai lần", form=form)
            assert (page.status, page.location) == (303, "/mail/sent?notice=sent")
    async with tu.sessions() as session:
        assert await mailbox.count_folder(session, alice_box.user_id, SENT, "bam gui hai lan") == 1


async def test_an_oversize_attachment_is_refused_with_the_limit(
    small_mail: RunningNode,
) -> None:
    alice = await new_account(small_mail, role="staff")
    bob = await new_account(small_mail, role="staff")
    bob_box = await mailbox_of(small_mail, bob)
    async with await signed_in(small_mail, alice) as as_alice:
        page = await send(
            as_alice,
            bob_box.address,
            "Tệp quá lớn",
            files={"attachment": [("lon.bin", b"0" * 30000, "application/octet-stream")]},
        )
        assert page.status == 413
        assert "20.000 byte" in refusal_text(page)
        assert field(page, "subject") == "Tệp quá lớn"
        # Under the limit as a file, over it once encoded into the message.
        encoded = await send(
            as_alice,
            bob_box.address,
            "Gần giới hạn",
            files={"attachment": [("vua.bin", b"1" * 19000, "application/octet-stream")]},
        )
        assert encoded.status == 400 and "20000" in refusal_text(encoded)
    async with small_mail.sessions() as session:
        assert await mailbox.count_folder(session, bob_box.user_id, INBOX) == 0


async def test_forms_without_their_token_change_nothing(
    tu: RunningNode, make_account: NewAccount
) -> None:
    alice, bob = await make_account(role="staff"), await make_account(role="staff")
    alice_box, bob_box = await mailbox_of(tu, alice), await mailbox_of(tu, bob)
    async with await signed_in(tu, alice) as as_alice, await signed_in(tu, bob) as as_bob:
        refused = await send(as_alice, bob_box.address, "Không có mã", token=False)
        assert refused.status == 403
        await send(as_alice, bob_box.address, "Có mã")
        mail_id = await arrived(tu, bob_box, "Có mã")
        await as_bob.get(f"/mail/{mail_id}")
        for action in ("unread", "to-document"):
            assert (await as_bob.post(f"/mail/{mail_id}/{action}", {})).status == 403
    async with tu.sessions() as session:
        assert await mailbox.count_folder(session, alice_box.user_id, SENT, "khong co ma") == 0
        assert (await mailbox.message(session, bob_box.user_id, mail_id)).seen is True
        assert await session.scalar(select(func.count()).where(Document.summary == "Có mã")) == 0


async def test_the_ca_certificate_is_public_and_the_mailbox_links_it(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    async with browser.http.get(f"{tu.web_url}/ca.pem") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/x-pem-file"
        assert (await response.read()).startswith(b"-----BEGIN CERTIFICATE-----")
    await browser.sign_in_as(await make_account(role="staff"))
    inbox = await browser.get("/mail")
    assert 'href="/ca.pem"' in inbox.text and "STARTTLS" in inbox.text
