"""Reading the schedules as the pages and the print show them: the unit's week, a person's
week, and the weeks received from the unit above. Staff see a week once it is published;
clerks and leaders also while it is drafted, and they alone see the weeks received. Nobody
sees a line above their clearance. The calendar feeds apply the same rule (:func:`shown_weeks`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keys.models import User
from keys.signin import StaffMember
from office.schedules.models import (
    CANCELLED,
    PUBLISHED,
    ScheduleAttendee,
    ScheduleEntry,
    ScheduleWeek,
)
from office.schedules.rules import WEEK, Reader, may_edit, may_see, sees_received


@dataclass(frozen=True)
class EntryView:
    id: int
    uid: str
    day: date
    start_time: time
    end_time: time
    content: str
    chair: str
    chair_user_id: int | None
    chair_text: str
    attendee_ids: tuple[int, ...]
    attendees: str
    attendees_text: str
    place: str
    prepared_by: str
    notes: str
    secrecy: int
    cancelled: bool
    adjusted: bool
    sequence: int
    document_id: int | None


@dataclass(frozen=True)
class WeekView:
    unit_code: str
    week_start: date
    source_unit: str = ""
    state: str = ""
    version: int = 0
    revision: int = 0
    published_at: datetime | None = None
    entries: list[EntryView] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return bool(self.state)

    def by_day(self) -> list[tuple[date, list[EntryView]]]:
        days: dict[date, list[EntryView]] = {}
        for entry in self.entries:
            days.setdefault(entry.day, []).append(entry)
        return sorted(days.items())


def shown_weeks(reader: Reader) -> ColumnElement[bool]:
    """A WHERE clause on :class:`ScheduleWeek` that keeps the weeks the schedule page shows
    ``reader``: the unit's own week once published (while drafted too, to its editors), and
    the weeks received from the units above, to the roles that see them. A calendar feed
    applies this clause too, so a phone never shows what the page hides."""
    if not may_see(reader):
        return false()
    own = ScheduleWeek.source_unit == ""
    if not may_edit(reader):
        own = and_(own, ScheduleWeek.state == PUBLISHED)
    kinds = [own]
    if sees_received(reader):
        kinds.append(ScheduleWeek.source_unit != "")
    return and_(ScheduleWeek.unit_code == reader.unit, or_(*kinds))


async def names(session: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await session.execute(
        select(User.id, User.full_name, User.username).where(User.id.in_(user_ids))
    )
    return {row.id: row.full_name or row.username for row in rows.all()}


@dataclass(frozen=True)
class Colleague:
    """A member of the unit who may chair or attend a line, if cleared for its secrecy."""

    id: int
    name: str
    clearance: int


async def colleagues(session: AsyncSession, unit: str) -> list[Colleague]:
    """The unit's active staff, who may chair or attend, by name."""
    rows = await session.execute(
        select(User.id, User.full_name, User.username, User.clearance)
        .where(User.unit_code == unit, User.disabled.is_(False), User.role != "admin")
        .order_by(User.full_name, User.username)
    )
    return [Colleague(row.id, row.full_name or row.username, row.clearance) for row in rows.all()]


async def entry_views(
    session: AsyncSession, entries: list[ScheduleEntry], clearance: int
) -> list[EntryView]:
    entries = [entry for entry in entries if entry.secrecy <= clearance]
    ids = [entry.id for entry in entries]
    attending: dict[int, list[int]] = {}
    if ids:
        rows = await session.execute(
            select(ScheduleAttendee.entry_id, ScheduleAttendee.user_id).where(
                ScheduleAttendee.entry_id.in_(ids)
            )
        )
        for entry_id, user_id in rows.all():
            attending.setdefault(entry_id, []).append(user_id)
    people = {u for users in attending.values() for u in users}
    people |= {entry.chair_user_id for entry in entries if entry.chair_user_id is not None}
    named = await names(session, people)
    views = []
    for entry in entries:
        chair = named.get(entry.chair_user_id, "") if entry.chair_user_id else ""
        attendee_ids = tuple(sorted(attending.get(entry.id, []), key=lambda u: named.get(u, "")))
        listed = [named.get(u, "") for u in attendee_ids]
        views.append(
            EntryView(
                id=entry.id,
                uid=entry.uid,
                day=entry.day,
                start_time=entry.start_time,
                end_time=entry.end_time,
                content=entry.content,
                chair=", ".join(part for part in (chair, entry.chair_text) if part),
                chair_user_id=entry.chair_user_id,
                chair_text=entry.chair_text,
                attendee_ids=attendee_ids,
                attendees="; ".join(part for part in (*listed, entry.attendees_text) if part),
                attendees_text=entry.attendees_text,
                place=entry.place,
                prepared_by=entry.prepared_by,
                notes=entry.notes,
                secrecy=entry.secrecy,
                cancelled=entry.status == CANCELLED,
                adjusted=entry.adjusted,
                sequence=entry.sequence,
                document_id=entry.document_id,
            )
        )
    return views


