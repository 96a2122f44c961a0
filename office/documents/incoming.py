"""Văn bản đến: from the clerk's queue to the register, the leader's direction, the handlers'
work and its end; every step logged on the document and reported to the sender.

Functions take an open session in the caller's transaction and return the statuses to send
once it commits (:class:`~office.documents.records.StatusNotice`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Forbidden, Invalid
from keys.signin import StaffMember
from office.documents import access, department_work, refusals
from office.documents.fields import DocumentFields
from office.documents.models import INCOMING, Assignment, Document, DocumentFile
from office.documents.numbering import next_number, series_for
from office.documents.recall import AGREED
from office.documents.records import StatusNotice, change, log_event, visible_document

#: edXML status codes (QCVN 102:2016) each step reports.
REGISTERED, RETURNED, ASSIGNED, IN_PROGRESS, DONE = "03", "02", "04", "05", "06"
LEAD, CO = "lead", "co"


@dataclass(frozen=True)
class StoredFile:
    """A file already in the blob store, with what its row needs."""

    name: str
    content_type: str
    sha256: str
    size: int
    signature_state: str | None = None
    signature_signer: str = ""


def add_files(
    session: AsyncSession,
    document_id: int,
    files: Sequence[StoredFile],
    *,
    first_is_main: bool = True,
) -> None:
    """The files' rows, in the order given: the first is the document's main file (unless
    ``first_is_main`` is false: attachments added later), the others its attachments. Their
    ids keep the order (one flush inserts them as added); the pages and the dispatch follow
    it."""
    for index, stored in enumerate(files):
        session.add(
            DocumentFile(
                document_id=document_id,
                name=stored.name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                role="main" if index == 0 and first_is_main else "attachment",
                signature_state=stored.signature_state,
                signature_signer=stored.signature_signer,
            )
        )


def _document(unit: str, fields: DocumentFields, **values: object) -> Document:
    return Document(
        unit_code=unit,
        direction=INCOMING,
        doc_type=fields.doc_type,
        summary=fields.summary,
        number_symbol=fields.number_symbol,
        sender_name=fields.sender_name,
        signer_name=fields.signer_name,
        issued_on=fields.issued_on,
        urgency=fields.urgency,
        secrecy=fields.secrecy,
        pages=fields.pages,
        note=fields.note,
        **values,
    )


async def receive(
    session: AsyncSession,
    units: Sequence[str],
    fields: DocumentFields,
    files: Sequence[StoredFile],
    *,
    dispatch_id: str,
    sender_unit: str,
    now: datetime,
    forwarded_by: str = "",
) -> list[Document]:
    """A ``document`` dispatch arrived: one document in each recipient unit's queue. The
    exchange hands a dispatch over once, in the transaction that marks it handled (a handler
    that failed took its writes back with it), so nothing of it can be here already: no query
    looks. ``forwarded_by``: the name of the unit that forwarded it (``sender_unit``), when the
    dispatch is a forward."""
    created = []
    for unit in units:
        document = _document(
            unit,
            fields,
            state="received",
            dispatch_id=dispatch_id,
            sender_unit=sender_unit,
            received_at=now,
            forwarded_by=forwarded_by,
        )
        session.add(document)
        await session.flush()
        add_files(session, document.id, files)
        log_event(session, document.id, None, "received", sender_unit, at=now)
        created.append(document)
    return created


async def find_duplicate(session: AsyncSession, document: Document) -> Document | None:
    """A registered document of the same sender, number/symbol and date: probably the same
    document arriving again (by another route, or on paper after the electronic copy)."""
    if not document.number_symbol:
        return None
    # A forwarded copy's sending unit is the one that forwarded it: it is told from its
    # issuer's copy (or the paper one) by the issuer's name, both ways.
    same_name = func.lower(Document.sender_name) == document.sender_name.lower()
    same_sender = (
        or_(
            Document.sender_unit == document.sender_unit,
            and_(Document.forwarded_by != "", same_name),
        )
        if document.sender_unit and not document.forwarded_by
        else same_name
    )
    return await session.scalar(
        select(Document)
        .where(
            Document.unit_code == document.unit_code,
            Document.direction == INCOMING,
            Document.register_number.is_not(None),
            Document.id != document.id,
            Document.number_symbol == document.number_symbol,
            Document.issued_on == document.issued_on,
            same_sender,
        )
        .limit(1)
    )


def refuse_recalled(document: Document) -> None:
    """A document its unit agreed to recall is cancelled here (Decree 30 Art. 18): no step
    may take it further."""
    if document.recall_state == AGREED:
        raise Conflict(refusals.RECALLED(), code="recalled")


async def register(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    fields: DocumentFields,
    now: datetime,
    *,
    year: int,
    confirm_duplicate: bool = False,
) -> tuple[Document, list[StatusNotice]]:
    """Vào sổ: the next incoming number of the unit's book for the year (the secret book for a
    secret document), with the clerk's corrections to the fields (never a lower secrecy)."""
    access.require(access.may_register(staff), refusals.TO_REGISTER_INCOMING)
    document = await visible_document(session, staff, document_id, INCOMING)
    refuse_recalled(document)
    if document.state != "received":
        raise Conflict(refusals.ALREADY_REGISTERED(), code="stale")
    if document.version != version:
        raise Conflict(refusals.CHANGED_MEANWHILE(), code="stale")
    _keep_secrecy(document.secrecy, fields.secrecy)
    for name in ("doc_type", "summary", "number_symbol", "signer_name", "issued_on", "pages"):
        setattr(document, name, getattr(fields, name))
    if not document.sender_unit:
        document.sender_name = fields.sender_name
    document.urgency, document.secrecy, document.note = fields.urgency, fields.secrecy, fields.note
    duplicate = await find_duplicate(session, document)
    if duplicate is not None and not confirm_duplicate:
        raise Conflict(
            refusals.POSSIBLE_DUPLICATE(
                symbol=duplicate.number_symbol,
                sender=duplicate.sender_name,
                number=duplicate.register_number,
                year=duplicate.register_year,
            ),
            code="duplicate",
        )
    series = series_for(fields.secrecy)
    number = await next_number(session, staff.unit, INCOMING, series, year)
    await change(
        session,
        document,
        version,
        state="registered",
        register_year=year,
        register_series=series,
        register_number=number,
        registered_at=now,
        received_at=document.received_at or now,
        **{name: getattr(document, name) for name in _EDITABLE},
    )
    log_event(session, document.id, staff.id, "registered", f"{number}/{year}", at=now)
    return document, notices_for(document, REGISTERED, f"Số đến {number}/{year}")


