"""How a unit's documents are being handled, now: the figures the leaders' dashboard shows and a
``figures`` dispatch carries up to the province.

A unit's snapshot is counted from this node's registers and exchange records: its incoming
work (received, registered, waiting for direction, in progress, overdue with the oldest
overdue, done this month and done late, Decree 30/2020 Art. 20-24), its outgoing documents
issued this month and what became of them at their recipients, the health of its exchange
(dispatches stuck, refused) and the last 12 months of received, done and overdue documents.

A snapshot holds numbers only: no summary, no name, no secret's content; it counts every
document of the unit whatever its secrecy, as the periodic report does. A snapshot received
from another node is read back with :func:`snapshot_from_payload`, which refuses anything
malformed (the receiver records why, as it does for reports).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid
from exchange.envelope import UNIT
from exchange.ledger import VIETNAM
from exchange.models import Delivery, DispatchStatus, OutboundDispatch
from exchange.outbox import DELIVERED, FAILED, REFUSED
from office.documents.models import INCOMING, OUTGOING, Document, DocumentEvent
from office.documents.recall import not_recalled
from office.reports import refusals
from office.reports.figures import counted_months

#: The months a snapshot carries for the sparkline: this one and the eleven before.
HISTORY_MONTHS = 12
#: A delivery not decided after this long is stuck: the WAN's retries normally win in minutes.
STUCK_AFTER = timedelta(hours=1)
#: The edXML status a recipient reports when it has finished with a document.
DONE_STATUS = "06"
#: Largest figure a snapshot may carry (a province has millions of documents, not billions).
MAX_FIGURE = 10**9
#: The dispatch kind that carries a snapshot up (:mod:`office.reports.live_exchange`). Its own
#: dispatches are not counted in the exchange's health: one that does not get through shows at
#: the province as figures growing old, and counting it would make the figures about themselves.
FIGURES_KIND = "figures"
MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class IncomingWork:
    """The incoming register (văn bản đến): the queue and the work now, and this month's."""

    #: Arrived this month (through the network or entered from paper).
    received: int = 0
    #: In the clerk's queue now, not registered yet.
    to_register: int = 0
    #: Registered this month.
    registered: int = 0
    #: Registered, waiting for the leader's direction now.
    waiting_direction: int = 0
    #: Directed and assigned, not done.
    in_progress: int = 0
    #: Of those in progress, past their deadline.
    overdue: int = 0
    #: Done this month, and of those, done after their deadline.
    done: int = 0
    done_late: int = 0


@dataclass(frozen=True)
class OutgoingWork:
    """Văn bản đi issued this month and what each recipient unit made of them."""

    issued: int = 0
    #: Recipient units of those documents, by what is known of each: its signed receipt
    #: (delivered), a refusal, still on the way, and the recipients that reported it done.
    recipients: int = 0
    delivered: int = 0
    refused: int = 0
    waiting: int = 0
    done: int = 0


@dataclass(frozen=True)
class ExchangeHealth:
    """The unit's dispatches still being tried after :data:`STUCK_AFTER`, and those sent this
    month that a recipient refused or that were given up after their retries (each counted in
    one of the two only)."""

    stuck: int = 0
    refused: int = 0


@dataclass(frozen=True)
class MonthWork:
    month: str
    received: int = 0
    done: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class UnitSnapshot:
    unit: str
    #: When the unit's node counted it (a newer snapshot replaces an older one, never the
    #: reverse).
    made_at: datetime
    incoming: IncomingWork
    #: The deadline of the oldest overdue document; None when none is overdue.
    oldest_overdue: date | None
    outgoing: OutgoingWork
    exchange: ExchangeHealth
    #: The last :data:`HISTORY_MONTHS` months, oldest first.
    months: tuple[MonthWork, ...]


def last_months(today: date, count: int = HISTORY_MONTHS) -> tuple[str, ...]:
    """``count`` months up to and including ``today``'s, oldest first, as ``YYYY-MM``."""
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return tuple(reversed(keys))


def month_start(today: date) -> datetime:
    """The first instant of ``today``'s month in Vietnam: where "this month" begins."""
    return datetime(today.year, today.month, 1, tzinfo=VIETNAM).astimezone(UTC)


async def _count(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count(Document.id)).where(*where)) or 0)


