"""Gửi số liệu ngay: the administrator's button on ``/reports/usage`` that counts a hosted
unit's document-handling figures and sends them up at once (as ``congvan report figures
--unit`` does), instead of waiting for the next ``[reports] figures_minutes`` slot: after a
burst of registering, or to see the province's dashboard catch up.

Only an administrator of the node posts it (a leader reads the page but sends nothing); a unit
this node does not host, or whose figures go nowhere, is refused. Sending twice sends two
snapshots, and the province keeps the newer: no one-time form is needed.
"""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from config.errors import NotFound
from office.documents.access import require
from office.reports import refusals
from office.reports.live_exchange import LIVE
from office.reports.web.access import reader
from office.web import forms
from office.web.redirects import see_other
from office.web.site import translator

PATH = "/reports/figures/send"
ADMIN = "admin"


async def send_figures_submit(request: web.Request) -> web.Response:
    staff, _reports = reader(request)
    live = request.app.get(LIVE)
    if live is None:
        raise NotFound(translator(request)("error.not-found"))
    require(staff.role == ADMIN, refusals.TO_SEND_FIGURES)
    unit = forms.form_text(await request.post(), "unit").strip()
    await live.send(unit)  # refused (not hosted, nowhere to send): the error page says why
    return see_other(URL("/reports/usage").with_query(sent=unit).with_fragment("figures-sent"))


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, send_figures_submit, name="report_send_figures")
