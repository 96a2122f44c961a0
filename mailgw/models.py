"""Tables of the mail gateway: the queue of accepted mail, the mailboxes, and address aliases.

A message's bytes live once in the blob store under their SHA-256; every row names them. The
queue row is written in the transaction that answers 250 to the client, so a message the
gateway accepted is never lost; a mailbox row is written when a worker delivers it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from config.database import Base, UTCDateTime, utcnow

#: A queued message: waiting (or leased by a worker), then delivered or failed for good.
QUEUED, DONE, FAILED = "queued", "done", "failed"
INBOX, SENT = "inbox", "sent"
FOLDERS = (INBOX, SENT)


class QueuedMail(Base):
    """One accepted message and the recipients still to be served."""

    __tablename__ = "mail_queue"
    __table_args__ = (Index("ix_mail_queue_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    blob_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    #: The envelope sender; empty for a bounce, which is never bounced in turn.
    mail_from: Mapped[str] = mapped_column(String(320))
    #: JSON list of envelope recipients.
    recipients: Mapped[str] = mapped_column(Text)
    #: Who submitted it (a username of this node); empty when it came from another node.
    submitted_by: Mapped[str] = mapped_column(String(64), default="")
    #: The unit it is sent on behalf of (its signature, when it leaves as a dispatch).
    unit_code: Mapped[str] = mapped_column(String(32))
    #: ``smtp``, ``web``, ``dispatch`` (arrived from another node) or ``bounce``.
    origin: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MailboxMessage(Base):
    """A message in one user's folder: the headers the lists show, and where its bytes are."""

    __tablename__ = "mailbox_messages"
    __table_args__ = (
        #: Delivering the same queued message again (after a crash) adds nothing.
        UniqueConstraint("user_id", "folder", "queue_id", name="uq_mailbox_messages_delivery"),
        Index("ix_mailbox_messages_folder", "user_id", "folder", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(16))
    queue_id: Mapped[str] = mapped_column(String(36))
    message_id: Mapped[str] = mapped_column(String(998), default="")
    from_text: Mapped[str] = mapped_column(Text, default="")
    to_text: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    size: Mapped[int] = mapped_column(BigInteger)
    blob_sha256: Mapped[str] = mapped_column(String(64))
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Folded (lower case, no diacritics) sender, recipients, subject and text, for search.
    search_text: Mapped[str] = mapped_column(Text, default="")


class MailAlias(Base):
    """An extra address the admin gave a user (``vanphong@…``): they may send as it, and mail
    to it reaches them."""

    __tablename__ = "mail_aliases"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
