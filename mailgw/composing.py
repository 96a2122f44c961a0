"""A message written in the web mailbox, made into RFC 5322 bytes for :meth:`MailGateway.submit`.

The web mailbox sends through the same gateway as SMTP clients, so the gateway's checks (who
may send as whom, to whom, how much) apply alike; this module only writes the message: From
the sender's own address, a Message-ID in their domain, In-Reply-To and References for a
reply, and the attachments (uploaded, or carried over from the mail being forwarded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import HeaderParseError, MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path

from config.errors import Invalid
from config.refusals import Message
from mailgw import refusals
from mailgw.addresses import Mailbox
from mailgw.reading import MailView, attachments

#: ``type/subtype`` as a browser names an uploaded file.
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
REPLY_PREFIX = re.compile(r"^\s*(re|tl|trả lời)\s*:", re.IGNORECASE)
FORWARD_PREFIX = re.compile(r"^\s*(fwd?|tr|chuyển tiếp)\s*:", re.IGNORECASE)
#: A long thread keeps the first and the latest ids only (as RFC 5322 allows).
MAX_REFERENCES = 20
MAX_SUBJECT = 998


@dataclass(frozen=True)
class Upload:
    """A file the sender attached, already stored at ``path``."""

    name: str
    content_type: str
    path: Path


@dataclass(frozen=True)
class Draft:
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    body: str
    uploads: tuple[Upload, ...] = ()
    #: The message being forwarded: its attachments go along.
    forwarding: Path | None = None
    in_reply_to: str = ""
    references: str = ""

    @property
    def recipients(self) -> list[str]:
        return [address.addr_spec for address in (*self.to, *self.cc)]


def parse_addresses(value: str, label: Message | str) -> tuple[Address, ...]:
    """``"a@x.vn, Trần Văn B <b@y.vn>"`` as addresses; an unreadable one is refused by name,
    naming the field ``label`` (:data:`mailgw.refusals.TO`, :data:`mailgw.refusals.CC`)."""
    found = []
    for name, addr_spec in getaddresses([" ".join(value.split())]):
        if not addr_spec and not name:
            continue
        try:
            if not addr_spec.isascii() or "@" not in addr_spec:
                raise ValueError(addr_spec)
            found.append(Address(display_name=name, addr_spec=addr_spec))
        except (ValueError, IndexError, HeaderParseError):
            shown = addr_spec or name
            raise Invalid(
                refusals.BAD_ADDRESS(shown=shown, label=label), code="bad-address"
            ) from None
    return tuple(found)


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    return " ".join(text.split())[:limit]


def reply_subject(subject: str) -> str:
    return subject if REPLY_PREFIX.match(subject) else f"Re: {subject}"


def forward_subject(subject: str) -> str:
    return subject if FORWARD_PREFIX.match(subject) else f"Fwd: {subject}"


def thread_of(original: MailView) -> tuple[str, str]:
    """In-Reply-To and References of a reply to ``original``."""
    ids = original.references.split() or original.in_reply_to.split()[:1]
    if original.message_id:
        ids.append(original.message_id)
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return original.message_id, " ".join(ids)


def quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _content_type(declared: str) -> tuple[str, str]:
    cleaned = declared.split(";", 1)[0].strip().lower()
    if not CONTENT_TYPE.match(cleaned):
        cleaned = "application/octet-stream"
    maintype, _slash, subtype = cleaned.partition("/")
    return maintype, subtype


def _attach(message: EmailMessage, name: str, content_type: str, content: bytes) -> None:
    maintype, subtype = _content_type(content_type)
    if (maintype, subtype) == ("message", "rfc822"):
        inner = BytesParser(policy=policy.default).parsebytes(content)
        message.add_attachment(inner, filename=name)
        return
    if maintype in ("message", "multipart"):  # containers are attached as plain bytes
        maintype, subtype = "application", "octet-stream"
    message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)


def build(draft: Draft, sender: Mailbox, now: datetime) -> bytes:
    """The message's bytes (blocking: it reads the attachments; run it in an executor)."""
    message = EmailMessage(policy=policy.SMTP)
    try:
        message["From"] = sender.header_address
        message["To"] = draft.to
        if draft.cc:
            message["Cc"] = draft.cc
        message["Subject"] = one_line(draft.subject)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain=sender.address.rpartition("@")[2])
        if draft.in_reply_to:
            message["In-Reply-To"] = one_line(draft.in_reply_to)
            message["References"] = one_line(draft.references)
        message.set_content(draft.body.replace("\r\n", "\n"), charset="utf-8")
        for upload in draft.uploads:
            _attach(message, upload.name, upload.content_type, upload.path.read_bytes())
        if draft.forwarding is not None:
            for described, content in attachments(draft.forwarding):
                _attach(message, described.name, described.content_type, content)
        return message.as_bytes()
    except (MessageError, ValueError) as error:
        raise Invalid(refusals.BAD_MESSAGE(error=error), code="bad-message") from None
