"""Reading the outgoing register (sổ văn bản đi, Decree 30/2020, 10 columns) and the drafts
waiting to be issued. Every query applies :func:`office.documents.access.visible_to`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.models import OutboundDispatch
from keys.models import User
from keys.signin import StaffMember
from office.documents import books
from office.documents.access import visible_to
from office.documents.models import OUTGOING, Document
from office.documents.outgoing import APPROVED, DRAFT, REVIEWING, SIGNING, recipients_of
from office.documents.paging import PAGE_ROWS, issue_order_page, page_and_more
from office.documents.timeline import delivered_units

MAX_DRAFTS = 200
#: The states a register row may be filtered by (a draft has no number yet).
REGISTER_STATES = ("issued", "sent", "paper")
#: A draft on its way to its signer, or approved and waiting for the clerk.
UNISSUED = (DRAFT, REVIEWING, SIGNING, APPROVED)


@dataclass(frozen=True)
class OutgoingFilter:
    """The register's filters; ``book`` is the ordinary or the secret one, never both."""

    book: str = books.NORMAL
    date_from: date | None = None
    date_to: date | None = None
    doc_type: str = ""
    urgency: int | None = None
    state: str = ""
    page: int = 1


@dataclass(frozen=True)
class OutgoingRow:
    """One line of the book: its columns, plus what the page marks the line with."""

    id: int
    number_symbol: str
    issued_on: date | None
    doc_type: str
    summary: str
    signer_name: str
    #: Nơi nhận: the recipient units' names.
    recipients: list[str]
    #: Đơn vị, người nhận bản lưu: who drafted it (the clerk keeps the original).
    keeper: str
    #: Số lượng bản: one electronic copy per recipient.
    copies: int
    #: Ngày chuyển: when the dispatch was made.
    sent_at: datetime | None
    #: Ký nhận: recipients whose signed receipt came back.
    receipted: int
    state: str
    urgency: int
    secrecy: int
    recall_state: str | None
    note: str


def _drafter() -> Any:
    return func.coalesce(func.nullif(User.full_name, ""), User.username)


def _base(staff: StaffMember) -> Select[Any]:
    return (
        select(Document, _drafter(), OutboundDispatch.created_at)
        .outerjoin(User, User.id == Document.created_by)
        .outerjoin(OutboundDispatch, OutboundDispatch.id == Document.dispatch_id)
        .where(Document.direction == OUTGOING, visible_to(staff))
    )


def _filtered(query: Select[Any], wanted: OutgoingFilter) -> Select[Any]:
    query = query.where(Document.register_series == wanted.book)
    if wanted.date_from is not None:
        query = query.where(Document.issued_on >= wanted.date_from)
    if wanted.date_to is not None:
        query = query.where(Document.issued_on <= wanted.date_to)
    if wanted.doc_type:
        query = query.where(Document.doc_type == wanted.doc_type)
    if wanted.urgency is not None:
        query = query.where(Document.urgency == wanted.urgency)
    if wanted.state:
        query = query.where(Document.state == wanted.state)
    return query


async def _rows(
    session: AsyncSession, query: Select[Any], unit_name: Callable[[str], str]
) -> list[OutgoingRow]:
    found = (await session.execute(query)).all()
    dispatch_ids = [doc.dispatch_id for doc, _who, sent in found if sent is not None]
    receipted = await delivered_units(session, dispatch_ids)
    rows = []
    for document, keeper, sent_at in found:
        codes = recipients_of(document)
        rows.append(
            OutgoingRow(
                id=document.id,
                number_symbol=document.number_symbol,
                issued_on=document.issued_on,
                doc_type=document.doc_type,
                summary=document.summary,
                signer_name=document.signer_name,
                recipients=[unit_name(code) for code in codes],
                keeper=keeper or "",
                copies=len(codes),
                sent_at=sent_at,
                receipted=receipted.get(document.dispatch_id or "", 0),
                state=document.state,
                urgency=document.urgency,
                secrecy=document.secrecy,
                recall_state=document.recall_state,
                note=document.note,
            )
        )
    return rows


async def outgoing_register(
    session: AsyncSession,
    staff: StaffMember,
    wanted: OutgoingFilter,
    unit_name: Callable[[str], str],
    page_rows: int = PAGE_ROWS,
) -> tuple[list[OutgoingRow], bool]:
    """One page of the book, last issued first; and whether more follow."""
    query = _filtered(_base(staff).where(Document.register_number.is_not(None)), wanted)
    rows = await _rows(session, issue_order_page(query, wanted.page, page_rows), unit_name)
    return page_and_more(rows, page_rows)


async def drafts(
    session: AsyncSession, staff: StaffMember, unit_name: Callable[[str], str]
) -> list[OutgoingRow]:
    """Drafts waiting to be issued, wherever they are in their review, the most urgent first,
    then newest: the clerk's queue (the approved ones), a drafter's own."""
    query = (
        _base(staff)
        .where(Document.state.in_(UNISSUED))
        .order_by(Document.urgency.desc(), Document.created_at.desc(), Document.id.desc())
        .limit(MAX_DRAFTS)
    )
    return await _rows(session, query, unit_name)
