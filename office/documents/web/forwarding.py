"""Chuyển tiếp on an incoming document's page: the clerk's form (the unit's subordinate units
on the network), each forward's timeline per unit (its receipt, then what each unit reported),
and "Gửi lại" for a forward the exchange did not take.

The forward is recorded in the form's transaction (once per form id), then sent outside it;
POST, then 303, then GET, as every step of the document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import CongvanError, Invalid, NotFound
from keys.signin import StaffMember
from office.documents import forward_refusals as texts
from office.documents import forward_sending, forwarding, refusals
from office.documents.desk import DESK
from office.documents.fields import MAX_NOTE, text
from office.documents.models import Document
from office.documents.timeline import recipient_timelines
from office.documents.web.requests import document_id_of, form_version
from office.web import forms
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.site import STAFF, translator


def children_of(request: web.Request, unit: str) -> list[forwarding.ChildUnit]:
    """The unit's subordinates that can be forwarded to, from the signed directory."""
    directory = request.app[DESK].directory
    if directory is None:
        raise Invalid(refusals.NO_DIRECTORY(), code="no-directory")

    def has_node(name: str) -> bool:
        try:
            directory.node(name)
        except NotFound:
            return False
        return True

    return forwarding.child_units(directory.units(), unit, has_node)


async def forward_context(
    request: web.Request, session: AsyncSession, staff: StaffMember, document: Document
) -> dict[str, Any]:
    """What the document's page shows of forwarding: its forwards with a timeline per unit
    (to anyone who sees the document), and for the clerk the units still to forward to, or
    why it cannot be forwarded."""
    desk = request.app[DESK]
    forwards = await forwarding.forwards_of(session, document.id, desk.now())
    timelines = {
        forward.id: await recipient_timelines(
            session, forward.dispatch_id, forward.recipients, desk.unit_name
        )
        for forward in forwards
    }
    choices: list[forwarding.ChildUnit] = []
    refusal = ""
    if forwarding.may_forward(staff) and desk.directory is not None:
        done = set(await forwarding.forwarded_units(session, document.id))
        try:
            # A directory past its next update is refused: the page shows why, not an error.
            children = children_of(request, staff.unit)
            choices = [child for child in children if child.code not in done]
            if choices:
                forwarding.check_forwardable(document)
                codes = [child.code for child in choices]
                barred = forwarding.barred_by_secrecy(document, desk.network_limit, codes)
                choices = [child for child in choices if child.code not in barred]
                forwarding.check_secrecy(document, desk.network_limit, [] if choices else barred)
        except CongvanError as error:
            choices, refusal = [], translator(request).refusal(error)
    return {
        "forwards": forwards,
        "forward_timelines": timelines,
        "forward_choices": choices,
        "forward_refusal": refusal,
    }


def _forward_step(
    action: Callable[[web.Request, AsyncSession, StaffMember, int, Any], Awaitable[int]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A forward's step: recorded once per form id, then sent after the commit."""

    async def view(request: web.Request) -> web.Response:
        staff = request[STAFF]
        form = await request.post()
        document_id = document_id_of(request)
        forward_ids: list[int] = []

        async def work(session: AsyncSession) -> str:
            forward_ids.append(await action(request, session, staff, document_id, form))
            return f"/incoming/{document_id}"

        step = await run_once(request, forms.form_id_of(form), work)
        if step.fresh:
            await forward_sending.send_forward(request.app[DESK], forward_ids[0], staff.id)
        return see_other(step.outcome)

    return view


async def _forward(
    request: web.Request, session: AsyncSession, staff: StaffMember, document_id: int, form: Any
) -> int:
    desk = request.app[DESK]
    forward = await forwarding.record_forward(
        session,
        staff,
        document_id,
        form_version(form),
        [str(code) for code in form.getall("unit", [])],
        children_of(request, staff.unit),
        text(form.get("note"), texts.FORWARD_NOTE, MAX_NOTE),
        desk.now(),
        desk.network_limit,
    )
    return forward.id


async def _resend(
    request: web.Request, session: AsyncSession, staff: StaffMember, document_id: int, form: Any
) -> int:
    forward_id = int(request.match_info["forward_id"])
    desk = request.app[DESK]
    await forwarding.claim_attempt(
        session, staff, document_id, forward_id, desk.now(), desk.network_limit
    )
    return forward_id


def add_routes(app: web.Application) -> None:
    app.router.add_post(r"/incoming/{document_id:\d+}/forward", _forward_step(_forward))
    app.router.add_post(
        r"/incoming/{document_id:\d+}/forward/{forward_id:\d+}/resend", _forward_step(_resend)
    )
