"""The submission listener, spoken to by ``smtplib`` and ``swaks`` as mail clients do.

The demo network's province (``TU``) and Cam Lộ run in this process, each with its SMTP
listener; every demo account has an app password.
"""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import subprocess
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from keys import app_signin, passwords, throttle
from keys.models import SignInFailures, User
from keys.throttle import ACCOUNT, ADDRESS
from mailgw import aliases
from mailgw.gateway import MAX_RECIPIENTS
from mailgw.mailbox import list_folder
from mailgw.models import INBOX, SENT
from mailgw.smtp import HEADER_LIMIT
from office.node.app import RunningNode, start_node
from tests.support.mail import (
    client_context,
    inbox_subjects,
    maildir_messages,
    maildir_raw,
    message_from,
    wait_for_inbox,
)
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.web import forget_sign_in_failures

SWAKS = shutil.which("swaks")
LIMIT = 200_000
FAST_MAIL = {"CONGVAN_SMTP_POLL_SECONDS": "1", "CONGVAN_SMTP_MAX_MESSAGE_BYTES": str(LIMIT)}


@pytest.fixture
async def tu(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(fast_settings(demo_network, "TU", **FAST_MAIL))
    await forget_sign_in_failures(node)
    yield node
    await node.stop()


@pytest.fixture
async def camlo(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(fast_settings(demo_network, "HU-CAMLO", **FAST_MAIL))
    yield node
    await node.stop()


def connect(
    node: RunningNode, demo_network: DemoNetwork, source: str | None = None
) -> smtplib.SMTP:
    """A client connected from ``source`` (127.0.0.2…: another address than 127.0.0.1 to the
    node's sign-in throttling), or from 127.0.0.1."""
    client = smtplib.SMTP(
        node.settings.smtp.host,
        node.settings.smtp.port,
        timeout=30,
        source_address=(source, 0) if source else None,
    )
    client.ehlo("client.test")
    return client


def secure(node: RunningNode, demo_network: DemoNetwork, source: str | None = None) -> smtplib.SMTP:
    client = connect(node, demo_network, source)
    client.starttls(context=client_context(demo_network))
    client.ehlo("client.test")
    return client


def signed_in(node: RunningNode, demo_network: DemoNetwork, role: str) -> smtplib.SMTP:
    account = demo_network.account(node.settings.node.name, role)
    client = secure(node, demo_network)
    client.login(account["username"], account["app_password"])
    return client


async def in_thread(function: Any, *args: Any) -> Any:
    """smtplib blocks; the node runs on this loop, so the client runs beside it."""
    return await asyncio.to_thread(function, *args)


async def test_auth_is_offered_only_after_starttls(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    def plain() -> tuple[bool, tuple[int, bytes]]:
        with connect(tu, demo_network) as client:
            offered = client.has_extn("auth")
            return offered, client.docmd("AUTH", "PLAIN AGZvbwBiYXI=")

    offered, (code, text) = await in_thread(plain)
    assert not offered
    assert code == 530 and b"STARTTLS" in text

    def encrypted() -> tuple[str, str]:
        with secure(tu, demo_network) as client:
            return client.esmtp_features["auth"], client.esmtp_features["size"]

    methods, size = await in_thread(encrypted)
    assert set(methods.split()) == {"PLAIN", "LOGIN"}
    assert size == str(LIMIT)


async def test_mail_before_starttls_is_refused(tu: RunningNode, demo_network: DemoNetwork) -> None:
    def attempt() -> tuple[int, bytes]:
        with connect(tu, demo_network) as client:
            return client.mail("a@b.c")

    code, text = await in_thread(attempt)
    assert code == 530 and b"STARTTLS" in text


async def test_an_app_password_signs_in_and_a_wrong_one_does_not(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    account = demo_network.account("TU", "staff")

    def good(login: str) -> int:
        with secure(tu, demo_network) as client:
            code, _ = client.login(login, account["app_password"])
            return code

    assert await in_thread(good, account["username"]) == 235
    assert await in_thread(good, account["email"]) == 235

    def wrong(secret: str) -> None:
        with secure(tu, demo_network) as client:
            client.login(account["username"], secret)

    for secret in ("not-the-password", account["password"]):  # the web password is no app password
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            await in_thread(wrong, secret)
        assert refused.value.smtp_code == 535


async def test_three_wrong_passwords_close_the_connection(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    def guess() -> list[int]:
        codes = []
        client = secure(tu, demo_network)
        for attempt in range(3):
            code, _ = client.docmd("AUTH", "PLAIN " + plain_token("quantri.tu", f"guess{attempt}"))
            codes.append(code)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
        return codes

    assert await in_thread(guess) == [535, 535, 421]


def padding_header(size: int) -> bytes:
    """An ``X-Padding`` header of exactly ``size`` bytes, folded into lines SMTP allows."""
    first = b"X-Padding: x\r\n"
    lines, left = [first], size - len(first)
    while left:
        width = left - 3 if left <= 76 else min(70, left - 3 - 4)
        lines.append(b" " + b"p" * width + b"\r\n")
        left -= width + 3
    block = b"".join(lines)
    assert len(block) == size
    return block


def plain_token(user: str, secret: str) -> str:
    import base64

    return base64.b64encode(f"\0{user}\0{secret}".encode()).decode()


async def test_nothing_is_relayed_without_auth(tu: RunningNode, demo_network: DemoNetwork) -> None:
    camlo_user = demo_network.account("HU-CAMLO", "staff")["email"]

    def attempt() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        with secure(tu, demo_network) as client:
            return client.mail(camlo_user), client.rcpt(camlo_user)

    (mail_code, mail_text), (rcpt_code, _) = await in_thread(attempt)
    assert mail_code == 530 and b"Authentication required" in mail_text
    assert rcpt_code == 530  # nor a recipient


async def test_mail_outside_the_network_is_refused_after_auth(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    sender = demo_network.account("TU", "staff")["email"]

    def attempt() -> tuple[int, bytes]:
        with signed_in(tu, demo_network, "staff") as client:
            client.mail(sender)
            return client.rcpt("someone@gmail.com")

    code, text = await in_thread(attempt)
    assert code == 550 and b"relay denied" in text


async def test_an_unknown_local_user_is_refused_at_rcpt(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    sender = demo_network.account("TU", "staff")["email"]
    domain = sender.split("@")[1]

    def attempt() -> tuple[int, bytes]:
        with signed_in(tu, demo_network, "staff") as client:
            client.mail(sender)
            return client.rcpt(f"nobody.here@{domain}")

    code, text = await in_thread(attempt)
    assert code == 550 and b"5.1.1" in text


async def test_a_spoofed_sender_is_refused(tu: RunningNode, demo_network: DemoNetwork) -> None:
    staff = demo_network.account("TU", "staff")
    leader = demo_network.account("TU", "leader")

    def envelope() -> tuple[int, bytes]:
        with signed_in(tu, demo_network, "staff") as client:
            return client.mail(leader["email"])

    code, text = await in_thread(envelope)
    assert code == 550 and leader["email"].encode() in text

    def header() -> None:
        with signed_in(tu, demo_network, "staff") as client:
            message = message_from(leader["email"], [staff["email"]], "Giả mạo", "x")
            client.send_message(message, from_addr=staff["email"])

    with pytest.raises(smtplib.SMTPDataError) as refused:
        await in_thread(header)
    assert refused.value.smtp_code == 550
    assert b"From: <" + leader["email"].encode() in refused.value.smtp_error


async def test_a_vietnamese_subject_and_body_arrive_intact(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")
    subject = "Về việc triển khai Nghị quyết số 05-NQ/TU (Đông Hà)"
    body = "Kính gửi đồng chí,\nĐề nghị các đồng chí nghiên cứu, quán triệt.\n"

    def send() -> dict[str, Any]:
        with signed_in(tu, demo_network, "staff") as client:
            message = message_from(
                staff["email"], [clerk["email"]], subject, body, "Chuyên viên Tỉnh uỷ"
            )
            return client.send_message(message)

    assert await in_thread(send) == {}
    await wait_for_inbox(tu, clerk["username"], subject)
    arrived = maildir_messages(tu, clerk["username"])
    matching = [m for m in arrived if m["Subject"] == subject]
    assert len(matching) == 1
    assert matching[0].get_content() == body
    assert "Chuyên viên Tỉnh uỷ".encode() in maildir_raw(tu, clerk["username"], subject)
    async with tu.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.username == clerk["username"]))
        assert user_id is not None
        [filed] = await list_folder(session, user_id, INBOX, query="trien khai nghi quyet")
    assert filed.from_text == f"Chuyên viên Tỉnh uỷ <{staff['email']}>"
    assert subject in await inbox_subjects(tu, staff["username"], folder="sent")


async def test_a_message_at_the_size_limit_passes_and_one_byte_more_is_refused(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")

    def sized(total: int, subject: str) -> bytes:
        message = message_from(staff["email"], [clerk["email"]], subject, "Tệp đính kèm.\n")
        message.add_attachment(
            b"\0" * 1000, maintype="application", subtype="octet-stream", filename="a.bin"
        )
        raw = message.as_bytes(policy=policy.SMTP)
        # In the attachment's part headers: the message's own are capped far below the limit.
        disposition = b'filename="a.bin"\r\n'
        head, _, rest = raw.partition(disposition)
        return head + disposition + padding_header(total - len(raw)) + rest

    at_limit, over = sized(LIMIT, "Vừa đủ"), sized(LIMIT + 1, "Quá một byte")
    assert (len(at_limit), len(over)) == (LIMIT, LIMIT + 1)

    def send(raw: bytes) -> dict[str, Any]:
        with signed_in(tu, demo_network, "staff") as client:
            return client.sendmail(staff["email"], [clerk["email"]], raw)

    assert await in_thread(send, at_limit) == {}
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # SIZE= in MAIL says it first
        await in_thread(send, over)
    assert refused.value.smtp_code == 552
    assert str(LIMIT).encode() in refused.value.smtp_error
    await wait_for_inbox(tu, clerk["username"], "Vừa đủ")
    assert "Quá một byte" not in await inbox_subjects(tu, clerk["username"])


async def test_a_header_block_over_its_limit_is_refused_and_one_under_it_passes(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    """The message's header lines are capped (parsing them grows with them): one over the cap,
    well within the size limit, is refused with the cap and delivers nothing; one just under
    it arrives."""
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")

    def with_header(block_bytes: int, subject: str) -> bytes:
        raw = message_from(staff["email"], [clerk["email"]], subject, "Nội dung.\n").as_bytes(
            policy=policy.SMTP
        )
        head, _, body = raw.partition(b"\r\n\r\n")
        padding = padding_header(block_bytes - len(head) - 2)
        return head + b"\r\n" + padding + b"\r\n" + body

    def send(raw: bytes) -> tuple[int, bytes]:
        with signed_in(tu, demo_network, "staff") as client:
            client.mail(staff["email"])
            client.rcpt(clerk["email"])
            return client.data(raw)

    under = with_header(HEADER_LIMIT, "Tiêu đề dài vừa đủ")
    over = with_header(HEADER_LIMIT + 1, "Tiêu đề quá dài")
    assert len(under.partition(b"\r\n\r\n")[0]) + 2 == HEADER_LIMIT
    assert (await in_thread(send, under))[0] == 250
    code, text = await in_thread(send, over)
    assert code == 552 and str(HEADER_LIMIT).encode() in text
    await wait_for_inbox(tu, clerk["username"], "Tiêu đề dài vừa đủ")
    assert "Tiêu đề quá dài" not in await inbox_subjects(tu, clerk["username"])


async def test_data_over_the_limit_without_size_is_refused_with_the_limit(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")

    def send() -> tuple[int, bytes]:
        with signed_in(tu, demo_network, "staff") as client:
            client.mail(staff["email"])  # no SIZE= parameter, as some clients do
            client.rcpt(clerk["email"])
            return client.data(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 210)

    code, text = await in_thread(send)
    assert code == 552 and str(LIMIT).encode() in text


async def test_mail_to_another_unit_arrives_in_its_node_mailbox_and_maildir(
    tu: RunningNode, camlo: RunningNode, demo_network: DemoNetwork
) -> None:
    staff = demo_network.account("TU", "staff")
    far = demo_network.account("HU-CAMLO", "leader")
    subject = "Thư gửi Huyện uỷ Cam Lộ"

    def send() -> dict[str, Any]:
        with signed_in(tu, demo_network, "staff") as client:
            message = message_from(staff["email"], [far["email"]], subject, "Nội dung thư.\n")
            message.add_attachment(
                "Báo cáo".encode(), maintype="text", subtype="plain", filename="bao-cao.txt"
            )
            return client.send_message(message)

    assert await in_thread(send) == {}
    await wait_for_inbox(camlo, far["username"], subject, seconds=60)
    arrived = [m for m in maildir_messages(camlo, far["username"]) if m["Subject"] == subject]
    assert len(arrived) == 1
    attachment = next(arrived[0].iter_attachments())
    assert attachment.get_filename() == "bao-cao.txt"
    assert attachment.get_payload(decode=True) == "Báo cáo".encode()


async def test_an_unknown_user_of_another_unit_bounces_to_the_sender(
    tu: RunningNode, camlo: RunningNode, demo_network: DemoNetwork
) -> None:
    staff = demo_network.account("TU", "staff")
    domain = demo_network.account("HU-CAMLO", "leader")["email"].split("@")[1]
    stranger = f"khongco.ai@{domain}"

    def send() -> dict[str, Any]:
        with signed_in(tu, demo_network, "staff") as client:
            return client.send_message(message_from(staff["email"], [stranger], "Gửi nhầm", "x\n"))

    assert await in_thread(send) == {}  # another unit's users are checked on arrival
    await wait_for_inbox(tu, staff["username"], "Undelivered mail: Gửi nhầm", seconds=60)
    bounce = next(
        m for m in maildir_messages(tu, staff["username"]) if "Gửi nhầm" in str(m["Subject"])
    )
    assert bounce.get_content_type() == "multipart/report"
    assert bounce.get_param("report-type") == "delivery-status"
    status = next(p for p in bounce.walk() if p.get_content_type() == "message/delivery-status")
    fields = status.get_payload()[1]
    assert fields["Final-Recipient"] == f"rfc822; {stranger}"
    assert fields["Action"] == "failed" and fields["Status"] == "5.1.1"


@pytest.mark.skipif(SWAKS is None, reason="swaks is installed by .ci/run")
async def test_swaks_sends_with_starttls_and_auth_login(
    tu: RunningNode, demo_network: DemoNetwork, tmp_path: Path
) -> None:
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")
    command = [
        str(SWAKS),
        "--server", f"{tu.settings.smtp.host}:{tu.settings.smtp.port}",
        "--tls", "--tls-verify", "--tls-ca-path", demo_network.document["ca"],
        "--auth", "LOGIN",
        "--auth-user", staff["username"], "--auth-password", staff["app_password"],
        "--from", staff["email"], "--to", clerk["email"],
        "--header", "Subject: Thử swaks", "--body", "Gửi bằng swaks.",
        "--ehlo", "client.test",
    ]  # fmt: skip
    finished = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "250 2.0.0 Ok: queued as" in finished.stdout
    await wait_for_inbox(tu, clerk["username"], "Thử swaks")

    unauthenticated = [part for part in command if part not in ("--auth", "LOGIN")]
    unauthenticated = (
        unauthenticated[: unauthenticated.index("--auth-user")]
        + unauthenticated[unauthenticated.index("--from") :]
    )
    refused = await asyncio.to_thread(
        subprocess.run, unauthenticated, capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode != 0
    assert "530" in refused.stdout


async def test_implicit_tls_port_takes_auth_without_starttls(
    demo_network: DemoNetwork,
) -> None:
    from tests.support.ports import free_port_block

    port = free_port_block(1)
    node = await start_node(
        fast_settings(demo_network, "TU", **FAST_MAIL, CONGVAN_SMTP_TLS_PORT=str(port))
    )
    staff = demo_network.account("TU", "staff")
    try:

        def sign_in() -> int:
            context = client_context(demo_network)
            with smtplib.SMTP_SSL(
                node.settings.smtp.host, port, context=context, timeout=30
            ) as client:
                code, _ = client.login(staff["username"], staff["app_password"])
                return code

        assert await in_thread(sign_in) == 235
    finally:
        await node.stop()


async def test_a_user_past_the_rate_is_told_to_try_later(demo_network: DemoNetwork) -> None:
    node = await start_node(
        fast_settings(demo_network, "TU", **FAST_MAIL, CONGVAN_SMTP_RATE_PER_MINUTE="2")
    )
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")
    try:

        def three() -> list[int]:
            codes = []
            with signed_in(node, demo_network, "staff") as client:
                for number in range(3):
                    code, _ = client.mail(staff["email"])
                    codes.append(code)
                    if code == 250:
                        client.rcpt(clerk["email"])
                        client.data(f"From: {staff['email']}\r\nSubject: {number}\r\n\r\nx\r\n")
            return codes

        assert await in_thread(three) == [250, 250, 451]
    finally:
        await node.stop()


async def test_an_alias_may_send_and_receives_its_mail(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    leader = demo_network.account("TU", "leader")
    clerk = demo_network.account("TU", "clerk")
    office = "vanphong.test@" + clerk["email"].split("@")[1]
    async with tu.sessions() as session, session.begin():
        await aliases.add_alias(session, office, clerk["username"], tu.settings.node.units)

    def as_office() -> dict[str, Any]:
        with signed_in(tu, demo_network, "clerk") as client:
            message = message_from(office, [leader["email"]], "Gửi từ Văn phòng", "x\n")
            return client.send_message(message)

    def to_office() -> dict[str, Any]:
        with signed_in(tu, demo_network, "leader") as client:
            message = message_from(leader["email"], [office], "Gửi Văn phòng", "y\n")
            return client.send_message(message)

    assert await in_thread(as_office) == {}
    assert await in_thread(to_office) == {}
    await wait_for_inbox(tu, leader["username"], "Gửi từ Văn phòng")
    await wait_for_inbox(tu, clerk["username"], "Gửi Văn phòng")


async def test_more_recipients_than_allowed_are_refused_at_rcpt(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")

    def many() -> list[int]:
        with signed_in(tu, demo_network, "staff") as client:
            client.mail(staff["email"])
            return [client.rcpt(clerk["email"])[0] for _ in range(MAX_RECIPIENTS + 1)]

    codes = await in_thread(many)
    assert codes[:MAX_RECIPIENTS] == [250] * MAX_RECIPIENTS
    assert codes[MAX_RECIPIENTS] == 452


# --- who the headers say sent the message ------------------------------------------------------


def send_with(
    node: RunningNode, demo_network: DemoNetwork, header: str, value: str, subject: str
) -> dict[str, Any]:
    """The staff member sends themselves a message carrying ``header: value``."""
    staff = demo_network.account(node.settings.node.name, "staff")
    with signed_in(node, demo_network, "staff") as client:
        message = message_from(staff["email"], [staff["email"]], subject, "x\n")
        message[header] = value
        # Explicit addresses: with Resent- headers smtplib would take the envelope from them.
        return client.send_message(message, from_addr=staff["email"], to_addrs=[staff["email"]])


@pytest.mark.parametrize("header", ["Sender", "Resent-From", "Resent-Sender"])
async def test_a_sender_or_resender_header_naming_someone_else_is_refused(
    tu: RunningNode, demo_network: DemoNetwork, header: str
) -> None:
    staff = demo_network.account("TU", "staff")
    leader = demo_network.account("TU", "leader")
    subject = f"Giả mạo {header}"

    with pytest.raises(smtplib.SMTPDataError) as refused:
        await in_thread(send_with, tu, demo_network, header, leader["email"], subject)
    assert refused.value.smtp_code == 550
    assert f"{header}: <{leader['email']}> is not an address of".encode() in (
        refused.value.smtp_error
    )
    assert subject not in await inbox_subjects(tu, staff["username"], folder=SENT)

    # Their own address in the same header is theirs to give.
    own = f"Tự gửi {header}"
    assert await in_thread(send_with, tu, demo_network, header, staff["email"], own) == {}
    await wait_for_inbox(tu, staff["username"], own)


async def test_replies_may_be_sent_only_to_the_senders_own_unit(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    """A Reply-To sends the readers' answers elsewhere than the From: they see: to a colleague
    or the unit's alias, yes; to another unit or outside the network, no."""
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")
    elsewhere = demo_network.account("HU-CAMLO", "staff")["email"]
    for address in (elsewhere, "ai.do@gmail.com", f"{clerk['username']}, {elsewhere}"):
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await in_thread(send_with, tu, demo_network, "Reply-To", address, "Trả lời nơi khác")
        assert refused.value.smtp_code == 550
        assert b"Reply-To: <" in refused.value.smtp_error
    subjects = await inbox_subjects(tu, staff["username"], folder=SENT)
    assert "Trả lời nơi khác" not in subjects

    reply_to = f"Văn thư <{clerk['email']}>"
    assert (
        await in_thread(send_with, tu, demo_network, "Reply-To", reply_to, "Trả lời văn thư") == {}
    )
    await wait_for_inbox(tu, staff["username"], "Trả lời văn thư")


# --- AUTH throttling ---------------------------------------------------------------------------


def auth_once(
    node: RunningNode, demo_network: DemoNetwork, user: str, secret: str, source: str
) -> tuple[int, bytes]:
    """One AUTH PLAIN on a connection of its own from ``source``: the reply."""
    with secure(node, demo_network, source) as client:
        return client.docmd("AUTH", "PLAIN " + plain_token(user, secret))


async def mail_failures(node: RunningNode, scope: str, key: str) -> SignInFailures | None:
    async with node.sessions() as session:
        return await session.get(SignInFailures, (throttle.MAIL, scope, key))


async def test_failed_auths_over_many_connections_are_counted_together(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    staff = demo_network.account("TU", "staff")
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(12) as pool:  # all at once, not a few at a time
        replies = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool, auth_once, tu, demo_network, staff["username"], f"sai-{n}", "127.0.0.2"
                )
                for n in range(12)
            )
        )
    codes = [code for code, _text in replies]
    checked, refused = codes.count(535), codes.count(454)
    assert checked + refused == 12
    # The fifth failure from the address makes it wait 1 s, the sixth 2 s…: the guesses sent
    # on separate connections at once meet the waits the others started.
    assert 5 <= checked < 12 and refused >= 1
    address = await mail_failures(tu, ADDRESS, "127.0.0.2")
    account = await mail_failures(tu, ACCOUNT, staff["username"])
    assert address is not None and address.failures == checked
    assert account is not None and account.failures == checked
    # The owner, at their own address, signs in at once.
    code, _ = await in_thread(
        auth_once, tu, demo_network, staff["username"], staff["app_password"], "127.0.0.1"
    )
    assert code == 235


async def test_a_strangers_failures_cannot_lock_the_admin_out_of_mail(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    admin = demo_network.account("TU", "admin")
    # As if the stranger had failed eight times already (which takes 7 s of waits).
    async with tu.sessions() as session, session.begin():
        session.add(
            SignInFailures(
                service=throttle.MAIL,
                scope=ADDRESS,
                key="127.0.0.3",
                failures=8,
                last_failure_at=datetime.now(UTC),
                last_user="",
            )
        )
    wrong = await in_thread(auth_once, tu, demo_network, admin["username"], "sai", "127.0.0.3")
    assert wrong[0] == 535  # the ninth failure: the address waits 16 s
    right = await in_thread(
        auth_once, tu, demo_network, admin["username"], admin["app_password"], "127.0.0.3"
    )
    assert right[0] == 454 and b"try again in" in right[1]
    unknown = await in_thread(
        auth_once, tu, demo_network, "khong.co", admin["app_password"], "127.0.0.3"
    )
    assert unknown[0] == 454  # the same answer for any name: nothing was checked
    owner = await in_thread(
        auth_once, tu, demo_network, admin["username"], admin["app_password"], "127.0.0.1"
    )
    assert owner[0] == 235


async def test_an_unknown_user_costs_one_verification_like_a_known_one(
    tu: RunningNode, demo_network: DemoNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = demo_network.account("TU", "staff")
    verified: list[str] = []
    real_verify = passwords.verify_password

    def counting(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    answers = {}
    hashes = {}
    for name in (staff["username"], "khong.co"):
        verified.clear()
        answers[name] = await in_thread(auth_once, tu, demo_network, name, "sai-roi", "127.0.0.4")
        hashes[name] = list(verified)
    assert answers[staff["username"]] == answers["khong.co"]
    assert answers["khong.co"][0] == 535
    async with tu.sessions() as session:
        known = await app_signin.app_password_hashes(session, staff["username"])
    assert hashes[staff["username"]] == known
    stand_in = hashes["khong.co"]
    assert len(stand_in) == 1 and stand_in[0] not in known
    assert stand_in[0].split("$")[:4] == known[0].split("$")[:4]  # argon2id, same parameters
