"""The hub's store-and-forward desk.

A node that cannot reach a peer (or whose addressee is a ``pull`` node, often offline) hands
the dispatch to the hub instead. The hub checks what it can without reading anything (the
sending node's signature on the header, that the node hosts the sending unit, the size and
the ciphertext's digest), stores the ciphertext, and forwards it with its own outbox, or keeps
it until the pull node fetches it. The receiver's signed receipt comes back to the hub, where
the sender collects it. The hub cannot read what it carries: the payload is encrypted to the
addressed units only, and it never holds their keys.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.database import UTCDateTime
from config.errors import Conflict, NotFound, PeerRefused
from config.files import refused_when_full
from config.logging import get_logger
from exchange import evidence, spool_lock
from exchange.admission import check_origin
from exchange.envelope import (
    HEADER_FILE,
    HEADER_SIGNATURE_FILE,
    PAYLOAD_FILE,
    Header,
    check_payload,
)
from exchange.models import Delivery, OutboundDispatch
from exchange.outbox import (
    FAILED,
    QUEUED,
    RETRY_WAIT,
    SENDING,
    SENT_COLUMNS,
    Outbox,
    Sent,
    add_delivery,
    queue_deliveries,
)
from exchange.peer_client import INLINE_BYTES, b64_of_file
from exchange.pull_wait import PullWaiters
from exchange.refusals import store_refusal
from keys.signed_directory import SignedDirectory
from keys.trust import TrustStore

log = get_logger("congvan.exchange.relay")

HELD = "held"
#: How many waiting dispatches one pull answer lists; the pull node asks again for more.
WAITING_BATCH = 50
#: Payloads of at most ``INLINE_BYTES`` travel in the listing itself, up to this many bytes in
#: one answer, as a small one travels in its offer: the pull node takes them without asking
#: for each (a request fewer per dispatch for the hub, a round trip fewer for the commune).
LISTED_PAYLOAD_BYTES = 1024 * 1024

#: A delivery waits at the hub for its pull node: queued, or taken by a worker that died.
_WAITING_AT_HUB = Delivery.state.in_((QUEUED, RETRY_WAIT)) | (
    (Delivery.state == SENDING) & (Delivery.lease_until < bindparam("now", type_=UTCDateTime()))
)
#: Built once, not per question: every commune of the province asks every
#: ``pull_wait_seconds``, and building the expression cost as much as running it.
_WAITING_FOR_NODE = (
    select(Delivery.dispatch_id)
    .where(Delivery.node == bindparam("node"), _WAITING_AT_HUB)
    .order_by(Delivery.urgency.desc(), Delivery.created_at)
    .limit(WAITING_BATCH)
)
#: Every node something waits for, however many nodes are waiting: an ``IN`` list of
#: thousands of waiting communes a second cost more than the few rows that wait.
_NODES_WITH_WORK = select(Delivery.node).where(_WAITING_AT_HUB).distinct()
#: Whether the hub holds a dispatch already, asked before every offer (and of a commit asked
#: again): almost always not, which a plain read answers without a transaction.
_HELD = select(OutboundDispatch.id).where(OutboundDispatch.id == bindparam("id"))
#: Where the deliveries of dispatches ``peer`` handed over stand: a sending node asks about
#: up to ``RECEIPT_BATCH`` at a time, read ``RECEIPTS_READ`` to a statement (an ``IN`` list
#: well below the databases' limits on bound values, however many a peer asks about).
RECEIPTS_READ = 500
_RECEIPTS = (
    select(Delivery.dispatch_id, Delivery.node, Delivery.state, Delivery.receipt)
    .join(OutboundDispatch, OutboundDispatch.id == Delivery.dispatch_id)
    .where(
        OutboundDispatch.origin_node == bindparam("peer"),
        Delivery.dispatch_id.in_(bindparam("ids", expanding=True)),
    )
)
#: What closing a pull node's delivery with its receipt needs, in one read.
_TO_CLOSE = (
    select(Delivery.units, *SENT_COLUMNS)
    .join(OutboundDispatch, OutboundDispatch.id == Delivery.dispatch_id)
    .where(Delivery.dispatch_id == bindparam("id"), Delivery.node == bindparam("node"))
)


class RelayDesk:
    """The hub's side: take, store and account for dispatches carried for other nodes."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        directory: SignedDirectory,
        trust: TrustStore,
        outbox: Outbox,
        max_bytes: int,
        upload_expiry_seconds: int,
        pull_wait_seconds: int = 0,
    ) -> None:
        self.sessions = sessions
        #: The pull questions' reads go straight to a connection: no ORM session to build.
        self.engine: AsyncEngine = sessions.kw["bind"]
        self.directory = directory
        self.trust = trust
        self.outbox = outbox
        self.max_bytes = max_bytes
        self.upload_expiry_seconds = upload_expiry_seconds
        #: The longest a pull node's question is held open waiting for work (0: answered at
        #: once, as before the long poll).
        self.pull_wait_seconds = pull_wait_seconds
        self.waiters = PullWaiters(self._nodes_with_work)

    def folder(self, dispatch_id: str) -> Path:
        return self.outbox.folder(dispatch_id)

    # -- taking a dispatch from its sending node ------------------------------------------

    async def offer(
        self,
        peer: str,
        peer_certificate: x509.Certificate,
        raw: bytes,
        signature: bytes,
        node: str,
    ) -> tuple[str, int]:
        """Check the header, then answer its id and how many bytes of its payload the hub
        holds."""
        header: Header | None = None
        try:
            header = Header.from_bytes(raw)
            if peer != header.node:
                raise PeerRefused("hub chỉ nhận công văn do chính nút gửi ký", code="wrong-node")
            check_origin(self.directory, self.trust, peer, peer_certificate, header, raw, signature)
            self._units_at(header, node)
            if header.size > self.max_bytes:
                raise PeerRefused(
                    f"công văn {header.size} byte vượt giới hạn {self.max_bytes} byte",
                    code="too-large",
                )
            if await self._forward_if_held(header, node):
                return header.id, header.size
            await asyncio.get_running_loop().run_in_executor(
                None, self._write_header, header, raw, signature
            )
        except PeerRefused as refusal:
            await self._record(peer, header.id if header else None, refusal)
            raise
        return header.id, spool_lock.held_bytes(self._part(header.id))

    def _units_at(self, header: Header, node: str) -> list[str]:
        """The addressed units ``node`` hosts; the hub relays only to where they live."""
        units = []
        for code in header.recipients:
            try:
                if self.directory.unit(code).node == node:
                    units.append(code)
            except NotFound:
                continue
        if not units or node == self.outbox.keyring.node_name:
            raise PeerRefused(f"nút {node} không có đơn vị nhận nào", code="not-addressed-here")
        return units

    def _part(self, dispatch_id: str) -> Path:
        return self.folder(dispatch_id) / (PAYLOAD_FILE + ".part")

    def _write_header(self, header: Header, raw: bytes, signature: bytes) -> None:
        folder = self.folder(header.id)
        kept = folder / HEADER_FILE
        with refused_when_full():
            folder.mkdir(parents=True, exist_ok=True)
            if kept.exists():
                if kept.read_bytes() != raw:
                    raise PeerRefused(
                        "mã công văn này đã dùng cho một công văn khác", code="bad-digest"
                    )
                return
            (folder / HEADER_SIGNATURE_FILE).write_bytes(signature)
            self._part(header.id).touch()
            # Last, and whole or not at all: its presence says the folder is complete, and a
            # header half written (a full disk) would refuse every later offer as bad-digest.
            partial = folder / (HEADER_FILE + ".part")
            try:
                partial.write_bytes(raw)
                partial.replace(kept)
            finally:
                partial.unlink(missing_ok=True)

    def _kept_header(self, peer: str, dispatch_id: str) -> Header:
        try:
            header = Header.from_bytes((self.folder(dispatch_id) / HEADER_FILE).read_bytes())
        except (FileNotFoundError, PeerRefused):
            raise NotFound("không có công văn này", code="unknown-dispatch") from None
        if header.node != peer:
            raise NotFound("không có công văn này", code="unknown-dispatch")
        return header

    async def upload(
        self, peer: str, dispatch_id: str, offset: int, chunks: AsyncIterator[bytes]
    ) -> int:
        header = self._kept_header(peer, dispatch_id)
        try:
            handle = spool_lock.try_lock(self._part(dispatch_id))
        except FileNotFoundError:  # committed (or refused) meanwhile
            return await self._held_or_gone(peer, dispatch_id, header)
        if handle is None:
            raise spool_lock.busy()
        with handle:
            held = spool_lock.size_of(handle)
            if offset != held:
                raise Conflict(f"đang giữ {held} byte, không phải {offset}", code="wrong-offset")
            try:
                return await spool_lock.write_from(handle, held, header.size, chunks)
            except PeerRefused as refusal:
                handle.truncate(0)
                await self._record(peer, dispatch_id, refusal)
                raise

    async def _held_or_gone(self, peer: str, dispatch_id: str, header: Header) -> int:
        if (self.folder(dispatch_id) / PAYLOAD_FILE).exists():
            return header.size
        raise NotFound("không có công văn này", code="unknown-dispatch")

    async def commit(self, peer: str, dispatch_id: str, node: str) -> dict[str, Any]:
        """Check the whole ciphertext against the signed header, then queue it for ``node``."""
        header = self._kept_header(peer, dispatch_id)
        try:
            handle = spool_lock.try_lock(self._part(dispatch_id))
        except FileNotFoundError:
            # Its upload is kept as the payload once committed: the part is gone only for a
            # dispatch held already (a commit asked again) or given up.
            if await self._forward_if_held(header, node):
                return {"id": dispatch_id, "state": HELD}
            raise NotFound("không có công văn này", code="unknown-dispatch") from None
        if handle is None:
            raise spool_lock.busy()
        with handle:
            held = spool_lock.size_of(handle)
            if held != header.size:
                raise Conflict(f"mới nhận {held}/{header.size} byte", code="incomplete")
            try:
                units = self._units_at(header, node)
                await asyncio.get_running_loop().run_in_executor(
                    None, check_payload, header, self._part(dispatch_id)
                )
            except PeerRefused as refusal:
                shutil.rmtree(self.folder(dispatch_id), ignore_errors=True)
                await self._record(peer, dispatch_id, refusal)
                raise
            await asyncio.get_running_loop().run_in_executor(
                None,
                spool_lock.keep,
                handle,
                self._part(dispatch_id),
                self.folder(dispatch_id) / PAYLOAD_FILE,
            )
        # A connection's transaction, not a session's: core statements only, no unit of work.
        async with self.engine.begin() as connection:
            await queue_deliveries(connection, header, {node: units}, origin_node=peer)
            await evidence.append(
                connection,
                "relayed",
                header.id,
                {"from": peer, "to": node, "sha256": header.payload_sha256},
            )
        log.info("dispatch.held", dispatch_id=header.id, origin=peer, node=node, bytes=header.size)
        self.waiters.arrived(node)
        return {"id": dispatch_id, "state": HELD}

    async def expire_stale_uploads(self) -> int:
        """Remove uploads never committed whose bytes have not moved for the expiry time.
        A committed dispatch has no ``.part`` file any more, so only unfinished ones match."""
        cutoff = time.time() - self.upload_expiry_seconds
        expired = 0
        for part in self.outbox.spool.glob(f"*/{PAYLOAD_FILE}.part"):
            try:
                if part.stat().st_mtime >= cutoff:
                    continue
                handle = spool_lock.try_lock(part)
            except FileNotFoundError:
                continue  # committed or removed meanwhile
            if handle is None:
                continue  # an upload under way
            with handle:
                kept = part.parent / HEADER_FILE
                if not kept.exists():
                    continue  # a seal of ours that crashed, not an upload to the hub
                header = Header.from_bytes(kept.read_bytes())
                shutil.rmtree(part.parent, ignore_errors=True)
            refusal = PeerRefused("tải lên dở dang quá hạn, đã xoá", code="offer-expired")
            await self._record(header.node, header.id, refusal)
            expired += 1
        return expired

    async def _forward_if_held(self, header: Header, node: str) -> bool:
        """A dispatch the hub already holds: make sure it goes to ``node`` too (again, if its
        earlier delivery failed) and say so; the sender need not upload it again."""
        async with self.engine.connect() as connection:
            if (await connection.execute(_HELD, {"id": header.id})).first() is None:
                return False
        async with self.sessions() as session, session.begin():
            held = await session.get(OutboundDispatch, header.id)
            if held is None:
                return False
            if held.origin_node != header.node or held.payload_sha256 != header.payload_sha256:
                raise PeerRefused(
                    "mã công văn này đã dùng cho một công văn khác", code="bad-digest"
                )
            delivery = await session.get(Delivery, (header.id, node))
            if delivery is None:
                await add_delivery(session, header, node, self._units_at(header, node))
            elif delivery.state == FAILED:
                delivery.state, delivery.attempts = QUEUED, 0
                delivery.next_attempt_at = datetime.now(UTC)
        self.waiters.arrived(node)
        return True

    async def _record(self, peer: str, dispatch_id: str | None, refusal: PeerRefused) -> None:
        log.warning("relay.refused", peer=peer, dispatch_id=dispatch_id, code=refusal.code)
        async with self.sessions() as session, session.begin():
            await store_refusal(session, peer, dispatch_id, refusal, relay=True)

    # -- the sending node collects receipts -----------------------------------------------

    async def receipts_for(self, peer: str, wanted: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Where each (dispatch, node) ``peer`` handed over stands, with the receipt once
        there is one. Only the dispatch's own sending node may ask. One read per
        ``RECEIPTS_READ`` dispatches asked about, not two per dispatch."""
        found: dict[tuple[str, str], tuple[str, str | None]] = {}
        ids = sorted({dispatch_id for dispatch_id, _node in wanted})
        async with self.engine.connect() as connection:
            for start in range(0, len(ids), RECEIPTS_READ):
                rows = await connection.execute(
                    _RECEIPTS, {"peer": peer, "ids": ids[start : start + RECEIPTS_READ]}
                )
                for dispatch_id, node, state, receipt in rows:
                    found[(dispatch_id, node)] = (state, receipt)
        answers: list[dict[str, Any]] = []
        for dispatch_id, node in wanted:
            answer: dict[str, Any] = {"id": dispatch_id, "node": node, "state": "unknown"}
            if (dispatch_id, node) in found:
                state, receipt = found[(dispatch_id, node)]
                answer["state"] = state
                if receipt is not None:
                    answer["receipt"] = json.loads(receipt)
            answers.append(answer)
        return answers

    # -- a pull node fetches what waits for it --------------------------------------------

    async def waiting_for(self, peer: str, wait: float = 0) -> list[dict[str, Any]]:
        """What waits for ``peer``, most urgent first; when nothing does, the question is held
        open up to ``wait`` seconds (at most ``pull_wait_seconds``) for something to arrive.
        A question held finds out whether anything waits by a read shared with the others
        (:meth:`PullWaiters.wait`; mostly the once-a-second read, made already), and lists
        only then: an idle commune costs no query of its own, and a wait that runs out unwoken
        found nothing (the once-a-second check wakes it for work another process stored)."""
        held = self.hold_for(wait)
        loop = asyncio.get_running_loop()
        until = loop.time() + held
        while True:
            if held > 0 and not await self.waiters.wait(peer, until - loop.time()):
                return []
            rows = await self._waiting_ids(peer)
            if rows or held <= 0 or self.waiters.closed or loop.time() >= until:
                break
            # Named by a recent read, but served since: hold on for the rest of the time.
            self.waiters.taken(peer)
        return await asyncio.to_thread(self._listings, rows) if rows else []

    def hold_for(self, wait: float) -> float:
        """How long a question asking to be held ``wait`` seconds is held when nothing
        waits: the hub's cap applied."""
        return min(wait, self.pull_wait_seconds)

    async def _waiting_ids(self, peer: str) -> list[str]:
        async with self.engine.connect() as connection:
            rows = await connection.scalars(
                _WAITING_FOR_NODE, {"node": peer, "now": datetime.now(UTC)}
            )
            return list(rows)

    async def _nodes_with_work(self) -> set[str]:
        """Every node something waits for: one query for all the questions held."""
        async with self.engine.connect() as connection:
            return set(await connection.scalars(_NODES_WITH_WORK, {"now": datetime.now(UTC)}))

    def _listings(self, dispatch_ids: list[str]) -> list[dict[str, Any]]:
        """Each dispatch's signed header and, while they fit, the small payloads."""
        listed, room = [], LISTED_PAYLOAD_BYTES
        for dispatch_id in dispatch_ids:
            folder = self.folder(dispatch_id)
            item = {
                "id": dispatch_id,
                "header": b64_of_file(folder / HEADER_FILE),
                "signature": b64_of_file(folder / HEADER_SIGNATURE_FILE),
            }
            size = (folder / PAYLOAD_FILE).stat().st_size
            if size <= min(INLINE_BYTES, room):
                item["payload"] = b64_of_file(folder / PAYLOAD_FILE)
                room -= size
            listed.append(item)
        return listed

    async def payload_for(self, peer: str, dispatch_id: str) -> Path:
        async with self.sessions() as session:
            delivery = await session.get(Delivery, (dispatch_id, peer))
        if delivery is None:
            raise NotFound("không có công văn này cho nút này", code="unknown-dispatch")
        return self.folder(dispatch_id) / PAYLOAD_FILE

    async def take_receipt(self, peer: str, dispatch_id: str, receipt: dict[str, Any]) -> str:
        """The pull node's receipt closes the hub's delivery, as a pushed one's would."""
        async with self.engine.connect() as connection:
            row = (await connection.execute(_TO_CLOSE, {"id": dispatch_id, "node": peer})).first()
        if row is None:
            raise NotFound("không có công văn này cho nút này", code="unknown-dispatch")
        units, payload_sha256, sender, size, origin_node = row
        sent = Sent(payload_sha256, sender, size, origin_node)
        return await self.outbox.close_with_receipt(
            dispatch_id, peer, json.loads(units), receipt, sent
        )
