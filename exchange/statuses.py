"""Statuses: small signed ``status`` dispatches that tell a sender what became of its dispatch.

Codes follow the national edXML standard (QCVN 102:2016). A recipient unit reports with
:meth:`Statuses.send_status`; the sender's node keeps the timeline per recipient unit.

One status goes the other way: the sender asks some or all of its recipients to recall (thu
hồi, code 13) a dispatch with :meth:`Statuses.request_recall`; the request may carry more fields
for the layer above (the office names the replacement document there). The receiving node does
not keep it as a timeline entry (it sent nothing); it tells the layer above through
``on_recall_request``, which marks the documents the dispatch became. The recipients answer with
ordinary statuses (15 agreed, 16 refused).

The WAN keeps no order: a small request can overtake the large dispatch it recalls (still
uploading, or held at the hub). Such a request is kept (:class:`~exchange.models.EarlyRecall`)
and passed on when that dispatch is handed over (:meth:`Statuses.pass_on_early_recalls`),
honoured then only if the dispatch is the requester's own, as a request that came after it is.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid, NotFound
from config.logging import get_logger
from exchange import evidence, texts
from exchange.envelope import Draft, Header
from exchange.handlers import HandlerRegistry, ReceivedDispatch
from exchange.models import DispatchStatus, EarlyRecall, InboundDispatch, OutboundDispatch
from exchange.outbox import Outbox
from exchange.receipts import ACCEPTED, REFUSED

log = get_logger("congvan.exchange.statuses")

#: The edXML status codes and their Vietnamese names (the command line's); a page names a
#: status in its reader's language (:data:`exchange.texts.STATUS_NAMES`).
STATUS_CODES = {code: name.vi for code, name in texts.STATUS_NAMES.items()}
MAX_NOTE = 2000
RECALL_REQUESTED = "13"


@dataclass(frozen=True)
class RecallRequest:
    """The sender of ``dispatch_id`` asks ``unit`` (one of ours it was addressed to) to recall
    it, for the reason in ``note``."""

    dispatch_id: str
    unit: str
    note: str
    #: The request's fields as the sender signed them, for the layer above to read its own.
    details: Mapping[str, Any]


#: Told that a dispatch we received is to be recalled. It runs inside the transaction that
#: records the status (or that hands over the dispatch an early request was waiting for).
RecallListener = Callable[[AsyncSession, RecallRequest], Awaitable[None]]


@dataclass(frozen=True)
class StatusView:
    unit: str
    code: str
    #: Vietnamese, as the command line shows it (a page: ``texts.STATUS_NAMES[code]``).
    label: str
    note: str
    reported_at: str


class Statuses:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.on_recall_request: RecallListener | None = None

    def register(self, handlers: HandlerRegistry) -> None:
        handlers.register("status", self.record)

    async def send_status(self, original_id: str, unit: str, code: str, note: str = "") -> Header:
        """Report ``code`` on a received dispatch, from ``unit`` (one of its recipients here)."""
        if code not in STATUS_CODES:
            raise Invalid(texts.UNKNOWN_STATUS(code=code), code="bad-status")
        if len(note) > MAX_NOTE:
            raise Invalid(texts.NOTE_TOO_LONG(limit=MAX_NOTE), code="bad-status")
        async with self.outbox.sessions() as session:
            original = await session.get(InboundDispatch, original_id)
        if original is None or original.state != "accepted":
            raise NotFound(texts.NO_INBOUND_DISPATCH(dispatch=original_id), code="unknown-dispatch")
        if unit not in json.loads(original.recipients) or unit not in self.outbox.keyring.units:
            raise Invalid(texts.NOT_A_RECIPIENT_HERE(unit=unit, dispatch=original_id))
        draft = Draft(
            recipients=(original.sender,),
            kind="status",
            metadata={"code": code, "note": note},
            ref=original_id,
            urgency=0,
        )
        return await self.outbox.send(unit, draft)

    async def request_recall(
        self,
        original_id: str,
        unit: str,
        note: str = "",
        *,
        recipients: Sequence[str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Header:
        """Ask the ``recipients`` (every one when None) of a dispatch ``unit`` sent from here
        to recall it (code 13); ``details`` (JSON) travel with the code and the note."""
        if len(note) > MAX_NOTE:
            raise Invalid(texts.NOTE_TOO_LONG(limit=MAX_NOTE), code="bad-status")
        async with self.outbox.sessions() as session:
            original = await session.get(OutboundDispatch, original_id)
        if original is None or original.sender != unit or original.origin_node is not None:
            raise NotFound(
                texts.NO_OUTBOUND_DISPATCH(dispatch=original_id, unit=unit), code="unknown-dispatch"
            )
        sent_to = json.loads(original.recipients)
        asked = tuple(dict.fromkeys(recipients)) if recipients is not None else tuple(sent_to)
        stranger = next((code for code in asked if code not in sent_to), None)
        if not asked or stranger is not None:
            raise Invalid(
                texts.NOT_SENT_TO(unit=stranger or "-", dispatch=original_id), code="bad-status"
            )
        draft = Draft(
            recipients=asked,
            kind="status",
            metadata={**(details or {}), "code": RECALL_REQUESTED, "note": note},
            ref=original_id,
            urgency=original.urgency,
        )
        return await self.outbox.send(unit, draft)

    async def record(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        """The ``status`` handler: add a reported status to the original's timeline, or pass a
        recall request for a dispatch we received to the layer above."""
        header, metadata = dispatch.header, dispatch.metadata
        original = await session.get(OutboundDispatch, header.ref) if header.ref else None
        code = metadata.get("code")
        if (
            original is None
            or header.sender not in json.loads(original.recipients)
            or code not in STATUS_CODES
        ):
            recalled = code == RECALL_REQUESTED and original is None
            if recalled and await self._recall_requested(session, dispatch):
                return
            log.warning("status.ignored", status_id=header.id, ref=header.ref, sender=header.sender)
            return
        session.add(
            DispatchStatus(
                dispatch_id=original.id,
                unit=header.sender,
                code=code,
                note=str(metadata.get("note", ""))[:MAX_NOTE],
                reported_at=header.created,
                status_dispatch_id=header.id,
            )
        )
        await evidence.append(
            session,
            "status",
            original.id,
            {"unit": header.sender, "code": code, "status": header.id},
        )

    async def _recall_requested(self, session: AsyncSession, dispatch: ReceivedDispatch) -> bool:
        """A recall request is honoured only from the sender of a dispatch we accepted, and
        only for our units it was addressed to; one for a dispatch not here yet is kept."""
        header = dispatch.header
        if not header.ref:
            return False
        # Locked (PostgreSQL; SQLite's write lock is held already): a hand-over of the
        # dispatch under way commits first, so a request is either passed on here or kept
        # where that hand-over will find it, never neither.
        received = await session.scalar(
            select(InboundDispatch).where(InboundDispatch.id == header.ref).with_for_update()
        )
        if received is None or received.state not in (ACCEPTED, REFUSED):
            return await self._keep_early(session, dispatch)  # not here yet, or arriving
        if received.state == ACCEPTED and not received.handled:
            return await self._keep_early(session, dispatch)  # accepted, not yet filed
        if received.state != ACCEPTED or received.sender != header.sender:
            return False
        await self._pass_on(session, received, header.id, dispatch.units, dispatch.metadata)
        return True

    async def _keep_early(self, session: AsyncSession, dispatch: ReceivedDispatch) -> bool:
        """Keep a request that overtook its dispatch. Handed the same status twice (after a
        crash), the exchange keeps it once."""
        header = dispatch.header
        assert header.ref is not None
        if await session.get(EarlyRecall, header.id) is None:
            session.add(
                EarlyRecall(
                    status_id=header.id,
                    dispatch_id=header.ref,
                    sender=header.sender,
                    units=json.dumps(list(dispatch.units)),
                    details=json.dumps(dispatch.metadata, ensure_ascii=False),
                )
            )
            await evidence.append(
                session,
                "recall-early",
                header.ref,
                {"from": header.sender, "units": list(dispatch.units), "status": header.id},
            )
        log.info("status.recall_kept", dispatch_id=header.ref, status_id=header.id)
        return True

    async def pass_on_early_recalls(
        self, session: AsyncSession, dispatch: ReceivedDispatch
    ) -> None:
        """Pass on the recall requests that came before ``dispatch``, now handed over in this
        transaction (by the handler of its kind, after it has filed it): each as if it had
        come after it, and only if its requester sent the dispatch. Each is passed on once."""
        header = dispatch.header
        waiting = (
            await session.scalars(
                select(EarlyRecall)
                .where(EarlyRecall.dispatch_id == header.id)
                .order_by(EarlyRecall.received_at, EarlyRecall.status_id)
            )
        ).all()
        if not waiting:
            return
        received = await session.get(InboundDispatch, header.id)
        await session.execute(delete(EarlyRecall).where(EarlyRecall.dispatch_id == header.id))
        for early in waiting:
            if received is None or received.state != ACCEPTED or early.sender != header.sender:
                log.warning(
                    "status.recall_ignored",
                    dispatch_id=header.id,
                    status_id=early.status_id,
                    sender=early.sender,
                )
                continue
            units = [unit for unit in json.loads(early.units) if unit in dispatch.units]
            await self._pass_on(
                session, received, early.status_id, units, json.loads(early.details)
            )

    async def _pass_on(
        self,
        session: AsyncSession,
        received: InboundDispatch,
        status_id: str,
        units: Sequence[str],
        metadata: Mapping[str, Any],
    ) -> None:
        units = [unit for unit in units if unit in json.loads(received.recipients)]
        note = str(metadata.get("note", ""))[:MAX_NOTE]
        await evidence.append(
            session,
            "recall-request",
            received.id,
            {"from": received.sender, "units": units, "status": status_id},
        )
        if self.on_recall_request is not None:
            for unit in units:
                await self.on_recall_request(
                    session, RecallRequest(received.id, unit, note, metadata)
                )
        log.info("status.recall_requested", dispatch_id=received.id, units=units)


async def timeline(session: AsyncSession, dispatch_id: str) -> list[StatusView]:
    rows = await session.scalars(
        select(DispatchStatus)
        .where(DispatchStatus.dispatch_id == dispatch_id)
        .order_by(DispatchStatus.reported_at, DispatchStatus.id)
    )
    return [
        StatusView(row.unit, row.code, STATUS_CODES[row.code], row.note, row.reported_at)
        for row in rows
    ]
