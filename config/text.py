"""Text as search compares it: lower case, no diacritics, đ -> d, words of letters and digits.

Shared by the document search and the mailbox search, so that both find "công văn" when
staff type "cong van".
"""

from __future__ import annotations

import functools
import unicodedata


def fold(text: str) -> str:
    """``"Công văn  Đông-Hà!"`` -> ``"cong van dong ha"``: what the index stores and a query
    is compared with.

    NFKD rather than NFD also turns full-width letters, ligatures and circled digits into plain
    ones, as an input method may type them. Anything but a letter or a decimal digit separates
    words.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower()).lower()
    return " ".join("".join(map(_fold_char, decomposed)).split())


@functools.cache
def _fold_char(char: str) -> str:
    if char == "đ":
        return "d"
    category = unicodedata.category(char)
    if category[0] == "M":  # the diacritics NFKD took apart, and every other mark
        return ""
    if category[0] == "L" or category in ("Nd", "Nl"):
        return char
    return " "
