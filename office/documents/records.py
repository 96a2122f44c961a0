"""Storage steps every document service shares: finding a document the user may see, changing
it only if nobody else did meanwhile, and logging each step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from config.errors import Conflict, NotFound
from keys.signin import StaffMember
from office.documents import refusals
from office.documents.access import visible_to
from office.documents.models import Document, DocumentEvent


@dataclass(frozen=True)
class StatusNotice:
    """A status to send back to the document's sender once the transaction commits."""

    dispatch_id: str
    unit: str
    code: str
    note: str = ""


async def visible_document(
    session: AsyncSession, staff: StaffMember, document_id: int, direction: str | None = None
) -> Document:
    """The document, if ``staff`` may see it; otherwise the same answer as for no document."""
    query = select(Document).where(Document.id == document_id, visible_to(staff))
    if direction is not None:
        query = query.where(Document.direction == direction)
    document = await session.scalar(query)
    if document is None:
        raise NotFound(refusals.NOT_FOUND(), code="not-found")
    return document


async def change(session: AsyncSession, document: Document, version: int, **values: Any) -> None:
    """Write ``values`` if the document is still at ``version`` (the one the form showed);
    otherwise refuse: someone else changed it since."""
    result = await session.execute(
        update(Document)
        .where(Document.id == document.id, Document.version == version)
        .values(version=version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(refusals.STALE(), code="stale")
    # What the row now holds, without marking the object dirty (no second UPDATE at flush).
    for name, value in {**values, "version": version + 1}.items():
        set_committed_value(document, name, value)


async def amend(session: AsyncSession, document: Document, **values: Any) -> None:
    """Write ``values`` as part of the step that just changed the document (through
    :func:`change`, which raised its version): one step, one version."""
    await session.execute(
        update(Document)
        .where(Document.id == document.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        set_committed_value(document, name, value)


def log_event(
    session: AsyncSession,
    document_id: int,
    user_id: int | None,
    action: str,
    note: str = "",
    at: datetime | None = None,
) -> None:
    session.add(
        DocumentEvent(
            document_id=document_id,
            user_id=user_id,
            action=action,
            note=note,
            at=at or datetime.now(UTC),
        )
    )
