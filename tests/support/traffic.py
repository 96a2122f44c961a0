"""The fault campaign's traffic: dispatches sent as the nodes' clerks send them, and mail
submitted over SMTP as a mail client does, each kept trying until its node took it.

Dispatches are sealed and queued on the sending node's database and spool through its outbox,
as ``congvan exchange send`` and the web do (a process of its own, unaffected when the node's
``congvan serve`` is killed). A mail client submits with STARTTLS and an app password; an answer
lost with the connection (the node killed mid-transaction) is settled as a client settles it,
by looking in the sender's Sent folder before submitting again.
"""

from __future__ import annotations

import asyncio
import random
import smtplib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.errors import DiskFull
from exchange.assembly import Exchange
from exchange.envelope import Attachment, Draft
from keys.models import User
from mailgw.models import SENT, MailboxMessage
from tests.support.mail import client_context, message_from
from tests.support.network import DemoNetwork

#: Pause before a refused or broken attempt is made again.
RETRY_SECONDS = 0.5
SMTP_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Route:
    """A sending unit of a node and the units it writes to."""

    node: str
    unit: str
    to: tuple[str, ...]


#: Cam Lộ (the receiver) gets most; Đông Hà is a pull node, so what it is sent waits at the
#: hub; a dispatch from Đông Hà to Cam Lộ goes direct, or through the hub while Cam Lộ is down.
ROUTES = (
    Route("TU", "TU", ("HU-CAMLO",)),
    Route("TX-DONGHA", "TX-DONGHA", ("HU-CAMLO",)),
    Route("TU", "BTC", ("HU-CAMLO",)),
    Route("HU-CAMLO", "HU-CAMLO", ("TX-DONGHA",)),
    Route("TU", "TU", ("HU-CAMLO", "TX-DONGHA")),
)


@dataclass(frozen=True)
class SentDispatch:
    id: str
    route: Route
    large: bool


#: (node, demo role) of an account; the mail routes: the author and the recipients.
Account = tuple[str, str]
MAIL_ROUTES: tuple[tuple[Account, tuple[Account, ...]], ...] = (
    (("TU", "clerk"), (("HU-CAMLO", "staff"),)),
    (("HU-CAMLO", "clerk"), (("TX-DONGHA", "staff"),)),
    (("TX-DONGHA", "clerk"), (("TU", "staff"), ("HU-CAMLO", "leader"))),
    (("HU-CAMLO", "leader"), (("HU-CAMLO", "staff"),)),
)


@dataclass(frozen=True)
class SentMail:
    message_id: str
    author: Account
    to: tuple[Account, ...]


@dataclass
class TrafficTally:
    """What the clients met on the way."""

    #: Dispatches the sending node could not queue at once (its spool was full).
    queue_refused: int = 0
    #: SMTP temporary refusals by reply code, and connections that broke, by what broke.
    smtp_refused: Counter[int] = field(default_factory=Counter)
    smtp_broken: Counter[str] = field(default_factory=Counter)
    #: Submissions whose answer was lost but whose message the node had kept.
    smtp_answer_lost: int = 0


def make_files(folder: Path, rng: random.Random) -> tuple[Path, list[Path]]:
    """A small text file, and a few large incompressible ones: those go the long way
    (offer, upload, commit), the others inline in their offer."""
    folder.mkdir(parents=True, exist_ok=True)
    small = folder / "cong-van.txt"
    small.write_text("Công văn thử lỗi: nút bị tắt, đường truyền đứt, đĩa đầy.\n", "utf-8")
    large = []
    for number, size in enumerate((300, 450, 600), start=1):
        path = folder / f"ban-do-{number}.bin"
        path.write_bytes(rng.randbytes(size * 1024))
        large.append(path)
    return small, large


async def send_dispatch(
    parts: Exchange, number: int, route: Route, attachment: Path, tally: TrafficTally
) -> str:
    """Queue one dispatch on its sending node, again while that node's disk is full."""
    draft = Draft(
        recipients=route.to,
        kind="document",
        metadata={"summary": f"Công văn thử lỗi số {number}", "number_symbol": f"{number}-CV"},
        attachments=(Attachment(attachment.name, attachment, "application/octet-stream"),),
    )
    while True:
        try:
            return (await parts.outbox.send(route.unit, draft)).id
        except DiskFull:
            tally.queue_refused += 1
            await asyncio.sleep(RETRY_SECONDS)


