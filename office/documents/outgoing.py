"""Văn bản đi: a draft with its PDF and its recipients, then phát hành (numbered, signed with
the unit's key and sent through the exchange), then perhaps thu hồi.

Functions take an open session in the caller's transaction. Issuing is split in steps that
each commit on their own (see :mod:`office.documents.sending`): the number and the state
``issued`` first, so that a failure while signing or sending never loses a number nor takes a
second one; the document waits in ``issued`` until a send succeeds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid
from keys.signed_directory import DirectoryUnit
from keys.signin import StaffMember
from office.documents import access, refusals, review_refusals
from office.documents.fields import DocumentFields
from office.documents.incoming import StoredFile, add_files
from office.documents.models import OUTGOING, Document, DocumentEvent, DocumentFile
from office.documents.numbering import next_outgoing_number, numbering_style
from office.documents.records import change, log_event, visible_document
from office.documents.secrecy import NetworkLimit

DRAFT, ISSUED, SENT = "draft", "issued", "sent"
#: Issued as a register entry only: numbered and dated, its paper sent by hand (a secret
#: document the network may not carry: see :mod:`office.documents.paper`).
PAPER = "paper"
#: The review chain's states between draft and issued (see :mod:`office.documents.review`).
REVIEWING, SIGNING, APPROVED = "reviewing", "signing", "approved"
#: The draft's file, the unit-signed one sent out, and the one its signer signed.
MAIN, SIGNED, APPROVED_FILE, ATTACHMENT = "main", "signed", "approved", "attachment"
#: Who may write a draft: the clerk, and the specialists who prepare documents.
DRAFTING_ROLES = frozenset({"clerk", "staff"})
#: Groups of recipients a drafter ticks at once, by the directory's kinds of unit.
GROUPS: dict[str, tuple[str, ...]] = {
    "districts": ("district",),
    "boards": ("board", "sector"),
    "province": ("province",),
}
#: Kinds in the order the recipient list shows them.
KIND_ORDER = ("province", "board", "sector", "district", "commune")
#: A send attempt younger than this is taken as still running: a second one would seal the
#: same dispatch twice. Longer than any seal of an upload-limit PDF.
SEND_LEASE = timedelta(minutes=2)
SEND_ATTEMPT, SEND_FAILED = "send-attempt", "send-failed"


@dataclass(frozen=True)
class Recipient:
    """A unit a document can be sent to: in the directory, with an encryption certificate."""

    code: str
    name: str
    kind: str


def addressable(units: Iterable[DirectoryUnit], own_unit: str) -> list[Recipient]:
    """The units this unit may address; one without keys yet could not open a dispatch."""
    found = [
        Recipient(unit.code, unit.name, unit.kind)
        for unit in units
        if unit.code != own_unit and "encryption" in unit.certificates
    ]

    def order(recipient: Recipient) -> tuple[int, str]:
        kind = recipient.kind if recipient.kind in KIND_ORDER else "commune"
        return KIND_ORDER.index(kind), recipient.name

    return sorted(found, key=order)


def chosen_recipients(
    codes: Sequence[str], groups: Sequence[str], choices: Sequence[Recipient]
) -> list[str]:
    """The ticked units and the members of the ticked groups, each once, in the list's order."""
    known = {recipient.code for recipient in choices}
    unknown = [code for code in codes if code not in known]
    if unknown or any(group not in GROUPS for group in groups):
        raise Invalid(refusals.UNKNOWN_RECIPIENT(), code="bad-recipient")
    kinds = {kind for group in groups for kind in GROUPS[group]}
    wanted = set(codes)
    picked = [r.code for r in choices if r.code in wanted or r.kind in kinds]
    if not picked:
        raise Invalid(refusals.NO_RECIPIENT(), code="missing-field")
    return picked


def recipients_of(document: Document) -> list[str]:
    return [code for code in document.recipients.split(",") if code]


def may_draft(staff: StaffMember) -> bool:
    return staff.role in DRAFTING_ROLES


