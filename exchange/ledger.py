"""The usage ledger: every access and every byte, counted per unit, user and kind.

Recording is a list append, so a request is never slowed by it; a background task writes the
events in batches. :func:`roll_up` folds new events into daily totals per unit and kind and
notes who signed in each month; :func:`monthly`, :func:`daily_totals` and :func:`active_people`
answer what the periodic IT report asks, without reading the raw events. Days and months are
Vietnam's (UTC+7), the offices' own calendar. A crash loses
at most the events of the last unflushed batch (seconds of counts, never evidence: the
evidence log is written in the same transaction as what it records).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import ColumnElement, func, insert, literal_column, select, text, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.logging import get_logger
from exchange.models import UsageActive, UsageDaily, UsageEvent, UsageRollupState

log = get_logger("congvan.exchange.ledger")

#: web: a page or API request; login: a successful sign-in (web or mail client);
#: login-failed: a refused one (a security figure, never an access); the rest move bytes.
USAGE_KINDS = (
    "web",
    "login",
    "login-failed",
    "dispatch-in",
    "dispatch-out",
    "mail-in",
    "mail-out",
)
STATE_ID = 1
#: Vietnam keeps no daylight saving time: a fixed offset is its calendar.
VIETNAM = timezone(timedelta(hours=7))
#: The kind that counts as one access (lượt truy cập) and makes its user an active person:
#: the report's note defines an access as a successful sign-in.
ACCESS_KIND = "login"
#: A sign-in refused (wrong password or code, locked, unknown name): counted for monitoring
#: only, so trying passwords cannot inflate the report's accesses.
FAILED_SIGN_IN_KIND = "login-failed"
#: Event ids one roll-up statement reads at most.
ROLLUP_CHUNK = 1_000_000


class UsageLedger:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = 500,
        flush_seconds: float = 2.0,
    ) -> None:
        self.sessions = sessions
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self._pending: list[dict[str, object]] = []
        self._full = asyncio.Event()

    def record(self, kind: str, *, unit: str = "", user: str = "", size: int = 0) -> None:
        """Count one event; cheap and synchronous, written later in a batch."""
        if kind not in USAGE_KINDS:
            raise ValueError(f"unknown usage kind {kind!r}")
        self._pending.append(
            {"at": datetime.now(UTC), "unit": unit, "user": user, "kind": kind, "bytes": size}
        )
        if len(self._pending) >= self.batch_size:
            self._full.set()

    async def flush(self) -> int:
        batch, self._pending = self._pending, []
        self._full.clear()
        if not batch:
            return 0
        try:
            async with self.sessions() as session, session.begin():
                await session.execute(insert(UsageEvent), batch)
        except (SQLAlchemyError, OSError):
            self._pending[:0] = batch  # keep the counts for the next flush
            raise
        return len(batch)

    async def run(self, stop: asyncio.Event, rollup_seconds: float) -> None:
        """Flush every ``flush_seconds`` or when a batch is full, roll up every
        ``rollup_seconds``; when stopping, flush and roll up once more, in that order."""
        loop = asyncio.get_running_loop()
        next_rollup = loop.time() + rollup_seconds
        while not stop.is_set():
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._full.wait())]
            await asyncio.wait(waiters, timeout=self.flush_seconds, return_when="FIRST_COMPLETED")
            for waiter in waiters:
                waiter.cancel()
            try:
                await self.flush()
                if loop.time() >= next_rollup:
                    await self.roll_up()
                    next_rollup = loop.time() + rollup_seconds
            except (SQLAlchemyError, OSError) as error:
                log.warning("usage.flush_failed", error=type(error).__name__)
        await self.flush()
        await self.roll_up()

    async def roll_up(self) -> int:
        async with self.sessions() as session, session.begin():
            count = await roll_up(session)
        if count:
            log.info("usage.rolled_up", events=count)
        return count


async def roll_up(session: AsyncSession, *, chunk: int = ROLLUP_CHUNK) -> int:
    """Fold events recorded since the last roll-up into ``usage_daily`` and ``usage_active``;
    returns how many.

    Runs in the caller's transaction; the watermark row is updated first, so two roll-ups
    (two processes) wait for each other instead of counting twice. The database does the
    summing, ``chunk`` event ids per statement, so ten million events never pass through Python
    nor make one statement hold them all at once.
    """
    await session.execute(
        update(UsageRollupState)
        .where(UsageRollupState.id == STATE_ID)
        .values(last_event_id=UsageRollupState.last_event_id)
    )
    state = await session.get(UsageRollupState, STATE_ID, populate_existing=True)
    if state is None:
        raise RuntimeError("usage_rollup_state row missing: run `congvan db upgrade`")
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # An id is taken at insert, not at commit: another process's batch may hold ids below
        # the newest committed one. Waiting for writers in flight (and holding new ones back
        # until this commits) means no event is ever behind the watermark uncounted.
        await session.execute(text("LOCK TABLE usage_events IN SHARE ROW EXCLUSIVE MODE"))
    newest = await session.scalar(select(func.max(UsageEvent.id)))
    if newest is None or newest <= state.last_event_id:
        return 0
    count = 0
    for first in range(state.last_event_id, newest, chunk):
        last = min(first + chunk, newest)
        count += await _add_daily(session, dialect, first, last)
        await _note_active(session, dialect, first, last)
    state.last_event_id = newest
    await session.flush()
    return count


def _vietnam_day(dialect: str) -> ColumnElement[str]:
    """An event's day (``YYYY-MM-DD``) on Vietnam's calendar, computed by the database.

    SQLite keeps ``at`` as naive UTC text, ``2005-01-31 18:30:00.123456``: the fraction is cut
    off first, as SQLite's date functions round it to milliseconds and 23:59:59.9999 would
    become the next day.
    """
    if dialect == "postgresql":
        return func.to_char(
            func.timezone("UTC", UsageEvent.at) + literal_column("interval '7 hours'"),
            "YYYY-MM-DD",
        )
    return func.strftime("%Y-%m-%d", func.substr(UsageEvent.at, 1, 19), "+7 hours")


def _upsert(
    dialect: str, table: type[UsageDaily | UsageActive]
) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that can say what to do ON CONFLICT (both databases spell it alike)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def _add_daily(session: AsyncSession, dialect: str, first: int, last: int) -> int:
    """Add the events with ``first < id <= last`` to the daily totals; returns how many."""
    span = (UsageEvent.id > first, UsageEvent.id <= last)
    events = (
        select(
            _vietnam_day(dialect).label("day"),
            UsageEvent.unit,
            UsageEvent.kind,
            UsageEvent.bytes,
        )
        .where(*span)
        .subquery()
    )
    totals = (
        select(
            events.c.day,
            events.c.unit,
            events.c.kind,
            func.count().label("events"),
            func.sum(events.c.bytes).label("bytes"),
        )
        # SQLite needs a WHERE before an upsert's ON CONFLICT, or reads ON as a join's.
        .where(true())
        .group_by(events.c.day, events.c.unit, events.c.kind)
    )
    columns = ["day", "unit", "kind", "events", "bytes"]
    merge = _upsert(dialect, UsageDaily).from_select(columns, totals)
    merge = merge.on_conflict_do_update(
        index_elements=["day", "unit", "kind"],
        set_={
            "events": UsageDaily.events + merge.excluded.events,
            "bytes": UsageDaily.bytes + merge.excluded.bytes,
        },
    )
    await session.execute(merge)
    return await session.scalar(select(func.count()).select_from(UsageEvent).where(*span)) or 0


async def _note_active(session: AsyncSession, dialect: str, first: int, last: int) -> None:
    """Note who signed in, per Vietnam month and unit, among ``first < id <= last``."""
    month = func.substr(_vietnam_day(dialect), 1, 7)
    signers = (
        select(month, UsageEvent.unit, UsageEvent.user)
        .distinct()
        .where(
            UsageEvent.id > first,
            UsageEvent.id <= last,
            UsageEvent.kind == ACCESS_KIND,
            UsageEvent.user != "",
        )
    )
    await session.execute(
        _upsert(dialect, UsageActive)
        .from_select(["month", "unit", "user"], signers)
        .on_conflict_do_nothing()
    )


@dataclass(frozen=True)
class MonthlyUsage:
    month: str
    unit: str
    kind: str
    events: int
    bytes: int


async def monthly(session: AsyncSession, year: int) -> list[MonthlyUsage]:
    """Events and bytes per month, unit and kind, summed from the daily roll-ups."""
    rows = await session.execute(
        select(
            UsageDaily.day, UsageDaily.unit, UsageDaily.kind, UsageDaily.events, UsageDaily.bytes
        ).where(UsageDaily.day.startswith(f"{year:04d}-"))
    )
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for day, unit, kind, events, size in rows:
        total = totals[(day[:7], unit, kind)]
        total[0] += events
        total[1] += size
    return [
        MonthlyUsage(month, unit, kind, events, size)
        for (month, unit, kind), (events, size) in sorted(totals.items())
    ]


async def daily_totals(
    session: AsyncSession, units: list[str], first_day: str, end_day: str
) -> list[tuple[str, str, str, int, int]]:
    """(day, unit, kind, events, bytes) of the rolled-up days in [first_day, end_day)."""
    rows = await session.execute(
        select(
            UsageDaily.day, UsageDaily.unit, UsageDaily.kind, UsageDaily.events, UsageDaily.bytes
        ).where(UsageDaily.unit.in_(units), UsageDaily.day >= first_day, UsageDaily.day < end_day)
    )
    return [(day, unit, kind, int(events), int(size)) for day, unit, kind, events, size in rows]


@dataclass(frozen=True)
class PastEvent:
    """An access or transfer that happened before the ledger counted it."""

    at: datetime
    unit: str
    kind: str
    user: str = ""
    size: int = 0


async def backfill(session: AsyncSession, events: list[PastEvent]) -> None:
    """Write events with their own times (a history carried over from an older system, or the
    demo's past months), in the caller's transaction; the next roll-up counts them."""
    for event in events:
        if event.kind not in USAGE_KINDS:
            raise ValueError(f"unknown usage kind {event.kind!r}")
    rows = [
        {"at": e.at, "unit": e.unit, "user": e.user, "kind": e.kind, "bytes": e.size}
        for e in events
    ]
    for start in range(0, len(rows), 5000):
        await session.execute(insert(UsageEvent), rows[start : start + 5000])


async def monthly_totals(
    session: AsyncSession, units: list[str], first_day: str, end_day: str
) -> list[tuple[str, str, str, int, int]]:
    """(month, unit, kind, events, bytes) summed by the database over the rolled-up days in
    [first_day, end_day): a year's report reads some thousand rows, not every day's."""
    month = func.substr(UsageDaily.day, 1, 7).label("month")
    days = (
        select(month, UsageDaily.unit, UsageDaily.kind, UsageDaily.events, UsageDaily.bytes)
        .where(UsageDaily.unit.in_(units), UsageDaily.day >= first_day, UsageDaily.day < end_day)
        .subquery()
    )
    rows = await session.execute(
        select(
            days.c.month, days.c.unit, days.c.kind, func.sum(days.c.events), func.sum(days.c.bytes)
        ).group_by(days.c.month, days.c.unit, days.c.kind)
    )
    return [(m, unit, kind, int(events), int(size)) for m, unit, kind, events, size in rows]


async def active_by_month(
    session: AsyncSession, units: list[str], months: list[str]
) -> dict[tuple[str, str], set[str]]:
    """The users who signed in, per (unit, month), for ``months``, in one query."""
    rows = await session.execute(
        select(UsageActive.unit, UsageActive.month, UsageActive.user).where(
            UsageActive.unit.in_(units), UsageActive.month.in_(months)
        )
    )
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    for unit, month, user in rows:
        people[(unit, month)].add(user)
    return people


async def active_people(
    session: AsyncSession, units: list[str], months: list[str]
) -> dict[str, set[str]]:
    """Per unit, the users who signed in during any of ``months`` (after the roll-up)."""
    rows = await session.execute(
        select(UsageActive.unit, UsageActive.user)
        .where(UsageActive.unit.in_(units), UsageActive.month.in_(months))
        .distinct()
    )
    people: dict[str, set[str]] = defaultdict(set)
    for unit, user in rows:
        people[unit].add(user)
    return people


async def active_users(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    """Distinct people per unit who signed in between ``start`` and ``end``."""
    rows = await session.execute(
        select(UsageEvent.unit, func.count(func.distinct(UsageEvent.user)))
        .where(
            UsageEvent.kind == "login",
            UsageEvent.user != "",
            UsageEvent.at >= start,
            UsageEvent.at < end,
        )
        .group_by(UsageEvent.unit)
    )
    return {unit: int(count) for unit, count in rows}
