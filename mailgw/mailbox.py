"""The mailbox store: each user's inbox and sent folder, as the web mailbox lists them.

Functions take an open session; the caller owns the transaction. A user only ever reaches
their own messages: every query is filtered by ``user_id``, and another user's message answers
exactly like a missing one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import NotFound
from config.text import fold
from mailgw import refusals
from mailgw.models import INBOX, MailboxMessage

PAGE_SIZE = 50


@dataclass(frozen=True)
class FiledMail:
    """What a delivery files in a folder: the headers lists show, and where the bytes are."""

    message_id: str
    from_text: str
    to_text: str
    subject: str
    sent_at: datetime | None
    size: int
    blob_sha256: str
    has_attachments: bool
    #: Body text (plain, or HTML stripped), for search only.
    text: str

    @functools.cached_property
    def search_text(self) -> str:
        """Folded once, however many folders the message is filed in."""
        return fold(" ".join((self.from_text, self.to_text, self.subject, self.text)))


@dataclass(frozen=True)
class MailSummary:
    id: int
    folder: str
    from_text: str
    to_text: str
    subject: str
    sent_at: datetime | None
    received_at: datetime
    size: int
    has_attachments: bool
    seen: bool
    message_id: str
    blob_sha256: str


async def file_message(
    session: AsyncSession,
    user_id: int,
    folder: str,
    queue_id: str,
    mail: FiledMail,
    received_at: datetime,
    *,
    fresh: bool = False,
) -> bool:
    """File ``mail`` in the folder unless this queued message is there already (a delivery
    repeated after a crash); True when it was filed now. ``fresh``: the queue id was made in
    this transaction, so there is nothing to look for."""
    exists = (
        None
        if fresh
        else await session.scalar(
            select(MailboxMessage.id).where(
                MailboxMessage.user_id == user_id,
                MailboxMessage.folder == folder,
                MailboxMessage.queue_id == queue_id,
            )
        )
    )
    if exists is not None:
        return False
    await session.execute(
        insert(MailboxMessage), [filed_row(user_id, folder, queue_id, mail, received_at)]
    )
    return True


def filed_row(
    user_id: int, folder: str, queue_id: str, mail: FiledMail, received_at: datetime
) -> dict[str, object]:
    """The mailbox row of ``mail`` in one user's folder, for a core INSERT (many at once)."""
    return {
        "user_id": user_id,
        "folder": folder,
        "queue_id": queue_id,
        "message_id": mail.message_id[:998],
        "from_text": mail.from_text,
        "to_text": mail.to_text,
        "subject": mail.subject,
        "sent_at": mail.sent_at,
        "received_at": received_at,
        "size": mail.size,
        "blob_sha256": mail.blob_sha256,
        "has_attachments": mail.has_attachments,
        # What the user sent themselves is read already.
        "seen": folder != INBOX,
        "search_text": mail.search_text,
    }


async def filed_users(session: AsyncSession, queue_id: str, user_ids: list[int]) -> set[int]:
    """Which of ``user_ids`` have the queued message in their inbox already."""
    rows = await session.scalars(
        select(MailboxMessage.user_id).where(
            MailboxMessage.queue_id == queue_id,
            MailboxMessage.folder == INBOX,
            MailboxMessage.user_id.in_(user_ids),
        )
    )
    return set(rows)


def _in_folder(user_id: int, folder: str, query: str) -> Select[MailboxMessage]:
    statement = select(MailboxMessage).where(
        MailboxMessage.user_id == user_id, MailboxMessage.folder == folder
    )
    for word in fold(query).split():
        # Words as typed, without diacritics; LIKE's own wildcards are taken literally.
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(MailboxMessage.search_text.like(f"%{escaped}%", escape="\\"))
    return statement


def _summary(row: MailboxMessage) -> MailSummary:
    return MailSummary(
        id=row.id,
        folder=row.folder,
        from_text=row.from_text,
        to_text=row.to_text,
        subject=row.subject,
        sent_at=row.sent_at,
        received_at=row.received_at,
        size=row.size,
        has_attachments=row.has_attachments,
        seen=row.seen,
        message_id=row.message_id,
        blob_sha256=row.blob_sha256,
    )


async def list_folder(
    session: AsyncSession,
    user_id: int,
    folder: str,
    *,
    query: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> list[MailSummary]:
    """Newest first; ``query`` is matched word by word, diacritics and case ignored."""
    rows = await session.scalars(
        _in_folder(user_id, folder, query)
        .order_by(MailboxMessage.received_at.desc(), MailboxMessage.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_summary(row) for row in rows]


async def count_folder(session: AsyncSession, user_id: int, folder: str, query: str = "") -> int:
    inner = _in_folder(user_id, folder, query).subquery()
    return await session.scalar(select(func.count()).select_from(inner)) or 0


async def unread_count(session: AsyncSession, user_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                MailboxMessage.user_id == user_id,
                MailboxMessage.folder == INBOX,
                MailboxMessage.seen.is_(False),
            )
        )
        or 0
    )


async def message(session: AsyncSession, user_id: int, message_id: int) -> MailSummary:
    row = await session.scalar(
        select(MailboxMessage).where(
            MailboxMessage.id == message_id, MailboxMessage.user_id == user_id
        )
    )
    if row is None:
        raise NotFound(refusals.MAIL_NOT_FOUND(), code="unknown-mail")
    return _summary(row)


async def mark_seen(session: AsyncSession, user_id: int, message_id: int, seen: bool) -> None:
    await session.execute(
        update(MailboxMessage)
        .where(MailboxMessage.id == message_id, MailboxMessage.user_id == user_id)
        .values(seen=seen)
        .execution_options(synchronize_session=False)
    )