def draft_columns(fields: DocumentFields, recipients: Sequence[str]) -> dict[str, Any]:
    """The columns of a draft the drafter fills in: the same when it is made and edited."""
    return {
        "doc_type": fields.doc_type,
        "summary": fields.summary,
        "signer_name": fields.signer_name,
        "urgency": fields.urgency,
        "secrecy": fields.secrecy,
        "pages": fields.pages,
        "note": fields.note,
        "recipients": ",".join(recipients),
    }


async def create_draft(
    session: AsyncSession,
    staff: StaffMember,
    fields: DocumentFields,
    recipients: Sequence[str],
    main: StoredFile,
    now: datetime,
    attachments: Sequence[StoredFile] = (),
) -> Document:
    """Dự thảo: the PDF to be signed, its appendices and sources (``attachments``, in order),
    and who it goes to; it has no number until issued."""
    access.require(may_draft(staff), refusals.TO_DRAFT)
    require_signer(fields)
    return await add_outgoing(
        session, staff, fields, recipients, [main, *attachments], now, state=DRAFT, action="drafted"
    )


def require_signer(fields: DocumentFields) -> None:
    """An outgoing document names who signs it (Decree 30 Art. 13)."""
    if not fields.signer_name:
        raise Invalid(refusals.MISSING_FIELD(label=refusals.SIGNER), code="missing-field")


async def add_outgoing(
    session: AsyncSession,
    staff: StaffMember,
    fields: DocumentFields,
    recipients: Sequence[str],
    files: Sequence[StoredFile],
    now: datetime,
    *,
    state: str,
    action: str,
    **columns: Any,
) -> Document:
    """A new outgoing document of ``staff``'s unit in ``state``, with its files and the history
    entry ``action``: a draft, or a secret one entered from paper (``columns``: its number)."""
    document = Document(
        unit_code=staff.unit,
        direction=OUTGOING,
        state=state,
        **draft_columns(fields, recipients),
        **columns,
        created_by=staff.id,
        created_at=now,
    )
    session.add(document)
    await session.flush()
    add_files(session, document.id, files)
    log_event(session, document.id, staff.id, action, at=now)
    return document


async def issue(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    now: datetime,
    today: date,
    *,
    network: NetworkLimit,
) -> Document:
    """Cấp số: the next number of the unit's outgoing sequence for the document's type, secrecy
    and day (see :mod:`office.documents.numbering`), its symbol, and the id the dispatch will
    carry: kept on the document, so that every later attempt sends the same dispatch, never a
    second one.

    Only a draft its signer approved and signed is issued (Decree 30 Art. 13 and 16: the clerk
    issues what the competent person signed), and only to whom the network may carry it: a
    document more secret than ``network`` allows goes to another node on paper (2018 Law on
    Protection of State Secrets, Art. 5), refused here before it takes a number."""
    access.require(access.may_register(staff), refusals.TO_ISSUE)
    document = await visible_document(session, staff, document_id, OUTGOING)
    if document.state in (DRAFT, REVIEWING, SIGNING):
        raise Conflict(review_refusals.NOT_APPROVED(), code="not-approved")
    if document.state != APPROVED:
        raise Conflict(refusals.ALREADY_ISSUED(), code="stale")
    if document.version != version:
        raise Conflict(refusals.STALE(), code="stale")
    network.check(document.secrecy, recipients_of(document))
    taken = await next_outgoing_number(
        session, staff.unit, document.doc_type, document.secrecy, today
    )
    await change(
        session,
        document,
        version,
        state=ISSUED,
        **taken.register_entry(now, today),
        dispatch_id=str(uuid.uuid4()),
    )
    log_event(session, document.id, staff.id, "issued", taken.symbol, at=now)
    log_event(session, document.id, staff.id, SEND_ATTEMPT, at=now)
    return document


