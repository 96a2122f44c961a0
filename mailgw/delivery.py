"""The delivery worker: takes queued mail and serves every recipient once.

A recipient of this node gets the message in their Maildir and their inbox; the recipients of
each other unit get it through one ``mail`` dispatch to that unit (signed, encrypted, retried
and receipted by the exchange); a recipient nobody has gets a bounce sent to the sender.

Each step is safe to repeat, because a worker may die between any two: the Maildir file and the
inbox row are keyed on the queue id, and a dispatch's id is derived from the queue id and the
unit, so a second attempt finds what the first one did. The job is claimed under a lease
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on both databases an UPDATE that takes only
what is still free), so two processes never work on it at once, and one
that dies leaves it to be claimed again when the lease runs out. A worker too slow for its lease
may find the job taken over when it is done: it then closes nothing and leaves the job to the
worker that holds it now.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert, or_, select, tuple_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import CongvanError, Forbidden
from config.logging import bind_request_id, get_logger
from exchange.envelope import Draft
from exchange.models import OutboundDispatch
from exchange.outbox import Outbox
from exchange.secrecy import SECRECY_NOT_ALLOWED
from mailgw import maildir
from mailgw.addresses import Mailbox, split
from mailgw.bounces import FailedRecipient, delivery_failure
from mailgw.gateway import MailGateway, as_dispatch_file
from mailgw.mailbox import FiledMail, file_message, filed_row, filed_users
from mailgw.models import DONE, FAILED, INBOX, QUEUED, MailboxMessage, QueuedMail

log = get_logger("congvan.mailgw.delivery")

#: The inbox rows of a batch go in by a core INSERT of the table, as accepted mail's do
#: (:mod:`mailgw.accepting`): the ORM's bulk path on the class cost more than the rows.
_FILED = cast(Table, MailboxMessage.__table__)

CLAIM_BATCH = 20
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
#: Dispatch ids of mail are derived from the queue id in this namespace.
MAIL_DISPATCH_NAMESPACE = uuid.UUID("6f2d3c55-1c36-4d2e-9a63-5a0f1f0b7c21")


@dataclass(frozen=True)
class Job:
    id: str
    blob_sha256: str
    size: int
    mail_from: str
    recipients: tuple[str, ...]
    unit: str
    attempts: int
    created_at: datetime
    #: The end of the lease this claim took; a later claim sets another, so it also tells
    #: whether the job is still this worker's.
    lease_until: datetime


@dataclass
class Routing:
    """Where each recipient of one message goes."""

    local: dict[int, Mailbox] = field(default_factory=dict)
    remote: dict[str, list[str]] = field(default_factory=dict)
    failed: list[FailedRecipient] = field(default_factory=list)


@dataclass(frozen=True)
class LocalPart:
    """A job's routing, and its local recipients served (their Maildir files written)."""

    routing: Routing
    local: list[Mailbox]
    filed: FiledMail | None


@dataclass(frozen=True)
class Served:
    """A job whose Maildirs and dispatches are done, its close still to write."""

    job: Job
    routing: Routing
    local: list[Mailbox]
    filed: FiledMail | None
    unknown: list[FailedRecipient]


def mail_dispatch_id(queue_id: str, unit: str) -> str:
    return str(uuid.uuid5(MAIL_DISPATCH_NAMESPACE, f"{queue_id}/{unit}"))


