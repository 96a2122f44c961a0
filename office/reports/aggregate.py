"""Build the report of a unit for a period: its own figures and those of the units under it,
counted here for the hosted ones and as reported for the others, with the same period a year
before, who is late with their reports, and who does not use the system for their documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import NotFound
from config.settings import ReportSettings
from exchange.ledger import VIETNAM
from office.reports import refusals, wording
from office.reports.figures import UnitMonths, counted_months, reported_months
from office.reports.forms import forms_within, latest_form
from office.reports.letterhead import Issue, letterhead
from office.reports.models import UnitFormRecord
from office.reports.periods import Period, month_period
from office.reports.summary import (
    EXEMPT,
    LATE,
    MISSING,
    NOT_DUE,
    ON_TIME,
    MonthPoint,
    PeriodFigures,
    ProvinceReport,
    Reporting,
    UnitForm,
    UnitRow,
    Usage,
)


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    kind: str
    parent: str | None


#: The order of the report's table: the boards of the office, then the districts and towns,
#: then the Party committees of the sectors, then the communes.
KIND_ORDER = {"province": 0, "board": 1, "district": 2, "sector": 3, "commune": 4}


def subtree(units: Iterable[UnitInfo], top: str) -> list[UnitInfo]:
    """``top`` and every unit under it: ``top`` first, then by kind and code."""
    units = list(units)
    by_code = {unit.code: unit for unit in units}
    if top not in by_code:
        raise NotFound(refusals.UNKNOWN_UNIT(unit=top), code="unknown-unit")

    def under_top(unit: UnitInfo) -> bool:
        seen: set[str] = set()
        while unit.parent and unit.parent not in seen:
            if unit.parent == top:
                return True
            seen.add(unit.code)
            parent = by_code.get(unit.parent)
            if parent is None:
                return False
            unit = parent
        return False

    below = sorted(
        (unit for unit in units if under_top(unit)),
        key=lambda unit: (KIND_ORDER.get(unit.kind, len(KIND_ORDER)), unit.code),
    )
    return [by_code[top], *below]


def due_date(period: Period, settings: ReportSettings) -> date:
    """A period's report is due by ``due_day`` of the month after it."""
    return period.end.replace(day=settings.due_day)


def reporting(
    kind: str,
    forms: list[tuple[Period, UnitFormRecord]],
    period: Period,
    today: date,
    settings: ReportSettings,
) -> Reporting:
    """Whether the unit's monthly forms for ``period`` came, on time, late or not at all. A
    quarter's or a year's form covers its months, judged by its own due date."""
    if kind not in settings.reporting_kinds:
        return Reporting(EXEMPT)
    missing: list[str] = []
    late: list[str] = []
    due_months = 0
    for month in period.months:
        if due_date(month_period(month), settings) > today:
            continue
        due_months += 1
        covering = [
            (form_period, record) for form_period, record in forms if month in form_period.months
        ]
        if not covering:
            missing.append(month)
        elif not any(
            record.first_at.astimezone(VIETNAM).date() <= due_date(form_period, settings)
            for form_period, record in covering
        ):
            late.append(month)
    if missing:
        state = MISSING
    elif late:
        state = LATE
    else:
        state = ON_TIME if due_months else NOT_DUE
    return Reporting(state, tuple(missing), tuple(late))


def idle_reasons(kind: str, figures: PeriodFigures, settings: ReportSettings) -> tuple[str, ...]:
    """Why a unit counts as not using the system for processing documents (xử lý công văn)."""
    if kind not in settings.reporting_kinds:
        return ()
    reasons: list[str] = []
    usage = figures.usage
    if usage.documents_received and (
        usage.incoming_registered * 100 < settings.min_processing_percent * usage.documents_received
    ):
        reasons.append(
            f"chỉ vào sổ, xử lý {wording.count(usage.incoming_registered)}/"
            f"{wording.count(usage.documents_received)} văn bản đến điện tử"
        )
    if figures.monthly_accesses < settings.min_accesses_per_month:
        reasons.append(
            f"bình quân {wording.decimal(figures.monthly_accesses, 1)} lượt truy cập mỗi tháng "
            f"(dưới {wording.count(settings.min_accesses_per_month)})"
        )
    return tuple(reasons)


