"""Reading the registers: the clerk's queue, the filtered register page, a document's page.

Every query applies :func:`office.documents.access.visible_to`; results are plain dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keys.models import Department, User
from keys.signin import StaffMember
from office.documents import books
from office.documents.access import assigned_or_drafted, visible_to
from office.documents.file_kinds import label_of
from office.documents.models import (
    Assignment,
    DepartmentAssignment,
    Document,
    DocumentEvent,
    DocumentFile,
)
from office.documents.paging import PAGE_ROWS, Entry, KeyedPage, keyed_page, register_page
from office.documents.recall import AGREED, not_recalled
from office.formats import VIETNAM_TIME

#: A SELECT of any columns: the register's filters apply to all of them.
AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class RegisterFilter:
    """The register page's filters, all optional. ``book`` is the ordinary book or the secret
    one (:mod:`office.documents.books`): never both at once. The page starts ``after`` an entry
    or ends ``before`` one (:mod:`office.documents.paging`); with neither it is the newest."""

    book: str = books.NORMAL
    date_from: date | None = None
    date_to: date | None = None
    sender: str = ""
    doc_type: str = ""
    urgency: int | None = None
    state: str = ""
    year: int | None = None
    after: Entry | None = None
    before: Entry | None = None


@dataclass(frozen=True)
class RegisterRow:
    id: int
    received_at: datetime | None
    register_number: int | None
    register_year: int | None
    sender_name: str
    number_symbol: str
    issued_on: date | None
    doc_type: str
    summary: str
    handler: str
    due_on: date | None
    state: str
    urgency: int
    secrecy: int
    note: str
    overdue: bool
    #: ``requested`` while the sender asks for it back, ``agreed`` once it is recalled here
    #: (Decree 30 Art. 18: the recipient cancels it in the system), else None.
    recall_state: str | None = None
    #: Chuyển tiếp: the unit that forwarded it to us ("" when it came from its issuer).
    forwarded_by: str = ""

    @property
    def shown_state(self) -> str:
        """The register's "tình trạng": a recalled document reads "Đã thu hồi" whatever step
        it had reached."""
        return RECALLED_STATE if self.recall_state == AGREED else self.state


@dataclass(frozen=True)
class AssignmentView:
    user_id: int
    name: str
    part: str
    state: str
    due_on: date
    overdue: bool


@dataclass(frozen=True)
class EventView:
    at: datetime
    who: str
    action: str
    note: str


@dataclass(frozen=True)
class FileView:
    id: int
    name: str
    size: int
    role: str
    #: What its content is (``pdf``, ``docx``… or ``other``): :mod:`office.documents.file_kinds`.
    kind: str
    signature_state: str | None
    signature_signer: str


@dataclass
class DocumentPage:
    document: Document
    files: list[FileView] = field(default_factory=list)
    assignments: list[AssignmentView] = field(default_factory=list)
    history: list[EventView] = field(default_factory=list)
    views: list[EventView] = field(default_factory=list)


#: A document's files as its page lists them: the main file, the copy its signer signed and
#: the unit-signed copy (an outgoing document once approved, then issued), then the appendices
#: in the order they were added (their ids).
FILE_ORDER = ("main", "approved", "signed", "attachment")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), VIETNAM_TIME).astimezone(UTC)


@cache
def _lead_handler() -> ColumnElement[str]:
    """The register's "đơn vị, người nhận": the lead handler, or the lead department until its
    head gives the part to one of its members. Built once: an expression is immutable, and
    building its two subqueries was a tenth of a register page's CPU."""
    person = (
        select(func.coalesce(func.nullif(User.full_name, ""), User.username))
        .join(Assignment, Assignment.user_id == User.id)
        .where(
            Assignment.document_id == Document.id,
            Assignment.part == "lead",
            Assignment.state != "replaced",
        )
        .order_by(Assignment.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    department = (
        select(Department.name)
        .join(DepartmentAssignment, DepartmentAssignment.department_id == Department.id)
        .where(
            DepartmentAssignment.document_id == Document.id,
            DepartmentAssignment.part == "lead",
            DepartmentAssignment.state != "replaced",
        )
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(person, department)


def _filtered(query: AnySelect, wanted: RegisterFilter) -> AnySelect:
    query = query.where(Document.register_series == wanted.book)
    if wanted.date_from is not None:
        query = query.where(Document.received_at >= _day_start(wanted.date_from))
    if wanted.date_to is not None:
        query = query.where(Document.received_at < _day_start(wanted.date_to + timedelta(days=1)))
    if wanted.sender:
        query = query.where(func.lower(Document.sender_name).contains(wanted.sender.lower()))
    if wanted.doc_type:
        query = query.where(Document.doc_type == wanted.doc_type)
    if wanted.urgency is not None:
        query = query.where(Document.urgency == wanted.urgency)
    if wanted.state:
        query = query.where(Document.state == wanted.state)
    if wanted.year is not None:
        query = query.where(Document.register_year == wanted.year)
    return query


#: The register's columns, read as plain rows: a page of 50 ORM objects costs more to build
#: than the query that finds them.
_REGISTER_COLUMNS = (
    Document.id,
    Document.received_at,
    Document.register_number,
    Document.register_year,
    Document.sender_name,
    Document.number_symbol,
    Document.issued_on,
    Document.doc_type,
    Document.summary,
    Document.due_on,
    Document.state,
    Document.urgency,
    Document.secrecy,
    Document.note,
    Document.recall_state,
    Document.forwarded_by,
)


def _row(document: Any, handler: str | None, today: date) -> RegisterRow:
    return RegisterRow(
        id=document.id,
        received_at=document.received_at,
        register_number=document.register_number,
        register_year=document.register_year,
        sender_name=document.sender_name,
        number_symbol=document.number_symbol,
        issued_on=document.issued_on,
        doc_type=document.doc_type,
        summary=document.summary,
        handler=handler or "",
        due_on=document.due_on,
        state=document.state,
        urgency=document.urgency,
        secrecy=document.secrecy,
        note=document.note,
        overdue=document.state == "assigned"
        and document.due_on is not None
        and document.due_on < today,
        recall_state=document.recall_state,
        forwarded_by=document.forwarded_by,
    )


async def incoming_register(
    session: AsyncSession,
    staff: StaffMember,
    wanted: RegisterFilter,
    today: date,
    page_rows: int = PAGE_ROWS,
) -> KeyedPage[RegisterRow, Entry]:
    """One page of the incoming register, newest number first, and where the pages around it
    start. What ``staff`` may not see is left out by the query itself, so a page is full."""
    page = select(*_REGISTER_COLUMNS, _lead_handler().label("handler")).where(
        Document.direction == "incoming",
        Document.register_number.is_not(None),
        visible_to(staff),
    )
    mine = assigned_or_drafted(staff)
    if mine is not None:
        # Someone who sees only their own documents: start from their few ids (collected
        # once), not from the register index, which would be walked to its end testing each
        # of a million entries for an assignment (4-8 s at a million).
        among = mine.cte("mine").prefix_with("MATERIALIZED")
        page = page.where(Document.id.in_(select(among.c[0])))
    query = register_page(_filtered(page, wanted), wanted.after, wanted.before, page_rows)
    rows = [_row(row, row.handler, today) for row in await session.execute(query)]
    return keyed_page(rows, wanted.after, wanted.before, _entry, page_rows)


def _entry(row: RegisterRow) -> Entry:
    assert row.register_year is not None and row.register_number is not None  # registered
    return Entry(row.register_year, row.register_number)


#: What the register shows for a recalled document.
RECALLED_STATE = "recalled"


async def incoming_queue(
    session: AsyncSession, staff: StaffMember, today: date
) -> list[RegisterRow]:
    """Received through the network, waiting for the clerk: most urgent, then oldest first. A
    recalled one has left it (Decree 30 Art. 18); one whose recall is asked stays, marked.

    Without the handler column: nobody handles a document before it is registered, and its
    two subqueries were most of the cost of this statement, read on every register page."""
    query = (
        select(*_REGISTER_COLUMNS)
        .where(
            Document.direction == "incoming",
            Document.state == "received",
            not_recalled(),
            visible_to(staff),
        )
        .order_by(Document.urgency.desc(), Document.received_at)
        .limit(200)
    )
    return [_row(row, None, today) for row in await session.execute(query)]


async def document_page(session: AsyncSession, document: Document, today: date) -> DocumentPage:
    page = DocumentPage(document)
    files = await session.scalars(
        select(DocumentFile)
        .where(DocumentFile.document_id == document.id)
        .order_by(DocumentFile.id)
    )
    page.files = [
        FileView(
            f.id,
            f.name,
            f.size,
            f.role,
            label_of(f.content_type),
            f.signature_state,
            f.signature_signer,
        )
        for f in sorted(files, key=lambda f: (FILE_ORDER.index(f.role), f.id))
    ]
    name = func.coalesce(func.nullif(User.full_name, ""), User.username)
    assignments = await session.execute(
        select(Assignment, name)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.document_id == document.id, Assignment.state != "replaced")
        .order_by(Assignment.part.desc(), Assignment.id)
    )
    page.assignments = [
        AssignmentView(
            row.user_id,
            who,
            row.part,
            row.state,
            row.due_on,
            row.state == "open" and row.due_on < today,
        )
        for row, who in assignments
    ]
    events = await session.execute(
        select(DocumentEvent, name)
        .outerjoin(User, User.id == DocumentEvent.user_id)
        .where(DocumentEvent.document_id == document.id)
        .order_by(DocumentEvent.at, DocumentEvent.id)
    )
    for event, who in events:
        view = EventView(event.at, who or "", event.action, event.note)
        (page.views if event.action in ("viewed", "downloaded") else page.history).append(view)
    return page
