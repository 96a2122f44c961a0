"""Who may see a document: the rule every list, page, file download and search applies.

A member of staff sees a document only in their own unit, only if their clearance is at least
its secrecy level, and only if their role or an assignment allows it: clerks (văn thư) and
leaders see their unit's register; other staff see what they were assigned or drafted, what
was assigned to their department (phòng, ban), what they were given to read ("để biết"), and the
drafts submitted to them for review (or that they reviewed: they keep seeing what they said). The
administrator runs the system and reads no documents. Anything else answers as if the document
did not exist.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    ScalarSelect,
    and_,
    exists,
    false,
    or_,
    select,
    union,
)
from sqlalchemy.orm import aliased

from config.errors import Forbidden
from config.refusals import Message
from keys.models import User
from keys.signin import StaffMember
from office.documents import refusals
from office.documents.models import (
    Assignment,
    DepartmentAssignment,
    Document,
    DocumentReader,
    DocumentVersion,
)


def require(allowed: bool, action: Message) -> None:
    """Refuse a step ``staff`` may not take (``allowed``: one of the ``may_*`` tests here):
    every step's refusal reads the same, naming ``action``."""
    if not allowed:
        raise Forbidden(refusals.NOT_ALLOWED(action=action), code="forbidden")


#: Roles that see the whole register of their unit (within their clearance).
REGISTER_ROLES = frozenset({"clerk", "leader"})


def visible_to(staff: StaffMember) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Document` that keeps what ``staff`` may see."""
    if staff.role == "admin":
        return false()
    within = and_(Document.unit_code == staff.unit, Document.secrecy <= staff.clearance)
    if staff.role in REGISTER_ROLES:
        return within
    # An alias of its own: a query that already selects assignments must not correlate this
    # subquery with its rows.
    mine = aliased(Assignment)
    assigned = exists(
        select(mine.id)
        .where(mine.document_id == Document.id, mine.user_id == staff.id)
        .correlate(Document)
    )
    reviewed = exists(
        select(DocumentVersion.id)
        .where(
            DocumentVersion.document_id == Document.id,
            or_(DocumentVersion.user_id == staff.id, DocumentVersion.to_user_id == staff.id),
        )
        .correlate(Document)
    )
    ours = aliased(DepartmentAssignment)
    departments = exists(
        select(ours.id)
        .where(ours.document_id == Document.id, ours.department_id == _department_of(staff))
        .correlate(Document)
    )
    reader = aliased(DocumentReader)
    reading = exists(
        select(reader.user_id)
        .where(reader.document_id == Document.id, reader.user_id == staff.id)
        .correlate(Document)
    )
    return and_(
        within,
        or_(
            assigned,
            Document.created_by == staff.id,
            Document.holder_id == staff.id,
            reviewed,
            departments,
            reading,
        ),
    )


def _department_of(staff: StaffMember) -> ScalarSelect[int | None]:
    """The department ``staff`` belongs to now (read from their account, so a move between
    departments takes effect at once)."""
    return select(User.department_id).where(User.id == staff.id).scalar_subquery()


def assigned_or_drafted(staff: StaffMember) -> CompoundSelect[tuple[int]] | None:
    """The ids of the documents ``staff`` was assigned (or their department was), drafted,
    reviewed or was given to read, when that is all their role may see; ``None`` for a role
    that sees a whole register (or nothing).

    A superset of what they see (unit and clearance are not checked here): a query may start
    from these few ids instead of testing :func:`visible_to` on every row, but must still
    apply :func:`visible_to`.
    """
    if staff.role == "admin" or staff.role in REGISTER_ROLES:
        return None
    return union(
        select(Assignment.document_id).where(Assignment.user_id == staff.id),
        select(Document.id).where(Document.created_by == staff.id),
        select(DocumentVersion.document_id).where(
            or_(DocumentVersion.user_id == staff.id, DocumentVersion.to_user_id == staff.id)
        ),
        select(DepartmentAssignment.document_id).where(
            DepartmentAssignment.department_id == _department_of(staff)
        ),
        select(DocumentReader.document_id).where(DocumentReader.user_id == staff.id),
    )


def may_register(staff: StaffMember) -> bool:
    """Vào sổ, trả lại, phát hành: the clerk's work."""
    return staff.role == "clerk"


def may_direct(staff: StaffMember) -> bool:
    """Ý kiến chỉ đạo and assignment: the leader's."""
    return staff.role == "leader"


def may_direct_document(staff: StaffMember, document: Document) -> bool:
    """Only the leader an incoming document was presented to directs it (Decree 30/2020
    Art. 23: the clerk presents it to the head of the agency or whom they assign, who gives
    the direction); other leaders may read it."""
    return may_direct(staff) and document.presented_to == staff.id
