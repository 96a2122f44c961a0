"""A unit's week: saving and cancelling its lines, and its steps (submit, approve, return).

Every change carries the week's ``revision`` the form was shown with; a change made from an
older one is refused (someone else saved first) and changes nothing. A change to a published
week is a new version at once: the lines it touches are marked điều chỉnh and their
``sequence`` raised, and the caller tells the people concerned (see :class:`Change`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from keys.signin import StaffMember
from office.schedules import refusals
from office.schedules.entries import EntryInput
from office.schedules.models import (
    CANCELLED,
    DRAFT,
    PUBLISHED,
    SUBMITTED,
    ScheduleAttendee,
    ScheduleEntry,
    ScheduleWeek,
)
from office.schedules.rules import may_approve, may_edit, may_submit, require


@dataclass
class Change:
    """What a saved change did, for what follows the commit: notices and re-sending."""

    week_id: int
    unit: str
    week_start: date
    #: The week was published before this change (so it is an adjustment).
    adjusted: bool = False
    #: The week was published by this step or is published and changed.
    publish: bool = False
    #: Users concerned by an adjusted line (its chair and attendees, before and after).
    people: set[int] = field(default_factory=set)
    content: str = ""
    #: The line's secrecy: who is not cleared for it is not told its content.
    secrecy: int = 0
    cancelled: bool = False


async def own_week(session: AsyncSession, unit: str, week_start: date) -> ScheduleWeek | None:
    return await session.scalar(
        select(ScheduleWeek).where(
            ScheduleWeek.unit_code == unit,
            ScheduleWeek.week_start == week_start,
            ScheduleWeek.source_unit == "",
        )
    )


async def _claim(
    session: AsyncSession, unit: str, week_start: date, revision: int, now: datetime
) -> ScheduleWeek:
    """The week at the revision the form showed, its revision raised in this transaction
    (so a second editor from the same revision waits, then finds it changed)."""
    week = await own_week(session, unit, week_start)
    if week is None:
        if revision != 0:
            raise Conflict(refusals.STALE(), code="stale")
        week = ScheduleWeek(unit_code=unit, week_start=week_start, source_unit="", revision=1)
        week.state, week.version, week.note = DRAFT, 0, ""
        session.add(week)
        await session.flush()
        return week
    result = await session.execute(
        update(ScheduleWeek)
        .where(ScheduleWeek.id == week.id, ScheduleWeek.revision == revision)
        .values(revision=revision + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict(refusals.STALE(), code="stale")
    await session.refresh(week)
    return week


def _require_editable(week: ScheduleWeek) -> None:
    if week.state == SUBMITTED:
        raise Invalid(refusals.SUBMITTED(), code="submitted")


async def _people(session: AsyncSession, entry: ScheduleEntry) -> set[int]:
    attendees = await session.scalars(
        select(ScheduleAttendee.user_id).where(ScheduleAttendee.entry_id == entry.id)
    )
    chair = {entry.chair_user_id} if entry.chair_user_id is not None else set()
    return chair | set(attendees.all())


async def save_entry(
    session: AsyncSession,
    staff: StaffMember,
    week_start: date,
    revision: int,
    line: EntryInput,
    now: datetime,
    entry_id: int | None = None,
) -> Change:
    """Add a line to the week (``entry_id`` None) or change one."""
    require(may_edit(staff), refusals.EDITORS_ONLY())
    week = await _claim(session, staff.unit, week_start, revision, now)
    _require_editable(week)
    published = week.state == PUBLISHED
    change = Change(week.id, week.unit_code, week_start, adjusted=published, publish=published)
    if entry_id is None:
        entry = ScheduleEntry(week_id=week.id, uid=uuid.uuid4().hex, sequence=0, status="active")
        entry.document_id = line.document_id
        session.add(entry)
    else:
        entry = await _entry_of(session, staff, week, entry_id)
        if entry.status == CANCELLED:
            raise Invalid(refusals.CANCELLED(), code="cancelled")
        change.people |= await _people(session, entry)
    entry.day, entry.start_time, entry.end_time = line.day, line.start_time, line.end_time
    entry.content, entry.place, entry.prepared_by = line.content, line.place, line.prepared_by
    entry.chair_user_id, entry.chair_text = line.chair_user_id, line.chair_text
    entry.attendees_text, entry.notes, entry.secrecy = line.attendees_text, line.notes, line.secrecy
    entry.updated_at = now
    if published:
        entry.adjusted = True
        entry.sequence = (entry.sequence or 0) + 1
        _republish(week, now)
    await session.flush()
    await session.execute(delete(ScheduleAttendee).where(ScheduleAttendee.entry_id == entry.id))
    session.add_all(ScheduleAttendee(entry_id=entry.id, user_id=u) for u in line.attendee_ids)
    change.people |= line.people
    change.content, change.secrecy = line.content, line.secrecy
    return change


def _republish(week: ScheduleWeek, now: datetime) -> None:
    week.version += 1
    week.published_at = now


async def _entry_of(
    session: AsyncSession, staff: StaffMember, week: ScheduleWeek, entry_id: int
) -> ScheduleEntry:
    entry = await session.get(ScheduleEntry, entry_id)
    if entry is None or entry.week_id != week.id or entry.secrecy > staff.clearance:
        raise NotFound(refusals.NOT_FOUND(), code="not-found")
    return entry


async def cancel_entry(
    session: AsyncSession,
    staff: StaffMember,
    week_start: date,
    revision: int,
    entry_id: int,
    now: datetime,
) -> Change:
    """Hoãn/huỷ: the line stays, marked cancelled; in a draft nobody saw, it simply goes."""
    require(may_edit(staff), refusals.EDITORS_ONLY())
    week = await _claim(session, staff.unit, week_start, revision, now)
    _require_editable(week)
    entry = await _entry_of(session, staff, week, entry_id)
    published = week.state == PUBLISHED
    change = Change(week.id, week.unit_code, week_start, adjusted=published, publish=published)
    change.content, change.secrecy, change.cancelled = entry.content, entry.secrecy, True
    if entry.status == CANCELLED:
        return change
    if week.version == 0:
        await session.delete(entry)
        return change
    change.people = await _people(session, entry)
    entry.status, entry.updated_at = CANCELLED, now
    if published:
        entry.adjusted = True
        entry.sequence += 1
        _republish(week, now)
    return change


async def _step(
    session: AsyncSession, staff: StaffMember, week_start: date, revision: int, now: datetime
) -> ScheduleWeek:
    week = await own_week(session, staff.unit, week_start)
    if week is None:
        raise Invalid(refusals.EMPTY_WEEK(), code="empty-week")
    return await _claim(session, staff.unit, week_start, revision, now)


async def submit(
    session: AsyncSession, staff: StaffMember, week_start: date, revision: int, now: datetime
) -> Change:
    """Trình duyệt: the clerk sends the draft to the leaders."""
    require(may_submit(staff), refusals.CLERKS_SUBMIT())
    week = await _step(session, staff, week_start, revision, now)
    if week.state != DRAFT:
        raise Invalid(refusals.SUBMIT_ONLY_DRAFT(), code="bad-state")
    if not await _has_lines(session, week.id):
        raise Invalid(refusals.NOTHING_TO_SUBMIT(), code="empty-week")
    week.state, week.submitted_by = SUBMITTED, staff.id
    return Change(week.id, week.unit_code, week_start)


async def approve(
    session: AsyncSession, staff: StaffMember, week_start: date, revision: int, now: datetime
) -> Change:
    """Duyệt: the leader approves, and the week is published to the unit's staff."""
    require(may_approve(staff), refusals.LEADERS_APPROVE())
    week = await _step(session, staff, week_start, revision, now)
    if week.state != SUBMITTED:
        raise Invalid(refusals.APPROVE_ONLY_SUBMITTED(), code="bad-state")
    week.state, week.approved_by = PUBLISHED, staff.id
    _republish(week, now)
    return Change(week.id, week.unit_code, week_start, publish=True)


async def send_back(
    session: AsyncSession, staff: StaffMember, week_start: date, revision: int, now: datetime
) -> Change:
    """Trả lại: the leader returns a submitted week to draft for changes."""
    require(may_approve(staff), refusals.LEADERS_RETURN())
    week = await _step(session, staff, week_start, revision, now)
    if week.state != SUBMITTED:
        raise Invalid(refusals.RETURN_ONLY_SUBMITTED(), code="bad-state")
    week.state = DRAFT
    return Change(week.id, week.unit_code, week_start)


async def _has_lines(session: AsyncSession, week_id: int) -> bool:
    found = await session.scalar(
        select(ScheduleEntry.id).where(ScheduleEntry.week_id == week_id).limit(1)
    )
    return found is not None
