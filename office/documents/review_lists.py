"""The review chain's lists: "Dự thảo của tôi", "Chờ tôi cho ý kiến", "Chờ tôi ký" (on their
pages and the home page, most urgent first), and what a person may do with a draft on its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keys.models import User
from keys.signin import StaffMember
from office.documents.drafts import may_change
from office.documents.models import OUTGOING, Document, DocumentVersion
from office.documents.outgoing import APPROVED, DRAFT, REVIEWING, SIGNING
from office.documents.review import acting_for


@dataclass(frozen=True)
class Waiting:
    """A draft on one of the chain's lists."""

    document_id: int
    summary: str
    doc_type: str
    state: str
    urgency: int
    secrecy: int
    holder_name: str
    since: datetime | None


async def _waiting(session: AsyncSession, *where: object) -> list[Waiting]:
    holder = User.__table__.alias("holder")
    last_step = (
        select(func.max(DocumentVersion.at))
        .where(DocumentVersion.document_id == Document.id)
        .correlate(Document)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Document.id,
            Document.summary,
            Document.doc_type,
            Document.state,
            Document.urgency,
            Document.secrecy,
            func.coalesce(holder.c.full_name, "").label("holder_name"),
            last_step.label("since"),
        )
        .outerjoin(holder, holder.c.id == Document.holder_id)
        .where(Document.direction == OUTGOING, *where)  # type: ignore[arg-type]
        .order_by(Document.urgency.desc(), Document.id)
    )
    return [Waiting(*row) for row in rows]


async def my_drafts(session: AsyncSession, staff: StaffMember) -> list[Waiting]:
    """Dự thảo của tôi: what ``staff`` drafted that is not issued yet, wherever it is."""
    return await _waiting(
        session,
        Document.unit_code == staff.unit,
        Document.created_by == staff.id,
        Document.secrecy <= staff.clearance,
        Document.state.in_((DRAFT, REVIEWING, SIGNING, APPROVED)),
    )


async def to_review(session: AsyncSession, staff: StaffMember) -> list[Waiting]:
    """Chờ tôi cho ý kiến."""
    return await _waiting(
        session,
        Document.unit_code == staff.unit,
        Document.state == REVIEWING,
        Document.holder_id == staff.id,
        Document.secrecy <= staff.clearance,
    )


async def to_sign(session: AsyncSession, staff: StaffMember, today: date) -> list[Waiting]:
    """Chờ tôi ký: mine, and those of the signers I sign for today."""
    return await _waiting(
        session,
        Document.unit_code == staff.unit,
        Document.state == SIGNING,
        Document.holder_id.in_(await acting_for(session, staff, today)),
        Document.secrecy <= staff.clearance,
    )


@dataclass(frozen=True)
class ChainActions:
    """What ``staff`` may do with a draft on its page, and who holds it."""

    submit: bool
    forward: bool
    send_back: bool
    approve: bool
    holder_name: str


async def chain_actions(
    session: AsyncSession, staff: StaffMember, document: Document, today: date
) -> ChainActions:
    holder = await session.get(User, document.holder_id) if document.holder_id else None
    acting = await acting_for(session, staff, today)
    reviewing = document.state == REVIEWING and document.holder_id == staff.id
    signing = document.state == SIGNING and document.holder_id in acting
    return ChainActions(
        submit=document.state == DRAFT and may_change(staff, document),
        forward=reviewing,
        send_back=reviewing or signing,
        approve=signing,
        holder_name=(holder.full_name or holder.username) if holder is not None else "",
    )
