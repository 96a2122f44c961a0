"""Sending dispatches: seal once, deliver to every destination node, retry until it arrives.

A dispatch is addressed to units; the signed directory says which node hosts each. There is
one :class:`~exchange.models.Delivery` per destination node, and each node has its own worker
task, so a dead peer delays no other. Work is claimed in the database (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL) with a lease, so a restart or a second process neither loses nor
repeats a delivery; the receiver's duplicate handling makes a repeated attempt harmless anyway.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
from cryptography import x509
from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
)

from config.errors import Invalid, NotFound, PeerRefused
from config.files import refused_when_full
from config.logging import bind_request_id, get_logger
from config.settings import ExchangeSettings
from exchange import evidence
from exchange.envelope import Draft, Header, Sender, seal
from exchange.ledger import UsageLedger
from exchange.models import Delivery, OutboundDispatch
from exchange.payload_versions import AnnouncedVersions, sealing_version
from exchange.peer_client import PeerClient, peer_timeout
from exchange.receipt_group import Decision, ReceiptGroup
from exchange.receipts import ACCEPTED, check_receipt
from exchange.secrecy import SecrecyPolicy
from keys.keyring import Keyring
from keys.signed_directory import SignedDirectory
from keys.trust import TrustStore

log = get_logger("congvan.exchange.outbox")

QUEUED, SENDING, AWAITING, DELIVERED, REFUSED, RETRY_WAIT, FAILED = (
    "queued",
    "sending",
    "awaiting-receipt",
    "delivered",
    "refused",
    "retry-wait",
    "failed",
)
#: A delivery in one of these states has its receiver's receipt: nothing changes it again.
DECIDED = (DELIVERED, REFUSED)
#: Refusals that say "not now" rather than "never": the delivery is tried again.
TRANSIENT_CODES = {
    "wrong-offset",
    "busy",
    "incomplete",
    "interrupted",
    "too-many-offers",
    "stale-crl",
    "stale-directory",
    "internal",
    "disk-full",
}
CLAIM_BATCH = 20
#: The tables, for core statements: a dispatch and its deliveries are stored without an ORM
#: unit of work to build and flush (the hub stores ten a second for its communes).
_DISPATCHES = cast(Table, OutboundDispatch.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
#: A dispatch being sealed, beside the spool folder it will be moved to once queued.
SEALING_SUFFIX = ".sealing"
#: How many deliveries held at the hub one question about their receipts covers.
RECEIPT_BATCH = 200
STOP_GRACE_SECONDS = 10
#: How long a good check of our own unit's signing certificate is taken as still good: a
#: revocation (or an expiry, or a stale CRL) stops sending within this time.
SIGNER_CHECK_SECONDS = 60.0


@dataclass(frozen=True)
class DeliveryView:
    node: str
    units: list[str]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    receipt: dict[str, Any] | None
    via: str | None


@dataclass(frozen=True)
class Sent:
    """What closing a delivery needs from its dispatch's row; it never changes once sealed."""

    payload_sha256: str
    sender: str
    size: int
    origin_node: str | None


#: The columns of :class:`Sent`, read with the deliveries they belong to.
SENT_COLUMNS = (
    OutboundDispatch.payload_sha256,
    OutboundDispatch.sender,
    OutboundDispatch.size,
    OutboundDispatch.origin_node,
)


@dataclass(frozen=True)
class Claimed:
    dispatch_id: str
    units: list[str]
    attempts: int
    sent: Sent
    #: What it is about: the dispatch it refers to (a status, a recall), else itself.
    about: str


def backoff(settings: ExchangeSettings, attempts: int, rng: random.Random) -> timedelta:
    """Exponential back-off with jitter: base·2^(n-1), capped, times a random 0.5-1."""
    ceiling = min(settings.retry_cap_seconds, settings.retry_base_seconds * 2 ** (attempts - 1))
    return timedelta(seconds=ceiling * rng.uniform(0.5, 1.0))


