"""Calendar feeds (lịch trên điện thoại): a unit's published schedule, or one person's entries,
as an iCalendar file (RFC 5545) at a secret URL a calendar app subscribes to.

A calendar app cannot sign in, so the URL's token is the credential: only its SHA-256 is kept,
renewing revokes the old one, and a feed shows only what its owner may see now (the owner's
role, clearance and account state are read at every fetch, not when the token was issued):
the published part of what the schedule page shows them, by the page's own rule. A UID
names an entry for good, on every node that holds a copy; SEQUENCE follows the entry's
changes, so a calendar app replaces what it showed instead of adding a second event.

A secret line (Mật, Tối mật, Tuyệt mật) goes into a feed only as "Lịch mật" and its time: a
feed travels over the Internet to a phone, and the 2018 Law on Protection of State Secrets
(29/2018/QH14) counts an activity and a place among the forms a state secret takes (Art. 2(1))
and forbids transmitting one over information or telecommunication means outside the cipher
service (Art. 5(6)). Its title, place, chair, attendees and notes never enter the feed; the
schedule page still shows them to whoever is cleared for them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from keys.models import Unit, User
from office.schedules.models import (
    CANCELLED,
    PERSON_FEED,
    PUBLISHED,
    UNIT_FEED,
    CalendarFeed,
    ScheduleAttendee,
    ScheduleEntry,
    ScheduleWeek,
)
from office.schedules.views import shown_weeks

FEED_SCOPES = (UNIT_FEED, PERSON_FEED)
#: A feed's address: ``/calendar/<token>.ics``, open to whoever holds the token.
FEED_PATH_PREFIX = "/calendar/"
FEED_PATH_SUFFIX = ".ics"
TIME_ZONE = "Asia/Ho_Chi_Minh"
PRODID = "-//congvan//Lich cong tac//VI"
#: What a feed holds around today: recent weeks stay, the coming half-year shows.
WEEKS_BACK = 8
WEEKS_AHEAD = 26
REFRESH = timedelta(hours=1)
#: ``secrets.token_urlsafe(32)``: 43 characters of the URL-safe alphabet.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")

Translate = Callable[..., str]


@dataclass(frozen=True)
class FeedOwner:
    """Whose feed a token opens, as they are now."""

    user_id: int
    full_name: str
    unit_code: str
    unit_name: str
    clearance: int
    scope: str
    role: str

    @property
    def unit(self) -> str:
        return self.unit_code


@dataclass(frozen=True)
class FeedEntry:
    """One event of a feed. A secret line's has its time and states only (:func:`_feed_entry`)."""

    #: The iCalendar UID: the entry's id at the mail domain of the unit whose schedule it is.
    uid: str
    day: date
    start_time: time
    end_time: time
    content: str
    place: str
    chair: str
    attendees: str
    prepared_by: str
    notes: str
    secrecy: int
    cancelled: bool
    sequence: int
    adjusted: bool
    updated_at: datetime


@dataclass(frozen=True)
class ActiveFeed:
    scope: str
    created_at: datetime


def feed_url(base_url: str, token: str) -> str:
    """The address a calendar app subscribes to, on the staff site at ``base_url``."""
    return f"{base_url.rstrip('/')}{FEED_PATH_PREFIX}{token}{FEED_PATH_SUFFIX}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


async def issue_feed(session: AsyncSession, user_id: int, scope: str, now: datetime) -> str:
    """A new secret token for the user's feed of ``scope``; the one it replaces stops working.
    The token is returned once and never stored."""
    if scope not in FEED_SCOPES:
        raise ValueError(f"unknown feed scope {scope!r}")
    # Two renewals at once (two tabs) leave one working token: the second waits on this row.
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())
    await session.execute(
        update(CalendarFeed)
        .where(
            CalendarFeed.user_id == user_id,
            CalendarFeed.scope == scope,
            CalendarFeed.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        CalendarFeed(token_hash=token_hash(token), user_id=user_id, scope=scope, created_at=now)
    )
    await session.flush()
    return token


async def active_feeds(session: AsyncSession, user_id: int) -> dict[str, ActiveFeed]:
    """The user's working feeds by scope (their URLs cannot be shown again: only renewed)."""
    rows = await session.execute(
        select(CalendarFeed.scope, CalendarFeed.created_at).where(
            CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None)
        )
    )
    return {scope: ActiveFeed(scope, created_at) for scope, created_at in rows}


async def feed_owner(session: AsyncSession, token: str) -> FeedOwner | None:
    """The owner and scope of a working token; None for a malformed, unknown or revoked one,
    or one whose owner's account is disabled (the caller answers all of them alike)."""
    if not _TOKEN.fullmatch(token):
        return None
    row = (
        await session.execute(
            select(
                User.id,
                User.full_name,
                User.unit_code,
                Unit.name,
                User.clearance,
                CalendarFeed.scope,
                User.role,
            )
            .join(User, User.id == CalendarFeed.user_id)
            .join(Unit, Unit.code == User.unit_code)
            .where(
                CalendarFeed.token_hash == token_hash(token),
                CalendarFeed.revoked_at.is_(None),
                User.disabled.is_(False),
            )
        )
    ).one_or_none()
    return None if row is None else FeedOwner(*row)