class MailDelivery:
    def __init__(
        self,
        gateway: MailGateway,
        maildir_root: Path,
        outbox: Outbox | None,
        *,
        poll_seconds: float,
        retry_max: int,
        lease_seconds: float,
    ) -> None:
        self.gateway = gateway
        self.sessions = gateway.sessions
        self.blobs = gateway.blobs
        self.book = gateway.book
        self.maildir_root = maildir_root
        self.outbox = outbox
        self.poll_seconds = poll_seconds
        self.retry_max = retry_max
        #: How long a claimed job is this worker's alone before another may take it up.
        self.lease_seconds = lease_seconds
        #: Jobs this process accepted, leased to this worker already (:meth:`accepted`).
        self._handed: list[Job] = []
        #: When (loop time) the queue is next looked at while handed jobs keep coming.
        self._claim_at = 0.0

    def accepted(self, queued: dict[str, object]) -> None:
        """A queue row this process committed, leased to this worker: delivered next,
        without a claim."""
        lease_until = queued["lease_until"]
        created_at = queued["created_at"]
        assert isinstance(lease_until, datetime) and isinstance(created_at, datetime)
        self._handed.append(
            Job(
                str(queued["id"]),
                str(queued["blob_sha256"]),
                int(str(queued["size"])),
                str(queued["mail_from"]),
                tuple(json.loads(str(queued["recipients"]))),
                str(queued["unit_code"]),
                1,
                created_at,
                lease_until,
            )
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver what is due, then wait for a submission or the next poll. While it runs,
        the gateway hands it what this process accepts (:attr:`MailGateway.deliverer`)."""
        bind_request_id()
        self.gateway.deliverer = self
        try:
            await self._run(stop)
        finally:
            self.gateway.deliverer = None
            if self._handed:  # a stopping node: the next start, or another process, has them
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await self._give_back([job.id for job in self._handed])
                self._handed.clear()

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                while not stop.is_set() and await self.deliver_due(stop):
                    pass
            except (SQLAlchemyError, OSError) as error:
                log.warning("mail.delivery_pass_failed", error=type(error).__name__)
            waiters = [
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(self.gateway.queued.wait()),
            ]
            await asyncio.wait(waiters, timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
            for waiter in waiters:
                waiter.cancel()
            # No pause to gather more: what arrives while a batch is delivered is the next
            # batch, and a lone message is in its Maildir at once.
            self.gateway.queued.clear()

    async def deliver_due(self, stop: asyncio.Event | None = None) -> int:
        """Deliver the jobs handed over by this process's gateway, and claim a batch of due
        jobs when none were (or a poll's time went by: retries and other processes' leftovers
        are not kept waiting by a steady stream); how many were taken.

        Once half the batch's lease has gone, or the node is stopping, the jobs not started
        are given back instead (their Maildir files may be written already: a later attempt
        finds them): one started later could outlive its lease, and another process would
        then take it up while this one still works on it (the Maildir, the inbox rows and the
        dispatch twice at once); a stopping node hands them at once to the next start or
        another process rather than making its operator wait."""
        loop = asyncio.get_running_loop()
        jobs, self._handed = self._handed[:CLAIM_BATCH], self._handed[CLAIM_BATCH:]
        if not jobs or loop.time() >= self._claim_at:
            self._claim_at = loop.time() + self.poll_seconds
            jobs += await self._claim()
        if not jobs:
            return 0
        # Half the shortest lease left: a handed job's lease began when it was accepted.
        shortest = min(job.lease_until for job in jobs) - datetime.now(UTC)
        give_back_at = loop.time() + shortest.total_seconds() - self.lease_seconds / 2
        # The batch's local recipients first, all at once: each Maildir file waits for its own
        # fsync, and a batch's files wait together (as a mail server's delivery agents do).
        # What fails here is done again, and fails, in its turn below.
        ahead = await asyncio.gather(
            *(self._local_part(job) for job in jobs), return_exceptions=True
        )
        served: list[Served] = []
        for index, job in enumerate(jobs):
            if loop.time() >= give_back_at or (stop is not None and stop.is_set()):
                await self._give_back([left.id for left in jobs[index:]])
                break
            local_part = ahead[index]
            try:
                done = await self._serve(
                    job, local_part if isinstance(local_part, LocalPart) else None
                )
            except Exception as error:
                # A message the parser chokes on (from another node, say) must not stop the
                # worker for everyone: it is retried, and bounced in the end, like any other.
                log.exception("mail.delivery_crashed", queue_id=job.id)
                await self._retry_later(job, error, job.recipients)
                continue
            if done is not None:
                served.append(done)
        if served:
            await self._close_served(served)
        return len(jobs)

    async def _claim(self) -> list[Job]:
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        QueuedMail.id,
                        QueuedMail.blob_sha256,
                        QueuedMail.size,
                        QueuedMail.mail_from,
                        QueuedMail.recipients,
                        QueuedMail.unit_code,
                        QueuedMail.attempts,
                        QueuedMail.created_at,
                    )
                    .where(
                        QueuedMail.state == QUEUED,
                        QueuedMail.next_attempt_at <= now,
                        or_(QueuedMail.lease_until.is_(None), QueuedMail.lease_until < now),
                    )
                    .order_by(QueuedMail.created_at)
                    .limit(CLAIM_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return []
            lease_until = now + timedelta(seconds=self.lease_seconds)
            # Taken only if still free: on SQLite the SELECT above locks nothing, and another
            # process of the node (``[smtp] processes``) may have taken some meanwhile.
            taken = set(
                await session.scalars(
                    update(QueuedMail)
                    .where(
                        QueuedMail.id.in_([row.id for row in rows]),
                        QueuedMail.state == QUEUED,
                        or_(QueuedMail.lease_until.is_(None), QueuedMail.lease_until < now),
                    )
                    .values(attempts=QueuedMail.attempts + 1, lease_until=lease_until)
                    .returning(QueuedMail.id)
                    .execution_options(synchronize_session=False)
                )
            )
            return [
                Job(
                    row.id,
                    row.blob_sha256,
                    row.size,
                    row.mail_from,
                    tuple(json.loads(row.recipients)),
                    row.unit_code,
                    row.attempts + 1,
                    row.created_at,
                    lease_until,
                )
                for row in rows
                if row.id in taken
            ]

    async def _give_back(self, queue_ids: list[str]) -> None:
        """Claimed jobs not started: claimable again at once, as if never claimed. Their
        lease has not run out, so nobody else can have claimed them meanwhile."""
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(QueuedMail)
                .where(QueuedMail.id.in_(queue_ids), QueuedMail.lease_until > now)
                .values(lease_until=None, attempts=QueuedMail.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    async def _route(self, recipients: Sequence[str]) -> Routing:
        routing = Routing()
        for address in recipients:
            mailbox = await self.book.local_recipient(self.sessions, address)
            unit = self.book.unit_of(address)
            if mailbox is not None:
                routing.local[mailbox.user_id] = mailbox
            elif unit is None:
                routing.failed.append(
                    FailedRecipient(address, "5.1.2", "550 5.1.2 not a unit of this network")
                )
            elif self.book.is_local(unit):
                routing.failed.append(
                    FailedRecipient(address, "5.1.1", "550 5.1.1 no such user here")
                )
            else:
                routing.remote.setdefault(unit.code, []).append(address)
        return routing

    async def _local_part(self, job: Job) -> LocalPart:
        """Where the recipients go, and the local ones' Maildir files written."""
        routing = await self._route(job.recipients)
        local = await self._not_yet_filed(job, list(routing.local.values()))
        filed = await self._to_maildirs(job, local) if local else None
        return LocalPart(routing, local, filed)

    async def _serve(self, job: Job, local_part: LocalPart | None = None) -> Served | None:
        """Local recipients' Maildirs first (they need nothing from the network), then one
        dispatch per other unit; the batch's inbox rows, bounces and closes are then written
        in one transaction (:meth:`_close_served`). Should a dispatch fail, the local
        recipients are filed anyway before the job waits for its retry (None), and a retry
        does not write their Maildirs again."""
        local: list[Mailbox] = []
        filed: FiledMail | None = None
        undelivered: list[str] = list(job.recipients)
        unknown: list[FailedRecipient] = []
        try:
            if local_part is None:
                local_part = await self._local_part(job)
            routing, local, filed = local_part.routing, local_part.local, local_part.filed
            unknown = routing.failed
            undelivered = [address for group in routing.remote.values() for address in group]
            for unit, addresses in routing.remote.items():
                try:
                    await self._send(job, unit, addresses)
                except Forbidden as refusal:
                    if refusal.code != SECRECY_NOT_ALLOWED:
                        raise
                    # Never: it carries a secret document's file (exchange.secrecy).
                    unknown.extend(secret_held(job, unit, addresses))
                undelivered = [address for address in undelivered if address not in addresses]
        except (CongvanError, SQLAlchemyError, OSError) as error:
            await self._retry_later(job, error, undelivered, unknown, local, filed)
            return None
        return Served(job, routing, local, filed, unknown)

    async def _close_served(self, served: Sequence[Served]) -> None:
        """One transaction for a batch: each job closed if it is still this worker's, with
        its inbox rows and its bounce. Should it fail, each job waits for its retry."""
        results: list[tuple[Served, bool, list[Mailbox]]] = []
        try:
            async with self.sessions() as session, session.begin():
                # The closes first (the transaction's first write, as in :meth:`_close`), one
                # statement for the batch; then the first attempts' inbox rows, one INSERT.
                closed = await _close_leased(session, [done.job for done in served])
                rows: list[dict[str, object]] = []
                now = datetime.now(UTC)
                for done in served:
                    fresh: list[Mailbox] = []
                    if done.job.id in closed:
                        if done.job.attempts == 1 and done.filed is not None:
                            # Nobody can have filed a first attempt before (see _file).
                            fresh = list(done.local)
                            rows.extend(
                                filed_row(mailbox.user_id, INBOX, done.job.id, done.filed, now)
                                for mailbox in fresh
                            )
                        else:
                            fresh = await self._file(session, done.job, done.local, done.filed)
                        if done.unknown:
                            await self._bounce(session, done.job, done.unknown)
                    results.append((done, done.job.id in closed, fresh))
                if rows:
                    await session.execute(insert(_FILED), rows)
        except (CongvanError, SQLAlchemyError, OSError) as error:
            for done in served:
                await self._retry_later(done.job, error, [], done.unknown, done.local, done.filed)
            return
        for done, owned, fresh in results:
            if not owned:
                log.warning("mail.lease_lost", queue_id=done.job.id)
                continue
            self._count(done.job, fresh)
            log.info(
                "mail.delivered",
                queue_id=done.job.id,
                local=len(done.routing.local),
                units=sorted(done.routing.remote),
                bounced=len(done.unknown),
            )

    async def _not_yet_filed(self, job: Job, mailboxes: list[Mailbox]) -> list[Mailbox]:
        """Those not served by an earlier attempt (whose Maildir copy the user may have moved
        or deleted since: it must not come back). A first attempt had none before it."""
        if not mailboxes or job.attempts == 1:
            return mailboxes
        async with self.sessions() as session:
            done = await filed_users(session, job.id, [mailbox.user_id for mailbox in mailboxes])
        return [mailbox for mailbox in mailboxes if mailbox.user_id not in done]

    async def _to_maildirs(self, job: Job, mailboxes: Sequence[Mailbox]) -> FiledMail:
        """Each user's Maildir (skipped where done already); what their inbox rows will say.
        One trip to a thread for all of it: each trip is a hand-over each way."""
        return await asyncio.get_running_loop().run_in_executor(
            None, self._write_maildirs, job, [mailbox.username for mailbox in mailboxes]
        )

    def _write_maildirs(self, job: Job, usernames: list[str]) -> FiledMail:
        source = self.blobs.path(job.blob_sha256)
        received = job.created_at.timestamp()
        for username in usernames:
            maildir.deliver(self.maildir_root, username, job.id, source, received)
        return self.gateway.summaries.of(source, job.blob_sha256, job.size)

    @staticmethod
    async def _file(
        session: AsyncSession, job: Job, mailboxes: Sequence[Mailbox], filed: FiledMail | None
    ) -> list[Mailbox]:
        """Inbox rows, in the caller's transaction (after the job's close found it still this
        worker's); those filed now (not by an earlier try). On a first attempt nobody can
        have filed it before: any other worker would have claimed it later, taking the lease
        this close found still there."""
        if filed is None:
            return []
        now = datetime.now(UTC)
        fresh = job.attempts == 1
        return [
            mailbox
            for mailbox in mailboxes
            if await file_message(session, mailbox.user_id, INBOX, job.id, filed, now, fresh=fresh)
        ]

    def _count(self, job: Job, delivered: Sequence[Mailbox]) -> None:
        if self.gateway.ledger is not None:
            for mailbox in delivered:
                self.gateway.ledger.record(
                    "mail-in", unit=mailbox.unit, user=mailbox.username, size=job.size
                )

    async def _send(self, job: Job, unit: str, addresses: list[str]) -> None:
        """One ``mail`` dispatch to ``unit``, once: a repeat finds it queued already."""
        if self.outbox is None:
            raise CongvanError("máy chủ này không nối mạng trao đổi", code="no-exchange")
        dispatch_id = mail_dispatch_id(job.id, unit)
        async with self.sessions() as session:
            if await session.get(OutboundDispatch, dispatch_id) is not None:
                return
        draft = Draft(
            recipients=(unit,),
            kind="mail",
            metadata={"mail_from": job.mail_from, "recipients": addresses},
            attachments=(as_dispatch_file(self.blobs.path(job.blob_sha256)),),
            id=dispatch_id,
        )
        await self.outbox.send(job.unit, draft)
        log.info("mail.dispatched", queue_id=job.id, dispatch_id=dispatch_id, to=unit)

    async def _bounce(
        self, session: AsyncSession, job: Job, failed: Sequence[FailedRecipient]
    ) -> None:
        """Queue a delivery status notification to the sender, in the caller's transaction.
        A bounce is never bounced: mail with an empty envelope sender is dropped."""
        if not job.mail_from:
            log.warning("mail.bounce_dropped", queue_id=job.id, recipients=len(failed))
            return
        _local, domain = split(failed[0].address)
        report = delivery_failure(
            self.blobs.path(job.blob_sha256),
            sender=job.mail_from,
            reporting_domain=domain or "localhost",
            failed=failed,
        )
        blob = await asyncio.get_running_loop().run_in_executor(None, self.blobs.put_bytes, report)
        await self.gateway.enqueue(
            session,
            str(uuid.uuid5(MAIL_DISPATCH_NAMESPACE, f"{job.id}/bounce")),
            blob,
            mail_from="",
            recipients=[job.mail_from],
            unit=job.unit,
            origin="bounce",
        )
        log.info("mail.bounced", queue_id=job.id, recipients=len(failed))

    @staticmethod
    async def _close(session: AsyncSession, job: Job, state: str, error: str) -> bool:
        """Close the job in the caller's transaction if it is still this worker's; the first
        write of that transaction, so a worker that lost the job writes nothing else."""
        return await _update_leased(
            session, job, state=state, lease_until=None, last_error=error[:2000]
        )

    async def _retry_later(
        self,
        job: Job,
        error: Exception,
        undelivered: Sequence[str],
        unknown: Sequence[FailedRecipient] = (),
        local: Sequence[Mailbox] = (),
        filed: FiledMail | None = None,
    ) -> None:
        """Try again later, or, past ``retry_max`` attempts, bounce what was not delivered
        (and the recipients nobody has, found on the way)."""
        reason = error.message if isinstance(error, CongvanError) else type(error).__name__
        fresh: list[Mailbox] = []
        given_up = job.attempts > self.retry_max
        delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (job.attempts - 1))
        try:
            async with self.sessions() as session, session.begin():
                if given_up:
                    owned = await self._close(session, job, FAILED, reason)
                else:
                    owned = await _update_leased(
                        session,
                        job,
                        lease_until=None,
                        last_error=reason[:2000],
                        next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
                    )
                if owned:
                    fresh = await self._file(session, job, local, filed)
                    if given_up:
                        await self._bounce_undelivered(session, job, reason, undelivered, unknown)
        except (SQLAlchemyError, OSError) as second:
            # The lease runs out and the job is taken up again: nothing is lost.
            log.warning("mail.retry_not_recorded", queue_id=job.id, error=type(second).__name__)
            return
        if not owned:
            log.warning("mail.lease_lost", queue_id=job.id)
            return
        self._count(job, fresh)
        if given_up:
            log.warning("mail.failed", queue_id=job.id, reason=reason)
        else:
            log.warning("mail.retry_later", queue_id=job.id, attempts=job.attempts, reason=reason)

    async def _bounce_undelivered(
        self,
        session: AsyncSession,
        job: Job,
        reason: str,
        undelivered: Sequence[str],
        unknown: Sequence[FailedRecipient],
    ) -> None:
        failed = [
            *unknown,
            *(
                FailedRecipient(address, "4.4.7", f"451 4.4.7 not delivered: {reason}")
                for address in undelivered
            ),
        ]
        if failed:
            await self._bounce(session, job, failed)