async def _incoming(
    session: AsyncSession, unit: str, today: date, month_start: datetime
) -> tuple[IncomingWork, date | None]:
    mine = (Document.unit_code == unit, Document.direction == INCOMING, not_recalled())

    async def steps(*actions: str) -> int:
        return int(
            await session.scalar(
                select(func.count(func.distinct(DocumentEvent.document_id)))
                .join(Document, Document.id == DocumentEvent.document_id)
                .where(*mine, DocumentEvent.action.in_(actions), DocumentEvent.at >= month_start)
            )
            or 0
        )

    late = (*mine, Document.state == "assigned", Document.due_on < today)
    oldest = await session.scalar(select(func.min(Document.due_on)).where(*late))
    done_at = (
        select(DocumentEvent.document_id, func.min(DocumentEvent.at).label("at"))
        .where(DocumentEvent.action == "done")
        .group_by(DocumentEvent.document_id)
        .subquery()
    )
    done_rows = await session.execute(
        select(Document.due_on, done_at.c.at)
        .join(done_at, done_at.c.document_id == Document.id)
        .where(*mine, Document.state == "done", done_at.c.at >= month_start)
    )
    done = done_late = 0
    for due_on, at in done_rows:
        done += 1
        if due_on is not None and at.astimezone(VIETNAM).date() > due_on:
            done_late += 1
    work = IncomingWork(
        received=await steps("received", "entered"),
        to_register=await _count(session, *mine, Document.state == "received"),
        registered=await steps("registered", "entered"),
        waiting_direction=await _count(session, *mine, Document.state == "registered"),
        in_progress=await _count(session, *mine, Document.state == "assigned"),
        overdue=await _count(session, *late),
        done=done,
        done_late=done_late,
    )
    return work, oldest


async def _outgoing(session: AsyncSession, unit: str, month_start: datetime) -> OutgoingWork:
    issued = list(
        await session.scalars(
            select(Document.dispatch_id).where(
                Document.unit_code == unit,
                Document.direction == OUTGOING,
                Document.state.in_(("issued", "sent", "paper")),
                Document.registered_at >= month_start,
            )
        )
    )
    sent = [dispatch_id for dispatch_id in issued if dispatch_id]
    counts = dict.fromkeys(("recipients", "delivered", "refused", "waiting"), 0)
    done = 0
    if sent:
        deliveries = await session.execute(
            select(Delivery.state, Delivery.units).where(Delivery.dispatch_id.in_(sent))
        )
        for state, units in deliveries:
            many = len(json.loads(units))
            counts["recipients"] += many
            key = {DELIVERED: "delivered", REFUSED: "refused", FAILED: "refused"}.get(
                state, "waiting"
            )
            counts[key] += many
        finished = await session.execute(
            select(DispatchStatus.dispatch_id, DispatchStatus.unit)
            .where(DispatchStatus.dispatch_id.in_(sent), DispatchStatus.code == DONE_STATUS)
            .distinct()
        )
        done = len(finished.all())
    return OutgoingWork(issued=len(issued), done=done, **counts)


async def _exchange(
    session: AsyncSession, unit: str, now: datetime, month_start: datetime
) -> ExchangeHealth:
    theirs = and_(
        Delivery.dispatch_id == OutboundDispatch.id,
        OutboundDispatch.sender == unit,
        OutboundDispatch.origin_node.is_(None),
        OutboundDispatch.kind != FIGURES_KIND,
    )
    stuck = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .join(OutboundDispatch, theirs)
        .where(
            Delivery.state.not_in((DELIVERED, REFUSED, FAILED)),
            Delivery.created_at < now - STUCK_AFTER,
        )
    )
    refused = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .join(OutboundDispatch, theirs)
        .where(Delivery.state.in_((REFUSED, FAILED)), Delivery.created_at >= month_start)
    )
    return ExchangeHealth(stuck=int(stuck or 0), refused=int(refused or 0))


