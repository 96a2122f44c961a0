"""Accept, then queue: a gateway killed with SIGKILL right after it answered 250 still
delivers the message, once, after its restart.

The province runs as ``congvan serve`` in a process of its own; the recipient is a user of Đông
Hà, whose node is down while the province is killed, so the message cannot have left before the
kill: it is either still in the mail queue or already sealed in the exchange outbox, both
written before the 250.
"""

from __future__ import annotations

import asyncio
import smtplib
from pathlib import Path

from sqlalchemy import func, select

from config.database import open_database
from mailgw.models import QueuedMail
from office.node.app import start_node
from tests.support.cli import Cli
from tests.support.mail import client_context, maildir_raw, message_from, wait_for_inbox
from tests.support.network import DemoNetwork
from tests.support.nodes import FAST, fast_settings
from tests.support.processes import NodeProcess

MAIL_ENV = {**FAST, "CONGVAN_SMTP_POLL_SECONDS": "1", "CONGVAN_SMTP_LEASE_SECONDS": "10"}


async def queued_count(network: DemoNetwork) -> int:
    async with open_database(network.settings("TU")) as sessions, sessions() as session:
        return await session.scalar(select(func.count()).select_from(QueuedMail)) or 0


async def test_a_gateway_killed_right_after_250_delivers_after_restart(
    cli: Cli, demo_network: DemoNetwork, log_dir: Path
) -> None:
    staff = demo_network.account("TU", "staff")
    far = demo_network.account("TX-DONGHA", "clerk")
    subject = "Thư gửi trước khi mất điện"
    province = NodeProcess(cli, demo_network.node_dir("TU"), log_dir / "tu-mail-kill.log", MAIL_ENV)
    settings = demo_network.settings("TU")
    before = await queued_count(demo_network)
    province.start()
    try:
        await province.started()

        def submit() -> dict[str, tuple[int, bytes]]:
            client = smtplib.SMTP(settings.smtp.host, settings.smtp.port, timeout=30)
            client.starttls(context=client_context(demo_network))
            client.login(staff["username"], staff["app_password"])
            refused = client.send_message(
                message_from(staff["email"], [far["email"]], subject, "Nội dung.\n")
            )
            province.kill()  # the moment the 250 is in: no shutdown code runs
            client.close()
            return refused

        assert await asyncio.to_thread(submit) == {}
        assert await queued_count(demo_network) == before + 1
        province.start()
        await province.started()
        dongha = await start_node(fast_settings(demo_network, "TX-DONGHA"))
        try:
            await wait_for_inbox(dongha, far["username"], subject, seconds=90)
            maildir_raw(dongha, far["username"], subject)  # exactly one copy
        finally:
            await dongha.stop()
    finally:
        province.stop()
