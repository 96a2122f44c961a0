"""Fuzzing the SMTP DATA path: the listener's handler, the gateway's checks and its queue.

The province's node runs in the test's process; its SMTP handler is given each message as
aiosmtpd hands it over after DATA, from a signed-in staff member to a clerk (no socket per
message: the dialogue before DATA has its own tests). Whatever the bytes, the answer is a
250 or a 5xx refusal (a 4xx would have the client try the same bytes again forever), never an
exception; and every message taken is then shown by the mail reader without an error and
without markup that runs.
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.smtp import Envelope, Session
from hypothesis import event, example, given
from hypothesis import strategies as st

from mailgw.addresses import Mailbox
from mailgw.models import QueuedMail
from mailgw.smtp import SubmissionHandler
from office.node.app import RunningNode, start_node
from tests.fuzz.fuzzing import share
from tests.fuzz.messages import (
    AUTHOR,
    LONE_SURROGATE_IN_HTML,
    NUL_IN_TEXT,
    PARTLESS_RELATED,
    UNREADABLE_PARAMETER,
    messages,
)
from tests.fuzz.test_mail_reader_fuzz import shown_safely
from tests.support.network import DemoNetwork

pytestmark = pytest.mark.asyncio(loop_scope="module")

TESTS = 1


@dataclass(frozen=True, repr=False)
class Submission:
    """The running node, its SMTP handler, and who sends to whom."""

    node: RunningNode
    handler: SubmissionHandler
    sender: Mailbox
    recipient: str

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints a failing example's arguments: the node in a few words."""
        printer.text(f"<SMTP of TU, {self.sender.address} to {self.recipient}>")

    async def data(self, content: bytes, helo: str) -> str:
        """The handler's answer to DATA carrying ``content``, as aiosmtpd would get it."""
        session = Session(asyncio.get_running_loop())
        session.auth_data, session.host_name = self.sender, helo
        session.peer = ("127.0.0.1", 40000)
        envelope = Envelope()
        envelope.mail_from, envelope.rcpt_tos = self.sender.address, [self.recipient]
        envelope.original_content = envelope.content = content
        return await self.handler.handle_DATA(None, session, envelope)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def submission(demo_network: DemoNetwork) -> AsyncIterator[Submission]:
    node = await start_node(demo_network.settings("TU"))
    try:
        assert node.mail is not None
        staff = demo_network.account("TU", "staff")
        sender = await node.mail.mailbox(staff["username"])
        assert sender is not None
        yield Submission(
            node,
            SubmissionHandler(node.mail, "tu"),
            sender,
            demo_network.account("TU", "clerk")["email"],
        )
    finally:
        await node.stop()


#: What a client may say in HELO: printable ASCII on one line.
helos = st.text(alphabet=string.printable.strip() + " ", min_size=1, max_size=60)


@share(TESTS)
@given(content=messages(), helo=helos)
@example(content=PARTLESS_RELATED, helo="client.test")
@example(content=NUL_IN_TEXT, helo="client.test")
@example(content=UNREADABLE_PARAMETER, helo="client.test")
@example(content=LONE_SURROGATE_IN_HTML, helo="client.test")
async def test_any_message_is_queued_or_refused_and_shown_safely(
    submission: Submission, content: bytes, helo: str
) -> None:
    content = content.replace(AUTHOR, submission.sender.address.encode())
    reply = await submission.data(content, helo)
    event(reply[:3])  # --hypothesis-show-statistics: how many were taken, how many refused
    assert reply.startswith(("250 ", "5")), reply
    if not reply.startswith("250 "):
        return
    queue_id = reply.rsplit(" ", 1)[-1]
    node = submission.node
    assert node.mail is not None
    async with node.sessions() as session:
        queued = await session.get(QueuedMail, queue_id)
    assert queued is not None
    stored = node.mail.blobs.path(queued.blob_sha256)
    assert stored.read_bytes().endswith(content)
    await asyncio.get_running_loop().run_in_executor(None, shown_safely, stored)
