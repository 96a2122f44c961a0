"""Thông tin phục vụ lãnh đạo: how documents are being handled in each unit under the leader's
top unit, now (a table sortable by any column through plain links, a chart of each unit's last
twelve months), one unit's figures in detail, and in the leader's own unit each person's work.

Who sees it is the reports' rule (leaders and administrators, :func:`reader`). The people of a
unit are shown only to a leader of that unit, and only when this node hosts it: their work is
counted here and never travels. The IT usage table that was here is on ``/reports/usage``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web
from yarl import URL

from config.errors import NotFound
from exchange.ledger import VIETNAM
from keys.signin import StaffMember
from office.reports import people_work
from office.reports.aggregate import subtree
from office.reports.live import MonthWork, month_start
from office.reports.month_chart import month_chart, month_name, sparkline
from office.reports.overview import (
    ASCENDING,
    DESCENDING,
    FIGURES,
    LIVE,
    SORTABLE,
    UnitLine,
    check_sort,
    figure,
    sorted_lines,
    stale_after,
    total,
    unit_lines,
)
from office.reports.service import Reports
from office.reports.web.access import own_or_first, reader
from office.web.rendering import render
from office.web.site import SITE, translator

Translate = Callable[..., str]


def age_text(translate: Translate, line: UnitLine) -> str:
    """``trực tiếp``, ``vừa xong``, ``15 phút trước``, ``3 giờ trước``, ``2 ngày trước``, or
    ``chưa nhận được số liệu``."""
    if line.age is None:
        return translate("dashboard.age.none")
    if line.source == LIVE:
        return translate("dashboard.age.live")
    minutes = int(line.age.total_seconds() // 60)
    if minutes < 1:
        return translate("dashboard.age.now")
    if minutes < 60:
        return translate("dashboard.age.minutes", count=minutes)
    if minutes < 48 * 60:
        return translate("dashboard.age.hours", count=minutes // 60)
    return translate("dashboard.age.days", count=minutes // (24 * 60))


def sort_links(column: str, order: str) -> dict[str, tuple[str, str]]:
    """Each sortable column's link and its ``aria-sort``: the column sorted now turns the other
    way; another starts in its own first order."""
    links = {}
    for key, first in SORTABLE.items():
        if key == column:
            wanted = DESCENDING if order == ASCENDING else ASCENDING
            state = "ascending" if order == ASCENDING else "descending"
        else:
            wanted, state = first, "none"
        links[key] = (str(URL("/dashboard").with_query(sort=key, order=wanted)), state)
    return links


def _top(request: web.Request, staff: StaffMember, reports: Reports) -> str:
    return own_or_first(staff, reports, request.app[SITE].hosted_units)


def _reads_people(staff: StaffMember, reports: Reports, unit: str) -> bool:
    """A leader of ``unit`` reads its people's work, where this node counts it."""
    return staff.role == "leader" and staff.unit == unit and unit in reports.hosted


async def _lines(reports: Reports, top: str, only: str | None = None) -> list[UnitLine]:
    """The lines of ``top`` and the units under it, or of ``only`` if it is one of them (else
    none)."""
    async with reports.sessions() as session:
        units = subtree(await reports.units(session), top)
        if only is not None:
            units = [unit for unit in units if unit.code == only]
        return await unit_lines(
            session, units, reports.hosted, reports.clock(), stale_after(reports.settings)
        )


def chart_title(translate: Translate, name: str, months: Iterable[MonthWork]) -> str:
    """What a chart shows, in words: its title and label for those who do not see it."""
    said = "; ".join(
        translate(
            "dashboard.chart.month",
            month=month_name(month.month),
            received=month.received,
            done=month.done,
            overdue=month.overdue,
        )
        for month in months
    )
    return translate("dashboard.chart.label", unit=name, months=said)


def _stale_minutes(reports: Reports) -> int:
    return int(stale_after(reports.settings).total_seconds() // 60)


async def dashboard_page(request: web.Request) -> web.Response:
    staff, reports = reader(request)
    translate = translator(request)
    column, order = check_sort(request.query.get("sort", ""), request.query.get("order", ""))
    top = _top(request, staff, reports)
    lines = await _lines(reports, top)
    now = reports.clock()
    summed = total(lines, now)
    return render(
        request,
        "reports/dashboard.html",
        {
            "title": translate("dashboard.title"),
            "scope": translate(
                "dashboard.scope",
                unit=lines[0].name,
                at=now.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y"),
            ),
            "lines": sorted_lines(lines, column, order),
            "total": summed,
            "with_figures": sum(1 for line in lines if line.snapshot is not None),
            "columns": list(FIGURES),
            "figure": figure,
            "sparkline": sparkline,
            "chart_title": lambda name, months: chart_title(translate, name, months),
            "age": lambda line: age_text(translate, line),
            "links": sort_links(column, order),
            "stale_minutes": _stale_minutes(reports),
            "usage_link": "/reports/usage",
        },
    )


async def unit_page(request: web.Request) -> web.Response:
    """One unit: its figures, its twelve months named, and in the leader's own unit its
    people."""
    staff, reports = reader(request)
    translate = translator(request)
    code = request.match_info["code"]
    found = await _lines(reports, _top(request, staff, reports), code)
    if not found:
        raise NotFound(translate("error.not-found"))
    line = found[0]
    people = None
    if _reads_people(staff, reports, code):
        today = reports.today()
        async with reports.sessions() as session:
            people = await people_work.people_work(session, code, today, month_start(today))
    snapshot = line.snapshot
    return render(
        request,
        "reports/dashboard_unit.html",
        {
            "title": line.name,
            "line": line,
            "age": age_text(translate, line),
            "chart": month_chart(snapshot.months) if snapshot else None,
            "chart_title": (chart_title(translate, line.name, snapshot.months) if snapshot else ""),
            "month_name": month_name,
            "people": people,
            "stale_minutes": _stale_minutes(reports),
        },
    )


async def person_page(request: web.Request) -> web.Response:
    """One person's open parts in the leader's own unit; anyone else's, or another unit's:
    the unknown page's answer."""
    staff, reports = reader(request)
    translate = translator(request)
    code = request.match_info["code"]
    if not _reads_people(staff, reports, code):
        raise NotFound(translate("error.not-found"))
    today = reports.today()
    async with reports.sessions() as session:
        person = await people_work.person_in(session, code, int(request.match_info["user_id"]))
        if person is None:
            raise NotFound(translate("error.not-found"))
        parts = await people_work.open_parts(session, staff, code, person.user_id, today)
    return render(
        request,
        "reports/dashboard_person.html",
        {
            "title": translate("dashboard.person.title", name=person.name),
            "person": person,
            "parts": parts,
            "overdue": sum(1 for part in parts if part.late_days),
            "unit_link": f"/dashboard/unit/{code}",
            "unit_name": staff.unit_name,
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard_page, name="dashboard")
    app.router.add_get(r"/dashboard/unit/{code:[A-Za-z0-9-]{1,32}}", unit_page)
    app.router.add_get(
        r"/dashboard/unit/{code:[A-Za-z0-9-]{1,32}}/person/{user_id:\d{1,12}}", person_page
    )
