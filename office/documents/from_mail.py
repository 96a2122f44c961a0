"""Văn bản đến from a mail: a member of staff hands a mail to their unit's clerk, who finds it
in the queue like a document that came over the network, and registers it (or returns it).

The document's files are the mail's PDF attachments (a document is its PDF); a mail without
one goes in whole, as a ``.eml`` file the clerk can open. The same mail becomes one document
per unit however often, and by whoever of the unit, it is handed over: the view claims
:func:`once_key` before it creates anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.file_names import clean_file_name
from keys.signin import StaffMember
from mailgw.mailbox import MailSummary
from mailgw.reading import attachments
from office.documents.access import visible_to
from office.documents.fields import MAX_SHORT, MAX_SUMMARY
from office.documents.incoming import StoredFile, add_files
from office.documents.models import INCOMING, Document
from office.documents.records import log_event

#: A mail is filed as a công văn until the clerk says otherwise when registering it.
MAIL_DOC_TYPE = "CV"
#: The history's entry: the document came from a mail.
FROM_MAIL = "from-mail"
EML_NAME = "thu-dien-tu.eml"
PDF_MAGIC = b"%PDF-"


def once_key(unit: str, blob_sha256: str) -> str:
    """The one-time id (:mod:`office.web.forms`) of making a document of ``unit`` from the mail
    whose bytes are ``blob_sha256``: every recipient's copy of a mail has the same bytes."""
    return "mail-" + hashlib.sha256(f"{unit}\n{blob_sha256}".encode()).hexdigest()[:48]


def sender_name(from_text: str) -> str:
    """The From header's display name, or its address when it has none."""
    name, address = parseaddr(from_text)
    return (name or address or from_text).strip()[:MAX_SHORT]


def pdf_attachments(mail_path: Path) -> list[tuple[str, bytes]]:
    """The mail's attachments that are PDFs, by name and by content (blocking)."""
    found = []
    for described, content in attachments(mail_path):
        named_pdf = described.content_type == "application/pdf" or described.name.lower().endswith(
            ".pdf"
        )
        if named_pdf and PDF_MAGIC in content[:1024]:
            name = (
                described.name
                if described.name.lower().endswith(".pdf")
                else f"{described.name}.pdf"
            )
            found.append((clean_file_name(name), content))
    return found


async def receive_mail(
    session: AsyncSession,
    staff: StaffMember,
    mail: MailSummary,
    files: Sequence[StoredFile],
    now: datetime,
) -> Document:
    """A document in the clerk's queue of ``staff``'s unit, made from ``mail``; ``staff`` made
    it, so they may see it, as the unit's clerks and leaders may."""
    sender = sender_name(mail.from_text)
    document = Document(
        unit_code=staff.unit,
        direction=INCOMING,
        state="received",
        doc_type=MAIL_DOC_TYPE,
        summary=(mail.subject or f"Thư điện tử của {sender}")[:MAX_SUMMARY],
        sender_name=sender,
        received_at=now,
        created_by=staff.id,
    )
    session.add(document)
    await session.flush()
    add_files(session, document.id, files)
    note = " ".join(filter(None, (mail.from_text, mail.message_id)))
    log_event(session, document.id, staff.id, FROM_MAIL, note, at=now)
    return document


async def may_see(session: AsyncSession, staff: StaffMember, document_id: int) -> bool:
    found = await session.scalar(
        select(Document.id).where(Document.id == document_id, visible_to(staff))
    )
    return found is not None
