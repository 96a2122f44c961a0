"""Thu hồi: the sender's clerk asks every recipient to recall a document it sent; each
recipient's clerk agrees (the document is marked recalled) or refuses, and the answer goes
back to the sender's timeline as an edXML status (15 agreed, 16 refused).

The request itself travels as a status (13) from the sender; the exchange hands it to
:func:`mark_requested` inside the transaction that records it. Receiving the same request
twice changes nothing, so the sender may send it again after any doubt.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Forbidden, Invalid
from config.logging import get_logger
from keys.signin import StaffMember
from office.documents import access, refusals
from office.documents.models import INCOMING, OUTGOING, Assignment, Document
from office.documents.records import StatusNotice, change, log_event, visible_document

log = get_logger("congvan.office.recall")

REQUESTED, AGREED, REFUSED = "requested", "agreed", "refused"
#: An assignment closed because its document was recalled.
RECALLED_ASSIGNMENT = "recalled"
#: edXML: recall requested, agreed, refused.
RECALL_REQUESTED, RECALL_AGREED, RECALL_REFUSED = "13", "15", "16"


def not_recalled() -> ColumnElement[bool]:
    """Documents still to be worked on: one its unit agreed to recall is cancelled there."""
    return or_(Document.recall_state.is_(None), Document.recall_state != AGREED)


def _require_clerk(staff: StaffMember) -> None:
    if not access.may_register(staff):
        raise Forbidden(refusals.NOT_ALLOWED(action=refusals.TO_RECALL), code="forbidden")


async def recallable(
    session: AsyncSession, staff: StaffMember, document_id: int, version: int
) -> Document:
    """The sender's side, before the request goes out: a sent document, not asked already."""
    _require_clerk(staff)
    document = await visible_document(session, staff, document_id, OUTGOING)
    if document.state != "sent" or document.dispatch_id is None:
        raise Conflict(refusals.ONLY_SENT_RECALLED(), code="stale")
    if document.recall_state is not None:
        raise Conflict(refusals.RECALL_ALREADY_REQUESTED(), code="stale")
    if document.version != version:
        raise Conflict(refusals.STALE(), code="stale")
    return document


async def record_request(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    note: str,
    now: datetime,
) -> Document:
    """The request went out: mark our document (after sending, so a refusal marks nothing)."""
    document = await recallable(session, staff, document_id, version)
    await change(session, document, version, recall_state=REQUESTED)
    log_event(session, document.id, staff.id, "recall-requested", note, at=now)
    return document


async def mark_requested(
    session: AsyncSession, dispatch_id: str, unit: str, note: str, now: datetime
) -> None:
    """The receiver's side: the sender asks to recall what ``dispatch_id`` brought ``unit``.
    The version moves, so a form opened before the request is refused as stale."""
    document = await session.scalar(
        select(Document).where(
            Document.dispatch_id == dispatch_id,
            Document.unit_code == unit,
            Document.direction == INCOMING,
        )
    )
    if document is None:
        log.warning("recall.no_document", dispatch_id=dispatch_id, unit=unit)
        return
    if document.recall_state in (REQUESTED, AGREED):
        return
    await session.execute(
        update(Document)
        .where(Document.id == document.id)
        .values(recall_state=REQUESTED, version=Document.version + 1)
        .execution_options(synchronize_session=False)
    )
    log_event(session, document.id, None, "recall-requested", note, at=now)
    log.info("recall.requested", document_id=document.id, dispatch_id=dispatch_id, unit=unit)


async def _answer(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    state: str,
    note: str,
    now: datetime,
) -> list[StatusNotice]:
    _require_clerk(staff)
    document = await visible_document(session, staff, document_id, INCOMING)
    if document.recall_state != REQUESTED:
        raise Conflict(refusals.NO_RECALL_PENDING(), code="stale")
    await change(session, document, version, recall_state=state)
    log_event(session, document.id, staff.id, f"recall-{state}", note, at=now)
    if document.dispatch_id is None:
        return []
    code = RECALL_AGREED if state == AGREED else RECALL_REFUSED
    return [StatusNotice(document.dispatch_id, document.unit_code, code, note)]


async def agree_recall(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    note: str,
    now: datetime,
) -> list[StatusNotice]:
    """Đồng ý thu hồi: the document is cancelled here (Decree 30 Art. 18: the recipient cancels
    a recalled document in the system): out of the queues, its open assignments closed, no
    further step taken (:func:`office.documents.incoming.register` and the others refuse it),
    shown as "Đã thu hồi" in the register; and the sender is told."""
    notices = await _answer(session, staff, document_id, version, AGREED, note, now)
    await session.execute(
        update(Assignment)
        .where(Assignment.document_id == document_id, Assignment.state == "open")
        .values(state=RECALLED_ASSIGNMENT, done_at=now)
        .execution_options(synchronize_session=False)
    )
    return notices


async def refuse_recall(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    note: str,
    now: datetime,
) -> list[StatusNotice]:
    """Từ chối thu hồi, with the reason the sender will read."""
    if not note:
        raise Invalid(
            refusals.MISSING_FIELD(label=refusals.RECALL_REFUSAL_REASON), code="missing-field"
        )
    return await _answer(session, staff, document_id, version, REFUSED, note, now)
