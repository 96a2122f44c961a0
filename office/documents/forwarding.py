"""Chuyển tiếp: a unit passes a document it received down to its subordinate units (a district
to its communes) as a new ``document`` dispatch of its own, carrying the original's files as
they arrived, and follows what each of them does with it.

The rules, and where they come from:

- Decree 30/2020/NĐ-CP Art. 11; Decision 28/2018/QĐ-TTg (a digitally signed electronic
  document sent between agencies is worth the paper one, which holds only while its signatures
  verify); the edXML package of QCVN 102:2016 (its header keeps the issuer, the organs it
  passed through are traced beside it, statuses answer the organ that sent it): the files go
  byte for byte, the issuer's signatures with them, and the dispatch names the original issuer,
  its number and date, beside the forwarding unit, which signs the dispatch as every sender
  does.
- Decree 30 Art. 16 and 20-22: sending and receiving through the system is the clerk's (văn
  thư) work. The leader's direction may say "chuyển tiếp các xã"; the clerk does it. Only a
  document in the register (vào sổ) is forwarded: a unit passes on what it has received
  officially.
- Decree 30 Art. 18: a recalled document is cancelled in the unit and is not passed on; while
  its sender asks for it back, it waits for the clerk's answer.
- Luật Bảo vệ bí mật nhà nước 2018 (29/2018/QH14): a state secret does not travel over the
  network; until the node's own limit (``[office] max_secrecy_on_network``) is read here, no
  document above Không mật is forwarded.
- Only the unit's own subordinates (``parent`` in the signed directory) that are on the
  network (an encryption key, a node the directory lists) can be chosen: a choice outside that
  list, crafted into the form, is refused.

Functions take an open session in the caller's transaction; sending is
:mod:`office.documents.forward_sending`, after the forward is recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid
from keys.models import User
from keys.signed_directory import DirectoryUnit
from keys.signin import StaffMember
from office.documents import access, refusals
from office.documents import forward_refusals as texts
from office.documents.fields import MAX_NOTE, SECRECY_LEVELS
from office.documents.incoming import StoredFile
from office.documents.models import INCOMING, Document, DocumentFile, DocumentForward
from office.documents.recall import AGREED, REQUESTED
from office.documents.records import change, log_event, visible_document
from office.documents.secrecy import NetworkLimit

#: The steps a forward logs on the document.
FORWARD, FORWARD_FAILED = "forward", "forward-failed"
#: States of an incoming document that is in the register.
REGISTERED_STATES = ("registered", "assigned", "done")
#: An attempt younger than this is taken as still running: a second would seal the same
#: dispatch twice.
ATTEMPT_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class ChildUnit:
    code: str
    name: str


def child_units(
    units: Iterable[DirectoryUnit], parent: str, has_node: Callable[[str], bool]
) -> list[ChildUnit]:
    """The units ``parent`` may forward to: its subordinates in the directory that can open a
    dispatch (an encryption certificate) and whose node the directory lists (reached directly
    or through the hub), by name."""
    found = [
        ChildUnit(unit.code, unit.name)
        for unit in units
        if unit.parent == parent
        and unit.code != parent
        and "encryption" in unit.certificates
        and has_node(unit.node)
    ]
    return sorted(found, key=lambda unit: unit.name)


def check_forwardable(document: Document) -> None:
    """Why ``document`` may not be forwarded, raised; nothing when it may."""
    if document.direction != INCOMING or document.register_number is None:
        raise Conflict(texts.NOT_REGISTERED(), code="not-registered")
    if document.recall_state == AGREED:
        raise Conflict(refusals.RECALLED(), code="recalled")
    if document.recall_state == REQUESTED:
        raise Conflict(texts.RECALL_PENDING(), code="recall-pending")
    if document.state not in REGISTERED_STATES:
        raise Conflict(texts.NOT_REGISTERED(), code="not-registered")


def barred_by_secrecy(document: Document, limit: NetworkLimit, units: Sequence[str]) -> list[str]:
    """Of ``units``, those the document may not reach: on another node, with the document
    above ``[office] max_secrecy_on_network`` (2018 Law on Protection of State Secrets,
    Art. 5); a commune this node hosts is not the network."""
    return limit.network_recipients(document.secrecy, units)


def check_secrecy(document: Document, limit: NetworkLimit, units: Sequence[str]) -> None:
    if barred_by_secrecy(document, limit, units):
        raise Invalid(
            texts.SECRET(level=SECRECY_LEVELS.get(document.secrecy, "")),
            code="secrecy-not-allowed",
        )


def may_forward(staff: StaffMember) -> bool:
    """Sending through the system is the clerk's (Decree 30 Art. 16, 20)."""
    return access.may_register(staff)


