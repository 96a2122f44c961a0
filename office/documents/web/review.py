"""The review chain's pages: "Dự thảo của tôi", "Chờ tôi cho ý kiến", "Chờ tôi ký"; one page per
step (trình, trình tiếp, trả lại), each with one button and a comment box; the versions of a
draft and their comparison; the signer's delegations. See :mod:`office.documents.review`.

Each step claims its form's one-time id in the step's transaction (a double submit lands where
the first went); a refused step shows its page again with the comment as typed and the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import CongvanError, Invalid
from config.file_names import attachment_disposition
from keys.models import User
from keys.signin import StaffMember
from office.documents import (
    approval,
    delegation,
    outgoing,
    review,
    review_lists,
    review_refusals,
    versions,
)
from office.documents.desk import DESK
from office.documents.fields import day
from office.documents.models import OUTGOING, Document, DocumentFile
from office.documents.numbering import numbering_style
from office.documents.records import log_event, visible_document
from office.documents.web.choices import document_choices
from office.documents.web.requests import document_id_of, form_version
from office.web import forms, once
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator

#: The lists, by path: their title's message and the query that fills them.
LISTS = ("mine", "to-review", "to-sign")


async def list_page(request: web.Request) -> web.Response:
    site, staff, desk = request.app[SITE], request[STAFF], request.app[DESK]
    which = request.match_info["which"]
    async with site.sessions() as session:
        if which == "mine":
            rows = await review_lists.my_drafts(session, staff)
        elif which == "to-review":
            rows = await review_lists.to_review(session, staff)
        else:
            rows = await review_lists.to_sign(session, staff, desk.today())
    key = f"review.list.{which}"
    return render(
        request,
        "documents/review_list.html",
        {
            "title": translator(request)(key),
            "which": which,
            "rows": rows,
            **document_choices(request),
        },
    )


async def _files(session: AsyncSession, document_id: int) -> list[DocumentFile]:
    return list(
        await session.scalars(
            select(DocumentFile)
            .where(DocumentFile.document_id == document_id)
            .order_by(DocumentFile.id)
        )
    )


async def _step_context(
    request: web.Request, session: AsyncSession, document: Document, step: str
) -> dict[str, object]:
    staff = request[STAFF]
    people: list[tuple[str, list[review.Colleague]]] = []
    if step in ("submit", "forward"):
        people = [
            (review.TO_REVIEW, await review.reviewers(session, staff, document.secrecy)),
            (review.TO_SIGN, await review.signers(session, staff, document.secrecy)),
        ]
    authority: dict[str, object] = {}
    if step == "approve":
        style, _issuer = await numbering_style(session, staff.unit)
        delegated = document.holder_id != staff.id
        holder = await session.get(User, document.holder_id) if delegated else None
        authority = {
            "authority_forms": list(review.AUTHORITY_FORMS[style]),
            "default_form": "kt" if delegated else "own",
            "default_on_behalf": holder.title.upper() if holder is not None else "",
        }
    return {
        **authority,
        "title": translator(request)(f"review.step.{step}"),
        "doc": document,
        "step": step,
        "people": people,
        "files": await _files(session, document.id),
        "form_id": forms.new_form_id(),
        "refusal": None,
        "values": None,
        **document_choices(request),
    }


async def _document_for(
    session: AsyncSession, staff: StaffMember, document_id: int, step: str, today: date
) -> Document:
    """The document a step's page is about, if ``staff`` may take that step now."""
    if step == "submit":
        document = await visible_document(session, staff, document_id, OUTGOING)
        if document.state != outgoing.DRAFT:
            raise Invalid(review_refusals.NOT_A_DRAFT(), code="stale")
        return document
    return await review.held_document(session, staff, document_id, today)