def feed_window(today: date) -> tuple[date, date]:
    """From the Monday ``WEEKS_BACK`` weeks before this week's to the Sunday ``WEEKS_AHEAD``
    weeks after it."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=WEEKS_BACK), monday + timedelta(weeks=WEEKS_AHEAD, days=6)


async def feed_entries(session: AsyncSession, owner: FeedOwner, today: date) -> list[FeedEntry]:
    """The published entries the owner's feed shows, in the feed's window: of the weeks the
    schedule page shows the owner, the whole unit's or those the owner chairs or attends."""
    first, last = feed_window(today)
    chair, origin = aliased(User), aliased(Unit)
    # A received copy keeps the UID its origin gave it: qualified by the origin's domain.
    origin_code = case(
        (ScheduleWeek.source_unit != "", ScheduleWeek.source_unit), else_=ScheduleWeek.unit_code
    )
    query = (
        select(ScheduleEntry, chair.full_name, origin_code, origin.mail_domain)
        .join(ScheduleWeek, ScheduleWeek.id == ScheduleEntry.week_id)
        .outerjoin(chair, chair.id == ScheduleEntry.chair_user_id)
        .outerjoin(origin, origin.code == origin_code)
        .where(
            shown_weeks(owner),
            ScheduleWeek.state == PUBLISHED,
            ScheduleEntry.secrecy <= owner.clearance,
            ScheduleEntry.day.between(first, last),
        )
        .order_by(ScheduleEntry.day, ScheduleEntry.start_time, ScheduleEntry.id)
    )
    if owner.scope != UNIT_FEED:
        attends = exists().where(
            ScheduleAttendee.entry_id == ScheduleEntry.id,
            ScheduleAttendee.user_id == owner.user_id,
        )
        query = query.where((ScheduleEntry.chair_user_id == owner.user_id) | attends)
    return [
        _feed_entry(
            entry,
            chair_name,
            entry.uid if "@" in entry.uid else f"{entry.uid}@{domain or code.lower()}",
        )
        for entry, chair_name, code, domain in (await session.execute(query)).all()
    ]


def _feed_entry(entry: ScheduleEntry, chair_name: str | None, uid: str) -> FeedEntry:
    """The line as a feed carries it: in full, or, for a secret line, its time and states with
    every word of its content left behind (2018 Law on Protection of State Secrets, Art. 5(6))."""
    secret = entry.secrecy > 0
    return FeedEntry(
        uid=uid,
        day=entry.day,
        start_time=entry.start_time,
        end_time=entry.end_time,
        content="" if secret else entry.content,
        place="" if secret else entry.place,
        chair="" if secret else chair_name or entry.chair_text,
        attendees="" if secret else entry.attendees_text,
        prepared_by="" if secret else entry.prepared_by,
        notes="" if secret else entry.notes,
        secrecy=entry.secrecy,
        cancelled=entry.status == CANCELLED,
        sequence=entry.sequence,
        adjusted=entry.adjusted,
        updated_at=entry.updated_at,
    )


def _description(entry: FeedEntry, translate: Translate) -> str:
    """Chair, attendees, who prepares, notes and the line's states; nothing for a secret line,
    whose level and changes would be the only words about it."""
    if entry.secrecy:
        return ""
    lines = [
        translate(f"feeds.ics.{label}", value=value)
        for label, value in (
            ("chair", entry.chair),
            ("attendees", entry.attendees),
            ("prepared_by", entry.prepared_by),
            ("notes", entry.notes),
        )
        if value
    ]
    if entry.adjusted:
        lines.append(translate("feeds.ics.adjusted"))
    if entry.cancelled:
        lines.append(translate("feeds.ics.cancelled"))
    return "\n".join(lines)


def build_calendar(
    owner: FeedOwner,
    entries: list[FeedEntry],
    translate: Translate,
) -> bytes:
    """The feed as an iCalendar file, times in Vietnam's zone with its VTIMEZONE."""
    zone = ZoneInfo(TIME_ZONE)
    name = (
        translate("feeds.ics.unit_calendar", unit=owner.unit_name)
        if owner.scope == UNIT_FEED
        else translate("feeds.ics.person_calendar", name=owner.full_name)
    )
    import icalendar  # loads with the first feed read, not when the node starts (some 7 MiB)

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TIME_ZONE)
    # How often calendar apps should fetch again (RFC 7986; the X- name for Outlook).
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(REFRESH))
    calendar.add_component(icalendar.Timezone.from_tzid(TIME_ZONE))
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", entry.updated_at.astimezone(UTC))
        event.add("last-modified", entry.updated_at.astimezone(UTC))
        event.add("sequence", entry.sequence)
        event.add("dtstart", datetime.combine(entry.day, entry.start_time, zone))
        event.add("dtend", datetime.combine(entry.day, _end(entry), zone))
        summary = translate("feeds.ics.secret") if entry.secrecy else entry.content
        if entry.cancelled:
            summary = translate("feeds.ics.cancelled_summary", summary=summary)
        event.add("summary", summary)
        if entry.place:
            event.add("location", entry.place)
        description = _description(entry, translate)
        if description:
            event.add("description", description)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        if entry.secrecy:
            event.add("class", "CONFIDENTIAL")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def _end(entry: FeedEntry) -> time:
    """An entry written without a real end lasts to its start (an instant), never before it."""
    return entry.end_time if entry.end_time >= entry.start_time else entry.start_time