def _keep_secrecy(received: int, registered: int) -> None:
    """A clerk may register a document at a higher secrecy than it arrived with, never a lower
    one. Luật Bảo vệ bí mật nhà nước 2018 (29/2018/QH14): only the agency that classified a
    state secret adjusts its level (điều chỉnh độ mật) or declassifies it (giải mật); a
    receiving office protects it at the level it was given. A document from the network
    arrived at the level in its sender's signed metadata; a lower one would open it to staff
    whose clearance the sender ruled out."""
    if registered < received:
        raise Invalid(
            refusals.SECRECY_LOWERED(level=refusals.SECRECY_LEVEL_NAMES[received]),
            code="secrecy-lowered",
        )


_EDITABLE = (
    "doc_type",
    "summary",
    "number_symbol",
    "sender_name",
    "signer_name",
    "issued_on",
    "pages",
    "urgency",
    "secrecy",
    "note",
)


def notices_for(document: Document, code: str, note: str = "") -> list[StatusNotice]:
    """The status to send the document's sender (none for a paper document). ``note`` is what
    the sender may read: the step's own facts (the incoming number, the deadline), never the
    handlers' internal notes unless they chose to share one (:func:`shared`)."""
    if document.dispatch_id is None:
        return []
    return [StatusNotice(document.dispatch_id, document.unit_code, code, note)]


