"""Văn bản đi pages: the drafts and the register, a new draft (streamed PDF upload), a
document's page with its timeline per recipient, and the steps: phát hành, gửi lại (thu hồi:
:mod:`office.documents.web.recall`).

Each step runs in a transaction that also claims the form's one-time id, so a double submit
lands on the same page having done nothing twice; then POST, 303, GET.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import groupby
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiMapping
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid, NotFound
from keys.signin import StaffMember
from office.documents import (
    access,
    books,
    drafts,
    file_kinds,
    listing,
    outgoing,
    outgoing_register,
    refusals,
    review_lists,
    sending,
)
from office.documents.desk import DESK
from office.documents.fields import DocumentFields, document_fields
from office.documents.incoming import StoredFile
from office.documents.models import OUTGOING
from office.documents.outgoing import GROUPS, SEND_ATTEMPT, SEND_FAILED, Recipient
from office.documents.records import log_event, visible_document
from office.documents.timeline import recipient_timelines
from office.documents.web import network, recall, registers, uploads
from office.documents.web.choices import document_choices
from office.documents.web.requests import document_id_of, form_version
from office.web import forms
from office.web.auth import upload_token_check
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator


async def register_page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    wanted = registers.outgoing_filter(request)
    name = request.app[DESK].unit_name
    async with site.sessions() as session:
        drafts = await outgoing_register.drafts(session, staff, name)
        rows, more = await outgoing_register.outgoing_register(session, staff, wanted, name)
    return render(
        request,
        "documents/outgoing_list.html",
        {
            "title": translator(request)("outgoing.title"),
            "drafts": drafts,
            "rows": rows,
            "more": more,
            "wanted": wanted,
            "query": request.query,
            "states": outgoing_register.REGISTER_STATES,
            "may_draft": outgoing.may_draft(staff),
            "may_open_secret": books.may_open_secret(staff),
            "may_enter_paper": access.may_register(staff),
            **document_choices(request),
        },
    )


def recipient_choices(request: web.Request) -> list[Recipient]:
    """The units the signed-in user's unit may address, from the directory."""
    desk, staff = request.app[DESK], request[STAFF]
    if desk.directory is None:
        raise Invalid(refusals.NO_DIRECTORY(), code="no-directory")
    return outgoing.addressable(desk.directory.units(), staff.unit)


def _draft_form_context(request: web.Request, values: MultiMapping[str]) -> dict[str, Any]:
    """What a draft's form shows (a new draft, or one being edited): ``values`` as typed."""
    recipients = recipient_choices(request)
    return {
        "form_id": values.get("form_id") or forms.new_form_id(),
        "values": values,
        "picked": set(values.getall("recipient", [])),
        "picked_groups": set(values.getall("group", [])),
        "groups": list(GROUPS),
        "by_kind": [(kind, list(units)) for kind, units in groupby(recipients, _kind)],
        "accept": file_kinds.ACCEPT,
        **document_choices(request),
    }


def draft_input(
    request: web.Request, values: MultiMapping[str]
) -> tuple[DocumentFields, list[str]]:
    """A draft form's fields and recipients, checked (the secrecy within the user's clearance)."""
    desk, staff = request.app[DESK], request[STAFF]
    fields = document_fields(values, desk.today(), max_secrecy=staff.clearance)
    recipients = outgoing.chosen_recipients(
        values.getall("recipient", []), values.getall("group", []), recipient_choices(request)
    )
    return fields, recipients


