"""Who may open the reports' pages, and the period and unit they open on: shared by the report,
the units' form and the dashboard pages."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from config.errors import NotFound
from keys.signin import StaffMember
from office.reports.service import REPORTS, Reports
from office.web.site import STAFF, translator

#: Who reads the reports and the dashboard; who keeps the unit's periodic form.
READERS = frozenset({"leader", "admin"})
FORM_EDITORS = frozenset({"admin", "clerk"})


def reports_of(request: web.Request) -> Reports:
    reports = request.app.get(REPORTS)
    if reports is None:
        raise NotFound(translator(request)("error.not-found"))
    return reports


def reader(request: web.Request) -> tuple[StaffMember, Reports]:
    """The signed-in leader or administrator; anyone else is answered as for an unknown page."""
    staff = request[STAFF]
    if staff.role not in READERS:
        raise NotFound(translator(request)("error.not-found"))
    return staff, reports_of(request)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def last_month(today: date) -> str:
    """The period a report or a form is usually made for: the month just ended."""
    return month_key(date.fromordinal(today.replace(day=1).toordinal() - 1))


def own_or_first(staff: StaffMember, reports: Reports, hosted: tuple[str, ...]) -> str:
    """The user's unit when this node hosts it, else the node's first unit."""
    if staff.unit in reports.hosted:
        return staff.unit
    return hosted[0] if hosted else sorted(reports.hosted)[0]
