"""Mail clients read their mail through a real IMAP server: Debian's Dovecot, configured as
docs/mail.md says, serves the node's Maildir and signs staff in with ``congvan mail
checkpassword``; ``imaplib`` is the mail client, trusting only the province's CA.

The mail is what the gateway delivered: sent by a colleague through the node's submission port.
Each sign-in Dovecot asks checkpassword about is counted in the usage ledger, as SMTP and web
sign-ins are: an access when it holds, a ``login-failed`` event (never an access) when not.
"""

from __future__ import annotations

import asyncio
import imaplib
import mailbox
import smtplib
from collections.abc import AsyncIterator, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from exchange.ledger import ACCESS_KIND, FAILED_SIGN_IN_KIND
from exchange.models import UsageEvent
from office.node.app import RunningNode, start_node
from tests.support.cli import Cli
from tests.support.documents import make_pdf
from tests.support.dovecot import Dovecot, installed
from tests.support.mail import client_context
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.waiting import wait_for
from tests.support.web import forget_sign_in_failures

pytestmark = pytest.mark.skipif(not installed(), reason="dovecot-imapd is installed by .ci/run")

SUBJECT = "Báo cáo tháng 11 — Công văn số 15"
PDF_NAME = "Báo cáo tháng 11.pdf"


@pytest.fixture(scope="module")
def dovecot(demo_network: DemoNetwork, log_dir: Path) -> Iterator[Dovecot]:
    """Dovecot for the province's node TU, for the whole module: it reads the node's folder
    and database, not the running node, which each test starts anew."""
    server = Dovecot(
        demo_network.settings("TU"),
        demo_network.root.parent / "dovecot",
        log_dir / f"dovecot-{demo_network.root.parent.name}.log",
    )
    yield server
    server.stop()


@pytest.fixture
async def tu(demo_network: DemoNetwork, dovecot: Dovecot) -> AsyncIterator[RunningNode]:
    node = await start_node(fast_settings(demo_network, "TU", CONGVAN_SMTP_POLL_SECONDS="1"))
    await forget_sign_in_failures(node)
    yield node
    await node.stop()


def imap_client(network: DemoNetwork, dovecot: Dovecot) -> imaplib.IMAP4_SSL:
    """A mail client that trusts our CA only and checks the server's name (127.0.0.1)."""
    return imaplib.IMAP4_SSL(
        "127.0.0.1", dovecot.port, ssl_context=client_context(network), timeout=60
    )


def send(
    node: RunningNode, network: DemoNetwork, sender: dict[str, Any], message: EmailMessage
) -> None:
    """Through the node's submission port, as a mail client sends: STARTTLS, AUTH, DATA."""
    with smtplib.SMTP(node.settings.smtp.host, node.settings.smtp.port, timeout=60) as client:
        client.starttls(context=client_context(network))
        client.login(sender["email"], sender["app_password"])
        client.send_message(message)


def letter(sender: dict[str, Any], recipient: dict[str, Any], subject: str) -> EmailMessage:
    """A message as a mail client writes it: headers in RFC 2047 encoded words (not SMTPUTF8)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender["email"]
    message["To"] = recipient["email"]
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender["email"].split("@")[1])
    message.set_content("Kính gửi đồng chí,\nVăn phòng gửi báo cáo tháng 11.\n")
    return message


def maildir_file(node: RunningNode, username: str, message_id: str) -> Path | None:
    """The file in the user's Maildir holding the message, wherever the IMAP server moved it."""
    folder = node.settings.path(node.settings.smtp.maildir) / username
    for path in (*folder.glob("new/*"), *folder.glob("cur/*")):
        if message_id.encode() in path.read_bytes():
            return path
    return None


async def delivered(node: RunningNode, username: str, message_id: str) -> Path:
    async def arrived() -> bool:
        return maildir_file(node, username, message_id) is not None

    await wait_for(arrived, 60)
    found = maildir_file(node, username, message_id)
    assert found is not None
    return found


async def sign_ins(node: RunningNode, kind: str, user: str | None = None) -> int:
    """Usage events of ``kind`` in the database (checkpassword writes its own at once)."""
    query = select(func.count()).select_from(UsageEvent).where(UsageEvent.kind == kind)
    if user is not None:
        query = query.where(UsageEvent.user == user)
    async with node.sessions() as session:
        return int(await session.scalar(query) or 0)


