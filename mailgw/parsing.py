"""What the lists and the search need from a message, read once when it is filed."""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime
from email import policy
from email.headerregistry import (
    BaseHeader,
    HeaderRegistry,
    ParameterizedMIMEHeader,
    UnstructuredHeader,
)
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any, cast

from mailgw.mailbox import FiledMail

#: The most of a message's header block read on its own (for a bounce, a sender check).
MAX_HEADER_BYTES = 64 * 1024
#: How much body text the search index keeps of one message.
SEARCH_TEXT_CHARS = 20_000


#: How many messages' summaries are kept (:class:`Summaries`).
SUMMARIES_KEPT = 256
#: How many parsed headers are kept (:meth:`_TolerantHeaders._parsed`).
HEADER_CACHE = 1024

#: What Python's header parsers raise on some headers instead of reading them as defects
#: (``Content-Type: ;a*`` is an IndexError; CPython issue #102988 another).
PARSER_ERRORS = (ValueError, IndexError, AttributeError, TypeError, LookupError)


class _TolerantHeaders(HeaderRegistry):
    """The standard header classes, for headers they can read. The parser reads a header
    each time it is asked for it, the message's own parser included (``Content-Type``): one it
    cannot read would make the whole message unreadable. A MIME header keeps its value
    without its parameters (or none), any other header is kept as plain text."""

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str):
            return self._parsed(name, value)
        return self._parse(name, value)

    @functools.lru_cache(maxsize=HEADER_CACHE)  # noqa: B019 - one instance, for good
    def _parsed(self, name: str, value: str) -> BaseHeader:
        """The same header read once: the parser asks again for each question about a part
        (``Content-Type`` five times for one plain-text mail), and most mails share their
        ``Content-Type`` and addresses. A header object is immutable: it can be shared."""
        return self._parse(name, value)

    def _parse(self, name: str, value: Any) -> BaseHeader:
        try:
            return super().__call__(name, value)
        except PARSER_ERRORS:
            kind = self[name]
            if not issubclass(kind, ParameterizedMIMEHeader):
                text: type[BaseHeader] = type(
                    "_UnstructuredHeader", (UnstructuredHeader, self.base_class), {}
                )
                return text(name, value)
            try:
                return kind(name, str(value).split(";", 1)[0])
            except PARSER_ERRORS:
                return kind(name, "")


#: Python's modern policy, with headers it cannot read kept rather than raised.
MAIL_POLICY = policy.default.clone(header_factory=_TolerantHeaders())


def parse(path: Path) -> EmailMessage:
    """The whole message (blocking: run it in an executor for big ones)."""
    with path.open("rb") as reader:
        message = BytesParser(policy=MAIL_POLICY).parse(reader)
    _mend_partless_multiparts(message)
    return message


def _mend_partless_multiparts(part: MIMEPart) -> None:
    """A part that says ``multipart`` but holds no parts (its boundary is missing or never
    found) is read as the text it is. ``EmailMessage.get_body`` walks into such a part's
    text as though it were a list of parts and fails (AttributeError) inside a
    ``multipart/related``. The header is replaced whole: ``set_type`` writes the old
    parameters back, and one holding a line break (a vertical tab counts) cannot be written."""
    if part.get_content_maintype() != "multipart":
        return
    if not part.is_multipart():
        part.replace_header("Content-Type", "text/plain")
        return
    for child in part.iter_parts():
        _mend_partless_multiparts(child)


def header_block(path: Path) -> bytes:
    """The message's header lines, up to the blank line (at most ``MAX_HEADER_BYTES``)."""
    lines: list[bytes] = []
    with path.open("rb") as reader:
        for line in reader:
            if not line.strip() or sum(len(kept) for kept in lines) > MAX_HEADER_BYTES:
                break
            lines.append(line)
    return b"".join(lines)


def addresses_in(headers: Message, name: str) -> list[str]:
    """The addresses of every header called ``name`` (a message may carry several); one that
    cannot be parsed is "", which is nobody's address."""
    return [address for _name, address in getaddresses(headers.get_all(name, []))]


