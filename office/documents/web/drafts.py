"""Sửa và xoá dự thảo văn bản đi: the draft's form again, pre-filled, with the version it was
shown at and an optional new PDF; and deleting a draft from its page.

The edit form is an upload (its token is its first field, checked before the file is read);
both forms claim their one-time id in the step's transaction, so a double submit lands where
the first one went, having done the work once. See :mod:`office.documents.drafts` for the
rules.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict, MultiMapping
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from config.errors import Invalid
from office.documents import drafts, outgoing, refusals
from office.documents.desk import DESK
from office.documents.models import Document
from office.documents.records import log_event
from office.documents.web.outgoing import (
    draft_attachments,
    draft_form_page,
    draft_input,
    draft_pdf,
)
from office.documents.web.requests import document_id_of, form_version
from office.web import forms
from office.web.auth import upload_token_check
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.site import SITE, STAFF, translator

#: Where a deleted draft's form leads: the register, saying so.
DELETED = str(URL("/outgoing").with_query(notice="deleted"))


def _values(document: Document) -> MultiDict[str]:
    """The draft's fields as its form posts them."""
    values = MultiDict(
        doc_type=document.doc_type,
        summary=document.summary,
        signer_name=document.signer_name,
        urgency=str(document.urgency),
        secrecy=str(document.secrecy),
        pages=str(document.pages or ""),
        note=document.note,
        version=str(document.version),
    )
    values.extend(("recipient", code) for code in outgoing.recipients_of(document))
    return values


def _edit_form(
    request: web.Request,
    document_id: int,
    values: MultiMapping[str],
    files: drafts.DraftFiles,
    *,
    refusal: str | None = None,
    status: int = 200,
) -> web.Response:
    return draft_form_page(
        request,
        "edit",
        values,
        refusal=refusal,
        status=status,
        extra={
            "document_id": document_id,
            "current_file": files.main,
            "attachments": files.attachments,
            "removing": set(values.getall("remove_attachment", [])),
        },
    )


async def edit_page(request: web.Request) -> web.Response:
    staff = request[STAFF]
    document_id = document_id_of(request)
    async with request.app[DESK].transaction() as session:
        document, files = await drafts.draft_for_editing(session, staff, document_id)
        values = _values(document)
        # The form shows the draft: a view, as its page is.
        log_event(session, document_id, staff.id, "viewed")
    return _edit_form(request, document_id, values, files)


async def edit_submit(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    desk, document_id = request.app[DESK], document_id_of(request)
    async with forms.staged_upload(
        request, desk.blobs, desk.settings.max_upload_bytes, upload_token_check(request)
    ) as upload:
        form_id = forms.form_id_of(upload.fields)
        version = form_version(upload.fields)
        try:
            fields, recipients = draft_input(request, upload.fields)
            # No PDF chosen: the draft keeps its own.
            new_pdf = await draft_pdf(upload)
            added = await draft_attachments(request, upload)
            removed = _file_ids(upload.fields.getall("remove_attachment", []))

            async def save(session: AsyncSession) -> str:
                await drafts.update_draft(
                    session,
                    staff,
                    document_id,
                    fields,
                    recipients,
                    version,
                    new_pdf,
                    desk.now(),
                    added,
                    removed,
                )
                await desk.index(session, document_id)
                upload.keep(desk.blobs)
                return f"/outgoing/{document_id}"

            return see_other((await run_once(request, form_id, save)).outcome)
        except Invalid as refusal:
            # The form again, as typed, with the reason; a new file must be chosen again.
            async with site.sessions() as session:
                _document, files = await drafts.draft_for_editing(session, staff, document_id)
            return _edit_form(
                request,
                document_id,
                upload.fields,
                files,
                refusal=translator(request).refusal(refusal),
                status=400,
            )


def _file_ids(values: list[str]) -> set[int]:
    """The attachments ticked for removal; anything but an id is a forged form."""
    if not all(value.isdecimal() for value in values):
        raise Invalid(refusals.BAD_ATTACHMENT_TO_REMOVE(), code="bad-form")
    return {int(value) for value in values}


async def delete_submit(request: web.Request) -> web.Response:
    staff = request[STAFF]
    form = await request.post()
    document_id, version = document_id_of(request), form_version(form)

    async def remove(session: AsyncSession) -> str:
        await drafts.delete_draft(session, staff, document_id, version)
        return DELETED

    return see_other((await run_once(request, forms.form_id_of(form), remove)).outcome)


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/outgoing/{document_id:\d+}/edit", edit_page, name="outgoing_edit")
    app.router.add_post(
        r"/outgoing/{document_id:\d+}/edit", edit_submit, name="outgoing_edit.upload"
    )
    app.router.add_post(r"/outgoing/{document_id:\d+}/delete", delete_submit)
