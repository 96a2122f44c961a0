"""Báo cáo pages: a leader (or an administrator) chooses a hosted unit, a period and a format,
and reads the IT report in the page or downloads it as HTML, PDF or DOCX; a clerk reads their
own unit's, and may make it the unit's outgoing draft (:mod:`office.reports.web.publish`).

The report is a standalone page with its styles inline; it is shown in a frame served with its
own policy (inline styles and ``data:`` charts, no script, framed by this site only), so the
site's policy stays strict everywhere else. A bad or future period is said on the form, and
nothing is made.

The helpers here (who may read reports, the default periods) serve the form and dashboard
pages too.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from yarl import URL

from config.errors import Invalid, NotFound
from keys.signin import StaffMember
from office.documents.desk import DESK
from office.reports import rendering as report_rendering
from office.reports.letterhead import Issue, Signer
from office.reports.rendering import CONTENT_TYPES, FORMATS, SUFFIXES, to_html
from office.reports.service import Reports
from office.reports.web.access import (
    last_month,
    may_publish,
    own_or_first,
    readable_units,
    report_reader,
)
from office.web import forms
from office.web.rendering import render
from office.web.site import SITE, translator

#: What the chooser may say about the report's issue; the rest of the letterhead comes from the
#: directory and the settings.
ISSUE_FIELDS = ("number", "signed_on", "signer_authority", "signer_position", "signer_name")
SIGNER_FIELDS = ISSUE_FIELDS[2:]
MAX_NUMBER = 99_999
MAX_SIGNER = 120
#: The framed report: its own inline styles and charts, nothing else, framed by this site only.
FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "frame-ancestors 'self'; base-uri 'none'"
)


def _choices(request: web.Request, staff: StaffMember, reports: Reports) -> list[tuple[str, str]]:
    desk = request.app[DESK]
    return [(code, desk.unit_name(code)) for code in readable_units(staff, reports)]


def _wanted(request: web.Request, staff: StaffMember, reports: Reports) -> dict[str, str]:
    query = request.query
    return {
        "unit": query.get("unit") or own_or_first(staff, reports, request.app[SITE].hosted_units),
        "period": query.get("period", "").strip() or last_month(reports.today()),
        "format": query.get("format", "pdf"),
        **{name: query.get(name, "").strip() for name in ISSUE_FIELDS},
    }


def issue_of(request: web.Request, values: dict[str, str]) -> Issue:
    """The number, day and signer written on the report (HD 36); a field left empty stays
    blank for the clerk or the signer. A malformed number or day is refused, not dropped."""
    translate = translator(request)
    number = None
    if values["number"]:
        if not values["number"].isdigit() or not 1 <= int(values["number"]) <= MAX_NUMBER:
            raise Invalid(translate("reports.refused.number"), code="report-number")
        number = int(values["number"])
    day = None
    if values["signed_on"]:
        try:
            day = date.fromisoformat(values["signed_on"])
        except ValueError:
            raise Invalid(translate("reports.refused.date"), code="report-date") from None
    if any(len(values[name]) > MAX_SIGNER for name in SIGNER_FIELDS):
        raise Invalid(translate("reports.refused.signer", limit=MAX_SIGNER), code="report-signer")
    signer = Signer(values["signer_authority"], values["signer_position"], values["signer_name"])
    return Issue(number, day, signer)


def _issue_query(values: dict[str, str]) -> dict[str, str]:
    return {name: values[name] for name in ISSUE_FIELDS if values[name]}


def _readable_unit(request: web.Request, staff: StaffMember, reports: Reports, unit: str) -> str:
    """``unit`` when this node hosts it and ``staff`` may read its report; else not found."""
    if unit not in readable_units(staff, reports):
        raise NotFound(translator(request)("error.not-found"))
    return unit


def _chooser(
    request: web.Request,
    staff: StaffMember,
    reports: Reports,
    values: MultiMapping[Any] | dict[str, str],
    *,
    refusal: str | None = None,
    status: int = 200,
) -> web.Response:
    translate = translator(request)
    return render(
        request,
        "reports/report_choose.html",
        {
            "title": translate("reports.title"),
            "units": _choices(request, staff, reports),
            "formats": FORMATS,
            "values": values,
            "refusal": refusal,
        },
        status=status,
    )


def refused(
    request: web.Request,
    staff: StaffMember,
    reports: Reports,
    values: dict[str, str],
    refusal: Invalid,
) -> web.Response:
    """The chooser again, as it was filled in, saying why nothing was made."""
    reason = translator(request).refusal(refusal)
    return _chooser(request, staff, reports, values, refusal=reason, status=400)


async def choose_page(request: web.Request) -> web.Response:
    staff, reports = report_reader(request)
    return _chooser(request, staff, reports, _wanted(request, staff, reports))


async def view_page(request: web.Request) -> web.Response:
    """The report in the page (framed), with its downloads."""
    staff, reports = report_reader(request)
    values = _wanted(request, staff, reports)
    unit = _readable_unit(request, staff, reports, values["unit"])
    try:
        period = reports.period(values["period"])
        issue_of(request, values)
    except Invalid as refusal:
        return refused(request, staff, reports, values, refusal)
    query = {"unit": unit, "period": period.key, **_issue_query(values)}
    return render(
        request,
        "reports/report_view.html",
        {
            "title": translator(request)(
                "reports.view.title",
                unit=request.app[DESK].unit_name(unit),
                period=period.label,
            ),
            "frame": str(URL("/reports/view/frame").with_query(query)),
            "downloads": [
                (fmt, str(URL("/reports/download").with_query({**query, "format": fmt})))
                for fmt in FORMATS
            ],
            "back": str(URL("/reports").with_query(query)),
            "publish": _publish_form(staff, reports, unit, period.key, values),
        },
    )


def _publish_form(
    staff: StaffMember, reports: Reports, unit: str, period: str, values: dict[str, str]
) -> dict[str, Any] | None:
    """The "Phát hành báo cáo" form of the report shown, for whoever may use it: its one-time
    id, and the report's unit, period and signer (the number and date stay blank for the
    issue to write)."""
    if not may_publish(staff, reports, unit):
        return None
    carried = {"unit": unit, "period": period} | {name: values[name] for name in SIGNER_FIELDS}
    return {"form_id": forms.new_form_id(), "fields": carried}


async def frame_page(request: web.Request) -> web.Response:
    staff, reports = report_reader(request)
    values = _wanted(request, staff, reports)
    unit = _readable_unit(request, staff, reports, values["unit"])
    report = await reports.report(unit, values["period"], issue_of(request, values))
    html = await asyncio.get_running_loop().run_in_executor(None, to_html, report)
    return web.Response(
        text=html,
        content_type="text/html",
        headers={"Content-Security-Policy": FRAME_POLICY, "X-Frame-Options": "SAMEORIGIN"},
    )


def file_name(unit: str, period: str, fmt: str) -> str:
    """``bao-cao-HU-CAMLO-2005-11.pdf``: ASCII only, safe in a header."""
    stem = re.sub(r"[^A-Za-z0-9-]", "-", f"bao-cao-{unit}-{period}")
    return stem + SUFFIXES[fmt]


async def download(request: web.Request) -> web.Response:
    staff, reports = report_reader(request)
    values = _wanted(request, staff, reports)
    unit, fmt = _readable_unit(request, staff, reports, values["unit"]), values["format"]
    try:
        if fmt not in FORMATS:
            raise Invalid(translator(request)("reports.refused.format"), code="report-format")
        report = await reports.report(unit, values["period"], issue_of(request, values))
    except Invalid as refusal:
        return refused(request, staff, reports, values, refusal)
    body = await asyncio.get_running_loop().run_in_executor(
        None, report_rendering.render, report, fmt
    )
    return web.Response(
        body=body,
        headers={
            "Content-Type": CONTENT_TYPES[fmt],
            "Content-Disposition": (
                f'attachment; filename="{file_name(unit, report.period.key, fmt)}"'
            ),
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/reports", choose_page, name="reports")
    app.router.add_get("/reports/view", view_page, name="report_view")
    app.router.add_get("/reports/view/frame", frame_page)
    app.router.add_get("/reports/download", download, name="report_download")
