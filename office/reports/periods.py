"""Reporting periods: a year (``2005``), a quarter (``2005-Q4``) or a month (``2005-11``).

People type them as the report writes them: ``11/2005``, ``tháng 11/2005``, ``tháng 11 năm
2005``, ``Quý IV/2005``, ``quý 4 năm 2005``, ``năm 2005``; the machine forms are accepted too.

A period is compared with the same period of the year before, spans whole calendar months,
and is refused when malformed or when it has not begun yet (a report of the current period is
a report "to date").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from config.errors import Invalid
from office.reports import refusals

YEAR, QUARTER, MONTH = "year", "quarter", "month"
_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")
_ROMAN = ("I", "II", "III", "IV")
#: The written forms: an optional word (tháng, quý, năm), the month or quarter (a number or a
#: Roman numeral), then the year after "/", "-", "." or "năm".
_WRITTEN = re.compile(
    r"^(?:(?P<word>tháng|th|t|quý|quy|q|năm|nam)\.?\s*)?"
    r"(?:(?P<part>\d{1,2}|i{1,3}|iv)\s*(?:/|-|\.|\s+năm\s+|\s+nam\s+|\s+)\s*)?"
    r"(?P<year>\d{4})$"
)
FIRST_YEAR = 2000


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str
    #: The quarter (1-4) or the month (1-12); 0 for a year.
    number: int = 0

    @property
    def key(self) -> str:
        if self.kind == QUARTER:
            return f"{self.year:04d}-Q{self.number}"
        if self.kind == MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        return f"{self.year:04d}"

    @property
    def month_numbers(self) -> range:
        if self.kind == QUARTER:
            return range(3 * self.number - 2, 3 * self.number + 1)
        if self.kind == MONTH:
            return range(self.number, self.number + 1)
        return range(1, 13)

    @property
    def months(self) -> tuple[str, ...]:
        """The period's months as ``YYYY-MM`` keys, in order."""
        return tuple(f"{self.year:04d}-{month:02d}" for month in self.month_numbers)

    @property
    def start(self) -> date:
        return date(self.year, self.month_numbers[0], 1)

    @property
    def end(self) -> date:
        """The first day after the period."""
        last = self.month_numbers[-1]
        return date(self.year + 1, 1, 1) if last == 12 else date(self.year, last + 1, 1)

    @property
    def label(self) -> str:
        """In the report's words: ``năm 2005``, ``quý IV năm 2005``, ``tháng 11 năm 2005``."""
        if self.kind == QUARTER:
            return f"quý {_ROMAN[self.number - 1]} năm {self.year}"
        if self.kind == MONTH:
            return f"tháng {self.number:02d} năm {self.year}"
        return f"năm {self.year}"

    def previous_year(self) -> Period:
        """The same period of the year before, which the report compares with."""
        return Period(self.year - 1, self.kind, self.number)

    def contains(self, other: Period) -> bool:
        return set(other.months) <= set(self.months)

    def elapsed_months(self, today: date) -> tuple[str, ...]:
        """The period's months that have begun by ``today``: a report to date averages over
        these, not over months still to come."""
        current = f"{today.year:04d}-{today.month:02d}"
        return tuple(month for month in self.months if month <= current)


def parse_period(text: str, today: date) -> Period:
    """Read a period as a machine (``2005``, ``2005-Q4``, ``2005-11``) or a person writes it
    (``11/2005``, ``Quý IV/2005``…); refuse anything else or a period not begun."""
    period = _written_period(text) or period_from_key(text)
    if period.year < FIRST_YEAR:
        raise Invalid(
            refusals.PERIOD_TOO_OLD(period=period.key, first=FIRST_YEAR), code="period-too-old"
        )
    if period.start > today:
        raise Invalid(refusals.PERIOD_FUTURE(period=period.key, today=today), code="period-future")
    return period


def _written_period(text: str) -> Period | None:
    """The period a person wrote, or ``None`` when the text is not in a written form."""
    match = _WRITTEN.match(" ".join(text.strip().lower().split()))
    if match is None:
        return None
    year, word, part = int(match["year"]), match["word"] or "", match["part"]
    if part is None:
        return Period(year, YEAR) if word in ("", "năm", "nam") else None
    number = _ROMAN.index(part.upper()) + 1 if part.upper() in _ROMAN else int(part)
    if word in ("quý", "quy", "q") or part.upper() in _ROMAN:
        quarter = word not in ("tháng", "th", "t") and 1 <= number <= 4
        return Period(year, QUARTER, number) if quarter else None
    if word in ("năm", "nam") or not 1 <= number <= 12:
        return None
    return Period(year, MONTH, number)


def period_from_key(text: str) -> Period:
    """Read a period's key (its syntax only: for keys this node stored itself)."""
    match = _PATTERN.match(text.strip())
    if match is None:
        raise Invalid(refusals.PERIOD_MALFORMED(text=text), code="period-malformed")
    year = int(match["year"])
    if match["quarter"]:
        period = Period(year, QUARTER, int(match["quarter"]))
    elif match["month"]:
        period = Period(year, MONTH, int(match["month"]))
    else:
        period = Period(year, YEAR)
    return period


def month_period(month: str) -> Period:
    """The period of one ``YYYY-MM`` key."""
    return Period(int(month[:4]), MONTH, int(month[5:7]))
