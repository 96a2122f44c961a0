"""Ý kiến chỉ đạo and phân công: the leader an incoming document was presented to writes the
direction and names who leads (a person or a department), who helps (people and departments)
and the deadline in working days (Decree 30/2020 Art. 23, point 2 and 4: the competent person
gives the direction, names the lead and co-handling units or persons and the deadline).
Directing again replaces the open assignments, a department's included.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Forbidden, Invalid
from keys.models import User
from keys.signin import StaffMember
from office.documents import access, handlers, refusals, routing_refusals
from office.documents.handlers import DEPARTMENT, PERSON, Handler
from office.documents.incoming import ASSIGNED, CO, LEAD, notices_for, refuse_recalled
from office.documents.models import INCOMING, Assignment, DepartmentAssignment, Document
from office.documents.records import StatusNotice, change, log_event, visible_document
from office.documents.workdays import WorkingCalendar

OPEN, REPLACED = "open", "replaced"


async def refuse_unless_presented_to(
    session: AsyncSession, staff: StaffMember, document: Document
) -> None:
    """Only the leader the document was presented to directs it (and adds its readers)."""
    access.require(access.may_direct(staff), refusals.TO_DIRECT)
    if document.presented_to is None:
        raise Forbidden(routing_refusals.NOT_PRESENTED(), code="not-presented")
    if document.presented_to != staff.id:
        leader = await session.get(User, document.presented_to)
        name = handlers.display_name(leader) if leader is not None else "?"
        raise Forbidden(routing_refusals.PRESENTED_TO_ANOTHER(name=name), code="not-presented")


async def current_handlers(session: AsyncSession, document_id: int) -> list[tuple[str, Handler]]:
    """The open parts the direction gave (not those a department's head gave its members):
    what directing again starts from."""
    people = await session.execute(
        select(Assignment.part, Assignment.user_id).where(
            Assignment.document_id == document_id,
            Assignment.state == OPEN,
            Assignment.department_assignment_id.is_(None),
        )
    )
    departments = await session.execute(
        select(DepartmentAssignment.part, DepartmentAssignment.department_id).where(
            DepartmentAssignment.document_id == document_id,
            DepartmentAssignment.state == OPEN,
        )
    )
    return [(part, Handler(PERSON, user_id)) for part, user_id in people] + [
        (part, Handler(DEPARTMENT, department_id)) for part, department_id in departments
    ]


async def direct(
    session: AsyncSession,
    staff: StaffMember,
    calendar: WorkingCalendar,
    document_id: int,
    version: int,
    *,
    note: str,
    lead: Handler,
    co: Sequence[Handler],
    working_days: int,
    today: date,
    now: datetime,
) -> list[StatusNotice]:
    document = await visible_document(session, staff, document_id, INCOMING)
    await refuse_unless_presented_to(session, staff, document)
    refuse_recalled(document)
    if document.state not in ("registered", "assigned"):
        raise Conflict(refusals.NOT_TO_DIRECT(), code="stale")
    if lead in co:
        raise Invalid(refusals.LEAD_ALSO_CO(), code="bad-handler")
    if len(set(co)) != len(co):
        raise Invalid(refusals.CO_TWICE(), code="bad-handler")
    due = calendar.add_working_days(today, working_days)
    chosen = [lead, *co]
    names = [await handlers.check(session, staff.unit, h, document.secrecy) for h in chosen]
    await change(session, document, version, state="assigned", due_on=due, direction_note=note)
    for table in (Assignment, DepartmentAssignment):
        await session.execute(
            update(table)
            .where(table.document_id == document.id, table.state == OPEN)
            .values(state=REPLACED)
            .execution_options(synchronize_session=False)
        )
    for index, handler in enumerate(chosen):
        values = {
            "document_id": document.id,
            "part": LEAD if index == 0 else CO,
            "due_on": due,
            "assigned_by": staff.id,
            "assigned_at": now,
        }
        if handler.kind == DEPARTMENT:
            session.add(DepartmentAssignment(department_id=handler.id, **values))
        else:
            session.add(Assignment(user_id=handler.id, **values))
    log_event(session, document.id, staff.id, "directed", note, at=now)
    log_event(
        session,
        document.id,
        staff.id,
        "assigned",
        f"{', '.join(names)}; hạn {due:%d/%m/%Y}",
        at=now,
    )
    return notices_for(document, ASSIGNED, f"Hạn xử lý {due:%d/%m/%Y}")
