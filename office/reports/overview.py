"""The leaders' overview (Thông tin phục vụ lãnh đạo): each unit under a leader's top unit with
how its documents are being handled, where those figures come from and how old they are.

The units this node hosts are counted live (:func:`office.reports.live.unit_snapshots`); the
others are shown as their node's last ``figures`` dispatch gave them
(:func:`office.reports.live_store.received_snapshots`), with when it arrived. A unit whose
figures are older than twice the interval its node sends them at is stale: its node is down or
cut off, and its figures say how things stood then, not now. A unit never heard from has no
figures at all, never zeros that would read as "nothing to do".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid
from config.settings import ReportSettings
from config.text import fold
from exchange.ledger import VIETNAM
from office.reports import refusals
from office.reports.aggregate import UnitInfo
from office.reports.live import (
    ExchangeHealth,
    IncomingWork,
    MonthWork,
    OutgoingWork,
    UnitSnapshot,
    last_months,
    unit_snapshots,
)
from office.reports.live_store import received_snapshots

#: Where a unit's figures come from: counted here now, a dispatch received, or nowhere yet.
LIVE, RECEIVED, NONE = "live", "received", "none"
#: How often the units below are taken to send their figures when this node's own
#: ``[reports] figures_minutes`` is 0 (a province that sends nothing up): the default.
DEFAULT_FIGURES_MINUTES = 60
ASCENDING, DESCENDING = "asc", "desc"


@dataclass(frozen=True)
class UnitLine:
    """One unit's row: its figures (None when none ever came) and how fresh they are."""

    code: str
    name: str
    snapshot: UnitSnapshot | None
    source: str
    #: When the figures arrived here (now for a hosted unit); None when none ever did.
    received_at: datetime | None
    age: timedelta | None
    stale: bool


def stale_after(settings: ReportSettings) -> timedelta:
    """Twice the sending interval (this node's setting, which the network shares): one
    dispatch late is a slow network, two is a silence."""
    return timedelta(minutes=2 * (settings.figures_minutes or DEFAULT_FIGURES_MINUTES))


async def unit_lines(
    session: AsyncSession,
    units: Iterable[UnitInfo],
    hosted: frozenset[str],
    now: datetime,
    stale: timedelta,
) -> list[UnitLine]:
    """The lines of ``units``, in their order: hosted ones counted now, the others as
    received."""
    units = list(units)
    here = [unit.code for unit in units if unit.code in hosted]
    counted = {snapshot.unit: snapshot for snapshot in await unit_snapshots(session, here, now)}
    received = await received_snapshots(
        session, [unit.code for unit in units if unit.code not in hosted]
    )
    lines = []
    for unit in units:
        if unit.code in counted:
            line = UnitLine(unit.code, unit.name, counted[unit.code], LIVE, now, timedelta(), False)
        elif unit.code in received:
            kept = received[unit.code]
            age = max(now - kept.received_at, timedelta())
            line = UnitLine(
                unit.code, unit.name, kept.snapshot, RECEIVED, kept.received_at, age, age > stale
            )
        else:
            line = UnitLine(unit.code, unit.name, None, NONE, None, None, False)
        lines.append(line)
    return lines


# -- sorting -----------------------------------------------------------------------------------


def _part(part: str, name: str) -> Callable[[UnitSnapshot], int]:
    return lambda snapshot: int(getattr(getattr(snapshot, part), name))


#: The figure columns, in the table's order: key -> the figure of a snapshot.
FIGURES: dict[str, Callable[[UnitSnapshot], int | date | None]] = {
    "received": _part("incoming", "received"),
    "registered": _part("incoming", "registered"),
    "waiting_direction": _part("incoming", "waiting_direction"),
    "in_progress": _part("incoming", "in_progress"),
    "overdue": _part("incoming", "overdue"),
    "oldest_overdue": lambda snapshot: snapshot.oldest_overdue,
    "done": _part("incoming", "done"),
    "done_late": _part("incoming", "done_late"),
    "issued": _part("outgoing", "issued"),
    "delivered": _part("outgoing", "delivered"),
    "recipients_refused": _part("outgoing", "refused"),
    "recipients_waiting": _part("outgoing", "waiting"),
    "stuck": _part("exchange", "stuck"),
    "dispatches_refused": _part("exchange", "refused"),
}
#: Every column a table may be sorted by, and the order its first click asks for: a unit's name
#: A to Z, a figure from the largest, the oldest overdue deadline and the figures' age from the
#: oldest.
SORTABLE: dict[str, str] = {
    "unit": ASCENDING,
    **dict.fromkeys(FIGURES, DESCENDING),
    "oldest_overdue": ASCENDING,
    "age": DESCENDING,
}


def figure(snapshot: UnitSnapshot, column: str) -> int | date | None:
    """The value of one of :data:`FIGURES` (a date for the oldest overdue, or None)."""
    return FIGURES[column](snapshot)


def _sort_value(line: UnitLine, column: str) -> Any:
    if column == "unit":
        return (fold(line.name), line.name)
    if column == "age":
        return line.age
    if line.snapshot is None:
        return None
    return figure(line.snapshot, column)


def check_sort(column: str, order: str) -> tuple[str, str]:
    """The column and order asked for in a page's address ("" column: the directory's order);
    anything else is refused, naming it."""
    if column and column not in SORTABLE:
        raise Invalid(refusals.UNKNOWN_SORT(column=column[:40]), code="dashboard-sort")
    if order not in ("", ASCENDING, DESCENDING):
        raise Invalid(refusals.UNKNOWN_ORDER(order=order[:40]), code="dashboard-sort")
    return column, order or SORTABLE.get(column, ASCENDING)


def sorted_lines(lines: list[UnitLine], column: str, order: str) -> list[UnitLine]:
    """``lines`` by ``column``: the units without the figure (none received, nothing overdue)
    come last either way, in the directory's order; ties keep the directory's order too."""
    if not column:
        return list(lines)
    valued = [line for line in lines if _sort_value(line, column) is not None]
    missing = [line for line in lines if _sort_value(line, column) is None]
    valued.sort(key=lambda line: _sort_value(line, column), reverse=order == DESCENDING)
    return valued + missing


# -- the total ---------------------------------------------------------------------------------


def _summed(kind: type, parts: list[Any]) -> Any:
    """``parts`` (dataclasses of ``kind``, whole-number fields) added up field by field."""
    names = [field.name for field in fields(kind)]
    return kind(**{name: sum(getattr(part, name) for part in parts) for name in names})


def total(lines: list[UnitLine], now: datetime) -> UnitSnapshot:
    """The units that have figures, summed (the oldest overdue is the oldest of all); the
    months are this node's last twelve, each summed from the snapshots that have it (an older
    snapshot lacks the latest months)."""
    snapshots = [line.snapshot for line in lines if line.snapshot is not None]
    oldest = [s.oldest_overdue for s in snapshots if s.oldest_overdue is not None]
    months = []
    for month in last_months(now.astimezone(VIETNAM).date()):
        same = [m for s in snapshots for m in s.months if m.month == month]
        months.append(
            MonthWork(
                month,
                received=sum(m.received for m in same),
                done=sum(m.done for m in same),
                overdue=sum(m.overdue for m in same),
            )
        )
    return UnitSnapshot(
        unit="",
        made_at=now,
        incoming=_summed(IncomingWork, [s.incoming for s in snapshots]),
        oldest_overdue=min(oldest, default=None),
        outgoing=_summed(OutgoingWork, [s.outgoing for s in snapshots]),
        exchange=_summed(ExchangeHealth, [s.exchange for s in snapshots]),
        months=tuple(months),
    )
