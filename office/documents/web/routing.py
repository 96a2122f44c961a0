"""The routing steps of an incoming document's page: presenting it to a leader (trình), the
leader's direction to people and departments, a department head sharing out its part, "để
biết" readers and their "Đã đọc"; and what the page shows of them.

Each step runs through :func:`office.documents.web.incoming.step`: once per form id, in one
transaction, statuses sent after it commits, back to the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy, MultiMapping
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid
from keys.organisation import unit_head_id
from keys.signin import StaffMember
from office.documents import (
    access,
    department_work,
    directing,
    handlers,
    presenting,
    readers,
    refusals,
    routing_refusals,
)
from office.documents.desk import DESK
from office.documents.fields import text
from office.documents.handlers import Handler
from office.documents.models import Document
from office.documents.readers import ReaderView
from office.documents.records import StatusNotice
from office.documents.web.requests import document_id_of, form_version
from office.web.site import STAFF


@dataclass
class RoutingView:
    """What an incoming document's page shows and offers of its routing to ``staff``."""

    #: The leader it was presented to (their name), and the clerk's proposed lead handler.
    presented_to: str = ""
    proposed: str = ""
    #: May direct it: the leader it was presented to.
    may_direct: bool = False
    #: May present it (again): the clerk, or the leader it was presented to.
    may_present: bool = False
    leaders: list[tuple[int, str]] = field(default_factory=list)
    choices: handlers.Choices | None = None
    parts: list[department_work.PartView] = field(default_factory=list)
    #: The parts ``staff`` heads and may share out, with the members offered for each.
    to_share: list[tuple[department_work.PartView, list[tuple[int, str]]]] = field(
        default_factory=list
    )
    readers: list[ReaderView] = field(default_factory=list)
    #: ``staff`` is one of its readers: None, or whether they marked it read.
    my_reading: ReaderView | None = None
    #: The direction form starts from the open assignment (or the clerk's proposal).
    current_lead: str = ""
    current_co: set[str] = field(default_factory=set)


async def routing_view(
    session: AsyncSession, staff: StaffMember, document: Document, today: date
) -> RoutingView:
    view = RoutingView(
        may_direct=access.may_direct_document(staff, document),
        parts=await department_work.parts_of(session, document.id, today),
        readers=await readers.readers_of(session, document.id),
    )
    view.may_present = view.may_direct or access.may_register(staff)
    if document.presented_to is not None:
        view.presented_to = await presenting.leader_name(session, document.presented_to)
    choices = await handlers.choices(session, staff.unit, document.secrecy)
    named = dict(choices.people + choices.departments)
    view.proposed = named.get(document.proposed_lead, "")
    if view.may_direct or view.may_present:
        view.choices = choices
    if view.may_present:
        view.leaders = await presenting.leaders(session, staff.unit, document.secrecy)
    for part in view.parts:
        if part.head_id == staff.id and part.state == department_work.OPEN:
            offered = await department_work.members(
                session, part.department_id, staff.unit, document.secrecy
            )
            view.to_share.append((part, offered))
    view.my_reading = next((r for r in view.readers if r.user_id == staff.id), None)
    given = await directing.current_handlers(session, document.id)
    view.current_lead = next((h.token for part, h in given if part == "lead"), "")
    view.current_lead = view.current_lead or document.proposed_lead
    view.current_co = {h.token for part, h in given if part == "co"}
    return view


async def registering_choices(
    session: AsyncSession, staff: StaffMember, secrecy: int
) -> dict[str, Any]:
    """What a registering form offers to present the document: the leaders cleared for it
    (the unit's head chosen), and the handlers the clerk may propose."""
    return {
        "register_leaders": await presenting.leaders(session, staff.unit, secrecy),
        "unit_head": await unit_head_id(session, staff.unit),
        "proposals": await handlers.choices(session, staff.unit, secrecy),
    }


#: The most people or departments one form may name (a crafted form naming thousands would
#: hold the step's transaction while each is checked).
MAX_NAMED = 200


def _ids(values: list[Any]) -> list[int]:
    if len(values) > MAX_NAMED:
        raise Invalid(refusals.BAD_HANDLER(), code="bad-handler")
    try:
        return [int(str(value)) for value in values if str(value).strip()]
    except ValueError:
        raise Invalid(refusals.BAD_HANDLER(), code="bad-handler") from None


def proposal_of(form: MultiMapping[Any]) -> Handler | None:
    value = str(form.get("proposed_lead") or "").strip()
    return handlers.parse_handler(value) if value else None


def leader_of(form: MultiMapping[Any]) -> int | None:
    chosen = _ids([form.get("leader", "")])
    return chosen[0] if chosen else None


async def _present(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    leader = leader_of(form)
    if leader is None:
        raise Invalid(refusals.MISSING_FIELD(label=routing_refusals.LEADER), code="missing-field")
    await presenting.present(
        session,
        staff,
        document_id_of(request),
        form_version(form),
        leader_id=leader,
        proposal=proposal_of(form),
        now=desk.now(),
    )
    return []


async def _direct(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    lead = handlers.parse_handlers([form.get("lead", "")])
    if not lead:
        raise Invalid(refusals.NO_LEAD(), code="missing-field")
    try:
        days = int(str(form.get("days") or desk.settings.default_deadline_days))
    except ValueError:
        days = -1
    if not 1 <= days <= 365:
        raise Invalid(refusals.BAD_DEADLINE(), code="bad-field")
    return await directing.direct(
        session,
        staff,
        desk.calendar,
        document_id_of(request),
        form_version(form),
        note=text(form.get("note"), refusals.DIRECTION, 4000, required=True),
        lead=lead[0],
        co=handlers.parse_handlers(form.getall("co", [])),
        working_days=days,
        today=desk.today(),
        now=desk.now(),
    )


async def _share_out(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    part = _ids([form.get("part", "")])
    lead = _ids([form.get("lead", "")])
    if not part or not lead:
        raise Invalid(refusals.NO_LEAD(), code="missing-field")
    await department_work.share_out(
        session,
        staff,
        document_id_of(request),
        part[0],
        lead_id=lead[0],
        co_ids=_ids(form.getall("co", [])),
        now=desk.now(),
    )
    return []


async def _add_readers(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    await readers.add_readers(
        session, staff, document_id_of(request), _ids(form.getall("reader", [])), desk.now()
    )
    return []


async def _mark_read(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> list[StatusNotice]:
    desk, staff = request.app[DESK], request[STAFF]
    await readers.mark_read(session, staff, document_id_of(request), desk.now())
    return []


#: Step name (the URL's last part) -> its view's action.
STEPS = {
    "present": _present,
    "direct": _direct,
    "share-out": _share_out,
    "readers": _add_readers,
    "read": _mark_read,
}
