"""Tables of the weekly work schedules (lịch công tác tuần) and their calendar feeds.

A unit has one schedule a week (Monday to Sunday). It is drafted, submitted, approved by a
leader and published; a change after publishing raises the schedule's ``version`` and the
entry's ``sequence`` and marks the entry adjusted (điều chỉnh). A cancelled entry stays, marked
cancelled. A schedule received from another unit (the province's, on a district node) is kept
read-only with ``source_unit`` set.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# The tables the foreign keys below name must be on the same metadata.
import keys.models  # noqa: F401
import office.documents.models  # noqa: F401
from config.database import Base, UTCDateTime, utcnow

#: A week's schedule: drafted -> submitted -> approved -> published.
DRAFT, SUBMITTED, APPROVED, PUBLISHED = "draft", "submitted", "approved", "published"
WEEK_STATES = (DRAFT, SUBMITTED, APPROVED, PUBLISHED)
ACTIVE, CANCELLED = "active", "cancelled"
#: A feed shows one unit's published weeks, or one person's entries.
UNIT_FEED, PERSON_FEED = "unit", "person"


class ScheduleWeek(Base):
    """One unit's schedule for the week starting ``week_start`` (a Monday)."""

    __tablename__ = "schedule_weeks"
    __table_args__ = (
        UniqueConstraint("unit_code", "week_start", "source_unit", name="uq_schedule_weeks_week"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The unit whose staff see it: on a district node, the province's schedule is kept under
    #: the district's unit with ``source_unit`` = the province.
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code", ondelete="RESTRICT"))
    week_start: Mapped[date] = mapped_column(Date)
    #: "" for the unit's own schedule; the sending unit's code for one received through exchange.
    source_unit: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(16), default=DRAFT)
    #: Raised at each publishing: 1 for the first, 2 for the first adjusted one...
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: Optimistic lock: a form carries it, and a save with an old one is told someone else
    #: saved first.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    approved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScheduleEntry(Base):
    """One line of the week: when, what, who chairs, who attends, where, who prepares."""

    __tablename__ = "schedule_entries"
    __table_args__ = (Index("ix_schedule_entries_week_day", "week_id", "day", "start_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week_id: Mapped[int] = mapped_column(ForeignKey("schedule_weeks.id", ondelete="CASCADE"))
    #: Stable across versions and nodes: the iCalendar UID.
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    content: Mapped[str] = mapped_column(Text)
    #: Chủ trì: a user of the unit, or a name as written.
    chair_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    chair_text: Mapped[str] = mapped_column(String(255), default="")
    #: Thành phần beyond the users named in ``schedule_attendees``: units and free text.
    attendees_text: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(255), default="")
    #: Đơn vị chuẩn bị.
    prepared_by: Mapped[str] = mapped_column(String(255), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    secrecy: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    #: iCalendar SEQUENCE: raised at each change after the entry was first published.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    #: Điều chỉnh: changed (or added, or cancelled) after the week was first published.
    adjusted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The document (giấy mời) the entry was made from, if any.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScheduleAttendee(Base):
    """A user who attends an entry: their "my week" and their feed show it, and a second
    entry at the same time is a conflict."""

    __tablename__ = "schedule_attendees"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("schedule_entries.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CalendarFeed(Base):
    """A secret feed URL; only its SHA-256 is kept. Renewing revokes the old one."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Whose feed it is: it shows only what this user may see.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: ``unit`` (the user's unit's published schedule) or ``person`` (the user's own entries).
    scope: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
