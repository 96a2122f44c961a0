"""A unit's figures month by month: counted here for the units this node hosts, or as another
node reported them.

Counted figures come from the usage ledger's roll-ups (accesses, bytes, mail) and from the
document register's step log (documents sent, received, registered, done) and deadlines
(overdue). People are kept as pseudonyms (a hash of unit and username), so that a distinct
count over any months can be made from what a unit sent, and no username leaves its node.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.ledger import VIETNAM, active_by_month, monthly_totals
from office.documents.models import INCOMING, Document, DocumentEvent
from office.reports.models import ReportedMonth
from office.reports.summary import Usage

#: Ledger kinds whose bytes are information exchanged, as received or as sent.
INBOUND_KINDS = ("dispatch-in", "mail-in")
OUTBOUND_KINDS = ("dispatch-out", "mail-out")
#: Register steps counted, and the figure each adds to.
STEP_FIGURES = {
    "received": "documents_received",
    "registered": "incoming_registered",
    "entered": "incoming_registered",
    "done": "incoming_done",
    "sent": "documents_sent",
}
USAGE_FIELDS = tuple(f.name for f in fields(Usage))


def pseudonym(unit: str, user: str) -> str:
    """Stands for one person in a report: the same person gives the same value, month after
    month, and the value does not give the username back."""
    return hashlib.sha256(f"congvan-report:{unit}:{user}".encode()).hexdigest()[:20]


@dataclass
class UnitMonths:
    """One unit's figures per ``YYYY-MM`` month, and the people active in each."""

    usage: dict[str, Usage] = field(default_factory=dict)
    people: dict[str, set[str]] = field(default_factory=dict)

    def total(self, months: tuple[str, ...]) -> tuple[Usage, int]:
        """The figures summed over ``months``, and the distinct people active in them."""
        usage = sum((self.usage.get(month, Usage()) for month in months), Usage())
        people: set[str] = set()
        for month in months:
            people |= self.people.get(month, set())
        return usage, len(people)


def _month_bounds(months: tuple[str, ...]) -> tuple[str, str]:
    """The first day of the first month and the first day after the last, as ISO dates."""
    last = months[-1]
    year, month = int(last[:4]), int(last[5:7])
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return f"{months[0]}-01", end.isoformat()


def _local_instant(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=VIETNAM).astimezone(UTC)


async def counted_months(
    session: AsyncSession, units: list[str], months: tuple[str, ...], today: date
) -> dict[str, UnitMonths]:
    """Figures of the hosted ``units`` for ``months``, counted from this node's own records
    (the ledger as of its last roll-up)."""
    result = {unit: UnitMonths() for unit in units}
    if not units or not months:
        return result
    first_day, end_day = _month_bounds(months)
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(USAGE_FIELDS, 0)
    )
    for month, unit, kind, events, size in await monthly_totals(session, units, first_day, end_day):
        figures = sums[(unit, month)]
        if kind == "login":
            figures["accesses"] += events
        elif kind in INBOUND_KINDS:
            figures["bytes_in"] += size
        elif kind in OUTBOUND_KINDS:
            figures["bytes_out"] += size
        if kind == "mail-out":
            figures["mails_sent"] += events
    start, end = _local_instant(first_day), _local_instant(end_day)
    steps = await session.execute(
        select(Document.unit_code, DocumentEvent.action, DocumentEvent.at)
        .join(Document, Document.id == DocumentEvent.document_id)
        .where(
            Document.unit_code.in_(units),
            DocumentEvent.action.in_(tuple(STEP_FIGURES)),
            DocumentEvent.at >= start,
            DocumentEvent.at < end,
        )
    )
    for unit, action, at in steps:
        month = at.astimezone(VIETNAM).strftime("%Y-%m")
        sums[(unit, month)][STEP_FIGURES[action]] += 1
    for unit, month in await _overdue(session, units, first_day, min(end_day, today.isoformat())):
        sums[(unit, month)]["incoming_overdue"] += 1
    for (unit, month), figures in sums.items():
        result[unit].usage[month] = Usage(**figures)
    for unit, users in (await _people(session, units, months)).items():
        result[unit].people = users
    return result


async def _people(
    session: AsyncSession, units: list[str], months: tuple[str, ...]
) -> dict[str, dict[str, set[str]]]:
    people: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for (unit, month), users in (await active_by_month(session, units, list(months))).items():
        people[unit][month] = {pseudonym(unit, user) for user in users}
    return people


async def _overdue(
    session: AsyncSession, units: list[str], first_day: str, end_day: str
) -> list[tuple[str, str]]:
    """(unit, month of the deadline) of each incoming document whose deadline passed in the
    range without it being done by then."""
    done_at = (
        select(func.min(DocumentEvent.at))
        .where(DocumentEvent.document_id == Document.id, DocumentEvent.action == "done")
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Document.unit_code, Document.due_on, done_at).where(
            Document.unit_code.in_(units),
            Document.direction == INCOMING,
            Document.due_on >= date.fromisoformat(first_day),
            Document.due_on < date.fromisoformat(end_day),
        )
    )
    return [
        (unit, due_on.strftime("%Y-%m"))
        for unit, due_on, done in rows
        if due_on is not None and (done is None or done.astimezone(VIETNAM).date() > due_on)
    ]


async def reported_months(
    session: AsyncSession, units: list[str], months: tuple[str, ...]
) -> dict[str, UnitMonths]:
    """Figures of other nodes' ``units`` for ``months``, as their latest reports gave them."""
    result = {unit: UnitMonths() for unit in units}
    if not units or not months:
        return result
    rows = await session.scalars(
        select(ReportedMonth).where(
            ReportedMonth.unit_code.in_(units), ReportedMonth.month.in_(months)
        )
    )
    for row in rows:
        months_of = result[row.unit_code]
        months_of.usage[row.month] = Usage(**{name: getattr(row, name) for name in USAGE_FIELDS})
        months_of.people[row.month] = set(json.loads(row.active_people))
    return result


def month_payload(month: str, unit_months: UnitMonths) -> dict[str, object]:
    """One month as a ``report`` dispatch carries it."""
    usage = unit_months.usage.get(month, Usage())
    payload: dict[str, object] = {name: getattr(usage, name) for name in USAGE_FIELDS}
    payload["month"] = month
    payload["active_people"] = sorted(unit_months.people.get(month, set()))
    return payload


class NegativeFigure(ValueError):
    """A month's figure in a dispatch that is not a whole number >= 0; ``name`` is its field."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} phải là số nguyên không âm")
        self.name = name


def usage_from_payload(raw: dict[str, object]) -> Usage:
    """Read a month's figures from a dispatch; every figure must be a whole number >= 0."""
    values: dict[str, int] = {}
    for name in USAGE_FIELDS:
        value = raw.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise NegativeFigure(name)
        values[name] = value
    return replace(Usage(), **values)
