"""Each person's part in their unit's incoming documents, for the leader who follows the unit's
work (Decree 30/2020 Art. 24: the lead and co-handlers each have their part and its deadline,
and the head of the agency follows that they keep them).

Counted from the assignments (phiếu xử lý) on this node only: a person's figures never leave
it, not even inside a ``figures`` dispatch. The counts take in every document, as the unit's
figures do; the list of one person's work names only what the reader may see
(:func:`office.documents.access.visible_to`) and says of the rest only that a secret document
is there, with its deadline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.ledger import VIETNAM
from keys.models import User
from keys.signin import StaffMember
from office.documents.access import visible_to
from office.documents.handlers import display_name
from office.documents.models import INCOMING, Assignment, Document
from office.documents.recall import not_recalled

OPEN, DONE = "open", "done"


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    title: str


@dataclass(frozen=True)
class PersonWork:
    """One person's open parts now, and the parts they finished this month."""

    person: Person
    open: int = 0
    overdue: int = 0
    #: The deadline of their oldest overdue part; None when none is overdue.
    oldest_overdue: date | None = None
    done: int = 0
    done_late: int = 0


@dataclass(frozen=True)
class OpenPart:
    """An open part of a document: named when the reader may see the document, else only
    counted ("Văn bản mật"), with no number, summary or link."""

    document_id: int | None
    visible: bool
    number_symbol: str
    summary: str
    part: str
    due_on: date
    #: Days past the deadline (calendar days); 0 when not overdue.
    late_days: int


def _of_unit(unit: str) -> tuple[ColumnElement[bool], ...]:
    return (
        Document.id == Assignment.document_id,
        Document.unit_code == unit,
        Document.direction == INCOMING,
        not_recalled(),
    )


async def people_of(session: AsyncSession, unit: str) -> list[Person]:
    """The unit's people who may be given a part (not its administrators), by name; a disabled
    account is left out unless it still holds an open part (work stuck with someone gone)."""
    holding = (
        select(Assignment.id)
        .join(Document, and_(*_of_unit(unit)))
        .where(Assignment.user_id == User.id, Assignment.state == OPEN)
        .exists()
    )
    users = await session.scalars(
        select(User)
        .where(User.unit_code == unit, User.role != "admin", or_(~User.disabled, holding))
        .order_by(User.full_name, User.username)
    )
    return [Person(user.id, display_name(user), user.title) for user in users]


async def person_in(session: AsyncSession, unit: str, user_id: int) -> Person | None:
    """``user_id`` when they are one of :func:`people_of` ``unit``; None otherwise (another
    unit's person, an administrator, nobody)."""
    found = [person for person in await people_of(session, unit) if person.user_id == user_id]
    return found[0] if found else None


async def people_work(
    session: AsyncSession, unit: str, today: date, month_start: datetime
) -> list[PersonWork]:
    """Every one of :func:`people_of` ``unit`` with their open parts (overdue when past the
    deadline, Vietnam's day) and the parts they finished since ``month_start``."""
    people = await people_of(session, unit)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    oldest: dict[int, date] = {}
    opened = await session.execute(
        select(Assignment.user_id, Assignment.due_on)
        .join(Document, and_(*_of_unit(unit)))
        .where(Assignment.state == OPEN)
    )
    for user_id, due_on in opened:
        counts[user_id]["open"] += 1
        if due_on < today:
            counts[user_id]["overdue"] += 1
            oldest[user_id] = min(due_on, oldest.get(user_id, due_on))
    finished = await session.execute(
        select(Assignment.user_id, Assignment.due_on, Assignment.done_at)
        .join(Document, and_(*_of_unit(unit)))
        .where(Assignment.state == DONE, Assignment.done_at >= month_start)
    )
    for user_id, due_on, done_at in finished:
        counts[user_id]["done"] += 1
        if done_at is not None and done_at.astimezone(VIETNAM).date() > due_on:
            counts[user_id]["done_late"] += 1
    return [
        PersonWork(
            person,
            open=counts[person.user_id]["open"],
            overdue=counts[person.user_id]["overdue"],
            oldest_overdue=oldest.get(person.user_id),
            done=counts[person.user_id]["done"],
            done_late=counts[person.user_id]["done_late"],
        )
        for person in people
    ]


async def open_parts(
    session: AsyncSession, reader: StaffMember, unit: str, user_id: int, today: date
) -> list[OpenPart]:
    """``user_id``'s open parts in ``unit``'s documents, the oldest deadline first; what
    ``reader`` may not see is listed as a secret document, without its number or summary."""
    seen = case((visible_to(reader), True), else_=False)
    rows = await session.execute(
        select(
            Document.id,
            Document.number_symbol,
            Document.summary,
            Assignment.part,
            Assignment.due_on,
            seen,
        )
        .join(Document, and_(*_of_unit(unit)))
        .where(Assignment.user_id == user_id, Assignment.state == OPEN)
        .order_by(Assignment.due_on, Assignment.id)
    )
    return [
        OpenPart(
            document_id=document_id if visible else None,
            visible=bool(visible),
            number_symbol=number_symbol if visible else "",
            summary=summary if visible else "",
            part=part,
            due_on=due_on,
            late_days=max((today - due_on).days, 0),
        )
        for document_id, number_symbol, summary, part, due_on, visible in rows
    ]
