"""Mail clients' side of the tests: messages, TLS trust in our CA, and reading what arrived."""

from __future__ import annotations

import asyncio
import mailbox
import ssl
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formataddr, make_msgid

from sqlalchemy import select

from keys.models import User
from mailgw.mailbox import list_folder
from mailgw.models import INBOX
from office.node.app import RunningNode
from tests.support.network import DemoNetwork


def client_context(network: DemoNetwork) -> ssl.SSLContext:
    """A client that trusts our CA only, and checks the listener's name (127.0.0.1)."""
    return ssl.create_default_context(cafile=network.document["ca"])


def message_from(
    sender: str, recipients: list[str], subject: str, body: str, name: str = ""
) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTPUTF8)
    message["From"] = formataddr((name, sender)) if name else sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    message.set_content(body)
    return message


async def inbox_subjects(node: RunningNode, username: str, folder: str = INBOX) -> list[str]:
    async with node.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        return [row.subject for row in await list_folder(session, user_id, folder, limit=500)]


async def wait_for_inbox(
    node: RunningNode, username: str, subject: str, seconds: float = 30
) -> None:
    """Until a message whose subject contains ``subject`` is in the user's inbox."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(subject in found for found in await inbox_subjects(node, username)):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"no mail '{subject}' for {username} within {seconds} s")


def maildir_messages(node: RunningNode, username: str) -> list[EmailMessage]:
    """Every message in the user's Maildir, read with Python's own ``mailbox`` module."""
    folder = node.settings.path(node.settings.smtp.maildir) / username
    box = mailbox.Maildir(folder, factory=None, create=False)
    parsed = []
    for key in box.iterkeys():
        with box.get_file(key) as handle:
            parsed.append(BytesParser(policy=policy.default).parse(handle))  # type: ignore[arg-type]
    return parsed  # type: ignore[return-value]


def maildir_raw(node: RunningNode, username: str, subject: str) -> bytes:
    """The bytes of the one Maildir message whose subject contains ``subject``."""
    folder = node.settings.path(node.settings.smtp.maildir) / username
    found = [
        path.read_bytes()
        for path in (*folder.glob("new/*"), *folder.glob("cur/*"))
        if subject.encode() in path.read_bytes()
    ]
    assert len(found) == 1, f"{len(found)} messages '{subject}' in {folder}"
    return found[0]
