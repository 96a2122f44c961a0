"""What became of a sent document, per recipient unit: sent, delivered (the receiving unit's
signed receipt), then what its clerk and leader reported (edXML statuses), and the recall.

Everything here is read from the exchange's own records (deliveries, receipts, statuses), not
kept twice on the document: the timeline cannot disagree with the evidence log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.models import Delivery, OutboundDispatch
from exchange.outbox import DELIVERED, FAILED, REFUSED, DeliveryView, deliveries_of
from exchange.statuses import timeline
from office.documents.recall import RECALL_AGREED, RECALL_REFUSED, RECALL_REQUESTED

STAMP = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Step:
    """One line of a unit's timeline; ``kind`` names its message (``timeline.<kind>``):
    sent, delivered, refused, failed, waiting, or status (with the edXML ``code``)."""

    kind: str
    at: datetime | None
    code: str = ""
    note: str = ""


@dataclass
class UnitTimeline:
    unit: str
    name: str
    steps: list[Step] = field(default_factory=list)
    #: Thu hồi at this unit: requested, agreed, refused; None when never asked.
    recall: str | None = None

    @property
    def last(self) -> Step | None:
        return self.steps[-1] if self.steps else None


def _stamp(value: object) -> datetime | None:
    try:
        return datetime.strptime(str(value), STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _delivery_step(delivery: DeliveryView | None) -> Step:
    if delivery is None:
        return Step("waiting", None)
    body = (delivery.receipt or {}).get("body") or {}
    at = _stamp(body.get("time"))
    if delivery.state == DELIVERED:
        return Step("delivered", at)
    if delivery.state == REFUSED:
        return Step("refused", at, note=str(body.get("code") or delivery.last_error or ""))
    if delivery.state == FAILED:
        return Step("failed", None, note=delivery.last_error or "")
    return Step("waiting", None, note=delivery.last_error or "")


def _recall_of(codes: Iterable[str], requested: bool) -> str | None:
    answers = [code for code in codes if code in (RECALL_AGREED, RECALL_REFUSED)]
    if answers:
        return "agreed" if answers[-1] == RECALL_AGREED else "refused"
    return "requested" if requested else None


async def recipient_timelines(
    session: AsyncSession,
    dispatch_id: str,
    recipients: Sequence[str],
    unit_name: Callable[[str], str],
    recalls: Mapping[str, datetime] | None = None,
) -> list[UnitTimeline]:
    """One timeline per recipient unit, in the document's order of recipients; ``recalls``
    says when each unit asked to recall it was asked (a recall may go to some only)."""
    recalls = recalls or {}
    dispatch = await session.get(OutboundDispatch, dispatch_id)
    deliveries = await deliveries_of(session, dispatch_id)
    statuses = await timeline(session, dispatch_id)
    found = []
    for unit in recipients:
        line = UnitTimeline(unit, unit_name(unit))
        if dispatch is not None:
            line.steps.append(Step("sent", dispatch.created_at))
            delivery = next((d for d in deliveries if unit in d.units), None)
            line.steps.append(_delivery_step(delivery))
        reported = [
            Step("status", _stamp(s.reported_at), s.code, s.note)
            for s in statuses
            if s.unit == unit
        ]
        asked_at = recalls.get(unit)
        if asked_at is not None:
            reported.append(Step("status", asked_at, RECALL_REQUESTED))
        reported.sort(key=lambda step: step.at or datetime.min.replace(tzinfo=UTC))
        line.steps += reported
        line.recall = _recall_of((s.code for s in reported), asked_at is not None)
        found.append(line)
    return found


async def delivered_units(session: AsyncSession, dispatch_ids: Sequence[str]) -> dict[str, int]:
    """For the register's "Ký nhận" column: how many units signed a receipt, per dispatch."""
    if not dispatch_ids:
        return {}
    rows = await session.execute(
        select(Delivery.dispatch_id, Delivery.units).where(
            Delivery.dispatch_id.in_(dispatch_ids), Delivery.state == DELIVERED
        )
    )
    counts: dict[str, int] = {}
    for dispatch_id, units in rows:
        counts[dispatch_id] = counts.get(dispatch_id, 0) + len(json.loads(units))
    return counts