def authors(headers: Message) -> list[str]:
    """The addresses of every ``From:`` header."""
    return addresses_in(headers, "From")


def header_text(message: EmailMessage, name: str) -> str:
    """A header decoded (RFC 2047 words and UTF-8 alike), or "" when absent or unreadable."""
    try:
        value = message.get(name)
        text = str(value) if value is not None else None
    except (ValueError, IndexError, AttributeError, TypeError, LookupError):
        # A header the parser cannot make sense of (some crash it: CPython issue #102988).
        return ""
    if text is None:
        return ""
    return " ".join(_storable(_utf8(text)).split())


def _storable(text: str) -> str:
    """Text a database column takes: PostgreSQL's text holds no NUL byte. Refused at the
    commit, the message would be answered "try again later" again and again."""
    return text.replace("\x00", "")


def _utf8(text: str) -> str:
    """A raw UTF-8 header (RFC 6532, sent with SMTPUTF8) as text: the parser leaves its bytes
    as surrogates."""
    try:
        return text.encode("ascii", "surrogateescape").decode("utf-8")
    except UnicodeError:  # real non-ASCII text already (RFC 2047 decoded), or not UTF-8
        return text


def sent_at(message: EmailMessage) -> datetime | None:
    try:
        when = parsedate_to_datetime(header_text(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def text_of(part: EmailMessage) -> str:
    """A text part's decoded content, or "" when it cannot be read: an unknown charset, a
    broken encoding, or a charset in RFC 2231's form with no value (``charset*``: Python's
    reader then hands a tuple to ``decode``, a TypeError).

    A lone surrogate (UTF-7 can spell one, ``+2lk-``; undecodable bytes come back as some) is
    replaced: no UTF-8 encoder takes it, neither the HTML cleaner nor a database column, and
    the message would be refused "try again later" again and again, or fail to show."""
    try:
        content = part.get_content()
    except (LookupError, ValueError, TypeError):
        return ""
    if not isinstance(content, str):
        return ""
    return content.encode("utf-8", "replace").decode("utf-8")


def body_text(message: EmailMessage) -> str:
    """The readable text: the plain part, or the HTML one without its tags."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = text_of(cast(EmailMessage, part))
    if not content:
        return ""
    if part.get_content_subtype() == "html":
        import nh3  # for HTML mail only (1.4 MiB of a node's memory)

        content = nh3.clean(content, tags=set())
    return _storable(content)


def summarise(path: Path, blob_sha256: str, size: int) -> FiledMail:
    """The headers and text of the message at ``path`` (blocking: run it in an executor)."""
    message = parse(path)
    return FiledMail(
        message_id=header_text(message, "Message-ID"),
        from_text=header_text(message, "From"),
        to_text=", ".join(filter(None, (header_text(message, "To"), header_text(message, "Cc")))),
        subject=header_text(message, "Subject"),
        sent_at=sent_at(message),
        size=size,
        blob_sha256=blob_sha256,
        has_attachments=any(True for _ in message.iter_attachments()),
        text=body_text(message)[:SEARCH_TEXT_CHARS],
    )


class Summaries:
    """:func:`summarise`, kept for the last messages: a mail is summarised for the sender's
    sent folder when it is accepted and for the recipients' inboxes when it is delivered,
    mostly in the same process a moment later. Blobs are named by their content, so a kept
    summary is always the one :func:`summarise` would give again. Safe from several
    threads (callers run it in an executor)."""

    def __init__(self, size: int = SUMMARIES_KEPT) -> None:
        self.size = size
        self._kept: dict[str, FiledMail] = {}
        self._lock = threading.Lock()

    def of(self, path: Path, blob_sha256: str, size: int) -> FiledMail:
        """The summary of the blob at ``path`` (blocking)."""
        with self._lock:
            found = self._kept.pop(blob_sha256, None)
        if found is None:
            found = summarise(path, blob_sha256, size)
            found.search_text  # noqa: B018 - folded here, off the event loop
        with self._lock:
            self._kept[blob_sha256] = found
            while len(self._kept) > self.size:
                del self._kept[next(iter(self._kept))]
        return found
