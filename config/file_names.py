"""File names as people send them, made safe to keep and to hand back.

A name arrives from a browser's upload, a mail's attachment or another node's dispatch, and is
stored as the file's name, shown on pages and sent back in ``Content-Disposition``. A CR, an LF
or a NUL in it made the download fail (no header may hold them); a path, a right-to-left
override or a name of dots misleads whoever saves the file. :func:`clean_file_name` is applied
once, where a name enters (a form's upload, a mail's attachment, a received dispatch's file);
:func:`attachment_disposition` still copes with any name, those stored before names were
cleaned included.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

#: What ``document_files.name`` holds, in characters.
MAX_NAME = 255
#: A name with nothing left once cleaned.
UNNAMED = "tệp"
#: RFC 5987 ``attr-char`` beyond letters and digits: the rest is percent-encoded.
_ATTR_CHARS = "!#$&+-.^_`|~"


def _kept(character: str) -> bool:
    """Control characters (Cc: NUL, DEL…), invisible format characters (Cf: the bidi
    overrides that turn ``gpj.exe`` round) and unassigned or private code points go; a line
    break or a tab is white space, made a plain space."""
    return unicodedata.category(character) not in ("Cc", "Cf", "Cs", "Co", "Cn")


def clean_file_name(raw: str, default: str = UNNAMED) -> str:
    """The name to keep for a file sent as ``raw``: composed (NFC, as Vietnamese letters typed
    on a Mac arrive decomposed), its last path segment only, without control or format
    characters, runs of white space made one space, no leading or trailing dots and spaces,
    at most :data:`MAX_NAME` characters with its extension kept; ``default`` if nothing is
    left. Vietnamese letters, quotes and other punctuation stay. Cleaning a clean name
    changes nothing."""
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if character.isspace() or _kept(character))
    name = " ".join(name.split()).strip(". ")
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) < 16:
            name = stem[: MAX_NAME - len(extension) - 1].rstrip(". ") + "." + extension
        else:
            name = name[:MAX_NAME].rstrip(". ")
    return name or default


def _ascii_fallback(name: str) -> str:
    """``filename=`` for clients that ignore ``filename*``: Vietnamese letters without their
    marks (``Công văn Đông Hà.pdf`` -> ``Cong van Dong Ha.pdf``), anything else non-ASCII,
    a quote or a backslash as ``_``."""
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    letters = "".join(c for c in plain if not unicodedata.combining(c))
    return "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in letters
    )


def attachment_disposition(name: str) -> str:
    """``Content-Disposition`` for downloading a file named ``name`` (RFC 6266): an ASCII
    ``filename`` and the exact name, UTF-8 and percent-encoded, as ``filename*`` (RFC 5987).
    The name is cleaned again, so a name stored before cleaning still makes a valid header."""
    cleaned = clean_file_name(name)
    encoded = quote(cleaned, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{_ascii_fallback(cleaned)}\"; filename*=UTF-8''{encoded}"
