"""Secret outgoing documents on paper: "Cấp số, phát hành bản giấy" on an approved secret draft,
and "Vào sổ văn bản mật đi" for one drafted and signed on paper (the rules:
:mod:`office.documents.paper`).

Each form claims its one-time id in the step's transaction (a double submit lands where the
first went, having done the work once); then POST, 303, GET.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from office.documents import access, paper
from office.documents.desk import DESK
from office.documents.web.outgoing import draft_attachments, draft_form_page, draft_input
from office.documents.web.requests import document_id_of, form_version
from office.web import forms
from office.web.auth import upload_token_check
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.site import STAFF, translator


async def issue_on_paper(request: web.Request) -> web.Response:
    """Cấp số, phát hành bản giấy: numbered and dated in the transaction; nothing is sent."""
    staff, desk = request[STAFF], request.app[DESK]
    form = await request.post()
    document_id, version = document_id_of(request), form_version(form)

    async def work(session: AsyncSession) -> str:
        await paper.issue_on_paper(session, staff, document_id, version, desk.now(), desk.today())
        await desk.index(session, document_id)  # its number and symbol, now given
        return f"/outgoing/{document_id}"

    return see_other((await run_once(request, forms.form_id_of(form), work)).outcome)


def _require_clerk(request: web.Request) -> None:
    if not access.may_register(request[STAFF]):
        raise NotFound(translator(request)("error.not-found"))


async def entry_page(request: web.Request) -> web.Response:
    _require_clerk(request)
    return draft_form_page(request, "paper", MultiDict(secrecy="1"))


async def entry_submit(request: web.Request) -> web.Response:
    """Vào sổ văn bản mật đi: the fields and recipients as a draft's, any files (none needed)."""
    _require_clerk(request)
    staff, desk = request[STAFF], request.app[DESK]
    async with forms.staged_upload(
        request, desk.blobs, desk.settings.max_upload_bytes, upload_token_check(request)
    ) as upload:
        form_id = forms.form_id_of(upload.fields)
        try:
            fields, recipients = draft_input(request, upload.fields)
            files = await draft_attachments(request, upload)

            async def enter(session: AsyncSession) -> str:
                document = await paper.enter_outgoing(
                    session, staff, fields, recipients, files, desk.now(), desk.today()
                )
                await desk.index(session, document.id)
                upload.keep(desk.blobs)
                return f"/outgoing/{document.id}"

            return see_other((await run_once(request, form_id, enter)).outcome)
        except (Invalid, Conflict) as refusal:
            return draft_form_page(
                request,
                "paper",
                upload.fields,
                refusal=translator(request).refusal(refusal),
                status=refusal.http_status,
            )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/outgoing/paper", entry_page, name="outgoing_paper")
    app.router.add_post("/outgoing/paper", entry_submit, name="outgoing_paper.upload")
    app.router.add_post(r"/outgoing/{document_id:\d+}/issue-paper", issue_on_paper)
