"""Dự thảo văn bản đi: changing or deleting a draft before it is issued.

A draft is its drafter's, and the unit's clerks' and leaders' (who see the whole register);
anyone else gets the answer for a document that does not exist. Once a document has a number
(issued or sent) it stays in the outgoing book as it is: the book has no gaps, and the
recipients may hold it already.

Functions take an open session in the caller's transaction. Deleting relies on the foreign
keys (``ON DELETE CASCADE``: files, assignments, events; ``SET NULL``: a schedule entry made
from the draft) and drops the search row, which SQLite cannot tie to the document. The blobs
stay: they are stored by content and may be another document's too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from config.logging import get_logger
from keys.signin import StaffMember
from office.documents import access, refusals, review_refusals
from office.documents.fields import DocumentFields
from office.documents.incoming import StoredFile, add_files
from office.documents.models import OUTGOING, Document, DocumentFile
from office.documents.outgoing import ATTACHMENT, DRAFT, MAIN, draft_columns, may_draft
from office.documents.records import change, log_event, visible_document
from office.documents.search import forget_document

log = get_logger("congvan.office.documents")

EDITED = "edited"
#: Submitted (trình): frozen until whoever holds it returns it; approved: signed as it is.
SUBMITTED = ("reviewing", "signing", "approved")


def may_change(staff: StaffMember, document: Document) -> bool:
    """Whether ``staff`` (who sees ``document``) may edit or delete it while it is a draft:
    the drafter while still drafting, or a clerk or leader of the unit."""
    drafter = document.created_by == staff.id and may_draft(staff)
    return drafter or staff.role in access.REGISTER_ROLES


async def _draft(
    session: AsyncSession, staff: StaffMember, document_id: int, version: int | None
) -> Document:
    """The draft ``staff`` may change, still at ``version`` when one is given."""
    document = await visible_document(session, staff, document_id, OUTGOING)
    if not may_change(staff, document):
        raise NotFound(refusals.NOT_FOUND(), code="not-found")
    if document.state in SUBMITTED:
        raise Conflict(review_refusals.FROZEN(), code="submitted")
    if document.state != DRAFT:
        raise Conflict(refusals.NUMBERED(), code="numbered")
    if version is not None and document.version != version:
        raise Conflict(refusals.STALE(), code="stale")
    return document


@dataclass(frozen=True)
class DraftFiles:
    """What the edit form shows of a draft's files: its PDF's name, and its attachments (id,
    name) in order, each with a box to remove it."""

    main: str
    attachments: list[tuple[int, str]]


async def draft_for_editing(
    session: AsyncSession, staff: StaffMember, document_id: int
) -> tuple[Document, DraftFiles]:
    """The draft and its files, for the edit form."""
    document = await _draft(session, staff, document_id, None)
    rows = await session.execute(
        select(DocumentFile.id, DocumentFile.name, DocumentFile.role)
        .where(DocumentFile.document_id == document.id)
        .order_by(DocumentFile.id)
    )
    main, attachments = "", []
    for row in rows:
        if row.role == MAIN:
            main = row.name
        elif row.role == ATTACHMENT:
            attachments.append((row.id, row.name))
    return document, DraftFiles(main, attachments)


async def update_draft(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    fields: DocumentFields,
    recipients: Sequence[str],
    expected_version: int,
    new_main_pdf: StoredFile | None,
    now: datetime,
    added: Sequence[StoredFile] = (),
    removed: Collection[int] = (),
) -> Document:
    """Sửa dự thảo: its fields and recipients (checked as when it was drafted: see
    :func:`office.documents.outgoing.chosen_recipients`), its PDF when a new one is given, and
    its attachments: those ``removed`` (by file id) go, those ``added`` follow the others.
    A form shown before someone else's change is refused and changes nothing."""
    document = await _draft(session, staff, document_id, expected_version)
    if not fields.signer_name:
        raise Invalid(refusals.MISSING_FIELD(label=refusals.SIGNER), code="missing-field")
    if not recipients:
        raise Invalid(refusals.NO_RECIPIENT(), code="missing-field")
    if fields.secrecy > staff.clearance:
        raise Invalid(refusals.ABOVE_CLEARANCE(), code="above-clearance")
    await change(session, document, expected_version, **draft_columns(fields, recipients))
    if new_main_pdf is not None:
        await session.execute(
            update(DocumentFile)
            .where(DocumentFile.document_id == document.id, DocumentFile.role == MAIN)
            .values(
                name=new_main_pdf.name,
                content_type=new_main_pdf.content_type,
                size=new_main_pdf.size,
                sha256=new_main_pdf.sha256,
                signature_state=new_main_pdf.signature_state,
                signature_signer=new_main_pdf.signature_signer,
                added_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    gone = await session.scalars(
        delete(DocumentFile)
        .where(
            DocumentFile.document_id == document.id,
            DocumentFile.role == ATTACHMENT,
            DocumentFile.id.in_(removed),
        )
        .returning(DocumentFile.name)
        .execution_options(synchronize_session=False)
    )
    add_files(session, document.id, added, first_is_main=False)
    # The history says which files came and went (the blobs stay: see the module's note).
    came = ([new_main_pdf.name] if new_main_pdf else []) + [f.name for f in added]
    went = list(gone)
    note = "; ".join(
        part for part in (", ".join(came), "bỏ " + ", ".join(went) if went else "") if part
    )
    log_event(session, document.id, staff.id, EDITED, note, at=now)
    return document


async def delete_draft(
    session: AsyncSession, staff: StaffMember, document_id: int, expected_version: int
) -> None:
    """Xoá dự thảo: the document, its file rows, events and assignments; its search row."""
    document = await _draft(session, staff, document_id, expected_version)
    result = await session.execute(
        delete(Document)
        .where(
            Document.id == document.id,
            Document.version == expected_version,
            Document.state == DRAFT,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(refusals.STALE(), code="stale")
    session.expunge(document)
    await forget_document(session, document_id)
    # Its events go with it: this line is what remains of the draft.
    log.info("document.draft_deleted", document_id=document_id, user=staff.username)
