"""Receiving a small dispatch whose payload came in its offer: one read, one trip to a worker
thread, one transaction.

The long way (:class:`exchange.inbox.Inbox`: offer, upload, commit) keeps a dispatch between
requests, and guards it there with locks, leases and a cap on open offers. An inline dispatch
is never left half received. After the checks on its header (the inbox's own), it is written,
checked and decrypted in a staging folder of its own; then one transaction inserts it already
decided, accepted or refused with its signed receipt, with its evidence, and hands an accepted
one to its handler. Accepted dispatches checked while another is being recorded share the next
transaction (:mod:`exchange.inbox_group`).

The same offer may reach two processes at once (a sender that timed out and asked again). Each
checks it in its own staging folder; the dispatch's primary key decides which one records it,
and the other answers with that one's receipt. A staging folder moves to the dispatch's place
in the spool only once its row is inserted, so the one that loses never touches what the
winner keeps. A process that dies mid-check leaves its staging folder behind:
:meth:`exchange.inbox_upkeep.InboxUpkeep.remove_abandoned_staging` removes it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from cryptography import x509
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import PeerRefused
from config.files import refused_when_full, sync_folder
from config.logging import get_logger
from exchange import spool_lock
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE, Header
from exchange.handlers import ReceivedDispatch
from exchange.inbox import OUR_TRUST_CODES, Inbox, OfferAnswer
from exchange.inbox_checks import OPENED_DIR, add_offered, discard_content
from exchange.inbox_group import Arrival, GroupRecorder
from exchange.models import InboundDispatch
from exchange.receipts import ACCEPTED, REFUSED, receipt_json
from exchange.refusals import store_refusal

log = get_logger("congvan.exchange.inbox")

#: A staging folder in the inbox spool is named ``<dispatch id>.<random>.inline``.
STAGING_SUFFIX = ".inline"


class InlineInbox:
    """The inline way into an :class:`~exchange.inbox.Inbox`."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.recorder = GroupRecorder(inbox, self._hand_over)

    async def receive(
        self,
        peer: str,
        peer_certificate: x509.Certificate | None,
        raw: bytes,
        signature: bytes,
        payload: bytes,
    ) -> OfferAnswer:
        """Check and decide; the answer holds the receipt. A refusal raises
        :class:`PeerRefused`, with its signed receipt once the header is authenticated."""
        header, existing = await self.inbox.admit(
            peer, peer_certificate, raw, signature, open_offers=False
        )
        if existing is not None and existing.receipt is not None:
            return existing
        if existing is not None or len(payload) != header.size:
            # An offer begun the long way, or a payload its header does not describe: the
            # long way answers (resumes, or refuses or waits for the missing bytes).
            return await self._the_long_way(peer, peer_certificate, raw, signature, payload)
        staging = self.staging_folder(header.id)
        try:
            return await self._check_and_decide(peer, header, raw, signature, payload, staging)
        except IntegrityError:
            # The same offer was recorded meanwhile, by another process or connection.
            answer = await self.inbox.existing(peer, header)
            if answer is None:
                raise
        finally:
            # Moved into place once recorded: whatever is left here was not, and may be clear.
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        if answer.receipt is not None:
            return answer
        return await self._the_long_way(peer, peer_certificate, raw, signature, payload)

    def staging_folder(self, dispatch_id: str) -> Path:
        return self.inbox.spool / f"{dispatch_id}.{uuid.uuid4().hex}{STAGING_SUFFIX}"

    async def _check_and_decide(
        self,
        peer: str,
        header: Header,
        raw: bytes,
        signature: bytes,
        payload: bytes,
        staging: Path,
    ) -> OfferAnswer:
        loop = asyncio.get_running_loop()
        try:
            signer, chain, dispatch = await loop.run_in_executor(
                None, self._stage_and_open, staging, header, payload
            )
            self.inbox.trust.check_unit_signer(signer, header.sender, chain)
            self.inbox.secrecy.check_arrival(header, dispatch.metadata)
        except PeerRefused as refusal:
            if refusal.code in OUR_TRUST_CODES:
                # Our trust data, not the dispatch: nothing is decided, the sender asks again.
                refusal.answer = await self.inbox.record_refusal(peer, header.id, refusal, None)
                raise
            await loop.run_in_executor(None, _evidence_only, staging, raw, signature)
            await self._refuse(peer, header, raw, signature, staging, refusal)
        return await self._accept(peer, header, raw, signature, staging, dispatch)

    def _stage_and_open(
        self, staging: Path, header: Header, payload: bytes
    ) -> tuple[x509.Certificate, list[x509.Certificate], ReceivedDispatch]:
        """Lay the dispatch's payload out as the long way keeps it, then check and open it
        (blocking). A full disk is ``disk-full``: nothing is decided, the sender offers it
        again later.

        The header and its signature are kept in the dispatch's row, not as files too (the
        long way writes them at the offer, before it has a row; a refused dispatch keeps them
        as files, its only evidence in the spool): each file made is an inode the file system
        looks for, a cost that showed in the receiving node's profile (issue 23). Nor is
        the payload written to a temporary name and renamed: the whole staging folder is the
        temporary name, moved into place only once its row is inserted."""
        with refused_when_full():
            staging.mkdir(parents=True)
            with (staging / PAYLOAD_FILE).open("xb") as kept:
                kept.write(payload)
                kept.flush()
                # Kept before the receipt says so: fsynced, as the long way's payload is.
                os.fsync(kept.fileno())
            opened = self.inbox.checks.open_checked(
                header, staging / PAYLOAD_FILE, staging / OPENED_DIR
            )
            sync_folder(staging)  # the names in it, as the group's sync of the spool is its own
            return opened

    async def _accept(
        self,
        peer: str,
        header: Header,
        raw: bytes,
        signature: bytes,
        staging: Path,
        dispatch: ReceivedDispatch,
    ) -> OfferAnswer:
        receipt = self.inbox.checks.accepted_receipt(header, list(dispatch.units))
        columns = {**_decided(ACCEPTED, receipt), "handled": True}
        await self.recorder.record(
            Arrival(peer, header, raw, signature, staging, dispatch, columns)
        )
        return OfferAnswer(header.id, header.size, receipt)

    async def _hand_over(self, session: AsyncSession, arrival: Arrival, folder: Path) -> None:
        """The handler's writes go in a savepoint of the transaction that accepts: a handler
        that fails takes back only its own writes, and the dispatch stays accepted, for
        :meth:`~exchange.inbox_upkeep.InboxUpkeep.hand_over_pending` to hand over at the next
        start (as when the handler ran after the acceptance and failed). The row was inserted
        ``handled``, the usual outcome, and is set back when the handler failed or none takes
        the kind: one statement fewer per dispatch."""
        dispatch = _moved(arrival.dispatch, arrival.staging, folder)
        dispatch_id = dispatch.header.id
        try:
            async with session.begin_nested():
                handled = await self.inbox.handlers.hand_over(session, dispatch)
        except Exception:  # the handler is another layer's code: its failure is not ours
            log.exception("dispatch.hand_over_failed", dispatch_id=dispatch_id)
            handled = False
        if not handled:
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == dispatch_id)
                .values(handled=False)
            )

    async def _refuse(
        self,
        peer: str,
        header: Header,
        raw: bytes,
        signature: bytes,
        staging: Path,
        refusal: PeerRefused,
    ) -> NoReturn:
        """Record the dispatch refused, its content already discarded; raises ``refusal``,
        receipt attached."""
        log.warning("dispatch.refused", peer=peer, dispatch_id=header.id, code=refusal.code)
        receipt = self.inbox.checks.refusal_receipt(refusal, header)
        async with self.inbox.sessions() as session, session.begin():
            await add_offered(
                session,
                peer,
                header,
                raw,
                signature,
                refusal_code=refusal.code,
                **_decided(REFUSED, receipt),
            )
            await store_refusal(session, peer, header.id, refusal)
            await self._move_into_place(staging, header.id)
        refusal.answer = receipt
        raise refusal

    async def _move_into_place(self, staging: Path, dispatch_id: str) -> Path:
        """Called with the dispatch's row inserted, not yet committed: no other process may
        record the dispatch meanwhile, so a folder found in its place was left by an attempt
        whose row never was (a process that died, a failed commit), and makes way."""
        folder = self.inbox.folder(dispatch_id)
        if folder.exists():
            aside = self.staging_folder(dispatch_id)
            folder.replace(aside)
            await asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, aside, True)
        staging.replace(folder)
        await asyncio.get_running_loop().run_in_executor(None, sync_folder, folder.parent)
        return folder

    async def _the_long_way(
        self,
        peer: str,
        peer_certificate: x509.Certificate | None,
        raw: bytes,
        signature: bytes,
        payload: bytes,
    ) -> OfferAnswer:
        """Offer, upload what the inbox lacks, commit: what a large dispatch goes through."""
        answer = await self.inbox.offer(peer, peer_certificate, raw, signature)
        if answer.receipt is not None:
            return answer
        await self.inbox.upload(
            peer, answer.dispatch_id, answer.offset, spool_lock.one_chunk(payload[answer.offset :])
        )
        receipt = await self.inbox.commit(peer, answer.dispatch_id)
        return OfferAnswer(answer.dispatch_id, len(payload), receipt)


def _evidence_only(staging: Path, raw: bytes, signature: bytes) -> None:
    """A refused dispatch's folder keeps its signed header, as the long way's does, and not
    its content (:func:`~exchange.inbox_checks.discard_content`)."""
    discard_content(staging)
    with refused_when_full():
        (staging / HEADER_FILE).write_bytes(raw)
        (staging / HEADER_SIGNATURE_FILE).write_bytes(signature)


def _decided(state: str, receipt: dict[str, Any] | None) -> dict[str, Any]:
    """The columns of a dispatch inserted already decided."""
    return {
        "state": state,
        "receipt": receipt_json(receipt) if receipt is not None else None,
        "decided_at": datetime.now(UTC),
    }


def _moved(dispatch: ReceivedDispatch, old: Path, new: Path) -> ReceivedDispatch:
    """``dispatch`` as opened in ``old``, now that the folder is ``new``."""
    return replace(
        dispatch,
        folder=new / dispatch.folder.relative_to(old),
        files=tuple(new / path.relative_to(old) for path in dispatch.files),
    )