def draft_form_page(
    request: web.Request,
    page: str,
    values: MultiMapping[str],
    *,
    refusal: str | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> web.Response:
    """A draft's form (``page``: "new", "edit", or "paper" for a secret document entered from
    paper), its template ``documents/outgoing_<page>.html`` titled ``outgoing.<page>``, with
    ``values`` as typed and the reason it was refused, if it was."""
    return render(
        request,
        f"documents/outgoing_{page}.html",
        {
            "title": translator(request)(f"outgoing.{page}"),
            "refusal": refusal,
            **(extra or {}),
            **_draft_form_context(request, values),
        },
        status=status,
    )


def _kind(recipient: Recipient) -> str:
    return recipient.kind or "other"


def _require_drafter(request: web.Request) -> StaffMember:
    staff = request[STAFF]
    if not outgoing.may_draft(staff):
        raise NotFound(translator(request)("error.not-found"))
    return staff


async def new_page(request: web.Request) -> web.Response:
    _require_drafter(request)
    return draft_form_page(request, "new", MultiDict())


async def new_submit(request: web.Request) -> web.Response:
    staff = _require_drafter(request)
    desk = request.app[DESK]
    async with forms.staged_upload(
        request, desk.blobs, desk.settings.max_upload_bytes, upload_token_check(request)
    ) as upload:
        form_id = forms.form_id_of(upload.fields)
        try:
            fields, recipients = draft_input(request, upload.fields)
            main = await draft_pdf(upload)
            if main is None:
                raise Invalid(refusals.NO_MAIN_FILE(), code="missing-file")
            attachments = await draft_attachments(request, upload)

            async def create(session: AsyncSession) -> str:
                document = await outgoing.create_draft(
                    session, staff, fields, recipients, main, desk.now(), attachments
                )
                await desk.index(session, document.id)
                upload.keep(desk.blobs)
                return f"/outgoing/{document.id}"

            return see_other((await run_once(request, form_id, create)).outcome)
        except Invalid as refusal:
            # The form again, as typed, with the reason; the file must be chosen again.
            return draft_form_page(
                request,
                "new",
                upload.fields,
                refusal=translator(request).refusal(refusal),
                status=400,
            )


async def draft_pdf(upload: forms.UploadForm) -> StoredFile | None:
    """The draft's PDF as chosen (None when none was), checked by content; the view keeps it
    in the blob store when it records the draft."""
    match upload.files_of(uploads.MAIN_FIELD):
        case []:
            return None
        case [(name, _content_type, staged)]:
            return await uploads.main_pdf(name, staged, refusals.NOT_A_SIGNABLE_UPLOAD)
        case _:
            raise Invalid(refusals.ONE_MAIN_FILE(), code="bad-form")


async def draft_attachments(request: web.Request, upload: forms.UploadForm) -> list[StoredFile]:
    """The appendices and sources chosen, in their order, each checked by content."""
    return await uploads.checked_files(
        request.app[DESK], upload.files_of(uploads.ATTACHMENTS_FIELD)
    )


def _send_problem(history: list[listing.EventView]) -> str | None:
    """The reason the last send attempt failed, if it did."""
    attempts = [e for e in history if e.action in (SEND_ATTEMPT, SEND_FAILED)]
    return attempts[-1].note if attempts and attempts[-1].action == SEND_FAILED else None


#: What a document's page may say of the step that led to it (``?notice=…``): a draft just
#: made from the IT report (``Phát hành báo cáo``, :mod:`office.reports.web.publish`).
NOTICES = frozenset({"from-report"})


async def document_page(request: web.Request) -> web.Response:
    staff = request[STAFF]
    desk = request.app[DESK]
    async with desk.transaction() as session:
        document = await visible_document(session, staff, document_id_of(request), OUTGOING)
        log_event(session, document.id, staff.id, "viewed")
        page = await listing.document_page(session, document, desk.today())
        recalls = await recall.recall_panel(request, session, document)
        timelines = (
            await recipient_timelines(
                session,
                document.dispatch_id,
                outgoing.recipients_of(document),
                desk.unit_name,
                recalls.requested_at,
            )
            if document.dispatch_id is not None
            else []
        )
        chain = await review_lists.chain_actions(session, staff, document, desk.today())
    return render(
        request,
        "documents/outgoing_detail.html",
        {
            "title": document.summary[:80],
            "doc": document,
            "page": page,
            "recipients": [desk.unit_name(c) for c in outgoing.recipients_of(document)],
            "timelines": timelines,
            "send_problem": _send_problem(page.history) if document.state == "issued" else None,
            "chain": chain,
            "recalls": recalls,
            "may_change_draft": document.state == "draft" and drafts.may_change(staff, document),
            "delete_form_id": forms.new_form_id(),
            "recall_outcome": recall.recall_outcome(document.recall_state, timelines),
            "form_id": forms.new_form_id(),
            "notice": notice if (notice := request.query.get("notice")) in NOTICES else None,
            **network.network_context(request, document),
            **document_choices(request),
        },
    )


def _outgoing_step(
    action: Callable[[web.Request, AsyncSession, int, int], Awaitable[None]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Phát hành and gửi lại: the number (or the attempt's lease) in the form's transaction,
    then signing and sending outside it."""

    async def view(request: web.Request) -> web.Response:
        staff = request[STAFF]
        form = await request.post()
        document_id, version = document_id_of(request), form_version(form)
        target = f"/outgoing/{document_id}"

        async def work(session: AsyncSession) -> str:
            await action(request, session, document_id, version)
            return target

        step = await run_once(request, forms.form_id_of(form), work)
        if step.fresh:
            await sending.send_issued(request.app[DESK], document_id, staff.id)
        return see_other(step.outcome)

    return view


async def _issue(
    request: web.Request, session: AsyncSession, document_id: int, version: int
) -> None:
    desk = request.app[DESK]
    await outgoing.issue(
        session,
        request[STAFF],
        document_id,
        version,
        desk.now(),
        desk.today(),
        network=desk.network_limit,
    )
    await desk.index(session, document_id)  # its number and symbol, now given


async def _resend(
    request: web.Request, session: AsyncSession, document_id: int, version: int
) -> None:
    desk = request.app[DESK]
    await outgoing.claim_resend(
        session, request[STAFF], document_id, version, desk.now(), network=desk.network_limit
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/outgoing", register_page, name="outgoing")
    app.router.add_get("/outgoing/new", new_page, name="outgoing_new")
    app.router.add_post("/outgoing/new", new_submit, name="outgoing_new.upload")
    app.router.add_get(r"/outgoing/{document_id:\d+}", document_page, name="outgoing_document")
    app.router.add_post(r"/outgoing/{document_id:\d+}/issue", _outgoing_step(_issue))
    app.router.add_post(r"/outgoing/{document_id:\d+}/resend", _outgoing_step(_resend))
    recall.add_routes(app)
