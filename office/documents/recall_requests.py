"""Thu hồi, the sending side (Decree 30/2020 Art. 18): the clerk of the unit that sent a
document asks some or all of its recipients to recall it, for a reason, and may name the
document that replaces it.

Whom: the recipients the document was sent to, each asked once. One already asked (whether it
has answered or not) is not offered again: its answer, or its silence, shows on its line of
the timeline. The form offers every other recipient, all ticked; a posted choice outside them
(a unit the document was not sent to, one asked already) is refused as a whole.

Which replacement: one of the unit's own outgoing documents that was issued (numbered and
signed by the unit), other than the recalled one, that the clerk may see, and whose secrecy is
no higher than the recalled one's: the request carries its number, date and summary to the
recipients, and what may travel to them is what the recalled document's own level let travel.
It is chosen from a list of the latest or typed by its number and symbol.

The request goes out first and is recorded after (:func:`record_request`, which checks it all
again in its transaction), so a request the exchange refuses marks nothing; two clerks asking
the same recipient at once make the second form stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid
from keys.signin import StaffMember
from office.documents import access, refusals
from office.documents.models import OUTGOING, Document, DocumentRecall
from office.documents.outgoing import recipients_of
from office.documents.recall import (
    REQUESTED,
    Replacement,
    ReplacementView,
    linked_replacement,
    require_clerk,
)
from office.documents.records import change, log_event, visible_document

#: How many of the unit's latest issued documents the form offers as the replacement.
CANDIDATES = 50
#: States of an outgoing document that has its number and the unit's signature.
ISSUED_STATES = ("issued", "sent")


@dataclass(frozen=True)
class RecallForm:
    """What the clerk chose: the recipients, and the replacement by id (the list) or by its
    number and symbol (typed); at most one of the two."""

    units: tuple[str, ...]
    replacement_id: int | None = None
    replacement_number: str = ""


@dataclass(frozen=True)
class RecallPlan:
    """A request ready to go: to ``units`` of ``dispatch_id``, which ``sender`` sent."""

    document_id: int
    dispatch_id: str
    sender: str
    units: tuple[str, ...]
    replacement: Replacement | None


@dataclass(frozen=True)
class Asked:
    """A recipient asked: when, and the replacement named to it."""

    unit: str
    requested_at: datetime
    replacement: ReplacementView | None


@dataclass(frozen=True)
class Candidate:
    """A document the form offers as the replacement."""

    id: int
    number_symbol: str
    issued_on: date | None
    summary: str


async def asked(session: AsyncSession, staff: StaffMember, document: Document) -> dict[str, Asked]:
    """The recipients asked to recall ``document``, by unit code."""
    rows = await session.scalars(
        select(DocumentRecall)
        .where(DocumentRecall.document_id == document.id)
        .order_by(DocumentRecall.id)
    )
    found = {}
    for row in rows:
        replacement = Replacement.of(row)
        view = (
            await linked_replacement(session, staff, document, replacement)
            if replacement is not None
            else None
        )
        found[row.unit] = Asked(row.unit, row.requested_at, view)
    return found


async def asked_units(session: AsyncSession, document_id: int) -> list[str]:
    return list(
        await session.scalars(
            select(DocumentRecall.unit).where(DocumentRecall.document_id == document_id)
        )
    )


def open_to_recall(document: Document, already: Sequence[str]) -> list[str]:
    """The recipients that may still be asked, in the document's order."""
    if document.state != "sent" or document.dispatch_id is None:
        return []
    return [unit for unit in recipients_of(document) if unit not in already]


def _eligible(staff: StaffMember, document: Document) -> list[ColumnElement[bool]]:
    """The replacement's conditions (see the module's docstring), as WHERE clauses."""
    return [
        access.visible_to(staff),
        Document.unit_code == document.unit_code,
        Document.direction == OUTGOING,
        Document.state.in_(ISSUED_STATES),
        Document.dispatch_id.is_not(None),
        Document.id != document.id,
        Document.secrecy <= document.secrecy,
    ]


async def candidates(
    session: AsyncSession, staff: StaffMember, document: Document
) -> list[Candidate]:
    """The unit's latest issued documents that may replace ``document``, newest first."""
    rows = await session.execute(
        select(Document.id, Document.number_symbol, Document.issued_on, Document.summary)
        .where(*_eligible(staff, document))
        .order_by(Document.registered_at.desc(), Document.id.desc())
        .limit(CANDIDATES)
    )
    return [Candidate(*row) for row in rows]


async def _replacement(
    session: AsyncSession, staff: StaffMember, document: Document, form: RecallForm
) -> Replacement | None:
    if form.replacement_id is None and not form.replacement_number:
        return None
    if form.replacement_id is not None and form.replacement_number:
        raise Invalid(refusals.REPLACEMENT_TWICE(), code="bad-replacement")
    query = select(Document).where(*_eligible(staff, document))
    if form.replacement_id is not None:
        query = query.where(Document.id == form.replacement_id)
    else:
        # Party numbers restart each term: the latest document of that number is the one meant.
        query = query.where(Document.number_symbol == form.replacement_number).order_by(
            Document.registered_at.desc(), Document.id.desc()
        )
    found = await session.scalar(query.limit(1))
    if found is None or found.dispatch_id is None:
        raise Invalid(refusals.REPLACEMENT_NOT_OURS(), code="bad-replacement")
    return Replacement(found.dispatch_id, found.number_symbol, found.issued_on, found.summary)


async def plan(
    session: AsyncSession, staff: StaffMember, document_id: int, version: int, form: RecallForm
) -> RecallPlan:
    """Check a recall request before it goes out; refuses as a whole what may not be asked."""
    require_clerk(staff)
    document = await visible_document(session, staff, document_id, OUTGOING)
    if document.state != "sent" or document.dispatch_id is None:
        raise Conflict(refusals.ONLY_SENT_RECALLED(), code="stale")
    open_units = open_to_recall(document, await asked_units(session, document.id))
    if not open_units:
        raise Conflict(refusals.RECALL_ALREADY_REQUESTED(), code="stale")
    if document.version != version:
        raise Conflict(refusals.STALE(), code="stale")
    units = tuple(dict.fromkeys(form.units))
    if not units:
        raise Invalid(refusals.NO_RECALL_RECIPIENT(), code="missing-field")
    stranger = next((unit for unit in units if unit not in open_units), None)
    if stranger is not None:
        raise Invalid(refusals.NOT_RECALLABLE_RECIPIENT(unit=stranger), code="bad-recipient")
    replacement = await _replacement(session, staff, document, form)
    return RecallPlan(document.id, document.dispatch_id, document.unit_code, units, replacement)


async def record_request(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    form: RecallForm,
    note: str,
    now: datetime,
) -> RecallPlan:
    """The request went out: record each recipient asked (after sending, so a refusal marks
    nothing), checked again in this transaction."""
    checked = await plan(session, staff, document_id, version, form)
    document = await visible_document(session, staff, document_id, OUTGOING)
    await change(session, document, version, recall_state=REQUESTED)
    columns = checked.replacement.columns() if checked.replacement else {}
    for unit in checked.units:
        session.add(DocumentRecall(document_id=document.id, unit=unit, requested_at=now, **columns))
    log_event(session, document.id, staff.id, "recall-requested", note, at=now)
    return checked
