"""A year and a bit of counted use for the demo, so its IT report and dashboard have something
to show: sign-ins by the unit's people, dispatches and mail with their bytes, growing month by
month as the seed report's network did, and the periodic form of last month for the units that
keep it on time (the others show as late or missing, as in report 13-BC/TU).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import ReportSettings
from exchange.ledger import VIETNAM, PastEvent, backfill, roll_up
from office.reports.aggregate import due_date
from office.reports.forms import check_form, save_form
from office.reports.periods import month_period

#: Months of history before the current one.
MONTHS = 14
PEOPLE_PER_UNIT = 12


def _months_back(today: date, count: int) -> list[date]:
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    return list(reversed(months))


def _history(
    units: list[str], people: list[str], today: date, rng: random.Random
) -> list[PastEvent]:
    events: list[PastEvent] = []
    for index, month in enumerate(_months_back(today, MONTHS)):
        growth = 1 + index / 4
        for unit in units:
            staff = people + [f"{unit.lower()}.cb{n:02d}" for n in range(PEOPLE_PER_UNIT)]
            for _ in range(int(rng.randint(40, 70) * growth)):
                at = datetime(month.year, month.month, rng.randint(1, 28), 2, tzinfo=UTC)
                events.append(PastEvent(at, unit, "login", user=rng.choice(staff)))
            for kind in ("dispatch-in", "dispatch-out", "mail-in", "mail-out"):
                for _ in range(int(rng.randint(8, 20) * growth)):
                    at = datetime(month.year, month.month, rng.randint(1, 28), 3, tzinfo=UTC)
                    events.append(PastEvent(at, unit, kind, size=rng.randint(20_000, 2_000_000)))
    return events


async def seed_demo_history(
    session: AsyncSession,
    units: list[str],
    people: list[str],
    settings: ReportSettings,
    now: datetime,
    *,
    forms_for: tuple[str, ...],
) -> None:
    """The units' past months in the ledger (rolled up), and last month's form of each of
    ``forms_for``, entered the day before it was due."""
    today = now.astimezone(VIETNAM).date()
    rng = random.Random("-".join(units))  # noqa: S311 - made-up figures, the same each run
    await backfill(session, _history(units, people, today, rng))
    await roll_up(session)
    last = month_period(_months_back(today, 1)[0].strftime("%Y-%m"))
    entered = datetime.combine(due_date(last, settings), datetime.min.time(), UTC)
    form = check_form(
        {
            "staff_total": 38,
            "staff_computer_literate": 33,
            "computers": 14,
            "servers": 2,
            "lan_state": "Mạng LAN hoạt động ổn định.",
            "connection_state": "Đường truyền WAN chậm vào giờ cao điểm.",
            "incidents": "Mất điện 1 ngày, máy chủ tự khởi động lại.",
            "proposals": "Nâng cấp đường truyền lên cáp quang.",
        }
    )
    for unit in forms_for:
        await save_form(
            session,
            unit,
            last,
            form,
            made_at=entered - timedelta(days=1),
            entered_by="demo",
            first_at=entered - timedelta(days=1),
        )