async def send_dispatches(
    senders: dict[str, Exchange],
    count: int,
    large_every: int,
    seconds: float,
    files: tuple[Path, list[Path]],
    tally: TrafficTally,
) -> list[SentDispatch]:
    """``count`` dispatches spread over ``seconds``, the routes taken in turn; every
    ``large_every``-th carries a large file."""
    small, large = files
    sent: list[SentDispatch] = []
    pause = seconds / max(count, 1)
    for number in range(1, count + 1):
        route = ROUTES[number % len(ROUTES)]
        is_large = number % large_every == 0
        attachment = large[number % len(large)] if is_large else small
        dispatch_id = await send_dispatch(senders[route.node], number, route, attachment, tally)
        sent.append(SentDispatch(dispatch_id, route, is_large))
        await asyncio.sleep(pause)
    return sent


class MailClient:
    """Submits the campaign's mail to each author's node, as the author's mail client."""

    def __init__(
        self,
        network: DemoNetwork,
        sessions: dict[str, async_sessionmaker[AsyncSession]],
        tally: TrafficTally,
    ) -> None:
        self.network = network
        self.sessions = sessions
        self.tally = tally
        self.context = client_context(network)

    def account(self, who: Account) -> dict[str, Any]:
        return self.network.account(*who)

    def node(self, name: str) -> dict[str, Any]:
        return next(node for node in self.network.document["nodes"] if node["name"] == name)

    def message(self, number: int, author: Account, to: tuple[Account, ...]) -> EmailMessage:
        message = message_from(
            self.account(author)["email"],
            [self.account(who)["email"] for who in to],
            f"Thư thử lỗi số {number}",
            f"Thư số {number} của chiến dịch thử lỗi.\n",
        )
        del message["Message-ID"]
        message["Message-ID"] = f"<faults-{number}-{uuid.uuid4().hex}@congvan.test>"
        return message

    async def send_all(self, count: int, seconds: float) -> list[SentMail]:
        sent = []
        pause = seconds / max(count, 1)
        for number in range(1, count + 1):
            author, to = MAIL_ROUTES[number % len(MAIL_ROUTES)]
            message = self.message(number, author, to)
            await self.submit(author, message)
            sent.append(SentMail(str(message["Message-ID"]), author, to))
            await asyncio.sleep(pause)
        return sent

    async def submit(self, author: Account, message: EmailMessage) -> None:
        """Until the author's node took the message: a temporary refusal or a broken
        connection is tried again, once the Sent folder shows the node did not keep it."""
        while True:
            try:
                await asyncio.to_thread(self._submit_once, author, message)
                return
            except smtplib.SMTPRecipientsRefused as refused:
                codes = [code for code, _reply in refused.recipients.values()]
                if any(code // 100 != 4 for code in codes):
                    raise
                self.tally.smtp_refused.update(codes)
            except smtplib.SMTPResponseException as refused:
                if refused.smtp_code // 100 != 4:
                    raise
                self.tally.smtp_refused[refused.smtp_code] += 1
            except (smtplib.SMTPServerDisconnected, OSError) as broken:
                self.tally.smtp_broken[type(broken).__name__] += 1
            if await self.kept(author, str(message["Message-ID"])):
                self.tally.smtp_answer_lost += 1
                return
            await asyncio.sleep(RETRY_SECONDS)

    def _submit_once(self, author: Account, message: EmailMessage) -> None:
        account, node = self.account(author), self.node(author[0])
        with smtplib.SMTP(
            node["smtp_host"], node["smtp_port"], timeout=SMTP_TIMEOUT_SECONDS
        ) as client:
            client.starttls(context=self.context)
            client.login(account["username"], account["app_password"])
            client.send_message(message)

    async def kept(self, author: Account, message_id: str) -> bool:
        """The message is in its author's Sent folder: the node queued it."""
        async with self.sessions[author[0]]() as session:
            found = await session.scalar(
                select(MailboxMessage.id)
                .join(User, User.id == MailboxMessage.user_id)
                .where(
                    User.username == self.account(author)["username"],
                    MailboxMessage.folder == SENT,
                    MailboxMessage.message_id == message_id,
                )
            )
        return found is not None