async def claim_resend(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    now: datetime,
    *,
    network: NetworkLimit,
) -> Document:
    """Gửi lại: a document issued but not sent (the exchange refused, or the node stopped
    midway). Refused while another attempt may still be running, and for a document the
    network may not carry (issued before the limit was lowered): it goes on paper."""
    access.require(access.may_register(staff), refusals.TO_ISSUE)
    document = await visible_document(session, staff, document_id, OUTGOING)
    if document.state != ISSUED:
        raise Conflict(refusals.NOT_WAITING_TO_SEND(), code="stale")
    network.check(document.secrecy, recipients_of(document))
    last = await session.scalar(
        select(DocumentEvent)
        .where(
            DocumentEvent.document_id == document.id,
            DocumentEvent.action.in_((SEND_ATTEMPT, SEND_FAILED)),
        )
        .order_by(DocumentEvent.at.desc(), DocumentEvent.id.desc())
        .limit(1)
    )
    if last is not None and last.action == SEND_ATTEMPT and last.at > now - SEND_LEASE:
        raise Conflict(refusals.BEING_SENT(), code="busy")
    await change(session, document, version)
    log_event(session, document.id, staff.id, SEND_ATTEMPT, at=now)
    return document


@dataclass(frozen=True)
class SendJob:
    """What signing and sending an issued document need, read in one go."""

    document_id: int
    unit: str
    dispatch_id: str
    recipients: tuple[str, ...]
    number_symbol: str
    doc_type: str
    summary: str
    signer_name: str
    issued_on: date
    urgency: int
    secrecy: int
    pages: int | None
    main: StoredFile
    signed: StoredFile | None
    #: The unit's numbering style: how the number and date lines are written.
    style: str
    #: Appendices and sources, in the draft's order: they travel after the signed PDF.
    attachments: tuple[StoredFile, ...] = ()


def _stored(row: DocumentFile) -> StoredFile:
    return StoredFile(row.name, row.content_type, row.sha256, row.size)


async def send_job(session: AsyncSession, document_id: int) -> SendJob | None:
    """The job for an issued document; None once it is sent."""
    document = await session.get(Document, document_id)
    if document is None or document.state != ISSUED:
        return None
    assert document.dispatch_id is not None and document.issued_on is not None
    rows = list(
        await session.scalars(
            select(DocumentFile)
            .where(DocumentFile.document_id == document_id)
            .order_by(DocumentFile.id)
        )
    )
    files = {row.role: row for row in rows}
    signed = files.get(SIGNED)
    # What the unit signs: the PDF as its signer signed it.
    source = files.get(APPROVED_FILE, files[MAIN])
    style, _issuer = await numbering_style(session, document.unit_code)
    return SendJob(
        document_id=document.id,
        unit=document.unit_code,
        dispatch_id=document.dispatch_id,
        recipients=tuple(recipients_of(document)),
        number_symbol=document.number_symbol,
        doc_type=document.doc_type,
        summary=document.summary,
        signer_name=document.signer_name,
        issued_on=document.issued_on,
        urgency=document.urgency,
        secrecy=document.secrecy,
        pages=document.pages,
        main=_stored(source),
        signed=_stored(signed) if signed is not None else None,
        style=style,
        attachments=tuple(_stored(row) for row in rows if row.role == ATTACHMENT),
    )


async def keep_signed(
    session: AsyncSession, document_id: int, stored: StoredFile, signer: str
) -> StoredFile:
    """Keep the signed PDF, unless an earlier attempt kept one: the first one stays."""
    existing = await session.scalar(
        select(DocumentFile).where(
            DocumentFile.document_id == document_id, DocumentFile.role == SIGNED
        )
    )
    if existing is not None:
        return _stored(existing)
    session.add(
        DocumentFile(
            document_id=document_id,
            name=stored.name,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            role=SIGNED,
            signature_state="valid",
            signature_signer=signer,
        )
    )
    return stored


async def mark_sent(session: AsyncSession, document_id: int, now: datetime) -> bool:
    """``issued`` -> ``sent``, once, whichever attempt gets here first."""
    result = await session.execute(
        update(Document)
        .where(Document.id == document_id, Document.state == ISSUED)
        .values(state=SENT, version=Document.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    log_event(session, document_id, None, "sent", at=now)
    return True


def symbol_file_name(symbol: str) -> str:
    """``01-CV/TU`` -> ``01-CV-TU.pdf``: a file name for the signed document."""
    return symbol.replace("/", "-") + ".pdf"
