"""Receiving dispatches: offer the header, upload the ciphertext (resumable), commit.

Every check that can be made on the clear header is made at the offer, before a byte of
payload is stored. The commit checks the ciphertext against the signed header, decrypts,
verifies the unit's signature and certificate, records the result with a signed receipt,
and hands the payload to the kind's handler once. A dispatch id seen before gets its first
receipt again. A small dispatch whose payload comes inline in its offer is received in one
step by :mod:`exchange.inbox_inline`, with the checks and receipts kept here.

Several node processes may share the database and the spool. Every change to a stored dispatch
(bytes written, a check claimed, a decision, a reset, an expiry) happens under the lock on its
payload file (:mod:`exchange.spool_lock`), so whoever comes second is told ``busy``; a check also
holds a lease in the database, and another process takes it over only once the lease lapsed.
Offers a peer never finishes are bounded: a few open per peer, and expired after a while.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, cast

from cryptography import x509
from sqlalchemy import ColumnElement, CursorResult, Result, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import utcnow
from config.errors import Conflict, NotFound, PeerRefused
from config.files import refused_when_full
from config.logging import get_logger
from exchange import spool_lock
from exchange.admission import check_origin, may_carry
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE, Header
from exchange.handlers import HandlerRegistry, ReceivedDispatch
from exchange.inbox_checks import (
    OPENED_DIR,
    PART_FILE,
    InboxChecks,
    add_offered,
    discard_content,
    record_received,
)
from exchange.ledger import UsageLedger
from exchange.models import InboundDispatch
from exchange.receipts import ACCEPTED, REFUSED, receipt_json
from exchange.refusals import store_refusal
from exchange.secrecy import SecrecyPolicy
from exchange.upload_digests import UploadDigests
from keys.keyring import Keyring
from keys.signed_directory import SignedDirectory
from keys.trust import TrustStore

log = get_logger("congvan.exchange.inbox")

UPLOADING, VERIFYING = "uploading", "verifying"
#: Refusals caused by our own trust data, not by the dispatch: it is released for a later try.
OUR_TRUST_CODES = {"stale-crl", "stale-directory"}


def lapsed(now: datetime) -> ColumnElement[bool]:
    """A check whose lease ran out: its process died (or hung), another may take it over."""
    return (InboundDispatch.state == VERIFYING) & (
        InboundDispatch.verifying_until.is_(None) | (InboundDispatch.verifying_until < now)
    )


def changed(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class OfferAnswer:
    dispatch_id: str
    offset: int
    receipt: dict[str, Any] | None


class Inbox:
    """The receiving side of one node."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        keyring: Keyring,
        trust: TrustStore,
        directory: SignedDirectory,
        handlers: HandlerRegistry,
        spool: Path,
        max_bytes: int,
        max_open_offers: int,
        verify_lease_seconds: int,
        secrecy: SecrecyPolicy,
        ledger: UsageLedger | None = None,
    ) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.trust = trust
        self.directory = directory
        self.handlers = handlers
        self.spool = spool
        self.max_bytes = max_bytes
        self.max_open_offers = max_open_offers
        self.verify_lease = timedelta(seconds=verify_lease_seconds)
        #: What this node takes in from another: checked on each dispatch once it is opened.
        self.secrecy = secrecy
        self.ledger = ledger
        self.checks = InboxChecks(keyring)
        #: The SHA-256 of each payload this process took whole as it was uploaded.
        self.upload_digests = UploadDigests()

    def folder(self, dispatch_id: str) -> Path:
        return self.spool / dispatch_id

    def part(self, dispatch_id: str) -> Path:
        return self.folder(dispatch_id) / PART_FILE

    # -- refusals and receipts ---------------------------------------------------------------

    async def record_refusal(
        self, peer: str, dispatch_id: str | None, refusal: PeerRefused, signed_for: Header | None
    ) -> dict[str, Any] | None:
        """Log and store a refusal of an offer; the answer is the receipt to send back."""
        log.warning("dispatch.refused", peer=peer, dispatch_id=dispatch_id, code=refusal.code)
        receipt = self.checks.refusal_receipt(refusal, signed_for)
        async with self.sessions() as session, session.begin():
            await store_refusal(session, peer, dispatch_id, refusal)
        return receipt

    def count_received(self, header: Header, units: tuple[str, ...]) -> None:
        """The usage ledger and the log, once the acceptance is committed."""
        if self.ledger is not None:
            for unit in units:
                self.ledger.record("dispatch-in", unit=unit, size=header.size)
        log.info(
            "dispatch.received", dispatch_id=header.id, sender=header.sender, bytes=header.size
        )

    # -- offer --------------------------------------------------------------------------------

    async def offer(
        self, peer: str, peer_certificate: x509.Certificate | None, raw: bytes, signature: bytes
    ) -> OfferAnswer:
        """``peer_certificate``: the TLS identity of a peer that offers its own dispatch; None
        when the hub hands it over (a pull), and the header is checked by the directory."""
        header, existing = await self.admit(peer, peer_certificate, raw, signature)
        if existing is not None:
            return existing
        await asyncio.get_running_loop().run_in_executor(
            None, self._write_header, header, raw, signature
        )
        try:
            await self._store_offer(peer, header, raw, signature)
        except IntegrityError:
            # The same offer reached another process (or connection) at the same moment.
            existing = await self.existing(peer, header)
            if existing is None:
                raise
            return existing
        log.info("dispatch.offered", peer=peer, dispatch_id=header.id, bytes=header.size)
        return OfferAnswer(header.id, 0, None)

    async def admit(
        self,
        peer: str,
        peer_certificate: x509.Certificate | None,
        raw: bytes,
        signature: bytes,
        *,
        open_offers: bool = True,
    ) -> tuple[Header, OfferAnswer | None]:
        """Every check made on the clear header, before a byte of payload is stored; a refusal
        is recorded (with a signed receipt once the header is authenticated) and raised. The
        answer: the header, and the answer already given if the dispatch was offered before.
        ``open_offers``: the offer may leave an upload open, and counts against the peer's cap.
        """
        header: Header | None = None
        authenticated = False
        try:
            header = Header.from_bytes(raw)
            existing = await self.existing(peer, header)
            if existing is not None:
                return header, existing
            if open_offers:
                await self._check_open_offers(peer)
            check_origin(self.directory, self.trust, peer, peer_certificate, header, raw, signature)
            authenticated = True
            self._check_acceptable(header)
        except PeerRefused as refusal:
            refusal.answer = await self.record_refusal(
                peer, header.id if header else None, refusal, header if authenticated else None
            )
            raise
        return header, None

    async def _store_offer(self, peer: str, header: Header, raw: bytes, signature: bytes) -> None:
        async with self.sessions() as session, session.begin():
            await add_offered(session, peer, header, raw, signature, state=UPLOADING)

    def _write_header(self, header: Header, raw: bytes, signature: bytes) -> None:
        """Before the offer's row: on a full disk nothing is recorded (``disk-full``), and the
        next offer writes the folder again."""
        folder = self.folder(header.id)
        with refused_when_full():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / HEADER_FILE).write_bytes(raw)
            (folder / HEADER_SIGNATURE_FILE).write_bytes(signature)
            (folder / PART_FILE).touch()

    async def existing(self, peer: str, header: Header) -> OfferAnswer | None:
        async with self.sessions() as session:
            row = await session.get(InboundDispatch, header.id)
        if row is None:
            return None
        if not may_carry(self.directory, peer, row.sender_node):
            raise PeerRefused("mã công văn này do nút khác gửi", code="wrong-node")
        if row.header != header.to_bytes().decode("utf-8"):
            raise PeerRefused("mã công văn này đã dùng cho một công văn khác", code="bad-digest")
        if row.receipt is not None:
            return OfferAnswer(row.id, row.size, await self.stored_receipt(row))
        return OfferAnswer(row.id, self._held(row.id), None)

    async def _check_open_offers(self, peer: str) -> None:
        """Each open offer may hold up to ``max_bytes`` of spool: a peer gets only so many.
        No receipt is signed, so the sender tries again later. Offers made at the same moment
        may pass together: the bound is soft by that many."""
        async with self.sessions() as session:
            open_offers = await session.scalar(
                select(func.count())
                .select_from(InboundDispatch)
                .where(InboundDispatch.peer_node == peer, InboundDispatch.state == UPLOADING)
            )
        if (open_offers or 0) >= self.max_open_offers:
            raise PeerRefused(
                f"nút {peer} đang có {open_offers} công văn gửi dở; hãy gửi xong rồi thử lại",
                code="too-many-offers",
            )

    def _check_acceptable(self, header: Header) -> None:
        units = self.checks.local_units(header)
        if not units:
            raise PeerRefused("không có đơn vị nhận nào ở nút này", code="not-addressed-here")
        if header.size > self.max_bytes:
            raise PeerRefused(
                f"công văn {header.size} byte vượt giới hạn {self.max_bytes} byte", code="too-large"
            )
        self.handlers.admit(header, units)

    def lock_payload(self, dispatch_id: str) -> BinaryIO | None:
        """The dispatch's payload file under its lock: ``.part``, or the payload a check set
        aside before it died; None if another holds it."""
        return spool_lock.try_lock(self.part(dispatch_id), self.folder(dispatch_id) / PAYLOAD_FILE)

    def restore_part(self, dispatch_id: str, handle: BinaryIO) -> None:
        """A check that died after setting the payload aside: the next check reads ``.part``."""
        if Path(handle.name).name == PAYLOAD_FILE:
            Path(handle.name).replace(self.part(dispatch_id))

    # -- upload -------------------------------------------------------------------------------

    def _held(self, dispatch_id: str) -> int:
        part = self.folder(dispatch_id) / PART_FILE
        return part.stat().st_size if part.exists() else 0

    async def _uploading(self, peer: str, dispatch_id: str) -> InboundDispatch:
        async with self.sessions() as session:
            row = await session.get(InboundDispatch, dispatch_id)
        if row is None or not may_carry(self.directory, peer, row.sender_node):
            raise NotFound("không có công văn này", code="unknown-dispatch")
        return row

    async def upload(
        self, peer: str, dispatch_id: str, offset: int, chunks: AsyncIterator[bytes]
    ) -> int:
        """Write bytes at ``offset``; the answer is how many bytes are now held.

        One upload of a dispatch at a time, in all processes: it holds the ``.part`` file's
        lock while the bytes arrive, and another is told ``busy``. No database transaction
        stays open meanwhile (on SQLite it would stop every writer).
        """
        row = await self._uploading(peer, dispatch_id)
        if row.state != UPLOADING:
            return row.size
        try:
            handle = spool_lock.try_lock(self.part(dispatch_id))
        except FileNotFoundError:
            return await self._settled_size(peer, dispatch_id)
        if handle is None:
            raise spool_lock.busy()
        with handle:
            if not await self._touch(dispatch_id):
                return await self._settled_size(peer, dispatch_id)
            held = spool_lock.size_of(handle)
            if offset != held:
                raise Conflict(f"đang giữ {held} byte, không phải {offset}", code="wrong-offset")
            digest = self.upload_digests.resume(dispatch_id, handle, held)
            try:
                held = await spool_lock.write_from(handle, held, row.size, chunks, digest)
            except PeerRefused as refusal:
                handle.truncate(0)
                digest = None
                await self._refuse(peer, dispatch_id, refusal)
            finally:
                self.upload_digests.keep(dispatch_id, digest, handle)
                await self._touch(dispatch_id)
        return held

    async def _touch(self, dispatch_id: str) -> bool:
        """Note that the upload moved (the expiry sweep's clock); False if it is no longer
        uploading."""
        async with self.sessions() as session, session.begin():
            touched = await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == dispatch_id, InboundDispatch.state == UPLOADING)
                .values(touched_at=utcnow())
            )
        return changed(touched) == 1

    async def _settled_size(self, peer: str, dispatch_id: str) -> int:
        """The answer to an upload that came as the dispatch changed hands: its size once a
        check took it or it was decided, ``busy`` while it is still moving."""
        row = await self._uploading(peer, dispatch_id)
        if row.state == UPLOADING:
            raise spool_lock.busy()
        return row.size

    async def progress(self, peer: str, dispatch_id: str) -> dict[str, Any]:
        """Where an offered dispatch stands: bytes held, state, and the receipt once decided."""
        row = await self._uploading(peer, dispatch_id)
        answer: dict[str, Any] = {"id": row.id, "state": row.state}
        answer["offset"] = self._held(dispatch_id) if row.state == UPLOADING else row.size
        if row.receipt is not None:
            answer["receipt"] = await self.stored_receipt(row)
        return answer

    # -- commit -------------------------------------------------------------------------------

    async def commit(self, peer: str, dispatch_id: str) -> dict[str, Any]:
        """Check the uploaded dispatch and decide; the answer is the signed receipt.

        The check holds the payload's lock and a lease in the database from the claim to the
        decision: a second commit meanwhile is told ``busy``, and takes the check over only
        when the lease lapsed and the lock is free (the process that held them died).
        """
        row = await self._uploading(peer, dispatch_id)
        if row.receipt is not None:
            return await self.stored_receipt(row)
        if row.state == VERIFYING and row.verifying_until and row.verifying_until > utcnow():
            raise spool_lock.busy()
        try:
            handle = self.lock_payload(dispatch_id)
        except FileNotFoundError:
            # Decided or expired meanwhile: asking again tells which.
            raise spool_lock.busy() from None
        if handle is None:
            raise spool_lock.busy()
        with handle:
            held = spool_lock.size_of(handle)
            if held != row.size:
                raise Conflict(f"mới nhận {held}/{row.size} byte", code="incomplete")
            if not await self._claim(dispatch_id):
                raise spool_lock.busy()
            uploaded_sha256 = self.upload_digests.take(dispatch_id, handle)
            return await self._check_and_decide(peer, row, handle, uploaded_sha256)

    async def stored_receipt(self, row: InboundDispatch) -> dict[str, Any]:
        """The receipt given for ``row`` before, given again: re-signed, and stored so, when
        the key that signed it was revoked or ran out meanwhile."""
        assert row.receipt is not None
        stored = dict(json.loads(row.receipt))
        renewed = self.checks.renewed_receipt(stored, self.trust.revocation)
        if renewed is None:
            return stored
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == row.id, InboundDispatch.receipt == row.receipt)
                .values(receipt=receipt_json(renewed))
            )
        log.info("receipt.renewed", dispatch_id=row.id, status=stored["body"]["status"])
        return renewed

    async def _claim(self, dispatch_id: str) -> bool:
        """Take the dispatch for checking, under a lease: from uploading, or from a check
        whose lease lapsed."""
        now = utcnow()
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(InboundDispatch)
                .where(
                    InboundDispatch.id == dispatch_id,
                    (InboundDispatch.state == UPLOADING) | lapsed(now),
                )
                .values(state=VERIFYING, verifying_until=now + self.verify_lease)
            )
        return changed(claimed) == 1

    async def _check_and_decide(
        self, peer: str, row: InboundDispatch, handle: BinaryIO, uploaded_sha256: str | None
    ) -> dict[str, Any]:
        """Runs under the payload's lock, with the dispatch claimed. Whatever goes wrong on
        our side (our trust data is stale, the disk is full, the database fails) releases it
        for the sender's next commit. ``uploaded_sha256``: the payload's digest as it was
        uploaded, if this process took it whole (:mod:`exchange.upload_digests`)."""
        header = Header.from_bytes(row.header.encode("utf-8"))
        folder = self.folder(row.id)
        try:
            self.restore_part(row.id, handle)
            try:
                with refused_when_full():
                    received = await asyncio.get_running_loop().run_in_executor(
                        None,
                        self.checks.open_checked,
                        header,
                        folder / PART_FILE,
                        folder / OPENED_DIR,
                        uploaded_sha256,
                    )
                self.trust.check_unit_signer(received[0], header.sender, received[1])
                self.secrecy.check_arrival(header, received[2].metadata)
            except PeerRefused as refusal:
                if refusal.code not in OUR_TRUST_CODES:
                    await self._refuse(peer, row.id, refusal)
                raise
            await asyncio.get_running_loop().run_in_executor(
                None, spool_lock.keep, handle, folder / PART_FILE, folder / PAYLOAD_FILE
            )
            return await self._accept(header, received[2])
        except PeerRefused as refusal:
            if refusal.code in OUR_TRUST_CODES:
                await self._release(row.id)
            raise
        except BaseException:
            await self._release(row.id)
            raise

    async def _release(self, dispatch_id: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == dispatch_id, InboundDispatch.state == VERIFYING)
                .values(state=UPLOADING, verifying_until=None, touched_at=utcnow())
            )

    async def _refuse(self, peer: str, dispatch_id: str, refusal: PeerRefused) -> NoReturn:
        """Refuse a stored dispatch: the refusal, its evidence and the dispatch's new state in
        one transaction, then its content discarded. Raises ``refusal``, receipt attached."""
        log.warning("dispatch.refused", peer=peer, dispatch_id=dispatch_id, code=refusal.code)
        async with self.sessions() as session, session.begin():
            row = await session.get(InboundDispatch, dispatch_id)
            header = Header.from_bytes(row.header.encode("utf-8")) if row else None
            receipt = self.checks.refusal_receipt(refusal, header)
            await store_refusal(session, peer, dispatch_id, refusal)
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == dispatch_id)
                .values(
                    state=REFUSED,
                    refusal_code=refusal.code,
                    receipt=receipt_json(receipt) if receipt else None,
                    decided_at=datetime.now(UTC),
                    verifying_until=None,
                )
            )
        await asyncio.get_running_loop().run_in_executor(
            None, discard_content, self.folder(dispatch_id)
        )
        refusal.answer = receipt
        raise refusal

    async def _accept(self, header: Header, dispatch: ReceivedDispatch) -> dict[str, Any]:
        receipt = self.checks.accepted_receipt(header, list(dispatch.units))
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == header.id)
                .values(
                    state=ACCEPTED,
                    receipt=receipt_json(receipt),
                    decided_at=datetime.now(UTC),
                    verifying_until=None,
                )
            )
            await record_received(session, header, dispatch.units)
        self.count_received(header, dispatch.units)
        try:
            await self.hand_over(dispatch)
        except Exception:  # the handler is another layer's code: its failure is not ours
            # Accepted and kept: the sender is given its receipt, and the sweep hands the
            # dispatch over again (after a full disk, say), as the inline way does.
            log.exception("dispatch.hand_over_failed", dispatch_id=header.id)
        return receipt

    async def hand_over(self, dispatch: ReceivedDispatch) -> None:
        """Give an accepted dispatch to its handler, once: ``handled`` is set in the same step.

        The transaction begins by setting it, so a second hand-over at the same moment (the
        sweep, a restart, another process) waits for this one and then finds nothing to do:
        on SQLite a read takes no lock (nor does ``FOR UPDATE``), a write does."""
        dispatch_id = dispatch.header.id
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == dispatch_id, InboundDispatch.handled.is_(False))
                .values(handled=True)
            )
            if changed(claimed) != 1:
                return
            if not await self.handlers.hand_over(session, dispatch):
                # Nobody handles this kind yet: it waits for a node that does.
                await session.execute(
                    update(InboundDispatch)
                    .where(InboundDispatch.id == dispatch_id)
                    .values(handled=False)
                )
