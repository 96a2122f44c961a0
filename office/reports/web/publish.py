"""Phát hành báo cáo: the report page's button that makes the report shown its unit's outgoing
draft, with its PDF (:mod:`office.reports.drafting`), and leads to the draft's page.

Only whoever may both read the unit's report and draft its documents sees the button (a clerk
of the unit: :func:`office.reports.web.access.may_publish`); a post from anyone else who reads
reports is refused (403), and from anyone who does not is answered as for an unknown page, as
every report page is. The form carries its one-time id: a double submit is led to the draft
the first one made, and the report is printed once (asked before printing, claimed with the
draft in one transaction).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from config.errors import Invalid, NotFound
from office.documents.access import require
from office.documents.desk import DESK
from office.reports import drafting, refusals
from office.reports.web.access import may_publish, report_reader
from office.reports.web.report import ISSUE_FIELDS, SIGNER_FIELDS, file_name, issue_of, refused
from office.web import forms
from office.web.once import done_before, run_once
from office.web.redirects import see_other
from office.web.site import SITE, translator

PATH = "/reports/publish"
#: What the draft's page says when it opens on the draft just made.
NOTICE = "from-report"


async def publish_submit(request: web.Request) -> web.Response:
    staff, reports = report_reader(request)
    desk, form = request.app[DESK], await request.post()
    values = {
        name: forms.form_text(form, name).strip() for name in ("unit", "period", *SIGNER_FIELDS)
    }
    # The number and the date are the issue's to write: the form's are never read.
    values |= {name: "" for name in ISSUE_FIELDS if name not in SIGNER_FIELDS}
    unit = values["unit"]
    if unit not in reports.hosted:
        raise NotFound(translator(request)("error.not-found"))
    require(may_publish(staff, reports, unit), refusals.TO_PUBLISH)
    form_id = forms.form_id_of(form)
    async with request.app[SITE].sessions() as session:
        earlier = await done_before(session, form_id)
    if earlier is not None:  # a double submit: the draft was made once already
        return see_other(earlier)
    try:
        issue = reports.with_signer(issue_of(request, values))
        signer = drafting.signer_line(issue.signer)
        to = drafting.recipients(desk, unit)
        report = await reports.report(unit, values["period"], issue)
    except Invalid as refusal:
        return refused(request, staff, reports, values, refusal)
    pdf = await drafting.stored_pdf(desk, report, file_name(unit, report.period.key, "pdf"))

    async def create(session: AsyncSession) -> str:
        document = await drafting.create_draft(session, desk, staff, report, signer, to, pdf)
        return str(URL(f"/outgoing/{document.id}").with_query(notice=NOTICE))

    return see_other((await run_once(request, form_id, create)).outcome)


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, publish_submit, name="report_publish")