async def enter_paper(
    session: AsyncSession,
    staff: StaffMember,
    fields: DocumentFields,
    files: Sequence[StoredFile],
    now: datetime,
    *,
    year: int,
    confirm_duplicate: bool = False,
) -> Document:
    """A paper document, scanned: entered by hand and registered in the same book. A secret
    one may come without ``files``: its register entry is what the e-office keeps of it (2018
    Law on Protection of State Secrets, Art. 5 clause 5; :mod:`office.documents.paper`)."""
    access.require(access.may_register(staff), refusals.TO_REGISTER_INCOMING)
    if not fields.sender_name:
        raise Invalid(refusals.NO_SENDER(), code="missing-field")
    document = _document(staff.unit, fields, state="received", received_at=now, created_by=staff.id)
    session.add(document)
    await session.flush()
    add_files(session, document.id, files)
    log_event(session, document.id, staff.id, "entered", at=now)
    registered, _none = await register(
        session,
        staff,
        document.id,
        document.version,
        fields,
        now,
        year=year,
        confirm_duplicate=confirm_duplicate,
    )
    return registered


async def return_to_sender(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    reason: str,
    now: datetime,
) -> list[StatusNotice]:
    """Trả lại: a document that is not this unit's to handle (misaddressed, incomplete)."""
    access.require(access.may_register(staff), refusals.TO_RETURN)
    if not reason:
        raise Invalid(refusals.MISSING_FIELD(label=refusals.RETURN_REASON), code="missing-field")
    document = await visible_document(session, staff, document_id, INCOMING)
    refuse_recalled(document)
    if document.state not in ("received", "registered"):
        raise Conflict(refusals.ALREADY_ASSIGNED(), code="stale")
    await change(session, document, version, state="returned")
    log_event(session, document.id, staff.id, "returned", reason, at=now)
    return notices_for(document, RETURNED, reason)


async def _open_assignment(
    session: AsyncSession, staff: StaffMember, document: Document
) -> Assignment:
    assignment = await session.scalar(
        select(Assignment).where(
            Assignment.document_id == document.id,
            Assignment.user_id == staff.id,
            Assignment.state == "open",
        )
    )
    if assignment is None:
        raise Forbidden(refusals.NOT_ASSIGNED(), code="forbidden")
    return assignment


def shared(note: str, share_note: bool) -> str:
    """What a handler wrote goes to the sending unit only when they ticked "gửi kèm ghi chú cho
    nơi gửi": the status itself says the step and its date (the dispatch's time). The notes
    are the unit's internal work (Decree 30/2020 Art. 24: handling is followed inside the
    agency; the sender is told how its document stands)."""
    return note if share_note else ""


async def post_progress(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    note: str,
    now: datetime,
    *,
    share_note: bool = False,
) -> list[StatusNotice]:
    if not note:
        raise Invalid(refusals.MISSING_FIELD(label=refusals.PROGRESS), code="missing-field")
    document = await visible_document(session, staff, document_id, INCOMING)
    await _open_assignment(session, staff, document)
    log_event(session, document.id, staff.id, "progress", note, at=now)
    return notices_for(document, IN_PROGRESS, shared(note, share_note))


async def finish(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    note: str,
    now: datetime,
    *,
    share_note: bool = False,
) -> list[StatusNotice]:
    """A handler finishes their part; the lead handler's finish ends the document's handling.
    The last of a department's members to finish ends the department's part."""
    if not note:
        raise Invalid(refusals.MISSING_FIELD(label=refusals.OUTCOME), code="missing-field")
    document = await visible_document(session, staff, document_id, INCOMING)
    assignment = await _open_assignment(session, staff, document)
    assignment.state, assignment.done_at = "done", now
    log_event(session, document.id, staff.id, "finished", note, at=now)
    if assignment.department_assignment_id is not None:
        await department_work.close_if_done(session, assignment.department_assignment_id)
    if assignment.part != LEAD:
        return []
    await change(session, document, document.version, state="done")
    log_event(session, document.id, staff.id, "done", note, at=now)
    return notices_for(document, DONE, shared(note, share_note))
