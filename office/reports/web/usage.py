"""Tình hình ứng dụng CNTT (``/reports/usage``): the IT usage of each unit this month so far
against the same month last year; who is late with their reports or has not sent them; who
does not use the system yet; and, for the administrator, the report and figures dispatches that
arrived (a refused one with its reason), and the hosted units' figures going up, each with a
button that sends them at once (:mod:`office.reports.web.send_figures`).

Everything comes from the reports of the user's unit (this month's figures; lateness and use
over the year of the month just ended), so this page and the printed report cannot disagree. A
district's use reaches the province with its monthly report: until then it reads as none, which
is why the leaders' dashboard shows document handling instead and links here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from yarl import URL

from office.documents.desk import DESK
from office.reports.live_exchange import LIVE
from office.reports.rendering import STATES, months_text
from office.reports.service import KIND
from office.reports.summary import PeriodFigures, UnitRow
from office.reports.web.access import last_month, month_key, own_or_first, reader
from office.web.rendering import render
from office.web.site import SITE, translator

RECENT_ARRIVALS = 20
#: The dispatches units send up, each listed apart (``ReportArrival.kind``): a month's report,
#: and the document-handling figures, which come every hour or so and would crowd the reports
#: out of one list.
ARRIVAL_KINDS = (KIND, "figures")

#: The columns: (catalogue key, the figure).
COLUMNS: tuple[tuple[str, Callable[[PeriodFigures], int]], ...] = (
    ("usage.col.accesses", lambda f: f.usage.accesses),
    ("usage.col.people", lambda f: f.active_people),
    ("usage.col.sent", lambda f: f.usage.documents_sent),
    ("usage.col.received", lambda f: f.usage.documents_received),
    ("usage.col.registered", lambda f: f.usage.incoming_registered),
    ("usage.col.overdue", lambda f: f.usage.incoming_overdue),
)


@dataclass(frozen=True)
class Figure:
    now: int
    last_year: int

    @property
    def trend(self) -> str:
        """``up``, ``down`` or "" (unchanged)."""
        if self.now > self.last_year:
            return "up"
        return "down" if self.now < self.last_year else ""


@dataclass(frozen=True)
class Line:
    name: str
    figures: tuple[Figure, ...]


def line(name: str, now: PeriodFigures, before: PeriodFigures) -> Line:
    return Line(name, tuple(Figure(figure(now), figure(before)) for _key, figure in COLUMNS))


def lateness(translate: Callable[..., str], row: UnitRow) -> tuple[str, ...]:
    """``chưa báo cáo 11/2005, 12/2005``, ``báo cáo chậm 10/2005``, or the bare state."""
    said = []
    if row.reporting.missing:
        months = months_text(row.reporting.missing)
        said.append(translate("usage.late.missing", months=months))
    if row.reporting.late:
        months = months_text(row.reporting.late)
        said.append(translate("usage.late.late", months=months))
    return tuple(said) or (STATES.get(row.reporting.state, row.reporting.state),)


async def usage_page(request: web.Request) -> web.Response:
    site, (staff, reports) = request.app[SITE], reader(request)
    translate = translator(request)
    top = own_or_first(staff, reports, site.hosted_units)
    today = reports.today()
    report = await reports.report(top, month_key(today))
    # Whether units report and use the system is judged over the year of the month just
    # ended: this month's report is not due yet, and a month begun is too short to judge.
    judged = await reports.report(top, last_month(today)[:4])
    arrivals, sending, live = None, [], request.app.get(LIVE)
    if staff.role == "admin":
        arrivals = [
            (kind, await reports.recent_arrivals(RECENT_ARRIVALS, kind)) for kind in ARRIVAL_KINDS
        ]
        sending = await live.sending() if live is not None else []
    sent = request.query.get("sent", "")
    return render(
        request,
        "reports/usage.html",
        {
            "title": translate("usage.title"),
            "scope": translate("usage.scope", unit=report.unit_name, period=report.period.label),
            "columns": [key for key, _figure in COLUMNS],
            "lines": [line(row.name, row.figures, row.previous) for row in report.rows],
            "total": line(translate("usage.total"), report.total, report.previous_total),
            "judged": judged.period.label,
            "late": [(row.name, lateness(translate, row)) for row in judged.late_rows],
            "idle": [(row.name, row.idle_reasons) for row in judged.idle_rows],
            "overdue": [
                (row.name, row.figures.usage.incoming_overdue)
                for row in report.rows
                if row.figures.usage.incoming_overdue
            ],
            "overdue_total": report.total.usage.incoming_overdue,
            "arrivals": arrivals,
            "sending": sending,
            "figures_minutes": reports.settings.figures_minutes,
            "sent": sent if any(line.unit == sent for line in sending) else None,
            "unit_name": request.app[DESK].unit_name,
            "report_link": str(URL("/reports").with_query(unit=top)),
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/reports/usage", usage_page, name="report_usage")
