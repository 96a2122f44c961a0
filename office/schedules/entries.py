"""One line of the week as a form sends it: checked field by field, each refusal by key (in
:mod:`office.schedules.refusals`); and the clashes a saved line would make (the same person,
or the same room, twice at once), which the form shows as a warning before saving."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid
from config.refusals import Message, Said
from keys.models import User
from office.documents import refusals as document_refusals
from office.documents.fields import SECRECY_LEVELS, day, level, text
from office.schedules import refusals
from office.schedules.models import ACTIVE, ScheduleAttendee, ScheduleEntry, ScheduleWeek
from office.schedules.rules import WEEK
from office.schedules.views import Colleague

CLOCK = re.compile(r"^([01]?\d|2[0-3])[:hH]([0-5]\d)$")
MAX_CONTENT = 2000
MAX_LINE = 255
MAX_ATTENDEES = 2000
MAX_NOTES = 2000


@dataclass(frozen=True)
class EntryInput:
    day: date
    start_time: time
    end_time: time
    content: str
    chair_user_id: int | None
    chair_text: str
    attendee_ids: tuple[int, ...]
    attendees_text: str
    place: str
    prepared_by: str
    notes: str
    secrecy: int
    document_id: int | None

    @property
    def people(self) -> set[int]:
        """Whoever must be there: the chair and the named attendees."""
        chair = {self.chair_user_id} if self.chair_user_id is not None else set()
        return chair | set(self.attendee_ids)


def clock(value: object, label: Message) -> time:
    """``08:00`` (a time input) or ``8h00`` (as staff write it)."""
    found = CLOCK.match(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise Invalid(refusals.BAD_TIME(label=label), code="bad-time")
    return time(int(found.group(1)), int(found.group(2)))


def _user_id(value: object, colleagues: Mapping[int, Colleague], label: Message) -> int:
    try:
        user_id = int(str(value))
    except ValueError:
        user_id = -1
    if user_id not in colleagues:
        raise Invalid(refusals.NOT_OF_THE_UNIT(label=label), code="bad-person")
    return user_id


def _require_cleared(person: Colleague, secrecy: int, label: Message) -> None:
    """Whoever chairs or attends a line is told its content (their week, their feed, the
    notices): the same rule as a document's handler, clearance at least the secrecy."""
    if person.clearance < secrecy:
        raise Invalid(
            refusals.PERSON_NOT_CLEARED(
                label=label, name=person.name, level=document_refusals.SECRECY_LEVEL_NAMES[secrecy]
            ),
            code="person-not-cleared",
        )


def entry_input(
    form: Any,
    week_start: date,
    *,
    max_secrecy: int,
    colleagues: Mapping[int, Colleague],
    document_id: int | None = None,
) -> EntryInput:
    """The line as typed, or a refusal: no content, an end before its start, a day outside
    the week, a chair or attendee not of the unit, a secrecy above the editor's clearance
    or above the clearance of its chair or of an attendee."""
    on = day(form.get("day"), refusals.DAY)
    if on is None:
        raise Invalid(refusals.MISSING_DAY(), code="missing-field")
    if not week_start <= on < week_start + WEEK:
        last = week_start + WEEK - date.resolution
        raise Invalid(
            refusals.OUTSIDE_WEEK(day=on, first=week_start, last=last), code="outside-week"
        )
    start, end = (
        clock(form.get("start_time"), refusals.START_TIME),
        clock(form.get("end_time"), refusals.END_TIME),
    )
    if end <= start:
        raise Invalid(refusals.END_BEFORE_START(end=end, start=start), code="end-before-start")
    chair_raw = form.get("chair_user_id") or ""
    chair_id = _user_id(chair_raw, colleagues, refusals.CHAIR_PERSON) if chair_raw else None
    attendees = tuple(
        dict.fromkeys(
            _user_id(value, colleagues, refusals.ATTENDEE) for value in form.getall("attendee", [])
        )
    )
    secrecy = level(form.get("secrecy"), document_refusals.SECRECY, SECRECY_LEVELS)
    if secrecy > max_secrecy:
        raise Invalid(refusals.ABOVE_CLEARANCE(), code="secrecy")
    if chair_id is not None:
        _require_cleared(colleagues[chair_id], secrecy, refusals.CHAIR_PERSON)
    for attendee in attendees:
        _require_cleared(colleagues[attendee], secrecy, refusals.ATTENDEE)
    return EntryInput(
        day=on,
        start_time=start,
        end_time=end,
        content=text(form.get("content"), refusals.CONTENT, MAX_CONTENT, required=True),
        chair_user_id=chair_id,
        chair_text=text(form.get("chair_text"), refusals.CHAIR, MAX_LINE),
        attendee_ids=attendees,
        attendees_text=text(form.get("attendees_text"), refusals.ATTENDEES, MAX_ATTENDEES),
        place=text(form.get("place"), refusals.PLACE, MAX_LINE),
        prepared_by=text(form.get("prepared_by"), refusals.PREPARED_BY, MAX_LINE),
        notes=text(form.get("notes"), refusals.NOTES, MAX_NOTES),
        secrecy=secrecy,
        document_id=document_id,
    )


