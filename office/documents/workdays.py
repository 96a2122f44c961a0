"""Working days, the unit of document-processing deadlines (Nghị định 30/2020/NĐ-CP).

Public holidays come from the ``holidays`` package: the Labour Code's days, the days off in
lieu of those that fall on a weekend, and the swaps the package has been taught (each with its
make-up Saturday). The government announces each year's breaks only months ahead, so an
operator can add days off and make-up working days the installed package does not know yet.
Outside the years the package covers (1901–2100) only weekends are days off. The package
(some 17 MiB with its calendars) loads when a deadline is first counted, not when a node starts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holidays import HolidayBase


def _vietnamese_holidays() -> HolidayBase:
    from holidays import country_holidays

    return country_holidays("VN", language="vi")


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days count towards a deadline, and how to count them.

    An explicit entry wins over the package: an operator who lists a date has read the
    government's decision for that year.
    """

    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    #: The package's calendar, made on first use (one element, never replaced).
    _loaded: list[HolidayBase] = field(default_factory=list, init=False, repr=False, compare=False)
    # Ordinals of each year's working days, ascending, so that counting is a bisection rather
    # than a walk over the calendar. Filled on first use; the dict itself is never replaced.
    _working_by_year: dict[int, tuple[int, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        both = self.extra_days_off & self.extra_working_days
        if both:
            listed = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"both an extra day off and an extra working day: {listed}")

    @classmethod
    def vietnam(
        cls, extra_days_off: Iterable[date] = (), extra_working_days: Iterable[date] = ()
    ) -> WorkingCalendar:
        """The national calendar, with the operator's additions for the current years."""
        return cls(frozenset(extra_days_off), frozenset(extra_working_days))

    def _holidays(self) -> HolidayBase:
        if not self._loaded:
            self._loaded.append(_vietnamese_holidays())
        return self._loaded[0]

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_days_off:
            return False
        if day in self.extra_working_days:
            return True
        # Weekends, holidays and the package's make-up Saturdays (weekend_workdays).
        return self._holidays().is_working_day(day)

    def holiday_name(self, day: date) -> str | None:
        """The holiday's Vietnamese name, or None; operator-added days off have no name."""
        name = self._holidays().get(day)
        return str(name) if name is not None else None

    def add_working_days(self, start: date, days: int) -> date:
        """The deadline ``days`` working days after ``start``, which itself does not count.

        With ``days == 0`` the deadline is ``start`` if it is a working day, otherwise the next
        one: a document received on a holiday is handled on the day work resumes.
        """
        if days < 0:
            raise ValueError(f"a deadline is a number of working days >= 0, not {days}")
        if days == 0 and self.is_working_day(start):
            return start
        year = start.year
        working = self._working_days(year)
        index = bisect_right(working, start.toordinal()) + max(days - 1, 0)
        while index >= len(working):
            index -= len(working)
            year += 1
            working = self._working_days(year)
        return date.fromordinal(working[index])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; negative if ``end`` is earlier.

        The inverse of :meth:`add_working_days` for ``days >= 1`` (``days == 0`` from a day off
        yields the next working day, one later), so a late reply reads as working days overdue.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = self._rank(end) - self._rank(start)
        return count + sum(len(self._working_days(year)) for year in range(start.year, end.year))

    def _rank(self, day: date) -> int:
        """Working days of ``day``'s year up to and including ``day``."""
        return bisect_right(self._working_days(day.year), day.toordinal())

    def _working_days(self, year: int) -> tuple[int, ...]:
        working = self._working_by_year.get(year)
        if working is None:
            first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
            working = tuple(
                ordinal
                for ordinal in range(first, last + 1)
                if self.is_working_day(date.fromordinal(ordinal))
            )
            self._working_by_year[year] = working
        return working
