"""Mail messages as a hostile or broken client may write them, for the SMTP and reader fuzzers.

A message is built from parts a parser cares about (header names and values in every
encoding, folded and unfolded, multiparts nested two deep with any media type, charset and
transfer encoding, HTML that tries to run or load something) and then, often, mangled: line
ends made bare CR or bare LF, NUL bytes, lines past 998 bytes, bytes that are not UTF-8, and
byte edits anywhere (:mod:`tests.fuzz.fuzzing`).
"""

from __future__ import annotations

import base64
import quopri
import random
from html.parser import HTMLParser

from hypothesis import strategies as st

from mailgw.reading import LINK_SCHEMES, SAFE_ATTRIBUTES, SAFE_TAGS
from tests.fuzz.fuzzing import edits, mutate

#: The author of the messages written (a test puts its sender's own address in its place).
AUTHOR = b"a@tinhuy.vn"
#: Found by the SMTP fuzzer: a multipart/related part without a boundary inside a multipart.
#: Python's ``get_body`` failed on it (AttributeError), so neither SMTP nor the reader took it.
PARTLESS_RELATED = (
    b"From: " + AUTHOR + b'\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
    b"Content-Type: multipart/related\r\n\r\nXin chao\r\n--b--\r\n"
)
#: Found by the SMTP fuzzer on PostgreSQL: a NUL byte in a header and in the text, which the
#: sent folder's columns could not hold; the client was told "451 try again later" forever.
NUL_IN_TEXT = b"From: " + AUTHOR + b"\r\nCc: abc\x00\r\nSubject: a\x00b\r\n\r\nXin\x00chao\r\n"
#: Found by the reader's fuzzer: a Content-Type whose parameter Python's parser cannot read
#: (an IndexError, raised by the message's parser itself), so no part of the mail was shown.
UNREADABLE_PARAMETER = b"From: " + AUTHOR + b"\r\nContent-Type: text/html;a*\r\n\r\n<b>Xin</b>\r\n"
#: Found by the ``long`` run: a partless multipart whose parameter holds a vertical tab, which
#: Python's ``set_type`` cannot write back ("Header values may not contain linefeed").
PARTLESS_WITH_LINE_BREAK = b":\rContenT-type:multipart/;b=\x0b"
#: Found by the ``long`` runs of the SMTP and mail reader targets: nh3 kept a ``title`` on a
#: ``<p>`` (it allows ``title`` and ``lang`` on every tag unless told otherwise).
TITLE_ON_ANY_TAG = b":\rContenT-type:text/html\r/<>cinoprst<p title=\x00\x00>"
#: Found by the mail reader's ``long`` run after 92,650 cases: ``charset*`` with no value makes
#: Python's text reader hand a tuple to ``decode`` (TypeError).
CHARSET_WITHOUT_VALUE = b":\rContenT-type:(;charset*;"
#: Found by the mail reader's ``long`` run (the second, after 14 fixes): an attached message
#: whose header holds a byte that is not ASCII could not be written back with the default
#: policy (UnicodeEncodeError while refolding it), so the mail could not be shown.
ATTACHED_MESSAGE_WITH_RAW_BYTE = (
    b":\rContenT-type:message/rfc822\r\rFrom:" + b"\x00" * 54 + b"\t\x80:" + b"\x00" * 16
)
HEADER_NAMES = [
    *("From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"),
    *("Reply-To", "Sender", "Resent-From", "MIME-Version", "Content-Type"),
    *("Content-Transfer-Encoding", "Content-Disposition", "X-Mailer", "Received"),
]
#: Pieces of header values that parsers have tripped on.
HEADER_PIECES = [
    "=?utf-8?b?VuG7gSB2aeG7h2M=?=",
    "=?utf-8?q?V=E1=BB=81_vi=E1=BB=87c?=",
    "=?utf-8?b?not base64?=",
    "=?x-unknown?q?abc?=",
    "=?utf-8?q?=FF=FE?=",
    "=?",
    "?=",
    '"Nguyễn Văn A" <a@tinhuy.vn>',
    "<>",
    "<@>",
    "a@",
    "@b",
    "(comment (nested)",
    "\\",
    '"',
    ":;,",
    "undisclosed-recipients:;",
    "Mon, 32 Foo 2026 25:61:61 +9999",
    "Thu, 01 Jan 1970 00:00:00 -0000",
    "multipart/mixed; boundary=",
    'text/html; charset="utf-8"',
    "text/plain; charset*=utf-8''%E1%BB%87",
    "attachment; filename*0*=utf-8''a; filename*2=b",
    'attachment; filename="../../etc/passwd"',
    "attachment; filename==?utf-8?b?Li4vYQ==?=",
    "\x00",
    "\t",
]
#: Pieces of text: Vietnamese, controls, non-characters, an emoji.
TEXT_PIECES = ["Công văn số 05", "ệ", "\x00", "\x7f", "\u200b", "\ufeff", "\uffff", "😀", " ", "a"]
#: HTML that must not survive the reader: scripts, loads, handlers, odd links.
HTML_PIECES = [
    "<p>",
    "</p>",
    "<b>đậm</b>",
    "<script>alert(1)</script>",
    "<img src=https://x.example/p.gif>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href='https://ok.example/'>ok</a>",
    "<a href=' JAVASCRIPT:alert(1)'>",
    "<a href='/logout'>",
    "<style>@import url(https://x.example/)</style>",
    "<iframe src=https://x.example/></iframe>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title='</noscript><img src=x onerror=alert(1)>'>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<base href=https://x.example/>",
    "<meta http-equiv=refresh content='0;url=https://x.example/'>",
    "<form action=https://x.example/><input name=p></form>",
    "<table background=https://x.example/t.png><td style='x'>",
    "<div onclick=x() style=color:red>",
    "&lt;script&gt;",
    "<",
    ">",
    "&",
    "Xin chào",
]
CHARSETS = ["utf-8", "us-ascii", "iso-8859-1", "windows-1258", "x-unknown", "utf-7", ""]
MEDIA = ["text/plain", "text/html", "application/pdf", "application/octet-stream"]
MEDIA += ["message/rfc822", "image/png", "text/x-bogus"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus"]
ENDINGS = [b"\n", b"\r", b"\r\r\n", b"\r\n\r\n"]


def _encode(body: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(body)
    if encoding == "quoted-printable":
        return quopri.encodestring(body)
    return body


class MessageWriter:
    """Writes one message from a seeded ``random.Random``: one draw for hypothesis, so that
    a long campaign spends its time in the code under test, not in generating input; a
    failing message is printed whole by the test."""

    def __init__(self, chance: random.Random) -> None:
        self.chance = chance

    def _text(self, pieces: list[str], most: int) -> str:
        choose = self.chance.choice
        return "".join(choose(pieces) for _ in range(self.chance.randint(0, most)))

    def _bytes(self, most: int) -> bytes:
        return self.chance.randbytes(self.chance.randint(0, most))

    def header_value(self) -> str:
        return self._text(HEADER_PIECES + TEXT_PIECES, 5)

    def header_name(self) -> str:
        if self.chance.random() < 0.8:
            return self.chance.choice(HEADER_NAMES)
        return "".join(chr(self.chance.randint(33, 126)) for _ in range(self.chance.randint(1, 12)))

    def _leaf(self) -> bytes:
        media, charset = self.chance.choice(MEDIA), self.chance.choice(CHARSETS)
        encoding = self.chance.choice(ENCODINGS)
        if media == "text/html":
            body = self._text(HTML_PIECES + TEXT_PIECES, 16).encode()
        elif media == "message/rfc822":
            body = (
                b"From: a@tinhuy.vn\r\nSubject: inner\r\n\r\n" + self._text(HTML_PIECES, 4).encode()
            )
        elif self.chance.random() < 0.5:
            body = self._text(TEXT_PIECES, 30).encode()
        else:
            body = self._bytes(200)
        lines = [f"Content-Type: {media}" + (f"; charset={charset}" if charset else "")]
        lines.append(f"Content-Transfer-Encoding: {encoding}")
        if self.chance.random() < 0.5:
            lines.append(f"Content-Disposition: attachment; filename={self.header_value()}")
        return "\r\n".join(lines).encode() + b"\r\n\r\n" + _encode(body, encoding)

    def body(self, depth: int = 0) -> bytes:
        """A Content-Type and body: one part, or a multipart of up to three, two deep."""
        if depth >= 2 or self.chance.random() < 0.5:
            return self._leaf()
        subtype = self.chance.choice(["mixed", "alternative", "related", "digest"])
        boundary = self.chance.choice(["b", "=_b", "", "b b", "--"])
        parts = [self.body(depth + 1) for _ in range(self.chance.randint(0, 3))]
        head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
        inner = b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts)
        return head + inner + f"--{boundary}--\r\n".encode()

    def message(self, author: str) -> bytes:
        """A message whose first header is usually ``From: author``, then anything."""
        headers = [
            (self.header_name(), self.header_value()) for _ in range(self.chance.randint(0, 10))
        ]
        if self.chance.random() < 0.9:
            headers.insert(0, ("From", author))
        if self.chance.random() < 0.1:  # a header block of hundreds of lines
            headers += [("X-Extra", str(index)) for index in range(300)]
        head = "".join(f"{name}: {value}\r\n" for name, value in headers)
        raw = head.encode() + self.body()
        if self.chance.random() < 0.3:
            raw = raw.replace(b"\r\n", self.chance.choice(ENDINGS))
        if self.chance.random() < 0.2:
            raw += b"x" * self.chance.choice([998, 999, 1000, 5000]) + b"\r\n"
        if self.chance.random() < 0.2:
            raw += self._bytes(300)
        return raw


def _written(chance: random.Random, author: str) -> bytes:
    return MessageWriter(chance).message(author)


def messages() -> st.SearchStrategy[bytes]:
    """Written messages by ``AUTHOR``, half of them then changed by byte edits."""
    written = st.builds(_written, st.randoms(use_true_random=True), st.just(AUTHOR.decode()))
    return written | st.builds(mutate, written, edits)


class Markup(HTMLParser):
    """What a browser's parser would find in sanitised HTML: every tag, attribute and comment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"<{tag}>")
        allowed = SAFE_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        for name, value in attrs:
            if name not in allowed:
                self.problems.append(f"<{tag} {name}>")
            elif name == "href" and not (value or "").strip().lower().startswith(LINK_SCHEMES):
                self.problems.append(f"<{tag} href={value!r}>")

    def handle_comment(self, data: str) -> None:
        self.problems.append("<!--")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"<![{data}>")


def unsafe_markup(html: str) -> list[str]:
    """The tags, attributes and links in ``html`` that a mail's page must not hold."""
    parser = Markup()
    parser.feed(html)
    parser.close()
    return parser.problems


#: Found by the SMTP target's ``long`` run after 56,087 cases: an HTML part in UTF-7 that
#: spells a lone surrogate (``+2lk-``), which the HTML cleaner cannot encode
#: (UnicodeEncodeError): SMTP answered with an error, the mailbox could not show the mail.
LONE_SURROGATE_IN_HTML = (
    b"From: " + AUTHOR + b"\r\nContent-Type: text/html; charset=utf-7\r\n\r\n<p>Xin +2lk-</p>\r\n"
)
