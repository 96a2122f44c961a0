"""Fuzzing the mail reader: what the web mailbox shows of a message, whatever its bytes.

Any message that reached a mailbox (a client's, a peer's, a broken one) is summarised for the
lists and the search (``mailgw.parsing.summarise``), read for its page (``mailgw.reading.read``)
and taken apart into its attachments, without an exception; the HTML the page shows holds only
the tags, attributes and links ``mailgw.reading`` allows, and file names name no folder.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from mailgw.parsing import summarise
from mailgw.reading import attachment, attachments, read
from tests.fuzz.fuzzing import share
from tests.fuzz.messages import (
    ATTACHED_MESSAGE_WITH_RAW_BYTE,
    CHARSET_WITHOUT_VALUE,
    LONE_SURROGATE_IN_HTML,
    PARTLESS_RELATED,
    PARTLESS_WITH_LINE_BREAK,
    TITLE_ON_ANY_TAG,
    UNREADABLE_PARAMETER,
    messages,
    unsafe_markup,
)

TESTS = 1


def shown_safely(path: Path) -> None:
    """Everything the mailbox shows of the message at ``path``, checked."""
    filed = summarise(path, hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
    assert all(isinstance(text, str) for text in (filed.subject, filed.from_text, filed.text))
    view = read(path)
    assert unsafe_markup(view.html) == []
    listed = attachments(path)
    assert [described for described, _ in listed] == list(view.attachments)
    for described, content in listed:
        assert described.name and "/" not in described.name and "\\" not in described.name
        assert described.name.isprintable() and described.size == len(content)
    if listed:  # the download link of one (each costs a parse of the whole message)
        assert attachment(path, listed[-1][0].index) == listed[-1]


@share(TESTS)
@given(messages() | st.binary(max_size=2000))
@example(PARTLESS_RELATED)
@example(UNREADABLE_PARAMETER)
@example(LONE_SURROGATE_IN_HTML)
@example(PARTLESS_WITH_LINE_BREAK)
@example(TITLE_ON_ANY_TAG)
@example(CHARSET_WITHOUT_VALUE)
@example(ATTACHED_MESSAGE_WITH_RAW_BYTE)
def test_any_message_is_shown_without_an_error_or_markup_that_runs(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "message.eml"
        path.write_bytes(raw)
        shown_safely(path)
