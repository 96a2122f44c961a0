"""What the mail queue holds right now, for monitoring (the admin listener's ``/metrics``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailgw.models import QUEUED, QueuedMail


@dataclass(frozen=True)
class MailQueueFigures:
    #: Accepted messages not yet delivered to every recipient (nor bounced).
    waiting: int
    #: Since when the oldest message that is due has waited for a worker; None if none is.
    oldest_due_at: datetime | None


async def mail_queue_figures(session: AsyncSession, now: datetime) -> MailQueueFigures:
    """One statement on ``ix_mail_queue_due`` (state, next_attempt_at)."""
    due = case((QueuedMail.next_attempt_at <= now, QueuedMail.next_attempt_at))
    waiting, oldest = (
        await session.execute(select(func.count(), func.min(due)).where(QueuedMail.state == QUEUED))
    ).one()
    return MailQueueFigures(waiting=int(waiting), oldest_due_at=oldest)
