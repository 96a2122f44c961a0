"""One message as the web mailbox shows it: its headers, its text, its HTML made safe, and
its attachments.

HTML mail is written by whoever sent it, so it is sanitised before a page shows it: basic
formatting only, links kept (absolute ones, opened without a referrer), and nothing that loads
anything: no images, styles, frames, forms or scripts, so opening a mail tells no one it was
read. Every function here reads the whole message (blocking: run it in an executor).
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.policy import compat32
from pathlib import Path
from typing import cast

from config.errors import NotFound
from config.file_names import clean_file_name
from mailgw import refusals
from mailgw.parsing import header_text, parse, sent_at, text_of

#: What a mail's HTML may keep: text formatting, lists, tables and links.
SAFE_TAGS = frozenset(
    {
        *("a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div"),
        *("dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li"),
        *("mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong"),
        *("sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"),
    }
)
SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
#: Dropped with everything inside them (not left behind as stray text).
DROPPED_WITH_CONTENT = frozenset({"script", "style", "title", "head", "template", "noscript"})
LINK_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True)
class Attachment:
    """One attached file; ``index`` names it in the download link."""

    index: int
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MailView:
    from_text: str
    #: Where a reply goes: the Reply-To address, or the sender.
    reply_to: str
    to_text: str
    cc_text: str
    sent_at: datetime | None
    subject: str
    message_id: str
    in_reply_to: str
    references: str
    #: The plain text (or the HTML's text when the mail has no plain part): what a reply quotes.
    text: str
    #: The HTML part sanitised (see :func:`sanitise`); "" when the mail has none.
    html: str
    attachments: tuple[Attachment, ...]


def _absolute_link(tag: str, attribute: str, value: str) -> str | None:
    """Links go to other sites or mail addresses only: a relative link in a mail would point
    into the e-office itself."""
    if attribute == "href" and not value.strip().lower().startswith(LINK_SCHEMES):
        return None
    return value


def sanitise(markup: str) -> str:
    """HTML that shows a mail's formatting and loads nothing (no remote content of any kind)."""
    import nh3  # for HTML mail only (1.4 MiB of a node's memory)

    return nh3.clean(
        markup,
        tags=set(SAFE_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        # "*": no attribute on every tag (nh3 would allow ``title`` and ``lang`` on all).
        attributes={"*": set(), **{tag: set(names) for tag, names in SAFE_ATTRIBUTES.items()}},
        attribute_filter=_absolute_link,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def html_to_text(markup: str) -> str:
    import nh3  # for HTML mail only (1.4 MiB of a node's memory)

    return html.unescape(
        nh3.clean(markup, tags=set(), clean_content_tags=set(DROPPED_WITH_CONTENT))
    )


def _content(part: EmailMessage | None) -> str:
    if part is None:
        return ""
    content = text_of(part)
    # A base64 or quoted-printable body carries the sender's line ends inside: CRLF as often
    # as not.
    return content.replace("\r\n", "\n").replace("\r", "\n")


def _leaves(part: EmailMessage) -> Iterator[EmailMessage]:
    """Every part that is not a container, in order; an attached message is one part."""
    if part.get_content_maintype() == "multipart":
        for child in part.iter_parts():
            yield from _leaves(cast(EmailMessage, child))
    else:
        yield part


def _bodies(message: EmailMessage) -> tuple[EmailMessage | None, EmailMessage | None]:
    plain = cast(EmailMessage | None, message.get_body(preferencelist=("plain",)))
    rich = cast(EmailMessage | None, message.get_body(preferencelist=("html",)))
    return plain, rich


def _attached_parts(message: EmailMessage) -> list[EmailMessage]:
    plain, rich = _bodies(message)
    return [part for part in _leaves(message) if part is not plain and part is not rich]


def _payload(part: EmailMessage) -> bytes:
    if part.get_content_type() == "message/rfc822":
        # An attached message is given back as it came: written with ``compat32``, which keeps
        # its headers' bytes; the default policy refolds them and cannot write back a byte
        # that is not ASCII (UnicodeEncodeError: the whole mail could not be shown).
        inner = part.get_payload(0)
        return inner.as_bytes(policy=compat32) if isinstance(inner, Message) else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def safe_file_name(name: str | None, index: int, content_type: str) -> str:
    """A name to save a file as (:func:`config.file_names.clean_file_name`), never empty: an
    attachment without one is ``tep-dinh-kem-<n>`` with its type's extension."""
    extension = (
        ".eml"
        if content_type == "message/rfc822"
        else mimetypes.guess_extension(content_type) or ".bin"
    )
    return clean_file_name(name or "", default=f"tep-dinh-kem-{index + 1}{extension}")


def _describe(index: int, part: EmailMessage, content: bytes) -> Attachment:
    content_type = part.get_content_type()
    try:
        name = part.get_filename()
    except (ValueError, IndexError):  # a Content-Disposition the parser cannot read
        name = None
    return Attachment(index, safe_file_name(name, index, content_type), content_type, len(content))


def read(path: Path) -> MailView:
    """The message at ``path`` ready to show."""
    message = parse(path)
    plain, rich = _bodies(message)
    markup = _content(rich)
    text = _content(plain) or (html_to_text(markup) if markup else "")
    attachments = tuple(
        _describe(index, part, _payload(part))
        for index, part in enumerate(_attached_parts(message))
    )
    return MailView(
        from_text=header_text(message, "From"),
        reply_to=header_text(message, "Reply-To") or header_text(message, "From"),
        to_text=header_text(message, "To"),
        cc_text=header_text(message, "Cc"),
        sent_at=sent_at(message),
        subject=header_text(message, "Subject"),
        message_id=header_text(message, "Message-ID"),
        in_reply_to=header_text(message, "In-Reply-To"),
        references=header_text(message, "References"),
        text=text,
        html=sanitise(markup) if markup else "",
        attachments=attachments,
    )


def attachments(path: Path) -> list[tuple[Attachment, bytes]]:
    """Every attachment of the message at ``path`` with its bytes (to forward them, or to
    file them with a document)."""
    message = parse(path)
    found = []
    for index, part in enumerate(_attached_parts(message)):
        content = _payload(part)
        found.append((_describe(index, part, content), content))
    return found


def attachment(path: Path, index: int) -> tuple[Attachment, bytes]:
    """Attachment number ``index`` of the message at ``path``."""
    parts = _attached_parts(parse(path))
    if not 0 <= index < len(parts):
        raise NotFound(refusals.UNKNOWN_ATTACHMENT(), code="unknown-attachment")
    content = _payload(parts[index])
    return _describe(index, parts[index], content), content
