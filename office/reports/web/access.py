"""Who may open the reports' pages, and the period and unit they open on: shared by the report,
the units' form and the dashboard pages."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from config.errors import NotFound
from keys.signin import StaffMember
from office.documents.outgoing import may_draft
from office.reports.service import REPORTS, Reports
from office.web.site import STAFF, translator

#: Who reads the reports of every hosted unit and the dashboard; who keeps the unit's periodic
#: form.
READERS = frozenset({"leader", "admin"})
FORM_EDITORS = frozenset({"admin", "clerk"})
#: Who reads only their own unit's report: the clerk (văn thư), who drafts and issues it as the
#: unit's document (``Phát hành báo cáo``, :mod:`office.reports.drafting`).
OWN_REPORT_READERS = frozenset({"clerk"})


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


def report_reader(request: web.Request) -> tuple[StaffMember, Reports]:
    """Who may open the report pages: a reader, or a clerk (their own unit's report only: see
    :func:`readable_units`); anyone else is answered as for an unknown page."""
    staff = request[STAFF]
    if staff.role not in READERS | OWN_REPORT_READERS:
        raise NotFound(translator(request)("error.not-found"))
    return staff, reports_of(request)


def readable_units(staff: StaffMember, reports: Reports) -> list[str]:
    """The hosted units whose report ``staff`` may read, in order (least privilege: a clerk
    needs only their own unit's)."""
    if staff.role in READERS:
        return sorted(reports.hosted)
    return [staff.unit] if staff.unit in reports.hosted else []


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


def may_publish(staff: StaffMember, reports: Reports, unit: str) -> bool:
    """Phát hành báo cáo: whoever may both read ``unit``'s report and draft its outgoing
    documents (a clerk of the unit)."""
    return unit in readable_units(staff, reports) and staff.unit == unit and may_draft(staff)
