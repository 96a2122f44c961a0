"""A mail as the web mailbox shows it: HTML that loads nothing, file names that name no
folder, and a written message that reads back as it was written."""

from __future__ import annotations

import tempfile
import unicodedata
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mailgw.addresses import Mailbox
from mailgw.composing import Draft, Upload, build, parse_addresses, reply_subject, thread_of
from mailgw.parsing import summarise
from mailgw.reading import read, safe_file_name, sanitise

#: Pieces of hostile and harmless HTML, shuffled into documents.
FRAGMENTS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<b>đậm</b>",
        "<img src='https://x.example/p.gif'>",
        "<script>",
        "</script>",
        "alert(1)",
        "<style>",
        "body{background:url(https://x.example/b)}",
        "</style>",
        "<iframe src=https://x.example/>",
        "<a href='javascript:alert(1)'>",
        "<a href='https://ok.example/'>",
        "</a>",
        "<div onclick='x()' style='color:red'>",
        "</div>",
        "<svg onload=alert(1)>",
        "<link rel=stylesheet href=https://x.example/c>",
        "<meta http-equiv=refresh content='0;url=https://x.example/'>",
        "<base href=//x/>",
        "<form action=https://x.example/>",
        "<input name=p>",
        "<!-- ghi chú -->",
        "<table>",
        "<td background=https://x.example/t.png>",
        "<object data=x>",
        "&lt;b&gt;",
        "Xin chào",
        "<a href='/logout'>",
        "<video poster=https://x.example/v.png>",
        "<embed src=x>",
    ]
)
#: What a mail's page may hold: formatting, tables, and links out of the site.
ALLOWED_TAGS = {"p", "b", "div", "table", "a", "tbody", "tr", "td"}
ALLOWED_ATTRIBUTES = {"href", "rel", "title"}


class Elements(HTMLParser):
    """The tags and attributes of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


SENDER = Mailbox(1, "lan", "Nguyễn Thị Lan", "TU", "lan@tinhuy.vn", frozenset({"lan@tinhuy.vn"}))


@given(st.lists(FRAGMENTS, max_size=30).map("".join))
def test_sanitised_html_keeps_nothing_that_loads_or_runs(markup: str) -> None:
    elements = Elements()
    elements.feed(sanitise(markup))
    for tag, attributes in elements.found:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attributes:
            assert name in ALLOWED_ATTRIBUTES, (tag, name)
            if name == "href":
                assert value is not None and value.startswith("https://ok.example/")


def test_sanitised_html_keeps_formatting_and_outside_links() -> None:
    clean = sanitise("<p>Xin <b>chào</b> <a href='https://ok.example/' title='t'>đây</a></p>")
    assert clean == (
        '<p>Xin <b>chào</b> <a href="https://ok.example/" title="t" '
        'rel="noopener noreferrer">đây</a></p>'
    )


def test_sanitised_html_keeps_only_the_attributes_its_tag_is_allowed() -> None:
    """nh3 allows ``title`` and ``lang`` on every tag unless told otherwise: found by the SMTP
    fuzzer's long run (a ``<p title=…>`` on a mail's page)."""
    clean = sanitise('<p title="&lt;img src=x onerror=alert(1)&gt;" lang="vi">a</p>')
    assert clean == "<p>a</p>"


@given(st.text(max_size=80))
def test_a_file_name_never_names_a_folder_or_is_empty(name: str) -> None:
    safe = safe_file_name(name, 0, "application/pdf")
    assert safe and "/" not in safe and "\\" not in safe and len(safe) <= 255
    assert safe not in (".", "..") and safe.isprintable()


def test_a_file_name_keeps_its_last_part() -> None:
    assert safe_file_name("../../etc/passwd", 0, "text/plain") == "passwd"
    assert safe_file_name("C:\\Tài liệu\\Báo cáo.pdf", 0, "application/pdf") == "Báo cáo.pdf"
    assert safe_file_name(None, 2, "application/pdf") == "tep-dinh-kem-3.pdf"


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=200)
#: Composed (NFC) names, as clients send them: a decomposed one reads back composed.
NAMES = st.text(
    st.characters(categories=("L", "M", "N", "P", "S"), exclude_characters="/\\"),
    min_size=1,
    max_size=40,
).filter(lambda name: name.strip(". ") == name == unicodedata.normalize("NFC", name))


@hypothesis_settings(max_examples=50, deadline=None)
@given(subject=TEXT, body=TEXT, name=NAMES, content=st.binary(max_size=2000))
def test_a_written_message_reads_back_as_written(
    subject: str, body: str, name: str, content: bytes
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        upload = Path(folder) / "upload"
        upload.write_bytes(content)
        draft = Draft(
            to=parse_addresses("Trần Văn Bình <binh@tinhuy.vn>, an@huyuy.vn", "Người nhận"),
            cc=(),
            subject=subject,
            body=body,
            uploads=(Upload(name, "application/octet-stream", upload),),
        )
        raw = Path(folder) / "message.eml"
        raw.write_bytes(build(draft, SENDER, datetime(2026, 11, 28, 9, 30, tzinfo=UTC)))
        view = read(raw)
    assert view.subject == " ".join(subject.split())
    assert view.text.rstrip("\n") == body.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    assert view.from_text == "Nguyễn Thị Lan <lan@tinhuy.vn>"
    assert view.to_text == "Trần Văn Bình <binh@tinhuy.vn>, an@huyuy.vn"
    assert view.message_id.endswith("@tinhuy.vn>")
    [attached] = view.attachments
    assert (attached.name, attached.size) == (name, len(content))


def test_a_reply_threads_on_the_original() -> None:
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "message.eml"
        draft = Draft(parse_addresses("binh@tinhuy.vn", "Người nhận"), (), "Họp", "Nội dung")
        raw.write_bytes(build(draft, SENDER, datetime(2026, 11, 28, tzinfo=UTC)))
        original = read(raw)
    in_reply_to, references = thread_of(original)
    assert in_reply_to == original.message_id and references == original.message_id
    assert reply_subject("Họp") == "Re: Họp" and reply_subject("RE: Họp") == "RE: Họp"


#: An HTML part in UTF-7 that spells a lone surrogate (found by the SMTP DATA long run):
#: neither the HTML cleaner nor a database column takes one.
LONE_SURROGATE = (
    b"From: a@tinhuy.vn\r\nTo: b@tinhuy.vn\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-7\r\n\r\n<p>Chao +2lk- ban</p>\r\n"
)


def test_a_part_that_decodes_to_a_lone_surrogate_is_read_and_summarised() -> None:
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "message.eml"
        raw.write_bytes(LONE_SURROGATE)
        view = read(raw)
        filed = summarise(raw, "0" * 64, len(LONE_SURROGATE))
    assert filed.text.strip() == "Chao ? ban"
    assert "Chao ? ban" in view.html
