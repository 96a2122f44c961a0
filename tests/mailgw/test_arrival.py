"""``mail`` dispatches as the receiving node takes them: a unit signs only for its own users, and
only the recipients of the units a dispatch is addressed to are served.

The dispatches here are sealed by Cam Lộ's real outbox, as its gateway would, but with what a
broken or hostile sender might put in them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from exchange.envelope import Attachment, Draft
from exchange.models import InboundDispatch
from mailgw.arrival import arrival_queue_id
from mailgw.gateway import RFC822
from mailgw.models import QueuedMail
from office.node.app import RunningNode, start_node
from tests.support.mail import inbox_subjects, message_from, wait_for_inbox
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.waiting import wait_for

MAIL = {"CONGVAN_SMTP_POLL_SECONDS": "1"}


@pytest.fixture
async def nodes(demo_network: DemoNetwork) -> AsyncIterator[tuple[RunningNode, RunningNode]]:
    tu = await start_node(fast_settings(demo_network, "TU", **MAIL))
    camlo = await start_node(fast_settings(demo_network, "HU-CAMLO", **MAIL))
    yield tu, camlo
    await camlo.stop()
    await tu.stop()


async def send_mail_dispatch(
    camlo: RunningNode,
    tmp_path: Path,
    mail_from: str,
    recipients: list[str],
    subject: str,
    author: str | None = None,
) -> str:
    """A ``mail`` dispatch as Cam Lộ's gateway seals it; ``author`` is the ``From:`` when it
    differs from the envelope sender."""
    message = message_from(author or mail_from, recipients, subject, "Nội dung.\n")
    path = tmp_path / f"{subject}.eml"
    path.write_bytes(message.as_bytes(policy=policy.SMTP))
    assert camlo.outbox is not None
    header = await camlo.outbox.send(
        "HU-CAMLO",
        Draft(
            recipients=("TU",),
            kind="mail",
            metadata={"mail_from": mail_from, "recipients": recipients},
            attachments=(Attachment("message.eml", path, RFC822),),
        ),
    )
    return header.id


async def handled(node: RunningNode, dispatch_id: str) -> bool:
    async with node.sessions() as session:
        row = await session.scalar(select(InboundDispatch).where(InboundDispatch.id == dispatch_id))
        return row is not None and row.handled


async def test_mail_claiming_a_sender_of_another_unit_is_not_delivered(
    nodes: tuple[RunningNode, RunningNode], demo_network: DemoNetwork, tmp_path: Path
) -> None:
    tu, camlo = nodes
    impersonated = demo_network.account("TU", "leader")["email"]
    clerk = demo_network.account("TU", "clerk")
    dispatch_id = await send_mail_dispatch(
        camlo, tmp_path, impersonated, [clerk["email"]], "Mạo danh lãnh đạo"
    )
    await wait_for(lambda: handled(tu, dispatch_id), seconds=60)
    assert "Mạo danh lãnh đạo" not in await inbox_subjects(tu, clerk["username"])


async def test_only_recipients_of_the_addressed_units_are_served(
    nodes: tuple[RunningNode, RunningNode], demo_network: DemoNetwork, tmp_path: Path
) -> None:
    tu, camlo = nodes
    sender = demo_network.account("HU-CAMLO", "staff")["email"]
    clerk = demo_network.account("TU", "clerk")
    # Đông Hà's user rides along in a dispatch addressed to the province only.
    dongha = demo_network.account("TX-DONGHA", "clerk")["email"]
    dispatch_id = await send_mail_dispatch(
        camlo, tmp_path, sender, [clerk["email"], dongha], "Gửi kèm"
    )
    await wait_for_inbox(tu, clerk["username"], "Gửi kèm", seconds=60)
    async with tu.sessions() as session:
        queued = await session.get(QueuedMail, arrival_queue_id(dispatch_id))
    assert queued is not None and queued.origin == "dispatch"
    assert json.loads(queued.recipients) == [clerk["email"]]  # not relayed on to Đông Hà


async def test_mail_whose_from_header_names_another_unit_is_not_delivered(
    nodes: tuple[RunningNode, RunningNode], demo_network: DemoNetwork, tmp_path: Path
) -> None:
    tu, camlo = nodes
    sender = demo_network.account("HU-CAMLO", "staff")["email"]
    clerk = demo_network.account("TU", "clerk")
    impersonated = demo_network.account("TU", "leader")["email"]
    dispatch_id = await send_mail_dispatch(
        camlo, tmp_path, sender, [clerk["email"]], "Thư mạo danh From", author=impersonated
    )
    await wait_for(lambda: handled(tu, dispatch_id), seconds=60)
    assert "Thư mạo danh From" not in await inbox_subjects(tu, clerk["username"])


async def test_a_message_the_parser_chokes_on_is_still_delivered(
    nodes: tuple[RunningNode, RunningNode], demo_network: DemoNetwork
) -> None:
    """``To: c@[d`` makes Python's header parser raise AttributeError (CPython #102988): the
    delivery worker files the message anyway, and goes on with the next one."""
    tu, _camlo = nodes
    clerk = demo_network.account("TU", "clerk")
    staff = demo_network.account("TU", "staff")
    assert tu.mail is not None
    raw = f"From: {staff['email']}\r\nTo: c@[d\r\nSubject: Khó đọc\r\n\r\nx\r\n".encode()
    blob = tu.mail.blobs.put_bytes(raw)
    async with tu.sessions() as session, session.begin():
        await tu.mail.enqueue(
            session,
            str(uuid.uuid4()),
            blob,
            mail_from=staff["email"],
            recipients=[clerk["email"]],
            unit="TU",
            origin="dispatch",
        )
    tu.mail.queued.set()
    await wait_for_inbox(tu, clerk["username"], "Khó đọc")