def _step(step: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The page of one step: GET shows it, POST takes it."""

    async def view(request: web.Request) -> web.Response:
        site, staff, desk = request.app[SITE], request[STAFF], request.app[DESK]
        document_id = document_id_of(request)
        if request.method == "GET":
            async with site.sessions() as session:
                document = await _document_for(session, staff, document_id, step, desk.today())
                context = await _step_context(request, session, document, step)
            return render(request, "documents/review_step.html", context)
        form = await request.post()
        try:
            return await _take(request, step, document_id, form)
        except CongvanError as refusal:
            async with site.sessions() as session:
                document = await visible_document(session, staff, document_id, OUTGOING)
                context = await _step_context(request, session, document, step)
            context.update(refusal=translator(request).refusal(refusal), values=form)
            return render(
                request, "documents/review_step.html", context, status=refusal.http_status
            )

    return view


async def _take(
    request: web.Request, step: str, document_id: int, form: MultiMapping[Any]
) -> web.Response:
    staff, desk = request[STAFF], request.app[DESK]
    version = form_version(form)
    target, comment = forms.form_text(form, "to"), forms.form_text(form, "comment")
    form_id = forms.form_id_of(form)
    if step == "approve":
        async with request.app[SITE].sessions() as session:
            earlier = await once.done_before(session, form_id)
        if earlier is not None:  # a double submit: signed once already
            return see_other(earlier)
        signed = await approval.sign(
            desk,
            staff,
            document_id,
            version,
            forms.form_text(form, "authority"),
            forms.form_text(form, "on_behalf_of"),
            forms.form_text(form, "pin"),
        )

        async def keep(session: AsyncSession) -> str:
            await approval.record(session, desk, staff, signed, review.comment_of(comment))
            return f"/outgoing/{document_id}"

        return see_other((await run_once(request, form_id, keep)).outcome)

    async def work(session: AsyncSession) -> str:
        now, today = desk.now(), desk.today()
        if step == "submit":
            await review.submit(session, staff, document_id, version, target, comment, now)
        elif step == "forward":
            await review.forward(session, staff, document_id, version, target, comment, now, today)
        else:
            await review.return_to_drafter(
                session, staff, document_id, version, comment, now, today
            )
        return f"/outgoing/{document_id}"

    return see_other((await run_once(request, form_id, work)).outcome)


async def versions_page(request: web.Request) -> web.Response:
    staff = request[STAFF]
    document_id = document_id_of(request)
    async with request.app[DESK].transaction() as session:
        document = await visible_document(session, staff, document_id, OUTGOING)
        steps = await versions.versions(session, staff, document_id)
        log_event(session, document_id, staff.id, "viewed")
    by_seq = {entry.seq: entry for entry in steps}
    compared = None
    a, b = request.query.get("a", ""), request.query.get("b", "")
    if a.isdigit() and b.isdigit() and int(a) in by_seq and int(b) in by_seq:
        compared = versions.compare(by_seq[int(a)].files, by_seq[int(b)].files)
    return render(
        request,
        "documents/review_versions.html",
        {
            "title": translator(request)("review.versions"),
            "doc": document,
            "steps": steps,
            "compared": compared,
            "a": a,
            "b": b,
            **document_choices(request),
        },
    )


async def version_download(request: web.Request) -> web.StreamResponse:
    staff = request[STAFF]
    document_id = document_id_of(request)
    async with request.app[DESK].transaction() as session:
        row = await versions.version_file(
            session, staff, document_id, int(request.match_info["file_id"])
        )
        log_event(session, document_id, staff.id, "downloaded", row.name)
    response = web.FileResponse(
        request.app[DESK].blobs.path(row.sha256), headers={"Content-Type": row.content_type}
    )
    response.headers["Content-Disposition"] = attachment_disposition(row.name)
    return response


async def delegations_page(request: web.Request) -> web.Response:
    site, staff, desk = request.app[SITE], request[STAFF], request.app[DESK]
    refusal, status = None, 200
    if request.method == "POST":
        form = await request.post()
        try:
            return await _delegate(request, form)
        except CongvanError as error:
            refusal, status = translator(request).refusal(error), error.http_status
    async with site.sessions() as session:
        given = await delegation.current(session, staff, desk.today())
        leaders = await review.signers(session, staff, 0)
    return render(
        request,
        "documents/delegations.html",
        {
            "title": translator(request)("review.delegations"),
            "given": given,
            "leaders": leaders,
            "refusal": refusal,
            "form_id": forms.new_form_id(),
        },
        status=status,
    )


async def _delegate(request: web.Request, form: MultiMapping[Any]) -> web.Response:
    staff, desk = request[STAFF], request.app[DESK]
    cancel = forms.form_text(form, "cancel")

    async def work(session: AsyncSession) -> str:
        if cancel.isdigit():
            await delegation.cancel(session, staff, int(cancel), desk.now())
        else:
            to = forms.form_text(form, "to")
            if not to.isdigit():
                raise Invalid(review_refusals.BAD_DELEGATION(), code="bad-delegation")
            starts = day(forms.form_text(form, "starts_on"), review_refusals.STARTS_ON)
            ends = day(forms.form_text(form, "ends_on"), review_refusals.ENDS_ON)
            if starts is None or ends is None:
                raise Invalid(review_refusals.BAD_PERIOD(), code="bad-period")
            await delegation.delegate(
                session, staff, int(to), starts, ends, desk.now(), desk.today()
            )
        return "/delegations"

    return see_other((await run_once(request, forms.form_id_of(form), work)).outcome)


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/outgoing/{which:mine|to-review|to-sign}", list_page)
    for step in ("submit", "forward", "return", "approve"):
        path = rf"/outgoing/{{document_id:\d+}}/{step}"
        app.router.add_route("GET", path, _step(step))
        app.router.add_route("POST", path, _step(step))
    app.router.add_get(r"/outgoing/{document_id:\d+}/versions", versions_page)
    app.router.add_get(
        r"/outgoing/{document_id:\d+}/versions/files/{file_id:\d+}", version_download
    )
    app.router.add_route("GET", "/delegations", delegations_page)
    app.router.add_route("POST", "/delegations", delegations_page)