def secret_held(job: Job, unit: str, addresses: Sequence[str]) -> list[FailedRecipient]:
    """The recipients of ``unit`` a message may never reach: it carries a file of a document
    too secret for the network. Bounced at once, not retried."""
    log.warning("mail.secret_not_sent", queue_id=job.id, unit=unit, recipients=len(addresses))
    return [
        FailedRecipient(
            address,
            "5.7.1",
            "550 5.7.1 a file of a secret document may not leave this node by mail; "
            "send it on paper",
        )
        for address in addresses
    ]


async def _close_leased(session: AsyncSession, jobs: Sequence[Job]) -> set[str]:
    """Close as done those of ``jobs`` still under the lease each was taken with (as
    :func:`_update_leased` does one), in one statement: jobs handed over by the gateway each
    have a lease of their own, and a statement a lease was one a job. The ids closed."""
    return set(
        await session.scalars(
            update(QueuedMail)
            .where(
                tuple_(QueuedMail.id, QueuedMail.lease_until).in_(
                    [(job.id, job.lease_until) for job in jobs]
                ),
                QueuedMail.state == QUEUED,
            )
            .values(state=DONE, lease_until=None, last_error="")
            .returning(QueuedMail.id)
            .execution_options(synchronize_session=False)
        )
    )


async def _update_leased(session: AsyncSession, job: Job, **values: object) -> bool:
    """Change the job's row only while its lease is still the one ``job`` was claimed with:
    one another worker took over after this one's lease ran out is that worker's to change.
    A lease that ran out but nobody took over is still this worker's: nobody else has started.
    On PostgreSQL the update locks the row, so a claim waits for (or skips) it."""
    result = await session.execute(
        update(QueuedMail)
        .where(
            QueuedMail.id == job.id,
            QueuedMail.state == QUEUED,
            QueuedMail.lease_until == job.lease_until,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
