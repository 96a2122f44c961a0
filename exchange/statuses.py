"""Statuses: small signed ``status`` dispatches that tell a sender what became of its dispatch.

Codes follow the national edXML standard (QCVN 102:2016). A recipient unit reports with
:meth:`Statuses.send_status`; the sender's node keeps the timeline per recipient unit.

One status goes the other way: the sender asks its recipients to recall (thu hồi, code 13) a
dispatch with :meth:`Statuses.request_recall`. The receiving node does not keep it as a
timeline entry (it sent nothing); it tells the layer above through ``on_recall_request``,
which marks the documents the dispatch became. The recipients answer with ordinary statuses
(15 agreed, 16 refused).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid, NotFound
from config.logging import get_logger
from exchange import evidence, texts
from exchange.envelope import Draft, Header
from exchange.handlers import HandlerRegistry, ReceivedDispatch
from exchange.models import DispatchStatus, InboundDispatch, OutboundDispatch
from exchange.outbox import Outbox

log = get_logger("congvan.exchange.statuses")

#: The edXML status codes and their Vietnamese names (the command line's); a page names a
#: status in its reader's language (:data:`exchange.texts.STATUS_NAMES`).
STATUS_CODES = {code: name.vi for code, name in texts.STATUS_NAMES.items()}
MAX_NOTE = 2000
RECALL_REQUESTED = "13"

#: Told that a dispatch we received is to be recalled: (session, dispatch id, our addressed
#: unit, the sender's note). It runs inside the transaction that records the status.
RecallListener = Callable[[AsyncSession, str, str, str], Awaitable[None]]


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

    async def request_recall(self, original_id: str, unit: str, note: str = "") -> Header:
        """Ask every recipient of a dispatch ``unit`` sent from here to recall it (code 13)."""
        if len(note) > MAX_NOTE:
            raise Invalid(texts.NOTE_TOO_LONG(limit=MAX_NOTE), code="bad-status")
        async with self.outbox.sessions() as session:
            original = await session.get(OutboundDispatch, original_id)
        if original is None or original.sender != unit or original.origin_node is not None:
            raise NotFound(
                texts.NO_OUTBOUND_DISPATCH(dispatch=original_id, unit=unit), code="unknown-dispatch"
            )
        draft = Draft(
            recipients=tuple(json.loads(original.recipients)),
            kind="status",
            metadata={"code": RECALL_REQUESTED, "note": note},
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
            if code == RECALL_REQUESTED and await self._recall_requested(session, dispatch):
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
        only for our units it was addressed to."""
        header = dispatch.header
        received = await session.get(InboundDispatch, header.ref) if header.ref else None
        if received is None or received.state != "accepted" or received.sender != header.sender:
            return False
        units = [unit for unit in dispatch.units if unit in json.loads(received.recipients)]
        note = str(dispatch.metadata.get("note", ""))[:MAX_NOTE]
        await evidence.append(
            session,
            "recall-request",
            received.id,
            {"from": header.sender, "units": units, "status": header.id},
        )
        if self.on_recall_request is not None:
            for unit in units:
                await self.on_recall_request(session, received.id, unit, note)
        log.info("status.recall_requested", dispatch_id=received.id, units=units)
        return True


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
