"""Thu hồi, the receiving side (Decree 30/2020 Art. 18: when the sender recalls an electronic
document, the recipient cancels it in the system and tells the sender, through the system, that
it has). The sender's clerk asks some or all recipients (:mod:`office.documents.recall_requests`);
each recipient's clerk agrees (the document is cancelled in the unit) or refuses, and the answer
goes back to the sender's timeline as an edXML status (15 agreed, 16 refused).

The request travels as a status (13) from the sender; the exchange hands it to
:func:`mark_requested` inside the transaction that records it. It may name the document that
replaces the recalled one (:class:`Replacement`): the receiving page links to it once it has
arrived here (:func:`replacement_here`), and names it in words until then. Receiving the same
request twice changes nothing, so the sender may send it again after any doubt.

A request that arrives before its document (the WAN keeps no order) is kept by the exchange and
handed here when the document arrives, in the transaction that files it: the document comes
into the queue already marked "Nơi gửi đề nghị thu hồi", and its clerk answers as for a request
that came after it. It is not cancelled without that answer, because Art. 18 has the recipient
cancel the document and tell the sender: the "agreed" status is signed by the receiving unit,
which only its clerk speaks for, and the outcome should not depend on the order in which the
network delivered the two dispatches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid
from config.logging import get_logger
from keys.signin import StaffMember
from office.documents import access, refusals
from office.documents.models import (
    INCOMING,
    Assignment,
    DepartmentAssignment,
    Document,
    DocumentRecall,
)
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


def require_clerk(staff: StaffMember) -> None:
    """Asking for a recall and answering one are the clerk's work (văn thư, Decree 30)."""
    access.require(access.may_register(staff), refusals.TO_RECALL)


#: Where a recall request carries the replacement it names.
REPLACEMENT_FIELD = "replacement"
MAX_SYMBOL, MAX_SUMMARY, MAX_DISPATCH_ID = 64, 2000, 36


@dataclass(frozen=True)
class Replacement:
    """The document a recall names in place of the recalled one, as the request carries it:
    the dispatch it was sent as (how a receiver finds its own copy), its number and symbol,
    date and summary (what edXML's ``ResponseFor`` says of another document: its id, code and
    date)."""

    dispatch_id: str
    number_symbol: str
    issued_on: date | None
    summary: str

    def as_details(self) -> dict[str, Any]:
        """The request's field (JSON) for this replacement."""
        return {
            REPLACEMENT_FIELD: {
                "dispatch_id": self.dispatch_id,
                "number_symbol": self.number_symbol,
                "issued_on": self.issued_on.isoformat() if self.issued_on else "",
                "summary": self.summary,
            }
        }

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> Replacement | None:
        """The replacement a received request names, or None: the sender signed it, but
        nothing in it is trusted to be well formed (a bad date is dropped, long text cut)."""
        found = details.get(REPLACEMENT_FIELD)
        if not isinstance(found, dict):
            return None
        dispatch_id = str(found.get("dispatch_id") or "")
        if not dispatch_id or len(dispatch_id) > MAX_DISPATCH_ID:
            return None
        try:
            issued_on: date | None = date.fromisoformat(str(found.get("issued_on") or ""))
        except ValueError:
            issued_on = None
        return cls(
            dispatch_id,
            str(found.get("number_symbol") or "")[:MAX_SYMBOL],
            issued_on,
            str(found.get("summary") or "")[:MAX_SUMMARY],
        )

    @classmethod
    def of(cls, row: DocumentRecall) -> Replacement | None:
        if row.replacement_dispatch_id is None:
            return None
        return cls(
            row.replacement_dispatch_id,
            row.replacement_number_symbol,
            row.replacement_issued_on,
            row.replacement_summary,
        )

    def columns(self) -> dict[str, Any]:
        """A :class:`DocumentRecall` row's columns for it."""
        return {
            "replacement_dispatch_id": self.dispatch_id,
            "replacement_number_symbol": self.number_symbol,
            "replacement_issued_on": self.issued_on,
            "replacement_summary": self.summary,
        }


@dataclass(frozen=True)
class ReplacementView:
    """A replacement as a page shows it: linked to the unit's own copy when there is one the
    reader may see, named in words otherwise."""

    replacement: Replacement
    document_id: int | None


async def linked_replacement(
    session: AsyncSession, staff: StaffMember, document: Document, replacement: Replacement
) -> ReplacementView:
    """Find the replacement in ``document``'s unit and book: the sender's own outgoing
    document, or (a receiver) the copy the same sender's dispatch brought, once it has
    arrived; only one the reader may see (:func:`access.visible_to`)."""
    found = await session.scalar(
        select(Document.id).where(
            Document.dispatch_id == replacement.dispatch_id,
            Document.unit_code == document.unit_code,
            Document.direction == document.direction,
            Document.sender_unit == document.sender_unit,
            access.visible_to(staff),
        )
    )
    return ReplacementView(replacement, found)


async def replacement_here(
    session: AsyncSession, staff: StaffMember, document: Document
) -> ReplacementView | None:
    """The replacement the sender named when it asked this unit to recall ``document``."""
    row = await session.scalar(
        select(DocumentRecall).where(
            DocumentRecall.document_id == document.id, DocumentRecall.unit == document.unit_code
        )
    )
    replacement = Replacement.of(row) if row is not None else None
    if replacement is None:
        return None
    return await linked_replacement(session, staff, document, replacement)


async def mark_requested(
    session: AsyncSession,
    dispatch_id: str,
    unit: str,
    note: str,
    now: datetime,
    replacement: Replacement | None = None,
) -> None:
    """The receiver's side: the sender asks to recall what ``dispatch_id`` brought ``unit``,
    naming ``replacement`` if any. The version moves, so a form opened before the request is
    refused as stale. A request already pending or agreed here changes nothing; one after a
    refusal asks again."""
    # Its columns, not the object: a document this transaction just filed (or marked, for
    # an earlier request) is in the session as it was before the UPDATE below.
    found = (
        await session.execute(
            select(Document.id, Document.recall_state).where(
                Document.dispatch_id == dispatch_id,
                Document.unit_code == unit,
                Document.direction == INCOMING,
            )
        )
    ).first()
    if found is None:
        log.warning("recall.no_document", dispatch_id=dispatch_id, unit=unit)
        return
    document_id, state = found
    if state in (REQUESTED, AGREED):
        return
    await session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(recall_state=REQUESTED, version=Document.version + 1)
        .execution_options(synchronize_session=False)
    )
    log_event(session, document_id, None, "recall-requested", note, at=now)
    row = await session.scalar(
        select(DocumentRecall).where(
            DocumentRecall.document_id == document_id, DocumentRecall.unit == unit
        )
    )
    if row is None:
        row = DocumentRecall(document_id=document_id, unit=unit)
        session.add(row)
    row.requested_at = now
    for name, value in (replacement.columns() if replacement else NO_REPLACEMENT).items():
        setattr(row, name, value)
    log.info("recall.requested", document_id=document_id, dispatch_id=dispatch_id, unit=unit)


NO_REPLACEMENT: dict[str, Any] = {
    "replacement_dispatch_id": None,
    "replacement_number_symbol": "",
    "replacement_issued_on": None,
    "replacement_summary": "",
}


async def _answer(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    state: str,
    note: str,
    now: datetime,
) -> list[StatusNotice]:
    require_clerk(staff)
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
    # A department's part too: its head is no longer asked to share it out.
    await session.execute(
        update(DepartmentAssignment)
        .where(
            DepartmentAssignment.document_id == document_id,
            DepartmentAssignment.state == "open",
        )
        .values(state=RECALLED_ASSIGNMENT)
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
