"""``[smtp] processes = 2``: ``congvan serve`` starts a ``congvan serve-smtp`` beside it, both
take connections on the one SMTP port, and every message either accepted is delivered once:
one row in the recipient's inbox, one file in their Maildir, one copy in the sender's sent
folder. Killing ``serve`` takes its child down too."""

from __future__ import annotations

import asyncio
import re
import smtplib
import time
from pathlib import Path

from sqlalchemy import select

from config.database import open_database
from keys.models import User
from mailgw.models import INBOX, SENT, MailboxMessage
from tests.support.cli import Cli
from tests.support.mail import client_context, message_from
from tests.support.network import DemoNetwork
from tests.support.nodes import FAST
from tests.support.processes import NodeProcess, port_holders

MAIL_ENV = {
    **FAST,
    "CONGVAN_SMTP_PROCESSES": "2",
    "CONGVAN_SMTP_POLL_SECONDS": "1",
    "CONGVAN_SMTP_RATE_PER_MINUTE": "1000",
}
CONNECTIONS = 16
SUBJECT = "Thư qua hai tiến trình số"
WAIT_SECONDS = 90


async def wait_for(condition_name: str, check: object, seconds: float = WAIT_SECONDS) -> None:
    assert callable(check)
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"not yet: {condition_name}"
        await asyncio.sleep(0.3)


async def folder_subjects(network: DemoNetwork, username: str, folder: str) -> list[str]:
    async with open_database(network.settings("TU")) as sessions, sessions() as session:
        subjects = await session.scalars(
            select(MailboxMessage.subject)
            .join(User, User.id == MailboxMessage.user_id)
            .where(User.username == username, MailboxMessage.folder == folder)
            .where(MailboxMessage.subject.like(f"{SUBJECT}%"))
        )
        return list(subjects)


def maildir_subjects(network: DemoNetwork, username: str) -> list[str]:
    settings = network.settings("TU")
    folder = settings.path(settings.smtp.maildir) / username
    found = []
    for path in (*folder.glob("new/*"), *folder.glob("cur/*")):
        match = re.search(rf"^Subject: ({SUBJECT} \d+)$", path.read_text(), re.MULTILINE)
        if match:
            found.append(match.group(1))
    return found


async def test_two_processes_share_the_smtp_port_and_deliver_each_message_once(
    cli: Cli, demo_network: DemoNetwork, log_dir: Path
) -> None:
    staff = demo_network.account("TU", "staff")
    clerk = demo_network.account("TU", "clerk")
    settings = demo_network.settings("TU")
    port = settings.smtp.port
    province = NodeProcess(cli, demo_network.node_dir("TU"), log_dir / "tu-smtp-2.log", MAIL_ENV)
    province.start()
    try:
        await province.started()

        async def two_listeners() -> bool:
            return len(set(port_holders(port, "listening"))) == 2

        await wait_for("two processes listening on the SMTP port", two_listeners)
        listeners = set(port_holders(port, "listening"))
        assert province.pid in listeners

        def submit_all() -> set[int]:
            clients = []
            for _ in range(CONNECTIONS):
                client = smtplib.SMTP(settings.smtp.host, port, timeout=60)
                client.starttls(context=client_context(demo_network))
                client.login(staff["username"], staff["app_password"])
                clients.append(client)
            # Which process holds each connection, while all are open.
            holders = set(port_holders(port, "established"))
            for number, client in enumerate(clients):
                subject = f"{SUBJECT} {number}"
                message = message_from(staff["email"], [clerk["email"]], subject, "Nội dung.\n")
                assert client.send_message(message) == {}
                client.quit()
            return holders

        holders = await asyncio.to_thread(submit_all)
        # The kernel spread the connections (all sixteen on one of two: odds of 1 in 32768).
        assert holders == listeners

        wanted = sorted(f"{SUBJECT} {number}" for number in range(CONNECTIONS))

        async def all_delivered() -> bool:
            inbox = await folder_subjects(demo_network, clerk["username"], INBOX)
            return (
                len(inbox) >= CONNECTIONS
                and len(maildir_subjects(demo_network, clerk["username"])) >= CONNECTIONS
            )

        await wait_for("every message in the inbox and the Maildir", all_delivered)
        await asyncio.sleep(2)  # a second delivery, were there one, would have come by now
        assert sorted(await folder_subjects(demo_network, clerk["username"], INBOX)) == wanted
        assert sorted(maildir_subjects(demo_network, clerk["username"])) == wanted
        assert sorted(await folder_subjects(demo_network, staff["username"], SENT)) == wanted

        (child,) = listeners - {province.pid}
        province.kill()

        async def child_gone() -> bool:
            return (
                not Path(f"/proc/{child}").exists()
                or "Z" in Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            )

        await wait_for("the serve-smtp child stops when serve is killed", child_gone, 30)
    finally:
        if province.running:
            province.stop()
