"""Tables of the document registers: documents, their files, the register counters, the
handling assignments and every step's log.

Incoming and outgoing documents share one table: the register columns, the access rules and the
search are the same; ``direction`` tells the two books apart.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from config.database import Base, UTCDateTime, utcnow

INCOMING, OUTGOING = "incoming", "outgoing"
#: Văn bản đến: waiting in the clerk's queue -> registered -> assigned -> done; or returned.
INCOMING_STATES = ("received", "registered", "assigned", "done", "returned")
#: Văn bản đi: draft -> reviewing (trình cho ý kiến) -> signing (trình ký) -> approved (signed by
#: the signer) -> issued (numbered, signed by the unit) -> sent; a returned draft is a draft again.
#: A secret document the network may not carry is ``paper``: numbered, its paper sent by hand.
OUTGOING_STATES = ("draft", "reviewing", "signing", "approved", "issued", "sent", "paper")
#: A secret document (độ mật 1-3) is numbered in a book of its own.
NORMAL_SERIES, SECRET_SERIES = "normal", "secret"
RECALL_STATES = ("requested", "agreed", "refused")
#: A received PDF's signature, until the indexing worker checks it after the step commits.
SIGNATURE_PENDING = "pending"
#: What became of a PDF's text: read (its words kept), or not readable within the caps.
TEXT_READ, TEXT_UNREADABLE = "read", "unreadable"


class Document(Base):
    """One document of a unit's incoming or outgoing register."""

    __tablename__ = "documents"
    __table_args__ = (
        Index(
            "ix_documents_register", "unit_code", "direction", "register_year", "register_number"
        ),
        Index("ix_documents_issued", "unit_code", "direction", "register_year", "registered_at"),
        Index("ix_documents_queue", "unit_code", "direction", "state"),
        Index("ix_documents_duplicate", "unit_code", "sender_name", "number_symbol", "issued_on"),
        Index("ix_documents_dispatch", "dispatch_id"),
        Index("ix_documents_created_by", "created_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code", ondelete="RESTRICT"))
    direction: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    secrecy: Mapped[int] = mapped_column(Integer, default=0)
    urgency: Mapped[int] = mapped_column(Integer, default=0)
    #: Loại văn bản: its abbreviation (``CV``, ``QĐ``, ``NQ``…).
    doc_type: Mapped[str] = mapped_column(String(8))
    #: Số, ký hiệu: the issuer's (``15/QĐ-TU``; for outgoing, ours once issued).
    number_symbol: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(Text)
    #: Tác giả / nơi gửi (incoming), or "" (outgoing: it is us).
    sender_name: Mapped[str] = mapped_column(String(255), default="")
    #: The sending unit's code when the document came through the network.
    sender_unit: Mapped[str | None] = mapped_column(String(32), default=None)
    signer_name: Mapped[str] = mapped_column(String(255), default="")
    #: Ngày tháng văn bản.
    issued_on: Mapped[date | None] = mapped_column(Date, default=None)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    register_year: Mapped[int | None] = mapped_column(Integer, default=None)
    register_series: Mapped[str | None] = mapped_column(String(8), default=None)
    #: Số đến / số đi: gap-free per unit, book, series and year (incoming), or per counter
    #: (outgoing: see :mod:`office.documents.numbering`).
    register_number: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Outgoing: the period its number was taken in (``term:2025-10-16``, ``year:2026``,
    #: ``congress:2025-10-13``), so that a term set late continues above it.
    register_period: Mapped[str | None] = mapped_column(String(24), default=None)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: Hạn giải quyết of the whole document (the lead handler's).
    due_on: Mapped[date | None] = mapped_column(Date, default=None)
    direction_note: Mapped[str] = mapped_column(Text, default="")
    #: Nơi nhận (outgoing): unit codes, comma-separated, and names of paper recipients.
    recipients: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    #: The dispatch it came in (incoming) or went out (outgoing) as.
    dispatch_id: Mapped[str | None] = mapped_column(String(36), default=None)
    recall_state: Mapped[str | None] = mapped_column(String(16), default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Raised by every change: a form posted with an older version was made stale.
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: Who must act on a draft now: the reviewer or the signer it was submitted to (a user's
    #: id; no foreign key, see migration 0019: accounts are disabled, never deleted).
    holder_id: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Thẩm quyền ký as signed: ``T/M BAN THƯỜNG VỤ``, ``KT. GIÁM ĐỐC``, or "" (in one's own name).
    authority: Mapped[str] = mapped_column(String(128), default="", server_default="")
    #: Chuyển tiếp: the name of the unit that forwarded this incoming document to us (the
    #: dispatch's sender, our directory's name for it; ``sender_name`` is the original
    #: issuer), or "" for a document that came straight from its issuer.
    forwarded_by: Mapped[str] = mapped_column(String(255), default="", server_default="")
    #: Incoming: the leader it was presented to (trình), who alone directs it; None until the
    #: clerk presents it (a user's id; no foreign key, see migration 0023).
    presented_to: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Incoming: the lead handler the clerk proposed when presenting it: a person's id, or
    #: ``d:`` and a department's id; "" for none (:mod:`office.documents.handlers`).
    proposed_lead: Mapped[str] = mapped_column(String(16), default="", server_default="")


class DocumentFile(Base):
    """A file of a document; its bytes live in the blob store under their SHA-256."""

    __tablename__ = "document_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    #: Indexed: the exchange asks whether a file leaving the node is a secret document's.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: ``main`` (the document), ``signed`` (its signed PDF), ``attachment``.
    role: Mapped[str] = mapped_column(String(16), default="main")
    #: A PDF's signature, checked when the file arrived (valid, invalid, unsigned, untrusted,
    #: revoked), or ``pending`` until the indexing worker checks one received from a node.
    signature_state: Mapped[str | None] = mapped_column(String(16), default=None)
    signature_signer: Mapped[str] = mapped_column(String(255), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentForward(Base):
    """Chuyển tiếp: one forward of a received document to some of the unit's child units, as a
    dispatch of its own; its timeline per unit (receipt, then the statuses each reports) is
    read from the exchange's records of that dispatch."""

    __tablename__ = "document_forwards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    #: Chosen when the forward is recorded: every attempt seals this same id.
    dispatch_id: Mapped[str] = mapped_column(String(36), unique=True)
    #: The child units' codes, comma-separated, in the directory's order.
    recipients: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    forwarded_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    forwarded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When an attempt to send it began; None after a failed one (it may be tried again).
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: When its dispatch was queued; None until then.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PdfText(Base):
    """A PDF's words for the search index, read once per file (by its SHA-256) after the step
    that brought it committed, in a child process under caps (see
    :mod:`office.documents.indexing`)."""

    __tablename__ = "pdf_texts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: ``read``, or ``unreadable``: not read within the caps; its documents are found by their
    #: fields only.
    state: Mapped[str] = mapped_column(String(16))
    #: Its distinct folded words, space-separated, as the search index takes them.
    words: Mapped[str] = mapped_column(Text, default="")
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SearchPending(Base):
    """A document whose search entry waits for the text of a PDF or the check of a received
    PDF's signature: queued in the step's own transaction (a crash after the commit loses
    nothing), taken by an indexing worker under a lease, removed once the document is indexed
    whole."""

    __tablename__ = "search_pending"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A worker's claim; another process takes the document only once it has passed.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class RegisterCounter(Base):
    """The last number given in one sequence of a book: a row lock on it makes numbering
    gap-free and safe under concurrent clerks, and a rolled-back registration gives its number
    back.

    A sequence is a book (incoming, outgoing), a series (normal, secret), a document type (""
    when it covers every type) and a period: ``year:2026``, ``term:2025-10-16`` or
    ``congress:2025-10-13``."""

    __tablename__ = "register_counters"
    __table_args__ = (
        PrimaryKeyConstraint(
            "unit_code", "book", "series", "doc_type", "period", name="pk_register_counters"
        ),
    )

    unit_code: Mapped[str] = mapped_column(String(32))
    book: Mapped[str] = mapped_column(String(8))
    series: Mapped[str] = mapped_column(String(8))
    doc_type: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(24))
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class NumberingStyle(Base):
    """How a unit writes its outgoing numbers: state style ``15/QĐ-TU`` or Party style
    ``05-NQ/TU``, with its issuer abbreviation."""

    __tablename__ = "numbering_styles"

    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    style: Mapped[str] = mapped_column(String(8))
    issuer: Mapped[str] = mapped_column(String(32))


class NumberingPeriod(Base):
    """A committee term (nhiệm kỳ: from ``starts_on``, no end) or a congress (đại hội: from
    its opening to its close, both days in) of a unit, which restart its outgoing numbers
    (HD 36-HD/VPTW point 1.3.1 a)."""

    __tablename__ = "numbering_periods"

    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: ``term`` or ``congress``.
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    #: A congress's last day; None for a term, which runs until the next one starts.
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)


class Assignment(Base):
    """Phiếu xử lý: one handler's part in an incoming document, with its deadline."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_user_state", "user_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    #: ``lead`` (chủ trì) or ``co`` (phối hợp).
    part: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), default="open")
    assigned_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reminded_on: Mapped[date | None] = mapped_column(Date, default=None)
    #: The department's part it carries out, when the department's head gave it (no foreign
    #: key, see migration 0023).
    department_assignment_id: Mapped[int | None] = mapped_column(Integer, default=None)


class DepartmentAssignment(Base):
    """A department's part in an incoming document (chủ trì or phối hợp), which its head shares
    out among its members (:class:`Assignment` rows that name it)."""

    __tablename__ = "department_assignments"
    __table_args__ = (Index("ix_department_assignments_department", "department_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    #: ``lead`` (chủ trì) or ``co`` (phối hợp).
    part: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[date] = mapped_column(Date)
    #: ``open`` until its members' work is done (``done``), or ``replaced`` by a new direction.
    state: Mapped[str] = mapped_column(String(8), default="open")
    assigned_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentReader(Base):
    """Để biết: someone the leader gave an incoming document to read, who does not handle it
    (Decree 30/2020 Art. 24), and when they marked it read."""

    __tablename__ = "document_readers"
    __table_args__ = (
        PrimaryKeyConstraint("document_id", "user_id", name="pk_document_readers"),
        Index("ix_document_readers_user", "user_id", "read_at"),
    )

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    added_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class DocumentEvent(Base):
    """Every step on a document and every view of it: its processing log and access history."""

    __tablename__ = "document_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class DocumentRecall(Base):
    """Thu hồi of a document at one unit (Decree 30/2020 Art. 18).

    The sending unit keeps one row per recipient it asked (a recall may go to some recipients
    only; a recipient is asked once): each recipient's line of the timeline reads its state
    from it. A receiving unit keeps one row for the document the request reached. Both keep the
    replacement the sender named as the request described it: its dispatch (how the receiver
    finds it once it has arrived), number and symbol, date and summary."""

    __tablename__ = "document_recalls"
    __table_args__ = (Index("ix_document_recalls_unit", "document_id", "unit", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    #: The sender's: the recipient unit asked; the receiver's: its own unit.
    unit: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    replacement_dispatch_id: Mapped[str | None] = mapped_column(String(36), default=None)
    replacement_number_symbol: Mapped[str] = mapped_column(String(64), default="")
    replacement_issued_on: Mapped[date | None] = mapped_column(Date, default=None)
    replacement_summary: Mapped[str] = mapped_column(Text, default="")


class DocumentVersion(Base):
    """One step of a draft's way to its signer (trình, cho ý kiến, trả lại, ký duyệt, phát
    hành): who, when, to whom, the comment, and the files as they were at that step."""

    __tablename__ = "document_versions"
    __table_args__ = (Index("ix_document_versions_document", "document_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    #: 1, 2, …: the order of the steps on this document.
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    #: The reviewer or signer it went to, for a step that passes it on.
    to_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")


class VersionFile(Base):
    """A file as it was at one step; the bytes stay in the blob store under their SHA-256."""

    __tablename__ = "document_version_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))


class SigningDelegation(Base):
    """Giao ký thay: a signer away on mission lets another leader sign for them from
    ``starts_on`` to ``ends_on`` (inclusive); the delegate signs ``K/T`` / ``KT.``
    (Decree 30 Art. 13; HD 36 point 1.3.1)."""

    __tablename__ = "signing_delegations"
    __table_args__ = (Index("ix_signing_delegations_to", "to_user_id", "starts_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