class Outbox:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        keyring: Keyring,
        directory: SignedDirectory,
        trust: TrustStore,
        spool: Path,
        settings: ExchangeSettings,
        client_context: ssl.SSLContext,
        secrecy: SecrecyPolicy,
        ledger: UsageLedger | None = None,
    ) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.directory = directory
        self.trust = trust
        self.spool = spool
        self.settings = settings
        self.client_context = client_context
        #: What may leave for another node: checked on every dispatch before it is sealed.
        self.secrecy = secrecy
        self.ledger = ledger
        #: Receipts that come back together close their deliveries in one transaction.
        self.receipts = ReceiptGroup(sessions, DECIDED)
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        self._clock = time.monotonic
        #: unit -> the signing certificate last found good, and until when that holds.
        self._signer_good: dict[str, tuple[x509.Certificate, float]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        #: The payload version each peer said it reads, heard in its answers to our offers.
        self.announced = AnnouncedVersions(sessions)

    def folder(self, dispatch_id: str) -> Path:
        return self.spool / dispatch_id

    # -- sending ------------------------------------------------------------------------------

    def _sender(self, unit: str) -> Sender:
        keys = self.keyring.unit(unit)
        return Sender(
            node=self.keyring.node_name,
            node_key=self.keyring.node_key,
            unit=unit,
            signing_key=keys.signing_key,
            signing_certificate=keys.signing_certificate,
            chain=(self.keyring.ca_certificate,),
        )

    def network_units(self, routes: dict[str, list[str]]) -> list[str]:
        """The addressed units another node hosts: those a dispatch reaches over the network."""
        return [
            unit
            for node, units in routes.items()
            if node != self.keyring.node_name
            for unit in units
        ]

    def units_on_network(self, recipients: Iterable[str]) -> list[str]:
        """Of ``recipients``, those another node hosts, from the signed directory; a unit it
        cannot place (unknown, or the directory is stale) counts as on the network."""
        found = []
        for unit in recipients:
            try:
                node: str | None = self.directory.unit(unit).node
            except (NotFound, PeerRefused):
                node = None
            if node != self.keyring.node_name:
                found.append(unit)
        return found

    def _routes(self, recipients: Iterable[str]) -> dict[str, list[str]]:
        """Destination node -> the addressed units it hosts, from the signed directory."""
        routes: dict[str, list[str]] = {}
        for unit in recipients:
            routes.setdefault(self.directory.unit(unit).node, []).append(unit)
        return routes

    async def send(self, sender_unit: str, draft: Draft) -> Header:
        """Seal ``draft`` and queue it for every destination node, in one transaction.

        The one place a dispatch is sealed for another node, so the place nothing too secret
        for the network gets past (:meth:`SecrecyPolicy.check_release`), whatever made it."""
        if sender_unit not in self.keyring.units:
            raise Invalid(f"đơn vị {sender_unit} không thuộc nút này", code="not-hosted")
        routes = self._routes(draft.recipients)
        await self.secrecy.check_release(
            draft.metadata, draft.attachments, self.network_units(routes)
        )
        certificates = {
            unit: self.directory.unit(unit).certificate("encryption") for unit in draft.recipients
        }
        sender = self._sender(sender_unit)
        self._check_signer(sender)
        async with self.sessions() as session:
            version = await sealing_version(
                session, [node for node in routes if node != self.keyring.node_name]
            )
        loop = asyncio.get_running_loop()
        # Sealed aside, moved into place under the dispatch's row: two processes sending one
        # derived id (a unit's monthly report) never write into the folder being delivered.
        sealing = self.spool / f"{draft.id}.{uuid.uuid4().hex}{SEALING_SUFFIX}"
        try:
            with refused_when_full():
                header = await loop.run_in_executor(
                    None, seal, draft, sender, certificates, sealing, version
                )
            async with self.sessions() as session, session.begin():
                # The second sender of an id waits here for the first to commit, then fails.
                await queue_deliveries(session, header, routes)
                await evidence.append(
                    session,
                    "sent",
                    header.id,
                    {
                        "from": header.sender,
                        "to": list(header.recipients),
                        "sha256": header.payload_sha256,
                    },
                )
                await loop.run_in_executor(None, _into_place, sealing, self.folder(draft.id))
        finally:
            if sealing.exists():
                await loop.run_in_executor(None, shutil.rmtree, sealing, True)
        log.info("dispatch.queued", dispatch_id=header.id, nodes=sorted(routes), bytes=header.size)
        return header

    def remove_abandoned_seals(self, older_than_seconds: float) -> int:
        """Remove what a process that died mid-send left beside the spool: a folder
        ``<id>.<random>.sealing``, maybe a whole sealed dispatch whose row was never committed
        (its mail job, or its clerk, sends it again under another folder). A seal takes
        seconds, so one untouched for ``older_than_seconds`` is nobody's. Blocking: run it in
        an executor. The answer is how many went."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for folder in self.spool.glob(f"*{SEALING_SUFFIX}"):
            try:
                if folder.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue  # moved into place or removed meanwhile
            shutil.rmtree(folder, ignore_errors=True)
            log.info("dispatch.seal_removed", folder=folder.name)
            removed += 1
        return removed

    def _check_signer(self, sender: Sender) -> None:
        """Our unit's signing certificate is usable: told now, not by every receiver's refusal
        later. A good answer is kept for ``SIGNER_CHECK_SECONDS`` (never past the certificate's
        end), not asked again for every dispatch; a refusal is never kept."""
        now = self._clock()
        good = self._signer_good.get(sender.unit)
        if good is not None and good[0] == sender.signing_certificate and now < good[1]:
            return
        self._signer_good.pop(sender.unit, None)
        certificate = sender.signing_certificate
        try:
            self.trust.check_unit_signer(certificate, sender.unit, list(sender.chain))
        except PeerRefused as refusal:
            raise Invalid(
                f"chứng thư ký của {sender.unit} không dùng được ({refusal.code}): "
                f"{refusal.message}",
                code=refusal.code,
            ) from refusal
        left = (certificate.not_valid_after_utc - datetime.now(UTC)).total_seconds()
        self._signer_good[sender.unit] = (certificate, now + min(SIGNER_CHECK_SECONDS, left))

    # -- the worker ---------------------------------------------------------------------------

    def _due(self, now: datetime) -> Any:
        return or_(
            Delivery.state.in_((QUEUED, RETRY_WAIT)) & (Delivery.next_attempt_at <= now),
            (Delivery.state == SENDING) & (Delivery.lease_until < now),
        )

    async def _nodes_with_work(self) -> list[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Delivery.node).where(self._due(datetime.now(UTC))).distinct()
            )
            return [node for node in rows if node not in self._workers and self._pushes_to(node)]

    def _pushes_to(self, node: str) -> bool:
        """The hub does not push to a pull node: that node fetches what waits for it."""
        try:
            if self.directory.hub_name() != self.keyring.node_name:
                return True
            return not self.directory.node(node).pull
        except (NotFound, PeerRefused):
            return True  # the worker records why it cannot deliver

    async def _claim(self, node: str) -> list[Claimed]:
        """Take due deliveries for ``node``, most urgent first, under a lease; with each, what
        closing it will need from its dispatch, so the receipt costs no second read."""
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(Delivery, *SENT_COLUMNS, OutboundDispatch.ref)
                    .join(OutboundDispatch, OutboundDispatch.id == Delivery.dispatch_id)
                    .where(Delivery.node == node, self._due(now))
                    .order_by(Delivery.urgency.desc(), Delivery.created_at)
                    .limit(CLAIM_BATCH)
                    .with_for_update(skip_locked=True, of=Delivery)
                )
            ).all()
            claimed = []
            for row, payload_sha256, sender, size, origin_node, ref in rows:
                row.state = SENDING
                row.attempts += 1
                row.lease_until = now + timedelta(seconds=self.settings.lease_seconds)
                sent = Sent(payload_sha256, sender, size, origin_node)
                claimed.append(
                    Claimed(
                        row.dispatch_id,
                        json.loads(row.units),
                        row.attempts,
                        sent,
                        ref or row.dispatch_id,
                    )
                )
            return claimed

    async def deliver_due(self) -> None:
        """Start a worker for every node that has due deliveries and none running."""
        for node in await self._nodes_with_work():
            task = asyncio.create_task(self._work_for(node), name=f"deliver:{node}")
            self._workers[node] = task
            task.add_done_callback(self._forget_worker)

    def _forget_worker(self, task: asyncio.Task[None]) -> None:
        node = task.get_name().removeprefix("deliver:")
        if self._workers.get(node) is task:
            del self._workers[node]

    async def drain(self) -> None:
        """Wait for the running workers (tests and shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Start workers every ``poll_seconds``. On stop, each worker finishes the delivery in
        hand and gives back the rest of its batch; one still busy after ``STOP_GRACE_SECONDS``
        is cancelled, and its lease lets another process take the delivery over."""
        self._stop = stop
        while not stop.is_set():
            await self.deliver_due()
            await self.collect_receipts()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_seconds)
            except TimeoutError:
                continue
        workers = list(self._workers.values())
        if workers:
            _done, late = await asyncio.wait(workers, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        # A cancelled worker's receipt may still be in a group being recorded: it ends first.
        await self.receipts.settled()

    async def _work_for(self, node: str) -> None:
        bind_request_id()
        timeout = peer_timeout(self.settings.send_timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while claimed := await self._claim(node):
                # Every lease of the batch is renewed until its delivery is tried: the last of
                # a batch of quick deliveries waits, in all, longer than one lease.
                held = [d.dispatch_id for d in claimed]
                async with self._leases_kept(node, held):
                    await self._attempt_window(http, claimed, held, node)
                if self._stop.is_set():
                    if held:
                        await self._give_back(held, node)
                    return

    async def _attempt_window(
        self, http: aiohttp.ClientSession, claimed: list[Claimed], held: list[str], node: str
    ) -> None:
        """Try the batch ``[exchange] window`` deliveries at a time, in the batch's order (the
        most urgent first: waiters on a semaphore start in turn); each tried one leaves
        ``held``. Those about one document (it, then its statuses and recall) go one after
        the other, so they arrive in the order they were sent: a clerk's "registered" then
        "assigned" in the same second must not swap. On stop, those not started stay in
        ``held`` for the caller to give back."""
        window = asyncio.Semaphore(self.settings.window)
        in_order: dict[str, list[Claimed]] = {}
        for delivery in claimed:
            in_order.setdefault(delivery.about, []).append(delivery)

        async def one_after_another(deliveries: list[Claimed]) -> None:
            for delivery in deliveries:
                async with window:
                    if self._stop.is_set():
                        return
                    await self._attempt(http, delivery, node)
                    held.remove(delivery.dispatch_id)

        await asyncio.gather(*(one_after_another(chain) for chain in in_order.values()))

    async def _attempt(self, http: aiohttp.ClientSession, delivery: Claimed, node: str) -> None:
        """One claimed delivery, straight to ``node`` or handed to the hub."""
        try:
            hub = self._through_hub(node, delivery.attempts)
            client = PeerClient(
                http, self.directory.node(hub or node).peer_url, self.client_context
            )
        except (NotFound, PeerRefused) as error:
            await self._retry_later(delivery.dispatch_id, node, error.message)
            return
        if hub is None:
            await self._deliver_one(client, delivery, node)
        else:
            await self._relay_one(client, delivery.dispatch_id, node, hub)

    @asynccontextmanager
    async def _leases_kept(self, node: str, dispatch_ids: list[str]) -> AsyncIterator[None]:
        """Renew the leases of the batch in hand, every third of a lease, while the worker
        goes through it (one big payload on a slow link, or many quick ones), so no other
        process takes over a delivery this worker still holds. ``dispatch_ids`` is the
        caller's list of those not tried yet: it shrinks as the worker goes."""
        done = asyncio.Event()
        renewer = asyncio.create_task(self._renew_leases(node, dispatch_ids, done))
        try:
            yield
        finally:
            done.set()
            await renewer

    async def _renew_leases(self, node: str, dispatch_ids: list[str], done: asyncio.Event) -> None:
        lease = timedelta(seconds=self.settings.lease_seconds)
        while True:
            try:
                await asyncio.wait_for(done.wait(), timeout=lease.total_seconds() / 3)
            except TimeoutError:
                pass
            else:
                return
            if not dispatch_ids:
                continue
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.node == node,
                        Delivery.dispatch_id.in_(list(dispatch_ids)),
                        Delivery.state == SENDING,
                    )
                    .values(lease_until=datetime.now(UTC) + lease)
                )

    def _through_hub(self, node: str, attempts: int) -> str | None:
        """The hub, when this attempt goes through it: always for a pull node, and after
        ``relay_after_attempts`` direct attempts for one that does not answer."""
        hub = self.directory.hub_name()
        if hub is None or hub in (node, self.keyring.node_name):
            return None
        if self.directory.node(node).pull or attempts > self.settings.relay_after_attempts:
            return hub
        return None

    async def _give_back(self, dispatch_ids: list[str], node: str) -> None:
        """Return claimed but untried deliveries to the queue, as if never claimed."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Delivery)
                .where(
                    Delivery.dispatch_id.in_(dispatch_ids),
                    Delivery.node == node,
                    Delivery.state == SENDING,
                )
                .values(state=QUEUED, lease_until=None, attempts=Delivery.attempts - 1)
            )

    async def _deliver_one(self, client: PeerClient, delivery: Claimed, node: str) -> None:
        dispatch_id = delivery.dispatch_id
        try:
            try:
                receipt = await client.deliver(self.folder(dispatch_id))
            finally:
                if client.payload_version is not None:
                    await self.announced.heard(node, client.payload_version)
        except PeerRefused as refusal:
            if refusal.code in TRANSIENT_CODES or refusal.answer is None:
                await self._retry_later(dispatch_id, node, f"{refusal.code}: {refusal.message}")
                return
            receipt = refusal.answer
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            await self._retry_later(dispatch_id, node, f"{type(error).__name__}: {error}")
            return
        try:
            await self.close_with_receipt(dispatch_id, node, delivery.units, receipt, delivery.sent)
        except PeerRefused as bad:
            await self._retry_later(dispatch_id, node, f"receipt not valid: {bad.message}")

    async def _relay_one(self, hub: PeerClient, dispatch_id: str, node: str, hub_name: str) -> None:
        """Hand the dispatch to the hub; its receipt is collected from there later."""
        try:
            await hub.relay(self.folder(dispatch_id), node)
        except PeerRefused as refusal:
            await self._retry_later(dispatch_id, node, f"hub: {refusal.code}: {refusal.message}")
            return
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            await self._retry_later(dispatch_id, node, f"hub: {type(error).__name__}: {error}")
            return
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Delivery)
                .where(Delivery.dispatch_id == dispatch_id, Delivery.node == node)
                .values(
                    state=AWAITING,
                    via=hub_name,
                    lease_until=None,
                    next_attempt_at=self._next_receipt_check(),
                )
            )
            await evidence.append(
                session, "handed-to-hub", dispatch_id, {"node": node, "hub": hub_name}
            )
        log.info("dispatch.handed_to_hub", dispatch_id=dispatch_id, node=node, hub=hub_name)

    def _next_receipt_check(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.settings.receipt_poll_seconds)

    async def collect_receipts(self) -> int:
        """Ask the hub about deliveries it holds for us; close those it has a receipt for.
        Each delivery is asked about every ``receipt_poll_seconds``; the rows asked about
        are claimed like any work, so two processes do not both ask."""
        try:
            hub = self.directory.hub_name()
        except PeerRefused:
            return 0  # a stale directory: nothing moves until it is fresh again
        if hub is None or hub == self.keyring.node_name:
            return 0
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(Delivery, *SENT_COLUMNS)
                    .join(OutboundDispatch, OutboundDispatch.id == Delivery.dispatch_id)
                    .where(Delivery.state == AWAITING, Delivery.next_attempt_at <= now)
                    .limit(RECEIPT_BATCH)
                    .with_for_update(skip_locked=True, of=Delivery)
                )
            ).all()
            asked: dict[tuple[str, str], tuple[list[str], Sent]] = {}
            for row, payload_sha256, sender, size, origin_node in rows:
                row.next_attempt_at = self._next_receipt_check()
                sent = Sent(payload_sha256, sender, size, origin_node)
                asked[(row.dispatch_id, row.node)] = (json.loads(row.units), sent)
        if not asked:
            return 0
        timeout = peer_timeout(self.settings.send_timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                client = PeerClient(http, self.directory.node(hub).peer_url, self.client_context)
                answers = await client.relay_receipts(list(asked))
        except (aiohttp.ClientError, TimeoutError, OSError, PeerRefused, NotFound) as error:
            log.warning("relay.receipts_unavailable", hub=hub, error=str(error)[:200])
            return 0
        closed = 0
        for answer in answers:
            key = (str(answer.get("id")), str(answer.get("node")))
            if key not in asked:
                continue
            closed += await self._settle_relayed(key, *asked[key], answer)
        return closed

    async def _settle_relayed(
        self, key: tuple[str, str], units: list[str], sent: Sent, answer: dict[str, Any]
    ) -> int:
        dispatch_id, node = key
        receipt = answer.get("receipt")
        if isinstance(receipt, dict):
            try:
                await self.close_with_receipt(dispatch_id, node, units, receipt, sent)
            except PeerRefused as bad:
                await self._retry_later(dispatch_id, node, f"receipt not valid: {bad.message}")
                return 0
            return 1
        if answer.get("state") in {FAILED, "unknown"}:
            # The hub gave up or lost it: count an attempt and hand it over again later.
            await self._retry_later(dispatch_id, node, f"hub: {answer.get('state')}")
        return 0

    async def close_with_receipt(
        self,
        dispatch_id: str,
        node: str,
        units: list[str],
        receipt: dict[str, Any],
        sent: Sent | None = None,
    ) -> str:
        """Close a delivery with the receiver's receipt, once it is shown to be genuine:
        delivered or refused. The answer is the delivery's new state. ``sent``: the
        dispatch's row as the claim read it; without it, it is read here."""
        if sent is None:
            sent = await self.sent(dispatch_id)
            if sent is None:
                raise _not_this_delivery()
        body = self._receipt_closes(receipt, dispatch_id, node, units, sent)
        state = DELIVERED if body["status"] == ACCEPTED else REFUSED
        await self._decide(dispatch_id, node, state, receipt, body.get("code"), sent)
        return state

    async def sent(self, dispatch_id: str) -> Sent | None:
        """What closing a delivery needs of a dispatch this node sends; None for no such."""
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(*SENT_COLUMNS).where(OutboundDispatch.id == dispatch_id)
                )
            ).one_or_none()
        return None if row is None else Sent(*row)

    def _receipt_closes(
        self,
        receipt: dict[str, Any],
        dispatch_id: str,
        node: str,
        units: list[str],
        sent: Sent,
    ) -> dict[str, Any]:
        """The receipt is signed by one of this delivery's units (or its node), under our CA,
        and names this dispatch and the payload we sent: an old or borrowed receipt is not.
        Its signer is a peer, whose software may be broken: a list where a name belongs, or an
        object for a refusal code, is refused too."""
        signer_certificate = check_receipt(receipt)
        body: dict[str, Any] = receipt["body"]  # a dict: check_receipt saw to it
        signer, code = body.get("signer"), body.get("code")
        if (
            body.get("dispatch_id") != dispatch_id
            or body.get("payload_sha256") != sent.payload_sha256
            or body.get("node") != node
            or not isinstance(signer, str)
            or signer not in {*units, node}
            or body.get("status") not in (ACCEPTED, "refused")  # a tuple: a list is unhashable
            or not (code is None or isinstance(code, str))
        ):
            raise _not_this_delivery()
        self.trust.check(signer_certificate, owner=signer)
        return body

    async def _decide(
        self,
        dispatch_id: str,
        node: str,
        state: str,
        receipt: dict[str, Any],
        code: str | None,
        sent: Sent,
    ) -> None:
        decision = Decision(dispatch_id, node, state, receipt, code)
        if not await self.receipts.close(decision):
            return  # decided already (the same receipt, by another process's attempt)
        relayed = sent.origin_node is not None
        if state == DELIVERED and not relayed and self.ledger is not None:
            self.ledger.record("dispatch-out", unit=sent.sender, size=sent.size)
        log.info(
            "dispatch.delivered" if state == DELIVERED else "dispatch.refused_by_peer",
            dispatch_id=dispatch_id,
            node=node,
            code=code,
        )

    async def _retry_later(self, dispatch_id: str, node: str, error: str) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(Delivery, (dispatch_id, node), with_for_update=True)
            if row is None or row.state in DECIDED:
                return  # a late failure must not reopen what another attempt closed
            row.last_error = error[:500]
            row.lease_until = None
            if row.attempts >= self.settings.retry_max:
                row.state = FAILED
                row.decided_at = datetime.now(UTC)
            else:
                row.state = RETRY_WAIT
                row.next_attempt_at = datetime.now(UTC) + backoff(
                    self.settings, row.attempts, self._rng
                )
        log.warning(
            "dispatch.retry" if row.state == RETRY_WAIT else "dispatch.failed",
            dispatch_id=dispatch_id,
            node=node,
            attempts=row.attempts,
            error=error[:200],
        )

    # -- the admin's view ---------------------------------------------------------------------

    async def retry(self, dispatch_id: str) -> int:
        """Queue failed deliveries of a dispatch again, from a fresh attempt count."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(Delivery)
                .where(Delivery.dispatch_id == dispatch_id, Delivery.state == FAILED)
                .values(state=QUEUED, attempts=0, next_attempt_at=datetime.now(UTC))
            )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _into_place(sealed: Path, folder: Path) -> None:
    """Move a sealed dispatch to its folder, inside the transaction that inserts its row. A
    folder already there was left by a send whose transaction failed after this step: no
    row names it (this one's insert would have failed), so it goes."""
    if folder.exists():
        shutil.rmtree(folder)
    sealed.replace(folder)


def _not_this_delivery() -> PeerRefused:
    return PeerRefused("biên nhận không khớp với lần gửi này", code="bad-receipt")


async def queue_deliveries(
    connection: AsyncSession | AsyncConnection,
    header: Header,
    routes: dict[str, list[str]],
    origin_node: str | None = None,
) -> None:
    """The dispatch's row and one queued delivery per destination node (node -> its
    addressed units). ``origin_node``: the node that sealed it, when the hub carries it."""
    await connection.execute(
        insert(_DISPATCHES),
        {
            "id": header.id,
            "sender": header.sender,
            "recipients": json.dumps(list(header.recipients)),
            "kind": header.kind,
            "urgency": header.urgency,
            "size": header.size,
            "payload_sha256": header.payload_sha256,
            "ref": header.ref,
            "origin_node": origin_node,
        },
    )
    for node, units in routes.items():
        await add_delivery(connection, header, node, units)


async def add_delivery(
    connection: AsyncSession | AsyncConnection, header: Header, node: str, units: list[str]
) -> None:
    await connection.execute(
        insert(_DELIVERIES),
        {
            "dispatch_id": header.id,
            "node": node,
            "units": json.dumps(units),
            "urgency": header.urgency,
            "state": QUEUED,
            "attempts": 0,
        },
    )


async def deliveries_of(session: AsyncSession, dispatch_id: str) -> list[DeliveryView]:
    rows = await session.scalars(
        select(Delivery).where(Delivery.dispatch_id == dispatch_id).order_by(Delivery.node)
    )
    return [
        DeliveryView(
            node=row.node,
            units=json.loads(row.units),
            state=row.state,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            receipt=json.loads(row.receipt) if row.receipt else None,
            via=row.via,
        )
        for row in rows
    ]
