"""File names as sent are cleaned once, and any name makes a download header."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.file_names import MAX_NAME, UNNAMED, attachment_disposition, clean_file_name


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Nghị quyết 05.pdf", "Nghị quyết 05.pdf"),
        ("Nghi\u0323 quye\u0302\u0301t 05.pdf", "Nghị quyết 05.pdf"),  # decomposed, as a Mac sends
        ('Báo cáo\r\n"quý IV"\x00.pdf', 'Báo cáo "quý IV".pdf'),
        ("Tờ\ttrình\u00a0số\u20285.pdf", "Tờ trình số 5.pdf"),
        ("C:\\Tài liệu\\Tờ trình.pdf", "Tờ trình.pdf"),
        ("../../etc/passwd", "passwd"),
        ("hoa-don\u202efdp.exe", "hoa-donfdp.exe"),  # a right-to-left override
        ("  ..  ", UNNAMED),
        ("", UNNAMED),
        ("a" * 300 + ".pdf", "a" * (MAX_NAME - 4) + ".pdf"),
    ],
)
def test_a_name_is_kept_without_controls_paths_or_tricks(sent: str, kept: str) -> None:
    assert clean_file_name(sent) == kept


@given(st.text(max_size=400))
def test_a_cleaned_name_is_printable_short_and_its_own_cleaned_name(sent: str) -> None:
    kept = clean_file_name(sent)
    assert kept and kept.isprintable() and len(kept) <= MAX_NAME
    assert "/" not in kept and "\\" not in kept and kept not in (".", "..")
    assert clean_file_name(kept) == kept


@given(st.text(max_size=400))
def test_any_name_makes_a_header_that_gives_the_cleaned_name_back(name: str) -> None:
    """RFC 6266: an ASCII ``filename`` without quotes or backslashes inside, and the exact
    name as RFC 5987 ``filename*``."""
    disposition = attachment_disposition(name)
    assert disposition.isascii() and disposition.isprintable()
    found = re.fullmatch(
        r'attachment; filename="([^"\\]*)"; filename\*=UTF-8\'\'([A-Za-z0-9!#$&+.^_`|~%-]*)',
        disposition,
    )
    assert found, disposition
    fallback, encoded = found.groups()
    assert unquote(encoded) == clean_file_name(name)
    assert fallback  # clients that read only this still get a name


def test_the_ascii_name_keeps_vietnamese_letters_without_their_marks() -> None:
    assert attachment_disposition("Công văn Đông Hà.pdf").startswith(
        'attachment; filename="Cong van Dong Ha.pdf"; '
    )
