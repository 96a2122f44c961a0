"""Văn bản đến pages: the clerk's queue and the register, a document's page and its steps.

Each step's view parses its form, runs one service function in a transaction that also claims
the form's one-time id (a double submit lands on the same page, having done nothing twice),
sends the resulting statuses back to the sender, and redirects to the document (POST, then
303, then GET).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy, MultiMapping
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from config.file_names import attachment_disposition
from office.documents import (
    access,
    books,
    file_kinds,
    incoming,
    listing,
    presenting,
    recall,
    refusals,
    workload,
)
from office.documents.desk import DESK
from office.documents.fields import (
    document_fields,
    text,
)
from office.documents.incoming import StoredFile
from office.documents.models import INCOMING, DocumentFile
from office.documents.records import StatusNotice, log_event, visible_document
from office.documents.web import registers, routing, uploads
from office.documents.web.choices import document_choices
from office.documents.web.forwarding import forward_context
from office.documents.web.requests import document_id_of, form_version
from office.web import forms
from office.web.auth import upload_token_check
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator


async def register_page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    wanted = registers.incoming_filter(request)
    today = request.app[DESK].today()
    async with site.reads() as session:
        # The clerk's queue: only the clerk, who registers, is shown it.
        queue = (
            await listing.incoming_queue(session, staff, today)
            if access.may_register(staff)
            else []
        )
        presented = await workload.presented_to_me(session, staff)
        page = await listing.incoming_register(session, staff, wanted, today)
    return render(
        request,
        "documents/incoming_list.html",
        {
            "title": translator(request)("incoming.title"),
            "queue": queue,
            "presented": presented,
            "rows": page.rows,
            "page": page,
            "wanted": wanted,
            "query": request.query,
            "states": registers.INCOMING_STATES,
            "may_register": access.may_register(staff),
            "may_open_secret": books.may_open_secret(staff),
            **document_choices(request),
        },
    )


async def document_page(request: web.Request) -> web.Response:
    staff = request[STAFF]
    today = request.app[DESK].today()
    async with request.app[DESK].transaction() as session:
        document = await visible_document(session, staff, document_id_of(request), INCOMING)
        log_event(session, document.id, staff.id, "viewed")
        page = await listing.document_page(session, document, today)
        duplicate = (
            await incoming.find_duplicate(session, document)
            if document.state == "received"
            else None
        )
        routes = await routing.routing_view(session, staff, document, today)
        # The registering form presents it too: to the unit's head unless the clerk chooses.
        registering = (
            await routing.registering_choices(session, staff, document.secrecy)
            if document.state == "received" and access.may_register(staff)
            else {}
        )
        forwarded = await forward_context(request, session, staff, document)
        replaced = (
            await recall.replacement_here(session, staff, document)
            if document.recall_state
            else None
        )
    mine = [a for a in page.assignments if a.user_id == staff.id and a.state == "open"]
    return render(
        request,
        "documents/incoming_detail.html",
        {
            "title": document.summary[:80],
            "page": page,
            "doc": document,
            "duplicate": duplicate,
            "replaced": replaced,
            "routes": routes,
            **registering,
            "my_assignment": mine[0] if mine else None,
            "may_register": access.may_register(staff),
            # The sender's reason for asking it back, as its request said (the history keeps it).
            "recall_reason": next(
                (e.note for e in reversed(page.history) if e.action == "recall-requested"), ""
            ),
            "form_id": forms.new_form_id(),
            "default_days": request.app[DESK].settings.default_deadline_days,
            **forwarded,
            **document_choices(request),
        },
    )


def step(
    action: Callable[
        [web.Request, AsyncSession, MultiDictProxy[Any]], Awaitable[list[StatusNotice]]
    ],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A document step as a view: once per form id, statuses after commit, back to the page."""

    async def view(request: web.Request) -> web.Response:
        form = await request.post()
        target = f"/incoming/{document_id_of(request)}"
        notices: list[StatusNotice] = []

        async def work(session: AsyncSession) -> str:
            notices.extend(await action(request, session, form))
            return target

        once = await run_once(request, forms.form_id_of(form), work)
        if once.fresh:
            await request.app[DESK].report(notices)
        return see_other(once.outcome)

    return view


