"""Keeping an inbox sound between requests: after a crash, after a peer gives up, after a
handler was missing.

- :meth:`InboxUpkeep.recover` (at start): a check whose process died mid-commit is reset, so
  the sender's next commit starts it over; only checks whose lease lapsed and whose lock is
  free, since another live process may be making one.
- :meth:`InboxUpkeep.expire_stale_offers` (the sweeper): offers whose upload has not moved for
  ``[exchange] offer_expiry_seconds`` are removed with their spool folder, so a peer cannot
  fill the disk with offers it abandons; an upload under way holds its lock and is left alone.
- :meth:`InboxUpkeep.remove_abandoned_staging` (the sweeper): the staging folders of inline
  dispatches whose process died mid-check (:mod:`exchange.inbox_inline`), content and all.
- :meth:`InboxUpkeep.hand_over_pending` (at start, and by the sweeper for those accepted a
  while ago): accepted dispatches whose handler never ran, or failed (a full disk).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from config.database import utcnow
from config.errors import PeerRefused
from config.logging import get_logger
from exchange import spool_lock
from exchange.envelope import FILES_DIR, MANIFEST, METADATA, Header
from exchange.handlers import ReceivedDispatch
from exchange.inbox import UPLOADING, Inbox, changed, lapsed
from exchange.inbox_checks import OPENED_DIR
from exchange.inbox_inline import STAGING_SUFFIX
from exchange.models import InboundDispatch
from exchange.receipts import ACCEPTED
from exchange.refusals import store_refusal

log = get_logger("congvan.exchange.inbox")


class InboxUpkeep:
    def __init__(self, inbox: Inbox, offer_expiry_seconds: int) -> None:
        self.inbox = inbox
        self.offer_expiry = timedelta(seconds=offer_expiry_seconds)

    async def recover(self) -> None:
        """After a crash mid-commit, let the sender commit again: the check starts over. Only
        checks whose lease lapsed and whose lock is free: another process may be making one."""
        async with self.inbox.sessions() as session:
            stuck = (
                await session.scalars(select(InboundDispatch.id).where(lapsed(utcnow())))
            ).all()
        for dispatch_id in stuck:
            await self._reset_lapsed(dispatch_id)

    async def _reset_lapsed(self, dispatch_id: str) -> None:
        try:
            handle = self.inbox.lock_payload(dispatch_id)
        except FileNotFoundError:
            log.warning("dispatch.payload_missing", dispatch_id=dispatch_id)
            return
        if handle is None:
            return  # a live process holds it
        with handle:
            now = utcnow()
            async with self.inbox.sessions() as session:
                still = await session.scalar(
                    select(InboundDispatch.id).where(InboundDispatch.id == dispatch_id, lapsed(now))
                )
            if still is None:
                return  # taken over and decided meanwhile
            self.inbox.restore_part(dispatch_id, handle)
            async with self.inbox.sessions() as session, session.begin():
                await session.execute(
                    update(InboundDispatch)
                    .where(InboundDispatch.id == dispatch_id, lapsed(now))
                    .values(state=UPLOADING, verifying_until=None, touched_at=now)
                )
        log.info("dispatch.check_reset", dispatch_id=dispatch_id)

    async def expire_stale_offers(self) -> int:
        """Remove offers whose upload has not moved for ``offer_expiry``, with their spool
        folder; each is recorded as a refusal (``offer-expired``) and in the evidence log. An
        upload under way holds its lock and is left alone. The answer is how many went."""
        cutoff = utcnow() - self.offer_expiry
        async with self.inbox.sessions() as session:
            stale = (
                await session.execute(
                    select(InboundDispatch.id, InboundDispatch.peer_node).where(
                        InboundDispatch.state == UPLOADING, InboundDispatch.touched_at < cutoff
                    )
                )
            ).all()
        expired = 0
        for dispatch_id, peer in stale:
            expired += await self._expire(dispatch_id, peer, cutoff)
        return expired

    async def _expire(self, dispatch_id: str, peer: str, cutoff: datetime) -> int:
        try:
            handle = spool_lock.try_lock(self.inbox.part(dispatch_id))
        except FileNotFoundError:
            log.warning("dispatch.payload_missing", dispatch_id=dispatch_id)
            return 0
        if handle is None:
            return 0  # an upload is under way
        loop = asyncio.get_running_loop()
        with handle:
            held = spool_lock.size_of(handle)
            folder, aside = (
                self.inbox.folder(dispatch_id),
                self.inbox.spool / f"{dispatch_id}.expired",
            )
            await loop.run_in_executor(None, shutil.rmtree, aside, True)
            folder.replace(aside)  # a new offer of this id, once the row is gone, starts clean
            refusal = PeerRefused(
                f"không nhận thêm byte nào sau {int(self.offer_expiry.total_seconds())} giây",
                code="offer-expired",
            )
            try:
                async with self.inbox.sessions() as session, session.begin():
                    deleted = changed(
                        await session.execute(
                            delete(InboundDispatch).where(
                                InboundDispatch.id == dispatch_id,
                                InboundDispatch.state == UPLOADING,
                                InboundDispatch.touched_at < cutoff,
                            )
                        )
                    )
                    if deleted:
                        await store_refusal(session, peer, dispatch_id, refusal, "expired")
            except BaseException:
                aside.replace(folder)
                raise
            if not deleted:
                aside.replace(folder)
                return 0
            await loop.run_in_executor(None, shutil.rmtree, aside, True)
        log.info("dispatch.expired", peer=peer, dispatch_id=dispatch_id, bytes=held)
        return 1

    async def remove_abandoned_staging(self) -> int:
        """Remove the staging folders of inline dispatches older than a check's lease: an
        inline check takes well under a second, so such a folder's process died (or hung) and
        it will not be moved into place. Its content may lie there in clear. The answer is how
        many went."""
        cutoff = time.time() - self.inbox.verify_lease.total_seconds()
        return await asyncio.get_running_loop().run_in_executor(
            None, self._remove_staging_before, cutoff
        )

    def _remove_staging_before(self, cutoff: float) -> int:
        removed = 0
        for folder in self.inbox.spool.glob(f"*{STAGING_SUFFIX}"):
            try:
                if folder.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue  # moved into place or removed meanwhile
            shutil.rmtree(folder, ignore_errors=True)
            log.info("dispatch.staging_removed", folder=folder.name)
            removed += 1
        return removed

    async def hand_over_pending(self, decided_before: datetime | None = None) -> int:
        """Hand over accepted dispatches whose handler never ran (a crash, or no handler yet)
        or failed (a full disk, a busy database). ``decided_before``: only those accepted
        before then, so that a hand-over still under way is left to finish."""
        accepted = (InboundDispatch.state == ACCEPTED) & InboundDispatch.handled.is_(False)
        if decided_before is not None:
            accepted &= InboundDispatch.decided_at < decided_before
        async with self.inbox.sessions() as session:
            pending = (await session.scalars(select(InboundDispatch).where(accepted))).all()
        handed = 0
        for row in pending:
            header = Header.from_bytes(row.header.encode("utf-8"))
            try:
                dispatch = await asyncio.get_running_loop().run_in_executor(
                    None, self._reopen, header, json.loads(row.recipients)
                )
                await self.inbox.hand_over(dispatch)
            except Exception:  # one broken dispatch must not hold up the others
                log.exception("dispatch.hand_over_failed", dispatch_id=row.id)
                continue
            handed += 1
        return handed

    async def hand_over_stalled(self) -> int:
        """The sweep's turn of :meth:`hand_over_pending`: those accepted a check's lease ago
        or more, whose handler failed, are handed over again without waiting for a restart."""
        return await self.hand_over_pending(utcnow() - self.inbox.verify_lease)

    def _reopen(self, header: Header, recipients: list[str]) -> ReceivedDispatch:
        opened = self.inbox.folder(header.id) / OPENED_DIR
        manifest = json.loads((opened / MANIFEST).read_bytes())
        return ReceivedDispatch(
            header=header,
            units=tuple(unit for unit in recipients if unit in self.inbox.keyring.units),
            metadata=json.loads((opened / METADATA).read_bytes()),
            files=tuple(opened / FILES_DIR / entry["name"] for entry in manifest["files"]),
            folder=opened,
        )