def refused(network: DemoNetwork, dovecot: Dovecot, login: str, secret: str) -> str:
    """Dovecot's answer to a sign-in it must refuse (the test fails if it signs in)."""
    client = imap_client(network, dovecot)
    try:
        with pytest.raises(imaplib.IMAP4.error) as refusal:
            client.login(login, secret)
        return str(refusal.value)
    finally:
        client.shutdown()


async def test_a_mail_client_reads_a_delivered_letter_and_its_pdf_and_marks_it_seen(
    tu: RunningNode, demo_network: DemoNetwork, dovecot: Dovecot, tmp_path: Path
) -> None:
    clerk = demo_network.account("TU", "clerk")
    staff = demo_network.account("TU", "staff")
    pdf = make_pdf(tmp_path, "report.pdf", "Báo cáo tháng 11", "Công văn số 15").read_bytes()
    message = letter(clerk, staff, SUBJECT)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=PDF_NAME)
    await asyncio.to_thread(send, tu, demo_network, clerk, message)
    stored = await delivered(tu, staff["username"], message["Message-ID"])
    assert SUBJECT.encode() not in stored.read_bytes()  # the subject travels as encoded words
    accesses = await sign_ins(tu, ACCESS_KIND, staff["username"])

    def read() -> dict[str, Any]:
        with imap_client(demo_network, dovecot) as client:
            signed_in, _ = client.login(staff["email"], staff["app_password"])
            _, folders = client.list()
            selected, _ = client.select("INBOX")
            _, found = client.search(None, "HEADER", "Message-ID", message["Message-ID"])
            (number,) = found[0].split()
            _, parts = client.fetch(number, "(BODY.PEEK[])")
            raw = next(part[1] for part in parts if isinstance(part, tuple))
            _, before = client.fetch(number, "(FLAGS)")
            client.store(number, "+FLAGS", "(\\Seen)")
            _, after = client.fetch(number, "(FLAGS)")
            client.logout()
        return {
            "login": signed_in,
            "folders": [line.decode() for line in folders if isinstance(line, bytes)],
            "select": selected,
            "raw": raw,
            "flags before": imaplib.ParseFlags(before[0]),
            "flags after": imaplib.ParseFlags(after[0]),
        }

    seen = await asyncio.to_thread(read)

    assert (seen["login"], seen["select"]) == ("OK", "OK")
    assert any(folder.endswith(' "/" INBOX') for folder in seen["folders"]), seen["folders"]
    assert any("\\Sent" in folder and "Sent" in folder for folder in seen["folders"])
    read_back = BytesParser(policy=policy.default).parsebytes(seen["raw"])
    assert read_back["Subject"] == SUBJECT
    (attachment,) = list(read_back.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == PDF_NAME
    assert attachment.get_content() == pdf
    assert b"\\Seen" not in seen["flags before"]
    assert b"\\Seen" in seen["flags after"]
    # Dovecot keeps the flag where any Maildir reader finds it: in the file's name, in cur/.
    moved = maildir_file(tu, staff["username"], message["Message-ID"])
    assert moved is not None and moved.parent.name == "cur"
    assert "S" in moved.name.rsplit(":2,", 1)[1]
    folder = tu.settings.path(tu.settings.smtp.maildir) / staff["username"]
    box = mailbox.Maildir(folder, factory=None, create=False)
    assert "S" in box.get_message(moved.name.split(":")[0]).get_flags()
    # One sign-in, one access for the IT report, with the user and their unit.
    assert await sign_ins(tu, ACCESS_KIND, staff["username"]) == accesses + 1
    async with tu.sessions() as session:
        newest = await session.scalar(
            select(UsageEvent)
            .where(UsageEvent.kind == ACCESS_KIND, UsageEvent.user == staff["username"])
            .order_by(UsageEvent.id.desc())
            .limit(1)
        )
    assert newest is not None and newest.unit == "TU"


async def test_the_bare_username_signs_in_too(
    tu: RunningNode, demo_network: DemoNetwork, dovecot: Dovecot
) -> None:
    staff = demo_network.account("TU", "staff")

    def sign_in() -> tuple[str, str]:
        with imap_client(demo_network, dovecot) as client:
            status, _ = client.login(staff["username"].upper(), staff["app_password"])
            selected, _ = client.select("INBOX", readonly=True)
            client.logout()
        return status, selected

    assert await asyncio.to_thread(sign_in) == ("OK", "OK")


async def test_a_wrong_app_password_is_refused_and_counted_as_a_failed_sign_in(
    tu: RunningNode, demo_network: DemoNetwork, dovecot: Dovecot
) -> None:
    staff = demo_network.account("TU", "staff")
    accesses = await sign_ins(tu, ACCESS_KIND, staff["username"])
    failures = await sign_ins(tu, FAILED_SIGN_IN_KIND)

    for secret in ("abcdef-ghijkl-mnopqr-stuvwx", staff["password"]):  # nor the web password
        answer = await asyncio.to_thread(refused, demo_network, dovecot, staff["email"], secret)
        assert "AUTHENTICATIONFAILED" in answer

    assert await sign_ins(tu, FAILED_SIGN_IN_KIND) == failures + 2
    assert await sign_ins(tu, ACCESS_KIND, staff["username"]) == accesses


async def test_a_disabled_account_cannot_sign_in(
    tu: RunningNode, demo_network: DemoNetwork, dovecot: Dovecot, cli: Cli
) -> None:
    leader = demo_network.account("TU", "leader")

    def sign_in() -> str:
        with imap_client(demo_network, dovecot) as client:
            status, _ = client.login(leader["email"], leader["app_password"])
            client.logout()
        return status

    assert await asyncio.to_thread(sign_in) == "OK"  # the app password holds while active
    cli("users", "disable", leader["username"], "--dir", demo_network.node_dir("TU"))
    failures = await sign_ins(tu, FAILED_SIGN_IN_KIND)
    accesses = await sign_ins(tu, ACCESS_KIND, leader["username"])

    answer = await asyncio.to_thread(
        refused, demo_network, dovecot, leader["email"], leader["app_password"]
    )

    assert "AUTHENTICATIONFAILED" in answer
    assert await sign_ins(tu, FAILED_SIGN_IN_KIND) == failures + 1
    assert await sign_ins(tu, ACCESS_KIND, leader["username"]) == accesses


async def test_a_user_cannot_read_another_users_mailbox(
    tu: RunningNode, demo_network: DemoNetwork, dovecot: Dovecot
) -> None:
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")
    message = letter(staff, clerk, "Thư riêng gửi văn thư")
    await asyncio.to_thread(send, tu, demo_network, staff, message)
    await delivered(tu, clerk["username"], message["Message-ID"])
    clerks_folder = tu.settings.path(tu.settings.smtp.maildir) / clerk["username"]
    attempts = [
        clerk["username"],
        f"../{clerk['username']}",
        f"~{clerk['username']}/INBOX",
        str(clerks_folder),
        f"{clerks_folder}/new",
    ]

    def snoop() -> tuple[list[str], list[bytes]]:
        answers: list[str] = []
        everything: list[bytes] = []
        with imap_client(demo_network, dovecot) as client:
            client.login(staff["email"], staff["app_password"])
            for name in attempts:
                status, data = client.select(f'"{name}"', readonly=True)
                answers.append(status)
                everything.extend(item for item in data if isinstance(item, bytes))
            _, listed = client.list('""', "*")
            everything.extend(item for item in listed if isinstance(item, bytes))
            client.select("INBOX", readonly=True)
            _, found = client.search(None, "ALL")
            for number in found[0].split():
                _, parts = client.fetch(number, "(BODY.PEEK[HEADER])")
                everything.extend(part[1] for part in parts if isinstance(part, tuple))
            client.logout()
        return answers, everything

    answers, everything = await asyncio.to_thread(snoop)

    assert answers == ["NO"] * len(attempts)
    assert not any(message["Message-ID"].encode() in item for item in everything)
    # Nor does her own app password open the clerk's mailbox.
    answer = await asyncio.to_thread(
        refused, demo_network, dovecot, clerk["email"], staff["app_password"]
    )
    assert "AUTHENTICATIONFAILED" in answer