async def _register(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    fields = document_fields(form, desk.today(), max_secrecy=staff.clearance)
    document, notices = await incoming.register(
        session,
        staff,
        document_id_of(request),
        form_version(form),
        fields,
        desk.now(),
        year=desk.today().year,
        confirm_duplicate=form.get("confirm_duplicate") == "1",
    )
    await presenting.present_registered(
        session,
        staff,
        document,
        leader_id=routing.leader_of(form),
        proposal=routing.proposal_of(form),
        now=desk.now(),
    )
    await desk.index(session, document.id)
    return notices


async def _return(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    reason = text(form.get("reason"), refusals.RETURN_REASON, 2000, required=True)
    return await incoming.return_to_sender(
        session, staff, document_id_of(request), form_version(form), reason, desk.now()
    )


async def _progress(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    note = text(form.get("note"), refusals.PROGRESS, 4000, required=True)
    return await incoming.post_progress(
        session,
        staff,
        document_id_of(request),
        note,
        desk.now(),
        share_note=form.get("share_note") == "1",
    )


async def _finish(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    note = text(form.get("note"), refusals.OUTCOME, 4000, required=True)
    return await incoming.finish(
        session,
        staff,
        document_id_of(request),
        note,
        desk.now(),
        share_note=form.get("share_note") == "1",
    )


async def _paper_form(
    request: web.Request,
    values: MultiMapping[str] | None = None,
    *,
    refusal: str | None = None,
    status: int = 200,
) -> web.Response:
    """The paper entry form: empty, or as typed with the reason it was refused (its files must
    be chosen again: a browser does not send them twice). It presents the document too: the
    leaders are all the unit's (the level is chosen on the form; registering checks it)."""
    extra: dict[str, Any] = {} if values is None else {"values": values}
    async with request.app[SITE].sessions() as session:
        extra |= await routing.registering_choices(session, request[STAFF], 0)
    return render(
        request,
        "documents/incoming_new.html",
        {
            "title": translator(request)("incoming.new"),
            "form_id": values.get("form_id", "") if values else forms.new_form_id(),
            "refusal": refusal,
            "accept": file_kinds.ACCEPT,
            **extra,
            **document_choices(request),
        },
        status=status,
    )


async def new_paper_page(request: web.Request) -> web.Response:
    staff = request[STAFF]
    if not access.may_register(staff):
        raise NotFound(translator(request)("error.not-found"))
    return await _paper_form(request)


async def _paper_files(
    request: web.Request, upload: forms.UploadForm, secrecy: int
) -> list[StoredFile]:
    """The scan first (a PDF), then any appendices, in the order posted; each checked by
    content, each PDF's signature read. A secret document needs none: it is a register entry
    (:mod:`office.documents.paper`)."""
    if not upload.files:
        if secrecy > 0:
            return []
        raise Invalid(refusals.NO_SCAN(), code="missing-file")
    name, _content_type, staged = upload.files[0]
    await uploads.require_pdf(name, staged, refusals.NOT_A_PDF)
    return await uploads.checked_files(request.app[DESK], upload.files)


async def new_paper_submit(request: web.Request) -> web.Response:
    staff = request[STAFF]
    if not access.may_register(staff):
        raise NotFound(translator(request)("error.not-found"))
    desk = request.app[DESK]
    async with forms.staged_upload(
        request, desk.blobs, desk.settings.max_upload_bytes, upload_token_check(request)
    ) as upload:
        form_id = forms.form_id_of(upload.fields)
        try:
            fields = document_fields(upload.fields, desk.today(), max_secrecy=staff.clearance)
            leader, proposal = routing.leader_of(upload.fields), routing.proposal_of(upload.fields)
            stored = await _paper_files(request, upload, fields.secrecy)

            async def enter(session: AsyncSession) -> str:
                document = await incoming.enter_paper(
                    session,
                    staff,
                    fields,
                    stored,
                    desk.now(),
                    year=desk.today().year,
                    confirm_duplicate=upload.fields.get("confirm_duplicate") == "1",
                )
                await presenting.present_registered(
                    session,
                    staff,
                    document,
                    leader_id=leader,
                    proposal=proposal,
                    now=desk.now(),
                )
                await desk.index(session, document.id)
                upload.keep(desk.blobs)
                return f"/incoming/{document.id}"

            return see_other((await run_once(request, form_id, enter)).outcome)
        except (Invalid, Conflict) as refusal:
            # The form again, as typed, with the reason (a likely duplicate is a 409).
            return await _paper_form(
                request,
                upload.fields,
                refusal=translator(request).refusal(refusal),
                status=refusal.http_status,
            )


async def download(request: web.Request) -> web.StreamResponse:
    staff = request[STAFF]
    file_id = int(request.match_info["file_id"])
    async with request.app[DESK].transaction() as session:
        document = await visible_document(session, staff, document_id_of(request))
        stored = await session.get(DocumentFile, file_id)
        if stored is None or stored.document_id != document.id:
            raise NotFound(translator(request)("error.not-found"))
        log_event(session, document.id, staff.id, "downloaded", stored.name)
    path = request.app[DESK].blobs.path(stored.sha256)
    response = web.FileResponse(path, headers={"Content-Type": stored.content_type})
    response.headers["Content-Disposition"] = attachment_disposition(stored.name)
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/incoming", register_page, name="incoming")
    app.router.add_get("/incoming/new", new_paper_page, name="incoming_new")
    app.router.add_post("/incoming/new", new_paper_submit, name="incoming_new.upload")
    app.router.add_get(r"/incoming/{document_id:\d+}", document_page, name="incoming_document")
    for name, action in (
        ("register", _register),
        ("return", _return),
        ("progress", _progress),
        ("finish", _finish),
        *routing.STEPS.items(),
    ):
        app.router.add_post(rf"/incoming/{{document_id:\d+}}/{name}", step(action))
    app.router.add_get(
        r"/documents/{document_id:\d+}/files/{file_id:\d+}", download, name="document_file"
    )
