"""The rules every submitted message passes, whether it came over SMTP or from the web mailbox.

Who may send (an app password, an active account), as whom (their own address or an alias the
admin gave them), to whom (addresses of the network's units only: no open relay), how much
(the size limit and a per-user rate), and then: accept, then queue. :meth:`MailGateway.submit`
stores the message and its queue row in one transaction and returns; the delivery worker does
the rest, so a crash after the client was told "250" loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.blobs import BlobStorage, StoredBlob
from config.durability import DurableCommits
from config.errors import CongvanError, Forbidden
from config.logging import get_logger
from config.refusals import Said
from config.settings import SmtpSettings
from exchange.envelope import Attachment
from exchange.ledger import ACCESS_KIND, FAILED_SIGN_IN_KIND, UsageLedger
from exchange.secrecy import SECRECY_NOT_ALLOWED, SecrecyPolicy
from keys.app_signin import AppSignIn, app_password_hashes, sign_in_with_app_password
from keys.throttle import ThrottlePolicy
from mailgw import refusals
from mailgw.accepting import Accepted, GroupCommit
from mailgw.addresses import AddressBook, Mailbox, normalise
from mailgw.mailbox import FiledMail, filed_row
from mailgw.models import SENT, QueuedMail
from mailgw.parsing import Summaries

log = get_logger("congvan.mailgw")

#: At most this many recipients in one message, as common submission servers allow.
MAX_RECIPIENTS = 100
#: A message travels to another node as one file of a ``mail`` dispatch.
MESSAGE_FILE = "message.eml"
RFC822 = "message/rfc822"


def as_dispatch_file(path: Path) -> Attachment:
    """The message at ``path`` as the file a ``mail`` dispatch carries."""
    return Attachment(MESSAGE_FILE, path, RFC822)


class MailRefused(CongvanError):
    """A message, a sender or a recipient the gateway will not take; ``reply`` is the SMTP
    answer (code, enhanced status and the reason) an SMTP client is given, the same in any
    language; the message is what the web mailbox shows, in the reader's."""

    http_status = 400

    def __init__(self, message: str | Said, *, code: str, reply: str) -> None:
        super().__init__(message, code=code)
        self.reply = reply


