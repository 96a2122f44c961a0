"""The demo's week: one published work schedule for a unit, this week, so that the schedule
pages and the calendar feeds have something to show from the first start.

It holds what a real week holds: meetings the leader chairs, some with the clerk or the
specialist attending, one secret line (only the cleared see it) and one cancelled line.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from keys.models import Unit
from office.schedules.models import (
    ACTIVE,
    CANCELLED,
    PUBLISHED,
    ScheduleAttendee,
    ScheduleEntry,
    ScheduleWeek,
)


@dataclass(frozen=True)
class DemoPeople:
    """The unit's demo accounts by role (their user ids)."""

    leader: int
    clerk: int
    staff: int


@dataclass(frozen=True)
class _Line:
    weekday: int
    start: str
    end: str
    content: str
    place: str
    prepared_by: str = ""
    attendees_text: str = ""
    #: Roles (of :class:`DemoPeople`) attending besides the leader, who chairs every line
    #: that names no other chair.
    attending: tuple[str, ...] = ()
    chair_text: str = ""
    secrecy: int = 0
    cancelled: bool = False
    notes: str = ""


def _lines(unit_name: str, year: int) -> tuple[_Line, ...]:
    return (
        _Line(
            0, "07:30", "09:00", f"Giao ban Thường trực {unit_name}", "Phòng họp số 1",
            "Văn phòng", "Thường trực; Chánh Văn phòng", ("clerk",),
        ),
        _Line(
            0, "14:00", "16:30", "Làm việc với Ban Tổ chức về công tác cán bộ",
            "Phòng họp số 2", "Ban Tổ chức", "Lãnh đạo Ban Tổ chức", ("staff",),
        ),
        _Line(
            1, "08:00", "11:30", "Họp Ban Thường vụ cho ý kiến về công tác nhân sự",
            "Phòng họp Ban Thường vụ", "Ban Tổ chức", "Các đồng chí Ủy viên Ban Thường vụ",
            secrecy=2,
        ),
        _Line(
            1, "14:00", "17:00",
            "Hội nghị quán triệt Nghị quyết Hội nghị lần thứ mười Ban Chấp hành Trung ương "
            "Đảng khoá XIII", "Hội trường lớn", "Ban Tuyên giáo",
            "Cán bộ chủ chốt; báo cáo viên", ("clerk", "staff"),
        ),
        _Line(
            2, "07:30", "11:00", "Kiểm tra công tác chuẩn bị đại hội đảng bộ cơ sở",
            "Đảng uỷ xã Cam Thành", "Ban Tổ chức", "Tổ kiểm tra", ("staff",),
            notes="Xe xuất phát lúc 07:00 tại trụ sở.",
        ),
        _Line(
            2, "14:00", "16:00", "Tiếp công dân định kỳ", "Trụ sở Tiếp công dân",
            "Ban Nội chính", "Đại diện Ủy ban Kiểm tra, Ban Dân vận",
        ),
        _Line(
            3, "08:00", "11:00",
            "Làm việc với Ủy ban Kiểm tra về kết quả giám sát quý IV", "Phòng họp số 1",
            "Ủy ban Kiểm tra", "Lãnh đạo Ủy ban Kiểm tra", ("staff",), cancelled=True,
            notes="Hoãn, sẽ bố trí lại vào tuần sau.",
        ),
        _Line(
            3, "14:00", "16:30", f"Duyệt dự thảo báo cáo tổng kết công tác năm {year}",
            "Phòng họp số 2", "Văn phòng", "Chánh Văn phòng; các ban", ("clerk", "staff"),
        ),
        _Line(
            4, "08:00", "10:00", "Họp Ban Chỉ đạo chuyển đổi số", "Phòng họp trực tuyến",
            "Văn phòng", "Thành viên Ban Chỉ đạo", ("staff",),
        ),
        _Line(
            4, "14:00", "16:00", "Giao ban Văn phòng, tổng hợp lịch công tác tuần sau",
            "Phòng họp Văn phòng", "Văn phòng", "Lãnh đạo và chuyên viên Văn phòng",
            ("clerk",), chair_text="Chánh Văn phòng",
        ),
    )  # fmt: skip


async def seed_demo_week(
    session: AsyncSession, unit_code: str, people: DemoPeople, today: date, now: datetime
) -> int:
    """This week's schedule of ``unit_code`` (Monday to Friday), published; its id."""
    unit = await session.get(Unit, unit_code)
    unit_name = unit.name if unit is not None else unit_code
    monday = today - timedelta(days=today.weekday())
    week = ScheduleWeek(
        unit_code=unit_code,
        week_start=monday,
        source_unit="",
        state=PUBLISHED,
        version=1,
        revision=1,
        submitted_by=people.clerk,
        approved_by=people.leader,
        published_at=now,
        note="",
        created_at=now,
        updated_at=now,
    )
    session.add(week)
    await session.flush()
    for line in _lines(unit_name, monday.year):
        entry = ScheduleEntry(
            week_id=week.id,
            uid=uuid.uuid4().hex,
            day=monday + timedelta(days=line.weekday),
            start_time=time.fromisoformat(line.start),
            end_time=time.fromisoformat(line.end),
            content=line.content,
            chair_user_id=None if line.chair_text else people.leader,
            chair_text=line.chair_text,
            attendees_text=line.attendees_text,
            place=line.place,
            prepared_by=line.prepared_by,
            notes=line.notes,
            secrecy=line.secrecy,
            # Cancelled after publishing: a second version of the line.
            status=CANCELLED if line.cancelled else ACTIVE,
            sequence=1 if line.cancelled else 0,
            adjusted=line.cancelled,
            created_at=now,
            updated_at=now,
        )
        session.add(entry)
        await session.flush()
        session.add_all(
            ScheduleAttendee(entry_id=entry.id, user_id=getattr(people, role))
            for role in line.attending
        )
    await session.flush()
    return week.id