async def forwarded_units(session: AsyncSession, document_id: int) -> list[str]:
    """Every unit the document was forwarded to, in the order of its forwards."""
    rows = await session.scalars(
        select(DocumentForward.recipients)
        .where(DocumentForward.document_id == document_id)
        .order_by(DocumentForward.id)
    )
    return [code for row in rows for code in row.split(",") if code]


async def record_forward(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    chosen: Sequence[str],
    children: Sequence[ChildUnit],
    note: str,
    now: datetime,
    limit: NetworkLimit,
) -> DocumentForward:
    """The forward, recorded with the dispatch id every attempt will seal (sent after this
    commits). The document's version moves: a second forward from a page shown before this one
    is refused as stale, so two clerks cannot forward to the same unit twice at once."""
    access.require(may_forward(staff), texts.TO_FORWARD)
    document = await visible_document(session, staff, document_id, INCOMING)
    check_forwardable(document)
    wanted = set(chosen)
    if not wanted:
        raise Invalid(texts.NO_CHILD_CHOSEN(), code="missing-field")
    known = {child.code for child in children}
    stray = sorted(wanted - known)
    if stray:
        raise Invalid(texts.NOT_A_CHILD(units=", ".join(stray)), code="bad-recipient")
    check_secrecy(document, limit, sorted(wanted))
    again = [code for code in await forwarded_units(session, document.id) if code in wanted]
    if again:
        names = {child.code: child.name for child in children}
        raise Conflict(
            texts.ALREADY_FORWARDED(units=", ".join(names[code] for code in again)),
            code="already-forwarded",
        )
    await change(session, document, version)
    picked = [child for child in children if child.code in wanted]
    forward = DocumentForward(
        document_id=document.id,
        dispatch_id=str(uuid.uuid4()),
        recipients=",".join(child.code for child in picked),
        note=note,
        forwarded_by=staff.id,
        forwarded_at=now,
        attempted_at=now,
    )
    session.add(forward)
    await session.flush()
    log_event(session, document.id, staff.id, FORWARD, ", ".join(c.name for c in picked), at=now)
    return forward


