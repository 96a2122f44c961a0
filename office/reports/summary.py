"""What a report says, as plain data: the renderers (HTML, PDF, DOCX) only lay it out.

Every figure here was counted by the system (the usage ledger and the registers) or entered by
a unit on its periodic form; :mod:`office.reports.aggregate` builds a :class:`ProvinceReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from office.reports.letterhead import Letterhead
from office.reports.periods import Period


@dataclass(frozen=True)
class Usage:
    """Additive figures of one unit (or the sum of several) over some months."""

    accesses: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    documents_sent: int = 0
    documents_received: int = 0
    incoming_registered: int = 0
    incoming_done: int = 0
    incoming_overdue: int = 0
    mails_sent: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Usage)))

    @property
    def bytes_exchanged(self) -> int:
        return self.bytes_in + self.bytes_out


@dataclass(frozen=True)
class MonthUsage:
    month: str
    usage: Usage


@dataclass(frozen=True)
class UnitForm:
    """What a unit enters each period (the system cannot count it)."""

    staff_total: int = 0
    staff_computer_literate: int = 0
    computers: int = 0
    servers: int = 0
    lan_state: str = ""
    connection_state: str = ""
    incidents: str = ""
    proposals: str = ""


@dataclass(frozen=True)
class PeriodFigures:
    """One unit's (or the network's) figures over a period."""

    usage: Usage = field(default_factory=Usage)
    #: Distinct people who signed in (web or mail client) during the period.
    active_people: int = 0
    #: Months of the period that have begun: a report to date averages over these.
    months: int = 12
    staff_total: int = 0
    staff_computer_literate: int = 0
    computers: int = 0
    servers: int = 0

    @property
    def monthly_accesses(self) -> float:
        return self.usage.accesses / self.months if self.months else 0.0


#: How a unit stands with its periodic reports: not bound to report (the province itself),
#: nothing due yet, every due report on time, one came late, one has not come.
EXEMPT, NOT_DUE, ON_TIME, LATE, MISSING = "exempt", "not-due", "on-time", "late", "missing"


@dataclass(frozen=True)
class Reporting:
    state: str
    #: Periods (``YYYY-MM``…) whose report is overdue and has not arrived.
    missing: tuple[str, ...] = ()
    #: Periods whose report arrived after its due date.
    late: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: str
    figures: PeriodFigures
    previous: PeriodFigures
    form: UnitForm | None
    reporting: Reporting
    #: Why the unit counts as not using the system for processing documents; empty if it does.
    idle_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class MonthPoint:
    """One month of the charts: this year's figure against the same month last year."""

    month: int
    accesses: int
    bytes_exchanged: int
    previous_accesses: int
    previous_bytes_exchanged: int


@dataclass(frozen=True)
class ProvinceReport:
    unit: str
    unit_name: str
    period: Period
    generated_at: datetime
    rows: tuple[UnitRow, ...]
    total: PeriodFigures
    previous_total: PeriodFigures
    monthly: tuple[MonthPoint, ...]
    #: The usage paragraph, in the seed report's words and number format.
    paragraph: str
    #: Definitions of the figures, printed under the tables.
    notes: tuple[str, ...]
    #: What makes it a Party document (HD 36): heading, issuer, number, date, signature, Nơi nhận.
    letterhead: Letterhead

    @property
    def late_rows(self) -> tuple[UnitRow, ...]:
        return tuple(row for row in self.rows if row.reporting.state in (LATE, MISSING))

    @property
    def idle_rows(self) -> tuple[UnitRow, ...]:
        return tuple(row for row in self.rows if row.idle_reasons)