class RateLimiter:
    """At most ``per_minute`` messages per user in any sliding minute (per process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._sent: dict[str, deque[float]] = {}

    def take(self, username: str) -> bool:
        now = time.monotonic()
        recent = self._sent.setdefault(username, deque())
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return False
        recent.append(now)
        return True


class DeliversHere(Protocol):
    """The delivery worker of this process, while it runs (:mod:`mailgw.delivery`)."""

    @property
    def lease_seconds(self) -> float: ...

    def accepted(self, queued: dict[str, object]) -> None:
        """Take over ``queued``, a queue row committed and synced under a lease of its own."""


class MailGateway:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        blobs: BlobStorage,
        book: AddressBook,
        settings: SmtpSettings,
        durable: DurableCommits,
        ledger: UsageLedger | None = None,
        throttle: ThrottlePolicy | None = None,
        secrecy: SecrecyPolicy | None = None,
    ) -> None:
        self.sessions = sessions
        #: A queue id answered (SMTP 250) is a promise: it waits for the commit to be on disk.
        self.durable = durable
        #: Messages accepted at once share a transaction and a sync.
        self.group_commit = GroupCommit(sessions, durable)
        self.blobs = blobs
        self.book = book
        self.settings = settings
        self.ledger = ledger
        #: How often mail clients may try app passwords (the node's [web] lockout settings).
        self.throttle = throttle or ThrottlePolicy()
        self.rate = RateLimiter(settings.rate_per_minute)
        #: What may leave for another node's units (the exchange's seal checks it again).
        self.secrecy = secrecy
        #: Set when something was queued, so the delivery worker need not wait for its poll.
        self.queued = asyncio.Event()
        #: This process's delivery worker while it runs: what is accepted here is queued
        #: leased to it and handed over with the 250, so it starts at once rather than after
        #: a claim (a transaction, and SQLite's one writer shared with every other process).
        self.deliverer: DeliversHere | None = None
        #: What the sent folder showed of a message, which its recipients' inboxes show too.
        self.summaries = Summaries()

    async def mailbox(self, username: str) -> Mailbox | None:
        async with self.sessions() as session:
            return await self.book.mailbox(session, username)

    async def authenticate(
        self, username: str, secret: str, address: str | None
    ) -> AppSignIn[Mailbox]:
        """The mailbox of an active account for one of its app passwords, tried from the
        client's IP ``address``; throttled with IMAP's sign-ins (:mod:`keys.app_signin`)."""

        async def find(session: AsyncSession) -> tuple[Mailbox, list[str]] | None:
            mailbox = await self.book.mailbox(session, username) if username else None
            if mailbox is None:
                return None
            return mailbox, await app_password_hashes(session, username)

        result = await sign_in_with_app_password(
            self.sessions, username, secret, address, self.throttle, find, datetime.now(UTC)
        )
        if self.ledger is not None:
            if result.account is not None:
                account = result.account
                self.ledger.record(ACCESS_KIND, unit=account.unit, user=account.username)
            else:
                self.ledger.record(FAILED_SIGN_IN_KIND)
        return result

    def check_sender(self, mailbox: Mailbox, address: str) -> None:
        if not mailbox.may_send_as(address):
            raise MailRefused(
                refusals.NOT_YOUR_ADDRESS(address=address, username=mailbox.username),
                code="not-your-address",
                reply=f"550 5.7.1 Sender <{address}> is not an address of {mailbox.username}",
            )

    def check_rate(self, mailbox: Mailbox) -> None:
        if not self.rate.take(mailbox.username):
            raise MailRefused(
                refusals.RATE_LIMITED(limit=self.settings.rate_per_minute),
                code="rate-limited",
                reply=(
                    f"451 4.7.1 More than {self.settings.rate_per_minute} messages a minute: "
                    "try again later"
                ),
            )

    async def check_recipient(self, address: str) -> None:
        """A recipient the gateway takes: a user of one of our units, or any address of a unit
        another node hosts (that node checks the user when the dispatch arrives)."""
        unit = self.book.unit_of(address)
        if unit is None:
            raise MailRefused(
                refusals.RELAY_DENIED(address=address),
                code="relay-denied",
                reply=f"550 5.7.1 <{address}>: relay denied, not a unit of this network",
            )
        if self.book.is_local(unit):
            found = await self.book.local_recipient(self.sessions, address)
            if found is None:
                raise MailRefused(
                    refusals.UNKNOWN_RECIPIENT(address=address),
                    code="unknown-user",
                    reply=f"550 5.1.1 <{address}>: no such user here",
                )

    def check_size(self, size: int) -> None:
        limit = self.settings.max_message_bytes
        if size > limit:
            raise MailRefused(
                refusals.TOO_LARGE(size=size, limit=limit),
                code="too-large",
                reply=f"552 5.3.4 Message too big: the limit is {limit} bytes",
            )

    async def submit(
        self,
        mailbox: Mailbox,
        mail_from: str,
        recipients: Sequence[str],
        content: bytes,
        origin: str,
        trace: bytes = b"",
        recipients_checked: bool = False,
    ) -> str:
        """Check and queue one message; its copy goes to the sender's sent folder in the same
        transaction. Returns the queue id. ``trace`` (our Received: line) is stored in front
        of ``content`` but not counted against the size limit the client was told."""
        self.check_sender(mailbox, mail_from)
        wanted = list(dict.fromkeys(normalise(address) for address in recipients))
        if not wanted:
            raise MailRefused(
                refusals.NO_RECIPIENT(), code="no-recipient", reply="554 5.5.1 No recipients"
            )
        if len(wanted) > MAX_RECIPIENTS:
            raise MailRefused(
                refusals.TOO_MANY_RECIPIENTS(limit=MAX_RECIPIENTS),
                code="too-many-recipients",
                reply=f"452 4.5.3 At most {MAX_RECIPIENTS} recipients",
            )
        if not recipients_checked:  # the SMTP listener checked each at RCPT already
            for address in wanted:
                await self.check_recipient(address)
        self.check_size(len(content))
        blob, filed = await asyncio.get_running_loop().run_in_executor(
            None, self._store, trace + content
        )
        await self.check_secrecy(wanted, self.blobs.path(blob.sha256))
        queue_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        queued = queued_row(
            queue_id,
            blob,
            mail_from=normalise(mail_from),
            recipients=wanted,
            unit=mailbox.unit,
            origin=origin,
            submitted_by=mailbox.username,
        )
        deliverer = self.deliverer
        # Every row of a batch names the same columns (one INSERT for them all).
        queued.update(attempts=0, lease_until=None, created_at=now)
        if deliverer is not None:
            # Its first attempt, taken now: no other process claims it meanwhile, and one
            # that dies before delivering leaves it to be claimed when the lease runs out.
            queued.update(attempts=1, lease_until=now + timedelta(seconds=deliverer.lease_seconds))
        await self.group_commit.write(
            Accepted(queued=queued, filed=filed_row(mailbox.user_id, SENT, queue_id, filed, now))
        )
        if deliverer is not None:
            deliverer.accepted(queued)
        self.queued.set()
        if self.ledger is not None:
            self.ledger.record("mail-out", unit=mailbox.unit, user=mailbox.username, size=blob.size)
        log.info(
            "mail.accepted",
            queue_id=queue_id,
            user=mailbox.username,
            recipients=len(wanted),
            bytes=blob.size,
            origin=origin,
        )
        return queue_id

    async def check_secrecy(self, addresses: Sequence[str], message: Path) -> None:
        """A message for another node's units that carries a file of a document too secret
        for the network (2018 Law on Protection of State Secrets, Art. 5) is refused now, not
        bounced later: the exchange would refuse to seal it (:mod:`exchange.secrecy`)."""
        if self.secrecy is None:
            return
        remote = sorted(
            {
                unit.code
                for unit in map(self.book.unit_of, addresses)
                if unit is not None and not self.book.is_local(unit)
            }
        )
        try:
            await self.secrecy.check_release({}, (as_dispatch_file(message),), remote)
        except Forbidden as refusal:
            if refusal.code != SECRECY_NOT_ALLOWED:
                raise
            raise MailRefused(
                refusals.SECRET_ATTACHED(units=", ".join(remote)),
                code=SECRECY_NOT_ALLOWED,
                reply="550 5.7.1 A file of a secret document may not leave this node by mail",
            ) from refusal

    def _store(self, content: bytes) -> tuple[StoredBlob, FiledMail]:
        """The message on disk, and what the sent folder shows of it (blocking)."""
        blob = self.blobs.put_bytes(content)
        return blob, self.summaries.of(self.blobs.path(blob.sha256), blob.sha256, blob.size)

    async def enqueue(
        self,
        session: AsyncSession,
        queue_id: str,
        blob: StoredBlob,
        *,
        mail_from: str,
        recipients: Sequence[str],
        unit: str,
        origin: str,
        submitted_by: str = "",
    ) -> None:
        """Add a queue row in the caller's transaction; the caller wakes the worker (``queued``)
        once that transaction has committed."""
        await session.execute(
            insert(QueuedMail),
            [
                queued_row(
                    queue_id,
                    blob,
                    mail_from=mail_from,
                    recipients=recipients,
                    unit=unit,
                    origin=origin,
                    submitted_by=submitted_by,
                )
            ],
        )


def queued_row(
    queue_id: str,
    blob: StoredBlob,
    *,
    mail_from: str,
    recipients: Sequence[str],
    unit: str,
    origin: str,
    submitted_by: str,
) -> dict[str, object]:
    """A queue row, for a core INSERT (many at once)."""
    return {
        "id": queue_id,
        "blob_sha256": blob.sha256,
        "size": blob.size,
        "mail_from": mail_from,
        "recipients": json.dumps(list(recipients)),
        "submitted_by": submitted_by,
        "unit_code": unit,
        "origin": origin,
    }
