"""Trình: the clerk presents a registered incoming document to a leader, who alone directs it,
and may propose who leads its handling (Decree 30/2020 Art. 23: documents go to the head of the
agency, or the person the head assigns, on the day they arrive, urgent ones at once; the clerk
may propose the handler).

The clerk presents it when registering it (to the leader chosen, else the unit's head) or after;
the clerk or the leader it was presented to may present it to another leader (the head passing
it to a deputy, a leader away) until its handling is finished.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid
from keys.models import User
from keys.organisation import unit_head_id
from keys.signin import StaffMember
from office.documents import access, handlers, routing_refusals
from office.documents.handlers import Handler
from office.documents.incoming import refuse_recalled
from office.documents.models import INCOMING, Document
from office.documents.records import amend, change, log_event, visible_document

PRESENTABLE = ("registered", "assigned")


async def leaders(session: AsyncSession, unit: str, secrecy: int) -> list[tuple[int, str]]:
    """The leaders a document may be presented to: active, of the unit, cleared for it."""
    rows = await session.execute(
        select(User.id, User.full_name, User.username)
        .where(
            User.unit_code == unit,
            User.role == "leader",
            User.disabled.is_(False),
            User.clearance >= secrecy,
        )
        .order_by(User.full_name, User.username)
    )
    return [(row.id, row.full_name or row.username) for row in rows]


async def leader_name(session: AsyncSession, user_id: int) -> str:
    user = await session.get(User, user_id)
    return handlers.display_name(user) if user is not None else ""


async def _leader(session: AsyncSession, unit: str, user_id: int, secrecy: int) -> User | None:
    user = await session.get(User, user_id)
    if (
        user is None
        or user.unit_code != unit
        or user.role != "leader"
        or user.disabled
        or user.clearance < secrecy
    ):
        return None
    return user


async def _record(
    session: AsyncSession,
    staff: StaffMember,
    document: Document,
    version: int | None,
    leader: User | None,
    proposal: Handler | None,
    now: datetime,
) -> None:
    """Record the presentation: as a step of its own (checked against the form's ``version``),
    or, with None, as part of the registration that just numbered the document."""
    proposed = ""
    if proposal is not None:
        proposed = await handlers.check(session, staff.unit, proposal, document.secrecy)
    values: dict[str, object] = {"proposed_lead": proposal.token if proposal else ""}
    if leader is not None:
        values["presented_to"] = leader.id
    if version is None:
        await amend(session, document, **values)
    else:
        await change(session, document, version, **values)
    if leader is None:
        return
    note = handlers.display_name(leader)
    if proposed:
        note += f"; đề xuất chủ trì: {proposed}"
    log_event(session, document.id, staff.id, "presented", note, at=now)


async def present(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    *,
    leader_id: int,
    proposal: Handler | None,
    now: datetime,
) -> None:
    """Present the document to ``leader_id`` (again, or to another leader)."""
    document = await visible_document(session, staff, document_id, INCOMING)
    holder = access.may_direct_document(staff, document)
    access.require(access.may_register(staff) or holder, routing_refusals.TO_PRESENT)
    refuse_recalled(document)
    if document.state not in PRESENTABLE:
        raise Conflict(routing_refusals.NOT_TO_PRESENT(), code="stale")
    leader = await _leader(session, staff.unit, leader_id, document.secrecy)
    if leader is None:
        raise Invalid(routing_refusals.BAD_LEADER(), code="bad-leader")
    await _record(session, staff, document, version, leader, proposal, now)


async def present_registered(
    session: AsyncSession,
    staff: StaffMember,
    document: Document,
    *,
    leader_id: int | None,
    proposal: Handler | None,
    now: datetime,
) -> None:
    """At registration, in its transaction: to the leader the clerk chose, else to the unit's
    head when they may read it; with neither, it waits on the clerk's home page as not yet
    presented."""
    if leader_id is not None:
        leader = await _leader(session, staff.unit, leader_id, document.secrecy)
        if leader is None:
            raise Invalid(routing_refusals.BAD_LEADER(), code="bad-leader")
    else:
        head = await unit_head_id(session, staff.unit)
        leader = await _leader(session, staff.unit, head, document.secrecy) if head else None
    if leader is None and proposal is None:
        return
    await _record(session, staff, document, None, leader, proposal, now)
