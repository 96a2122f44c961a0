"""A department's part in an incoming document: the leader gives it to a department (phòng,
ban) as lead or co-handler, and the department's head shares it out among the department's
members (Decree 30/2020 Art. 23-24: the unit or person named handles it, within the deadline;
inside a department its head assigns the work).

Only the head of the department given the part shares it out, only to members of that
department cleared for the document's level; sharing it out again replaces what they gave
before. The part ends when the last of its members finishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Forbidden, Invalid
from keys.models import Department, User
from keys.signin import StaffMember
from office.documents import refusals, routing_refusals
from office.documents.access import visible_to
from office.documents.handlers import display_name
from office.documents.models import INCOMING, Assignment, DepartmentAssignment, Document
from office.documents.recall import AGREED, not_recalled
from office.documents.records import log_event, visible_document

LEAD, CO = "lead", "co"
OPEN, DONE, REPLACED = "open", "done", "replaced"
HOME_ROWS = 20


@dataclass(frozen=True)
class PartView:
    """A department's part as the document's page shows it."""

    id: int
    department_id: int
    name: str
    part: str
    state: str
    due_on: date
    head_id: int | None
    overdue: bool


@dataclass(frozen=True)
class WaitingPart:
    """A part waiting for its department's head to share it out (their home page)."""

    document_id: int
    summary: str
    department: str
    part: str
    due_on: date
    urgency: int


async def parts_of(session: AsyncSession, document_id: int, today: date) -> list[PartView]:
    rows = await session.execute(
        select(DepartmentAssignment, Department.name, Department.head_user_id)
        .join(Department, Department.id == DepartmentAssignment.department_id)
        .where(
            DepartmentAssignment.document_id == document_id,
            DepartmentAssignment.state != REPLACED,
        )
        .order_by(DepartmentAssignment.part.desc(), DepartmentAssignment.id)
    )
    return [
        PartView(
            part.id,
            part.department_id,
            name,
            part.part,
            part.state,
            part.due_on,
            head,
            part.state == OPEN and part.due_on < today,
        )
        for part, name, head in rows
    ]


async def members(
    session: AsyncSession, department_id: int, unit: str, secrecy: int
) -> list[tuple[int, str]]:
    """Whom the head may give the part to: active members cleared for the document's level."""
    rows = await session.execute(
        select(User.id, User.full_name, User.username)
        .where(
            User.department_id == department_id,
            User.unit_code == unit,
            User.disabled.is_(False),
            User.role != "admin",
            User.clearance >= secrecy,
        )
        .order_by(User.full_name, User.username)
    )
    return [(row.id, row.full_name or row.username) for row in rows]


async def _member(
    session: AsyncSession, department: Department, user_id: int, secrecy: int
) -> User:
    user = await session.get(User, user_id)
    if (
        user is None
        or user.department_id != department.id
        or user.unit_code != department.unit_code
        or user.disabled
        or user.role == "admin"
        or user.clearance < secrecy
    ):
        name = display_name(user) if user is not None else str(user_id)
        raise Invalid(routing_refusals.NOT_A_MEMBER(name=name), code="bad-handler")
    return user


async def share_out(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    part_id: int,
    *,
    lead_id: int,
    co_ids: Sequence[int],
    now: datetime,
) -> None:
    """Phân công trong phòng: the head gives the department's part to one member (who takes
    its role: chủ trì when the department leads) and any others as co-handlers, with the
    part's deadline."""
    document = await visible_document(session, staff, document_id, INCOMING)
    part = await session.get(DepartmentAssignment, part_id)
    if part is None or part.document_id != document.id:
        raise Invalid(routing_refusals.BAD_DEPARTMENT(), code="bad-handler")
    department = await session.get(Department, part.department_id)
    if department is None or department.head_user_id != staff.id:
        raise Forbidden(routing_refusals.NOT_DEPARTMENT_HEAD(), code="forbidden")
    if document.recall_state == AGREED:
        raise Conflict(refusals.RECALLED(), code="recalled")
    if part.state != OPEN or document.state != "assigned":
        raise Conflict(routing_refusals.PART_CLOSED(), code="stale")
    if lead_id in co_ids:
        raise Invalid(refusals.LEAD_ALSO_CO(), code="bad-handler")
    if len(set(co_ids)) != len(co_ids):
        raise Invalid(refusals.CO_TWICE(), code="bad-handler")
    chosen = [await _member(session, department, lead_id, document.secrecy)]
    chosen += [await _member(session, department, co, document.secrecy) for co in co_ids]
    await session.execute(
        update(Assignment)
        .where(Assignment.department_assignment_id == part.id, Assignment.state == OPEN)
        .values(state=REPLACED)
        .execution_options(synchronize_session=False)
    )
    for index, user in enumerate(chosen):
        session.add(
            Assignment(
                document_id=document.id,
                user_id=user.id,
                part=part.part if index == 0 else CO,
                due_on=part.due_on,
                assigned_by=staff.id,
                assigned_at=now,
                department_assignment_id=part.id,
            )
        )
    names = ", ".join(display_name(user) for user in chosen)
    log_event(session, document.id, staff.id, "shared-out", f"{department.name}: {names}", at=now)


async def close_if_done(session: AsyncSession, part_id: int) -> None:
    """The department's part is done once none of the work its head gave is still open."""
    await session.flush()
    still_open = await session.scalar(
        select(
            exists().where(Assignment.department_assignment_id == part_id, Assignment.state == OPEN)
        )
    )
    if not still_open:
        await session.execute(
            update(DepartmentAssignment)
            .where(DepartmentAssignment.id == part_id, DepartmentAssignment.state == OPEN)
            .values(state=DONE)
            .execution_options(synchronize_session=False)
        )


async def waiting_for_head(session: AsyncSession, staff: StaffMember) -> list[WaitingPart]:
    """Parts given to a department ``staff`` heads that they have not shared out yet."""
    given = exists().where(
        Assignment.department_assignment_id == DepartmentAssignment.id,
        Assignment.state == OPEN,
    )
    rows = await session.execute(
        select(
            Document.id,
            Document.summary,
            Department.name,
            DepartmentAssignment.part,
            DepartmentAssignment.due_on,
            Document.urgency,
        )
        .join(DepartmentAssignment, DepartmentAssignment.document_id == Document.id)
        .join(Department, Department.id == DepartmentAssignment.department_id)
        .where(
            Department.head_user_id == staff.id,
            DepartmentAssignment.state == OPEN,
            Document.state == "assigned",
            ~given,
            not_recalled(),
            visible_to(staff),
        )
        .order_by(Document.urgency.desc(), DepartmentAssignment.due_on, Document.id)
        .limit(HOME_ROWS)
    )
    return [WaitingPart(*row) for row in rows]