async def unit_snapshots(
    session: AsyncSession, units: Iterable[str], now: datetime
) -> list[UnitSnapshot]:
    """The snapshots of ``units`` (hosted here), counted from this node's own records."""
    units = sorted(set(units))
    today = now.astimezone(VIETNAM).date()
    began = month_start(today)
    history = last_months(today)
    monthly = await counted_months(session, units, history, today)
    snapshots = []
    for unit in units:
        incoming, oldest = await _incoming(session, unit, today, began)
        usage = monthly[unit].usage
        months = tuple(
            MonthWork(
                month,
                received=usage[month].documents_received if month in usage else 0,
                done=usage[month].incoming_done if month in usage else 0,
                overdue=usage[month].incoming_overdue if month in usage else 0,
            )
            for month in history
        )
        snapshots.append(
            UnitSnapshot(
                unit=unit,
                made_at=now,
                incoming=incoming,
                oldest_overdue=oldest,
                outgoing=await _outgoing(session, unit, began),
                exchange=await _exchange(session, unit, now, began),
                months=months,
            )
        )
    return snapshots


# -- as a dispatch carries it ------------------------------------------------------------------


def snapshot_payload(snapshot: UnitSnapshot) -> dict[str, Any]:
    """A snapshot as JSON-ready metadata of a ``figures`` dispatch."""
    return {
        "unit": snapshot.unit,
        "made_at": snapshot.made_at.isoformat(),
        "incoming": asdict(snapshot.incoming),
        "oldest_overdue": snapshot.oldest_overdue.isoformat() if snapshot.oldest_overdue else None,
        "outgoing": asdict(snapshot.outgoing),
        "exchange": asdict(snapshot.exchange),
        "months": [asdict(month) for month in snapshot.months],
    }


def _malformed(part: str) -> Invalid:
    return Invalid(refusals.FIGURES_MALFORMED(part=part), code="figures-malformed")


def _whole_numbers(kind: type, raw: object, where: str) -> dict[str, int]:
    """Read the figures of ``kind`` (its ``int`` fields) from ``raw``; a missing figure is 0,
    one that is not a whole number from 0 to :data:`MAX_FIGURE` is refused, naming it."""
    if not isinstance(raw, dict):
        raise _malformed(where)
    values: dict[str, int] = {}
    for field in fields(kind):
        if field.type != "int":
            continue
        value = raw.get(field.name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_FIGURE:
            raise Invalid(
                refusals.FIGURES_NEGATIVE(part=where, name=field.name), code="figures-negative"
            )
        values[field.name] = value
    return values


def _month(raw: object) -> MonthWork:
    month = raw.get("month") if isinstance(raw, dict) else None
    if not isinstance(month, str) or not MONTH.match(month):
        raise _malformed("months")
    return MonthWork(month, **_whole_numbers(MonthWork, raw, month))


def _made_at(raw: dict[str, Any]) -> datetime:
    try:
        made_at = datetime.fromisoformat(raw["made_at"])
    except (KeyError, TypeError, ValueError) as error:
        raise _malformed("made_at") from error
    if made_at.tzinfo is None:
        raise Invalid(refusals.NO_TIME_ZONE(), code="figures-malformed")
    return made_at


def _oldest_overdue(raw: dict[str, Any]) -> date | None:
    text = raw.get("oldest_overdue")
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError) as error:
        raise _malformed("oldest_overdue") from error


def snapshot_from_payload(raw: dict[str, Any]) -> UnitSnapshot:
    """Read a snapshot from a ``figures`` dispatch's metadata, or refuse it naming the part
    that is wrong: every figure a whole number from 0 to :data:`MAX_FIGURE` (one left out is
    0), at most :data:`HISTORY_MONTHS` months of the form ``YYYY-MM``, each once, in order."""
    unit = raw.get("unit")
    if not isinstance(unit, str) or not UNIT.match(unit):
        raise _malformed("unit")
    made_at = _made_at(raw)
    months_raw = raw.get("months", [])
    if not isinstance(months_raw, list) or len(months_raw) > HISTORY_MONTHS:
        raise _malformed("months")
    months = tuple(_month(month) for month in months_raw)
    keys = [month.month for month in months]
    if keys != sorted(set(keys)):
        raise _malformed("months")
    return UnitSnapshot(
        unit=unit,
        made_at=made_at,
        incoming=IncomingWork(**_whole_numbers(IncomingWork, raw.get("incoming"), "incoming")),
        oldest_overdue=_oldest_overdue(raw),
        outgoing=OutgoingWork(**_whole_numbers(OutgoingWork, raw.get("outgoing"), "outgoing")),
        exchange=ExchangeHealth(**_whole_numbers(ExchangeHealth, raw.get("exchange"), "exchange")),
        months=months,
    )
