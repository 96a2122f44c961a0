"""What the outbox, the refusals and the usage ledger hold right now, for monitoring.

The admin listener's ``/metrics`` reads these at scrape time, so any process of a node answers
for the whole node. Each is one statement, bounded by an index or by ``GROUP BY`` over a small
set of values; none changes anything. They run in the caller's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    case,
    extract,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.ledger import STATE_ID, VIETNAM
from exchange.models import Delivery, Refusal, UsageDaily, UsageEvent, UsageRollupState
from exchange.outbox import AWAITING, DELIVERED, FAILED, QUEUED, RETRY_WAIT, SENDING

#: Deliveries not yet decided by a receipt: waiting, on their way, or given up (dead letters).
OPEN_STATES = (QUEUED, SENDING, AWAITING, RETRY_WAIT, FAILED)
#: Upper bounds (seconds) of the delivery-time buckets: a slow WAN, retries, a hub in between.
LATENCY_BUCKETS = tuple(
    float(seconds) for seconds in (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
)
#: Deliveries decided within this window make the delivery-time histogram.
LATENCY_WINDOW = timedelta(hours=24)
#: Delivered rows are found through ``ix_deliveries_due`` (state, next_attempt_at): a delivery's
#: last attempt fell due at most this long before its receipt (retries are capped at hours, and
#: a delivery held at the hub is asked about every ``receipt_poll_seconds``).
LATENCY_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class OpenDeliveries:
    node: str
    state: str
    count: int


@dataclass(frozen=True)
class DeliveryTimes:
    """Time from queueing to the receiver's receipt of the deliveries decided lately."""

    #: (upper bound in seconds, deliveries that took at most that long), one per bucket.
    buckets: tuple[tuple[float, int], ...]
    count: int
    total_seconds: float


@dataclass(frozen=True)
class RollupLag:
    """How far the usage roll-up is behind the events written."""

    events: int
    #: When the oldest event not rolled up yet was recorded; None when none waits.
    oldest_at: datetime | None


async def open_deliveries(session: AsyncSession) -> list[OpenDeliveries]:
    """Deliveries in each undecided state, per destination node."""
    rows = await session.execute(
        select(Delivery.node, Delivery.state, func.count())
        .where(Delivery.state.in_(OPEN_STATES))
        .group_by(Delivery.node, Delivery.state)
        .order_by(Delivery.node, Delivery.state)
    )
    return [OpenDeliveries(node, state, count) for node, state, count in rows]


async def oldest_due_deliveries(session: AsyncSession, now: datetime) -> dict[str, datetime]:
    """Per destination node, since when its oldest due delivery has waited for a worker.

    On the hub, what waits for a ``pull`` node is due until that node fetches it.
    """
    rows = await session.execute(
        select(Delivery.node, func.min(Delivery.next_attempt_at))
        .where(Delivery.state.in_((QUEUED, RETRY_WAIT)), Delivery.next_attempt_at <= now)
        .group_by(Delivery.node)
    )
    return {node: oldest for node, oldest in rows}


def _seconds_taken(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return extract("epoch", Delivery.decided_at) - extract("epoch", Delivery.created_at)
    return (func.julianday(Delivery.decided_at) - func.julianday(Delivery.created_at)) * 86400.0


async def delivery_times(session: AsyncSession, now: datetime) -> DeliveryTimes:
    """The delivery-time histogram of the deliveries delivered within :data:`LATENCY_WINDOW`,
    counted by the database (one row comes back, however many deliveries)."""
    taken = _seconds_taken(session.get_bind().dialect.name)
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(taken), 0),
                *(
                    func.coalesce(func.sum(case((taken <= bound, 1), else_=0)), 0)
                    for bound in LATENCY_BUCKETS
                ),
            ).where(
                Delivery.state == DELIVERED,
                Delivery.next_attempt_at >= now - LATENCY_WINDOW - LATENCY_LOOKBACK,
                Delivery.decided_at >= now - LATENCY_WINDOW,
            )
        )
    ).one()
    count, total, *within = row
    return DeliveryTimes(
        buckets=tuple(zip(LATENCY_BUCKETS, (int(n) for n in within), strict=True)),
        count=int(count),
        total_seconds=float(total),
    )


async def refusals_by_code(session: AsyncSession) -> dict[str, int]:
    """Every refusal this node has recorded, counted by code (read from the code's index)."""
    rows = await session.execute(select(Refusal.code, func.count()).group_by(Refusal.code))
    return {code: count for code, count in rows}


def _watermark() -> ScalarSelect[int]:
    return (
        select(UsageRollupState.last_event_id)
        .where(UsageRollupState.id == STATE_ID)
        .scalar_subquery()
    )


async def events_today(
    session: AsyncSession, kinds: tuple[str, ...], now: datetime
) -> dict[str, int]:
    """Usage events of ``kinds`` recorded today (Vietnam's day): the rolled-up daily totals
    plus the events the roll-up has not read yet, in one statement (one snapshot, so a roll-up
    running meanwhile counts nothing twice). Events still in a process's memory are not seen."""
    local = now.astimezone(VIETNAM)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    rolled = select(UsageDaily.kind.label("kind"), UsageDaily.events.label("events")).where(
        UsageDaily.day == local.date().isoformat(), UsageDaily.kind.in_(kinds)
    )
    waiting = select(UsageEvent.kind.label("kind"), literal(1).label("events")).where(
        UsageEvent.id > func.coalesce(_watermark(), 0),
        UsageEvent.at >= midnight,
        UsageEvent.kind.in_(kinds),
    )
    both = union_all(rolled, waiting).subquery()
    rows = await session.execute(select(both.c.kind, func.sum(both.c.events)).group_by(both.c.kind))
    found = {kind: int(total) for kind, total in rows}
    return {kind: found.get(kind, 0) for kind in kinds}


async def rollup_lag(session: AsyncSession) -> RollupLag:
    """Events written but not rolled up, and the age of the oldest (primary-key lookups)."""
    watermark = func.coalesce(_watermark(), 0)
    newest = select(func.max(UsageEvent.id)).scalar_subquery()
    oldest = (
        select(UsageEvent.at)
        .where(UsageEvent.id > watermark)
        .order_by(UsageEvent.id)
        .limit(1)
        .scalar_subquery()
    )
    row = (await session.execute(select(func.coalesce(newest, 0) - watermark, oldest))).one()
    waiting, oldest_at = row
    return RollupLag(events=max(0, int(waiting)), oldest_at=oldest_at)