async def _week_view(session: AsyncSession, week: ScheduleWeek, clearance: int) -> WeekView:
    entries = await session.scalars(
        select(ScheduleEntry)
        .where(ScheduleEntry.week_id == week.id)
        .order_by(ScheduleEntry.day, ScheduleEntry.start_time, ScheduleEntry.id)
    )
    return WeekView(
        unit_code=week.unit_code,
        week_start=week.week_start,
        source_unit=week.source_unit,
        state=week.state,
        version=week.version,
        revision=week.revision,
        published_at=week.published_at,
        entries=await entry_views(session, list(entries.all()), clearance),
    )


async def unit_week(session: AsyncSession, staff: StaffMember, week_start: date) -> WeekView:
    """The staff's unit's own week; empty (no state) when there is none they may see."""
    week = await session.scalar(
        select(ScheduleWeek).where(
            shown_weeks(staff),
            ScheduleWeek.week_start == week_start,
            ScheduleWeek.source_unit == "",
        )
    )
    if week is None:
        return WeekView(staff.unit, week_start)
    return await _week_view(session, week, staff.clearance)


async def received_weeks(
    session: AsyncSession, staff: StaffMember, week_start: date
) -> list[WeekView]:
    """The schedules of the units above for the same week (Lịch Tỉnh uỷ on a district)."""
    weeks = await session.scalars(
        select(ScheduleWeek)
        .where(
            shown_weeks(staff),
            ScheduleWeek.week_start == week_start,
            ScheduleWeek.source_unit != "",
        )
        .order_by(ScheduleWeek.source_unit)
    )
    return [await _week_view(session, week, staff.clearance) for week in weeks.all()]


async def my_week(session: AsyncSession, staff: StaffMember, week_start: date) -> list[EntryView]:
    """Lịch của tôi: the published lines of the unit's week the person chairs or attends."""
    attending = select(ScheduleAttendee.entry_id).where(
        ScheduleAttendee.entry_id == ScheduleEntry.id, ScheduleAttendee.user_id == staff.id
    )
    entries = await session.scalars(
        select(ScheduleEntry)
        .join(ScheduleWeek, ScheduleWeek.id == ScheduleEntry.week_id)
        .where(
            ScheduleWeek.unit_code == staff.unit,
            ScheduleWeek.source_unit == "",
            ScheduleWeek.state == PUBLISHED,
            ScheduleEntry.day >= week_start,
            ScheduleEntry.day < week_start + WEEK,
            or_(ScheduleEntry.chair_user_id == staff.id, attending.exists()),
        )
        .order_by(ScheduleEntry.day, ScheduleEntry.start_time, ScheduleEntry.id)
    )
    return await entry_views(session, list(entries.all()), staff.clearance)


async def entry_for_edit(
    session: AsyncSession, staff: StaffMember, entry_id: int
) -> tuple[ScheduleWeek, EntryView] | None:
    """A line of the unit's own week, for its edit form."""
    entry = await session.get(ScheduleEntry, entry_id)
    if entry is None or entry.secrecy > staff.clearance:
        return None
    week = await session.get(ScheduleWeek, entry.week_id)
    if week is None or week.unit_code != staff.unit or week.source_unit:
        return None
    [view] = await entry_views(session, [entry], staff.clearance)
    return week, view