def _room(place: str) -> str:
    return " ".join(place.casefold().split())


def _what(content: str, secrecy: int, clearance: int) -> str | Said:
    """A clashing line's content, unless the editor is not cleared for it: then only that
    the time is taken, as the week's page hides the line itself from them."""
    return f": {content[:80]}" if secrecy <= clearance else refusals.SECRET_CONTENT()


async def clashes(
    session: AsyncSession,
    unit: str,
    line: EntryInput,
    clearance: int,
    exclude: int | None = None,
) -> list[Said]:
    """What the line would clash with in the unit's own schedule, as sentences (said in the
    editor's language by the page), told to an editor of ``clearance``."""
    overlapping = (
        select(ScheduleEntry)
        .join(ScheduleWeek, ScheduleWeek.id == ScheduleEntry.week_id)
        .where(
            ScheduleWeek.unit_code == unit,
            ScheduleWeek.source_unit == "",
            ScheduleEntry.status == ACTIVE,
            ScheduleEntry.day == line.day,
            ScheduleEntry.start_time < line.end_time,
            ScheduleEntry.end_time > line.start_time,
        )
    )
    if exclude is not None:
        overlapping = overlapping.where(ScheduleEntry.id != exclude)
    found: list[Said] = []
    people = line.people
    if people:
        attending = select(ScheduleAttendee.entry_id).where(
            ScheduleAttendee.entry_id == ScheduleEntry.id, ScheduleAttendee.user_id.in_(people)
        )
        rows = await session.execute(
            overlapping.where(
                or_(ScheduleEntry.chair_user_id.in_(people), attending.exists())
            ).with_only_columns(
                ScheduleEntry.id,
                ScheduleEntry.start_time,
                ScheduleEntry.content,
                ScheduleEntry.secrecy,
            )
        )
        clashing = rows.all()
        if clashing:
            busy = await _busy_names(session, [row.id for row in clashing], people)
            for row in clashing:
                found.append(
                    refusals.CLASH(
                        who=", ".join(busy.get(row.id, [])),
                        at=row.start_time,
                        what=_what(row.content, row.secrecy, clearance),
                    )
                )
    room = _room(line.place)
    if room:
        rows = await session.execute(
            overlapping.with_only_columns(
                ScheduleEntry.place,
                ScheduleEntry.start_time,
                ScheduleEntry.content,
                ScheduleEntry.secrecy,
            )
        )
        for row in rows.all():
            if _room(row.place) == room:
                found.append(
                    refusals.CLASH(
                        who=row.place,
                        at=row.start_time,
                        what=_what(row.content, row.secrecy, clearance),
                    )
                )
    return found


async def _busy_names(
    session: AsyncSession, entry_ids: list[int], people: set[int]
) -> dict[int, list[str]]:
    """For each clashing line, the names of the people it shares with the new one."""
    rows = await session.execute(
        select(ScheduleEntry.id, User.full_name, User.username)
        .join(
            ScheduleAttendee,
            ScheduleAttendee.entry_id == ScheduleEntry.id,
            isouter=True,
        )
        .join(
            User,
            or_(
                User.id == ScheduleAttendee.user_id,
                User.id == ScheduleEntry.chair_user_id,
            ),
        )
        .where(ScheduleEntry.id.in_(entry_ids), User.id.in_(people))
    )
    names: dict[int, list[str]] = {}
    for entry_id, full_name, username in rows.all():
        name = full_name or username
        if name not in names.setdefault(entry_id, []):
            names[entry_id].append(name)
    return names
