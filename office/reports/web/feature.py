"""The reports as a feature of the staff web app: the IT report and the units' IT use, the
units' form, the leaders' dashboard."""

from __future__ import annotations

from aiohttp import web

from office.reports.messages import MESSAGES
from office.reports.web import dashboard, forms, publish, report, send_figures, usage
from office.web.feature import Feature


def add_routes(app: web.Application) -> None:
    report.add_routes(app)
    publish.add_routes(app)
    usage.add_routes(app)
    send_figures.add_routes(app)
    forms.add_routes(app)
    dashboard.add_routes(app)


FEATURE = Feature("reports", add_routes, MESSAGES)
