"""Statuses: small signed ``status`` dispatches that tell a sender what became of its dispatch.

Codes follow the national edXML standard (QCVN 102:2016). A recipient unit reports with
:meth:`Statuses.send_status`; the sender's node keeps the timeline per recipient unit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid, NotFound
from config.logging import get_logger
from exchange import evidence
from exchange.envelope import Draft, Header
from exchange.handlers import HandlerRegistry, ReceivedDispatch
from exchange.models import DispatchStatus, InboundDispatch, OutboundDispatch
from exchange.outbox import Outbox

log = get_logger("congvan.exchange.statuses")

STATUS_CODES = {
    "01": "Đã nhận",
    "02": "Trả lại",
    "03": "Đã vào sổ",
    "04": "Đã phân công",
    "05": "Đang xử lý",
    "06": "Hoàn thành",
    "13": "Đề nghị thu hồi",
    "15": "Đồng ý thu hồi",
    "16": "Từ chối",
}
MAX_NOTE = 2000


@dataclass(frozen=True)
class StatusView:
    unit: str
    code: str
    label: str
    note: str
    reported_at: str


class Statuses:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def register(self, handlers: HandlerRegistry) -> None:
        handlers.register("status", self.record)

    async def send_status(self, original_id: str, unit: str, code: str, note: str = "") -> Header:
        """Report ``code`` on a received dispatch, from ``unit`` (one of its recipients here)."""
        if code not in STATUS_CODES:
            raise Invalid(f"mã trạng thái {code!r} không có trong edXML", code="bad-status")
        if len(note) > MAX_NOTE:
            raise Invalid(f"ghi chú dài quá {MAX_NOTE} ký tự", code="bad-status")
        async with self.outbox.sessions() as session:
            original = await session.get(InboundDispatch, original_id)
        if original is None or original.state != "accepted":
            raise NotFound(f"không có công văn đến {original_id}", code="unknown-dispatch")
        if unit not in json.loads(original.recipients) or unit not in self.outbox.keyring.units:
            raise Invalid(f"đơn vị {unit} không nhận công văn {original_id} ở nút này")
        draft = Draft(
            recipients=(original.sender,),
            kind="status",
            metadata={"code": code, "note": note},
            ref=original_id,
            urgency=0,
        )
        return await self.outbox.send(unit, draft)

    async def record(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        """The ``status`` handler: add a reported status to the original's timeline."""
        header, metadata = dispatch.header, dispatch.metadata
        original = await session.get(OutboundDispatch, header.ref) if header.ref else None
        code = metadata.get("code")
        if (
            original is None
            or header.sender not in json.loads(original.recipients)
            or code not in STATUS_CODES
        ):
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
