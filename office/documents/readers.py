""" "Để biết": people the leader gives an incoming document to read for information. They see
it (within their clearance), mark it read ("Đã đọc"), and do not handle it: no progress, no
finish, no assignment (Decree 30/2020 Art. 24: those who receive a document for information
read it; the handlers named by the direction handle it). The leader sees who read it and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid, NotFound
from keys.models import User
from keys.signin import StaffMember
from office.documents import handlers, routing_refusals
from office.documents.access import visible_to
from office.documents.directing import refuse_unless_presented_to
from office.documents.incoming import refuse_recalled
from office.documents.models import INCOMING, Document, DocumentReader
from office.documents.recall import not_recalled
from office.documents.records import log_event, visible_document

MAX_READERS = 200
HOME_ROWS = 20


@dataclass(frozen=True)
class ReaderView:
    user_id: int
    name: str
    read_at: datetime | None


@dataclass(frozen=True)
class ToRead:
    document_id: int
    summary: str
    sender_name: str
    urgency: int


async def add_readers(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    user_ids: Sequence[int],
    now: datetime,
) -> None:
    """Give the document to ``user_ids`` for information; those who have it already keep
    their mark. Only the leader it was presented to gives it; each reader must be an active
    member of the unit cleared for its level."""
    document = await visible_document(session, staff, document_id, INCOMING)
    await refuse_unless_presented_to(session, staff, document)
    refuse_recalled(document)
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        raise Invalid(routing_refusals.NO_READER(), code="missing-field")
    if len(wanted) > MAX_READERS:
        raise Invalid(routing_refusals.BAD_READER(), code="bad-reader")
    already = set(
        await session.scalars(
            select(DocumentReader.user_id).where(DocumentReader.document_id == document.id)
        )
    )
    added = []
    for user_id in wanted:
        user = await session.get(User, user_id)
        if (
            user is None
            or user.unit_code != staff.unit
            or user.disabled
            or user.role == "admin"
            or user.clearance < document.secrecy
        ):
            raise Invalid(routing_refusals.BAD_READER(), code="bad-reader")
        if user_id in already:
            continue
        session.add(
            DocumentReader(
                document_id=document.id, user_id=user_id, added_by=staff.id, added_at=now
            )
        )
        added.append(handlers.display_name(user))
    if added:
        log_event(session, document.id, staff.id, "readers", ", ".join(added), at=now)


async def mark_read(
    session: AsyncSession, staff: StaffMember, document_id: int, now: datetime
) -> None:
    """Đã đọc: the reader's mark, once (marking again keeps the first time)."""
    document = await visible_document(session, staff, document_id, INCOMING)
    reader = await session.get(DocumentReader, (document.id, staff.id))
    if reader is None:
        raise NotFound(routing_refusals.NOT_A_READER(), code="not-a-reader")
    if reader.read_at is None:
        reader.read_at = now
        log_event(session, document.id, staff.id, "read", at=now)


async def readers_of(session: AsyncSession, document_id: int) -> list[ReaderView]:
    name = func.coalesce(func.nullif(User.full_name, ""), User.username)
    rows = await session.execute(
        select(DocumentReader.user_id, name, DocumentReader.read_at)
        .join(User, User.id == DocumentReader.user_id)
        .where(DocumentReader.document_id == document_id)
        .order_by(DocumentReader.added_at, name)
    )
    return [ReaderView(*row) for row in rows]


async def unread(session: AsyncSession, staff: StaffMember) -> list[ToRead]:
    """What ``staff`` was given to read and has not marked read yet (their home page)."""
    rows = await session.execute(
        select(Document.id, Document.summary, Document.sender_name, Document.urgency)
        .join(DocumentReader, DocumentReader.document_id == Document.id)
        .where(
            DocumentReader.user_id == staff.id,
            DocumentReader.read_at.is_(None),
            not_recalled(),
            visible_to(staff),
        )
        .order_by(Document.urgency.desc(), DocumentReader.added_at)
        .limit(HOME_ROWS)
    )
    return [ToRead(*row) for row in rows]