async def claim_attempt(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    forward_id: int,
    now: datetime,
    limit: NetworkLimit,
) -> None:
    """Gửi lại: a forward not sent (the exchange refused it, or the node stopped midway), taken
    for one more attempt; refused while another attempt may still be running or once sent."""
    access.require(may_forward(staff), texts.TO_FORWARD)
    document = await visible_document(session, staff, document_id, INCOMING)
    check_forwardable(document)
    recipients = await session.scalar(
        select(DocumentForward.recipients).where(
            DocumentForward.id == forward_id, DocumentForward.document_id == document.id
        )
    )
    check_secrecy(document, limit, (recipients or "").split(","))
    result = await session.execute(
        update(DocumentForward)
        .where(
            DocumentForward.id == forward_id,
            DocumentForward.document_id == document.id,
            DocumentForward.sent_at.is_(None),
            (DocumentForward.attempted_at.is_(None))
            | (DocumentForward.attempted_at < now - ATTEMPT_LEASE),
        )
        .values(attempted_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(texts.BEING_SENT(), code="busy")


@dataclass(frozen=True)
class ForwardJob:
    """What sealing a forward needs, read in one go."""

    forward_id: int
    document_id: int
    dispatch_id: str
    unit: str
    recipients: tuple[str, ...]
    note: str
    doc_type: str
    summary: str
    number_symbol: str
    issued_on: date | None
    signer_name: str
    urgency: int
    secrecy: int
    pages: int | None
    sender_name: str
    sender_unit: str | None
    register_number: int
    register_year: int | None
    received_at: datetime | None
    #: The document's files as they arrived (or were scanned), main file first.
    files: tuple[StoredFile, ...]


async def forward_job(session: AsyncSession, forward_id: int) -> ForwardJob | None:
    """The job for a forward not yet sent; None once it is."""
    forward = await session.get(DocumentForward, forward_id)
    if forward is None or forward.sent_at is not None:
        return None
    document = await session.get(Document, forward.document_id)
    assert document is not None and document.register_number is not None
    rows = await session.scalars(
        select(DocumentFile)
        .where(DocumentFile.document_id == document.id)
        .order_by(DocumentFile.id)
    )
    files = sorted(rows, key=lambda row: (row.role != "main", row.id))
    return ForwardJob(
        forward_id=forward.id,
        document_id=document.id,
        dispatch_id=forward.dispatch_id,
        unit=document.unit_code,
        recipients=tuple(code for code in forward.recipients.split(",") if code),
        note=forward.note,
        doc_type=document.doc_type,
        summary=document.summary,
        number_symbol=document.number_symbol,
        issued_on=document.issued_on,
        signer_name=document.signer_name,
        urgency=document.urgency,
        secrecy=document.secrecy,
        pages=document.pages,
        sender_name=document.sender_name,
        sender_unit=document.sender_unit,
        register_number=document.register_number,
        register_year=document.register_year,
        received_at=document.received_at,
        files=tuple(StoredFile(row.name, row.content_type, row.sha256, row.size) for row in files),
    )


def forward_metadata(job: ForwardJob, unit_name: Callable[[str], str]) -> dict[str, Any]:
    """The dispatch's metadata: the original's fields as the receiver's clerk would otherwise
    type them, the original issuer as the sender (``sender_name``: the register's "tác giả"),
    and ``forwarded``: who forwards it, the original's issuer, number and date, the forwarding
    unit's incoming number and day, and the clerk's note."""
    issued = job.issued_on.isoformat() if job.issued_on else None
    return {
        "doc_type": job.doc_type,
        "summary": job.summary,
        "number_symbol": job.number_symbol,
        "issued_on": issued,
        "signer_name": job.signer_name,
        "urgency": job.urgency,
        "secrecy": job.secrecy,
        "pages": job.pages,
        "sender_name": job.sender_name,
        "forwarded": {
            "by": job.unit,
            "by_name": unit_name(job.unit),
            "original_sender": job.sender_name,
            "original_sender_unit": job.sender_unit,
            "number_symbol": job.number_symbol,
            "issued_on": issued,
            "register_number": f"{job.register_number}/{job.register_year}",
            "received_on": job.received_at.date().isoformat() if job.received_at else None,
            "note": job.note,
        },
    }


def forward_note(metadata: dict[str, Any]) -> str | None:
    """The receiver's side: the forwarding clerk's note when ``metadata`` is a forward's ("" if
    it has none), None when the dispatch came straight from its issuer. Who forwarded it is the
    dispatch's authenticated sender, never a name the metadata claims."""
    forwarded = metadata.get("forwarded")
    if not isinstance(forwarded, dict):
        return None
    note = forwarded.get("note")
    return " ".join(note.split())[:MAX_NOTE] if isinstance(note, str) else ""


async def mark_sent(session: AsyncSession, forward_id: int, now: datetime) -> None:
    await session.execute(
        update(DocumentForward)
        .where(DocumentForward.id == forward_id, DocumentForward.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )


async def mark_failed(
    session: AsyncSession,
    forward_id: int,
    document_id: int,
    user_id: int | None,
    reason: str,
    now: datetime,
) -> None:
    """Not sent: logged with its reason, and free for the clerk's next attempt."""
    await session.execute(
        update(DocumentForward)
        .where(DocumentForward.id == forward_id)
        .values(attempted_at=None)
        .execution_options(synchronize_session=False)
    )
    log_event(session, document_id, user_id, FORWARD_FAILED, reason, at=now)


@dataclass(frozen=True)
class ForwardView:
    id: int
    dispatch_id: str
    recipients: tuple[str, ...]
    note: str
    by: str
    at: datetime
    sent_at: datetime | None
    #: Not sent and no attempt running: the clerk may send it again.
    stalled: bool


async def forwards_of(session: AsyncSession, document_id: int, now: datetime) -> list[ForwardView]:
    """The document's forwards, oldest first, each with who made it."""
    rows = await session.execute(
        select(DocumentForward, User.full_name, User.username)
        .outerjoin(User, User.id == DocumentForward.forwarded_by)
        .where(DocumentForward.document_id == document_id)
        .order_by(DocumentForward.id)
    )
    return [
        ForwardView(
            forward.id,
            forward.dispatch_id,
            tuple(code for code in forward.recipients.split(",") if code),
            forward.note,
            full_name or username or "",
            forward.forwarded_at,
            forward.sent_at,
            forward.sent_at is None
            and (forward.attempted_at is None or forward.attempted_at < now - ATTEMPT_LEASE),
        )
        for forward, full_name, username in rows
    ]
