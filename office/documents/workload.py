"""What the home page shows a member of staff: their tasks and deadlines, what waits for them
by role (a leader first sees "Văn bản trình tôi", what was presented to them to direct), what
they head or were given to read, and their unit's figures; and the reminders of deadlines that
come near."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keys.signin import StaffMember
from office.documents import department_work, readers
from office.documents.access import visible_to
from office.documents.models import INCOMING, Assignment, Document
from office.documents.recall import REQUESTED, not_recalled
from office.documents.records import log_event
from office.documents.workdays import WorkingCalendar

HOME_ROWS = 20


@dataclass(frozen=True)
class Task:
    document_id: int
    summary: str
    number_symbol: str
    part: str
    due_on: date
    overdue: bool
    due_soon: bool
    urgency: int


@dataclass(frozen=True)
class Waiting:
    document_id: int
    summary: str
    sender_name: str
    urgency: int
    #: Its sender asks for it back: marked until the clerk answers.
    recall_asked: bool = False


@dataclass(frozen=True)
class UnitFigures:
    received_this_year: int
    in_progress: int
    overdue: int
    done_this_year: int


@dataclass(frozen=True)
class Workload:
    tasks: list[Task]
    #: Assignments the leader gave that are due soon or late.
    followed: list[Task]
    #: Văn bản trình tôi: registered, presented to this leader, waiting for their direction.
    presented: list[Waiting]
    queue: list[Waiting]
    #: The clerk's: registered but presented to no leader yet.
    not_presented: list[Waiting]
    #: Parts given to a department this person heads, not shared out yet.
    department_parts: list[department_work.WaitingPart]
    #: Để biết: given to them to read, not marked read yet.
    to_read: list[readers.ToRead]
    figures: UnitFigures


async def my_tasks(
    session: AsyncSession, staff: StaffMember, today: date, soon: date, *, given: bool = False
) -> list[Task]:
    """Open assignments of ``staff``, the most urgent documents first, then by deadline; with
    ``given``, those they gave others that are due soon or late (the leader's reminders)."""
    query = (
        select(Assignment, Document.summary, Document.number_symbol, Document.urgency)
        .join(Document, Document.id == Assignment.document_id)
        .where(Assignment.state == "open", visible_to(staff))
        .order_by(Document.urgency.desc(), Assignment.due_on, Assignment.id)
        .limit(HOME_ROWS)
    )
    if given:
        query = query.where(Assignment.assigned_by == staff.id, Assignment.due_on <= soon)
    else:
        query = query.where(Assignment.user_id == staff.id)
    rows = await session.execute(query)
    return [
        Task(
            assignment.document_id,
            summary,
            number_symbol,
            assignment.part,
            assignment.due_on,
            assignment.due_on < today,
            today <= assignment.due_on <= soon,
            urgency,
        )
        for assignment, summary, number_symbol, urgency in rows
    ]


async def _waiting(
    session: AsyncSession, staff: StaffMember, state: str, *also: ColumnElement[bool]
) -> list[Waiting]:
    rows = await session.scalars(
        select(Document)
        .where(
            Document.direction == INCOMING,
            Document.state == state,
            not_recalled(),
            visible_to(staff),
            *also,
        )
        .order_by(Document.urgency.desc(), Document.id.desc())
        .limit(HOME_ROWS)
    )
    return [
        Waiting(d.id, d.summary, d.sender_name, d.urgency, d.recall_state == REQUESTED)
        for d in rows
    ]


async def presented_to_me(session: AsyncSession, staff: StaffMember) -> list[Waiting]:
    """Văn bản trình tôi: what the clerk presented to this leader and waits for their direction
    (Decree 30/2020 Art. 23); other leaders do not get it here."""
    if staff.role != "leader":
        return []
    return await _waiting(session, staff, "registered", Document.presented_to == staff.id)


async def unit_figures(session: AsyncSession, staff: StaffMember, today: date) -> UnitFigures:
    """Counts over what ``staff`` may see of the unit's incoming register this year."""
    mine = (Document.direction == INCOMING, visible_to(staff))
    this_year = Document.register_year == today.year

    async def count(*conditions: ColumnElement[bool]) -> int:
        return int(
            await session.scalar(select(func.count(Document.id)).where(*mine, *conditions)) or 0
        )

    return UnitFigures(
        received_this_year=await count(this_year),
        in_progress=await count(Document.state == "assigned"),
        overdue=await count(Document.state == "assigned", Document.due_on < today),
        done_this_year=await count(this_year, Document.state == "done"),
    )


async def workload(
    session: AsyncSession, staff: StaffMember, calendar: WorkingCalendar, today: date, days: int
) -> Workload:
    soon = calendar.add_working_days(today, days)
    return Workload(
        tasks=await my_tasks(session, staff, today, soon),
        followed=(
            await my_tasks(session, staff, today, soon, given=True)
            if staff.role == "leader"
            else []
        ),
        presented=await presented_to_me(session, staff),
        queue=await _waiting(session, staff, "received") if staff.role == "clerk" else [],
        not_presented=(
            await _waiting(session, staff, "registered", Document.presented_to.is_(None))
            if staff.role == "clerk"
            else []
        ),
        department_parts=await department_work.waiting_for_head(session, staff),
        to_read=await readers.unread(session, staff),
        figures=await unit_figures(session, staff, today),
    )


async def remind_due(
    session: AsyncSession, calendar: WorkingCalendar, today: date, days: int, now: datetime
) -> int:
    """Log a reminder on each open assignment whose deadline is ``days`` working days away or
    past, once a day: the handler sees it on their home page and the document's history shows
    who was reminded, and when, for the leader who assigned it.

    Several node processes run this round at once: on PostgreSQL the rows are locked until
    the caller commits and another round skips them (and, once committed, no longer matches
    them), so each assignment is reminded once a day, not once per process.
    """
    not_reminded_today = (Assignment.reminded_on.is_(None)) | (Assignment.reminded_on < today)
    waiting = await session.scalar(
        select(Assignment.id).where(Assignment.state == "open", not_reminded_today).limit(1)
    )
    if waiting is None:
        # Nothing to remind: the calendar (the holidays package, 17 MiB resident) is not
        # loaded for an answer that cannot change, every round, on a node at rest.
        return 0
    horizon = calendar.add_working_days(today, days)
    due = await session.scalars(
        select(Assignment)
        .where(
            Assignment.state == "open",
            Assignment.due_on <= horizon,
            not_reminded_today,
        )
        .order_by(Assignment.id)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for assignment in due:
        assignment.reminded_on = today
        late = "quá hạn" if assignment.due_on < today else "sắp đến hạn"
        log_event(
            session,
            assignment.document_id,
            None,
            "reminded",
            f"{late} {assignment.due_on:%d/%m/%Y}",
            at=now,
        )
        count += 1
    return count