def _figures(usage: Usage, people: int, months: int, form: UnitForm | None) -> PeriodFigures:
    form = form or UnitForm()
    return PeriodFigures(
        usage=usage,
        active_people=people,
        months=months,
        staff_total=form.staff_total,
        staff_computer_literate=form.staff_computer_literate,
        computers=form.computers,
        servers=form.servers,
    )


def _sum(figures: Iterable[PeriodFigures], months: int) -> PeriodFigures:
    figures = list(figures)
    return PeriodFigures(
        usage=sum((f.usage for f in figures), Usage()),
        active_people=sum(f.active_people for f in figures),
        months=months,
        staff_total=sum(f.staff_total for f in figures),
        staff_computer_literate=sum(f.staff_computer_literate for f in figures),
        computers=sum(f.computers for f in figures),
        servers=sum(f.servers for f in figures),
    )


async def _months_of(
    session: AsyncSession,
    units: list[UnitInfo],
    hosted: frozenset[str],
    months: tuple[str, ...],
    today: date,
) -> dict[str, UnitMonths]:
    here = [unit.code for unit in units if unit.code in hosted]
    away = [unit.code for unit in units if unit.code not in hosted]
    return {
        **await counted_months(session, here, months, today),
        **await reported_months(session, away, months),
    }


async def build_report(
    session: AsyncSession,
    units: list[UnitInfo],
    hosted: frozenset[str],
    top: str,
    period: Period,
    settings: ReportSettings,
    now: datetime,
    issuer_code: str,
    issue: Issue,
) -> ProvinceReport:
    """The report of ``top`` for ``period``: ``units`` is the directory, ``hosted`` what this
    node counts itself (the rest it knows from the reports it received); ``issuer_code`` and
    ``issue`` fill its letterhead."""
    today = now.astimezone(VIETNAM).date()
    scope = subtree(units, top)
    codes = [unit.code for unit in scope]
    before = period.previous_year()
    elapsed = len(period.elapsed_months(today)) or 1
    current = await _months_of(session, scope, hosted, period.months, today)
    previous = await _months_of(session, scope, hosted, before.months, today)
    forms = await forms_within(session, codes, period)
    old_forms = await forms_within(session, codes, before)
    rows: list[UnitRow] = []
    for unit in scope:
        usage, people = current[unit.code].total(period.months)
        old_usage, old_people = previous[unit.code].total(before.months)
        form = latest_form(forms[unit.code])
        figures = _figures(usage, people, elapsed, form)
        rows.append(
            UnitRow(
                code=unit.code,
                name=unit.name,
                kind=unit.kind,
                figures=figures,
                previous=_figures(
                    old_usage, old_people, len(before.months), latest_form(old_forms[unit.code])
                ),
                form=form,
                reporting=reporting(unit.kind, forms[unit.code], period, today, settings),
                idle_reasons=idle_reasons(unit.kind, figures, settings),
            )
        )
    total = _sum((row.figures for row in rows), elapsed)
    previous_total = _sum((row.previous for row in rows), len(before.months))
    monthly = tuple(
        MonthPoint(
            month=int(month[5:7]),
            accesses=sum(current[c].usage.get(month, Usage()).accesses for c in codes),
            bytes_exchanged=sum(
                current[c].usage.get(month, Usage()).bytes_exchanged for c in codes
            ),
            previous_accesses=sum(previous[c].usage.get(old, Usage()).accesses for c in codes),
            previous_bytes_exchanged=sum(
                previous[c].usage.get(old, Usage()).bytes_exchanged for c in codes
            ),
        )
        for month, old in zip(period.months, before.months, strict=True)
    )
    return ProvinceReport(
        unit=top,
        unit_name=scope[0].name,
        period=period,
        generated_at=now,
        rows=tuple(rows),
        total=total,
        previous_total=previous_total,
        monthly=monthly,
        paragraph=wording.usage_paragraph(period, total, previous_total),
        notes=wording.NOTES,
        letterhead=letterhead({unit.code: unit for unit in units}, top, issuer_code, issue),
    )
