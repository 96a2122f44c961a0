"""The periodic form's page (biểu mẫu báo cáo định kỳ): a clerk or the administrator of a
hosted unit enters what the system cannot count for a period, and may send the unit's report up
at once.

The form carries its revision: a save over someone else's newer one is refused, as the form
again with what was typed. A refused form changes nothing; a form sent twice does its work once
(the one-time form id, then the revision).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy.exc import IntegrityError
from yarl import URL

from config.errors import Conflict, Invalid, NotFound
from keys.signin import StaffMember
from office.documents.desk import DESK
from office.reports import refusals
from office.reports.service import Reports
from office.reports.web.access import FORM_EDITORS, last_month, reports_of
from office.web import forms
from office.web.once import claim_only, run_once
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import STAFF, translator

NUMBERS = ("staff_total", "staff_computer_literate", "computers", "servers")
TEXTS = ("lan_state", "connection_state", "incidents", "proposals")
DONE = ("saved", "sent")


def _editor(request: web.Request) -> tuple[StaffMember, Reports]:
    """A clerk or administrator of a unit this node hosts; anyone else: an unknown page."""
    staff, reports = request[STAFF], reports_of(request)
    if staff.role not in FORM_EDITORS or staff.unit not in reports.hosted:
        raise NotFound(translator(request)("error.not-found"))
    return staff, reports


def _revision(posted: MultiMapping[Any]) -> int:
    try:
        return int(str(posted.get("revision", "")))
    except ValueError:
        raise Invalid(refusals.MISSING_REVISION(), code="bad-form") from None


async def _form(
    request: web.Request,
    reports: Reports,
    staff: StaffMember,
    period: str,
    values: MultiMapping[Any] | dict[str, str] | None,
    *,
    refusal: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    """The page; ``values`` None: the period is refused, only the period chooser shows."""
    recipient = await reports.recipient(staff.unit)
    return render(
        request,
        "reports/report_form.html",
        {
            "title": translator(request)("report_form.title"),
            "unit_name": request.app[DESK].unit_name(staff.unit),
            "period": period,
            "values": values,
            "numbers": NUMBERS,
            "texts": TEXTS,
            "recipient": request.app[DESK].unit_name(recipient) if recipient else None,
            "refusal": refusal,
            "notice": notice,
            "form_id": (values or {}).get("form_id") or forms.new_form_id(),
        },
        status=status,
    )


async def form_page(request: web.Request) -> web.Response:
    staff, reports = _editor(request)
    wanted = request.query.get("period", "").strip() or last_month(reports.today())
    try:
        period = reports.period(wanted)
    except Invalid as refusal:
        return await _form(
            request,
            reports,
            staff,
            wanted,
            None,
            refusal=translator(request).refusal(refusal),
            status=400,
        )
    form, revision = await reports.form(staff.unit, period.key)
    values = {name: str(getattr(form, name)) for name in (*NUMBERS, *TEXTS)} if form else {}
    values["revision"] = str(revision)
    done = request.query.get("done")
    return await _form(
        request, reports, staff, period.key, values, notice=done if done in DONE else None
    )


async def form_submit(request: web.Request) -> web.Response:
    staff, reports = _editor(request)
    posted = await request.post()
    wanted = str(posted.get("period", "")).strip()
    try:
        period = reports.period(wanted)
        form_id, revision = forms.form_id_of(posted), _revision(posted)
        raw: dict[str, object] = {name: str(posted.get(name, "")) for name in (*NUMBERS, *TEXTS)}
        send = posted.get("send") == "1"
        outcome = str(
            URL("/reports/form").with_query(period=period.key, done="sent" if send else "saved")
        )

        async def save() -> None:
            try:
                await reports.save_form(
                    staff.unit, period.key, raw, entered_by=staff.username, revision=revision
                )
            except IntegrityError:  # two first saves of the period at once: the second is told
                raise Conflict(
                    translator(request)("report_form.refused.stale"), code="form-stale"
                ) from None
            if send:
                await reports.send(staff.unit, period.key)

        saved = await run_once(request, form_id, claim_only(outcome), then=save)
    except (Invalid, Conflict) as refusal:
        return await _form(
            request,
            reports,
            staff,
            wanted,
            posted,
            refusal=translator(request).refusal(refusal),
            status=refusal.http_status,
        )
    return see_other(saved.outcome)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/reports/form", form_page, name="report_form")
    app.router.add_post("/reports/form", form_submit)
