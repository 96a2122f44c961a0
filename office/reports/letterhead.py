"""The parts that make the IT report a Party document (Hướng dẫn 36-HD/VPTW, 03/4/2018):
the heading "ĐẢNG CỘNG SẢN VIỆT NAM", the issuing body under its superior, the number line, the
place and date, the signing authority and "Nơi nhận".

HD 36 names the issuing body with the body directly above it:

- a body at the top of the directory (the provincial committee) writes its own name alone
  (``TỈNH UỶ QUẢNG TRỊ``);
- a committee under a committee writes the superior's Party organisation, then its own name
  (``ĐẢNG BỘ TỈNH QUẢNG TRỊ`` / ``HUYỆN UỶ CAM LỘ``);
- a board or office of a committee writes the committee, then its own name without the
  committee's (``TỈNH UỶ QUẢNG TRỊ`` / ``BAN TỔ CHỨC``; ``VĂN PHÒNG``).

What only the clerk and the signer know when the report is made (the number, the day of
signing, who signs) is left as dots to be written in, unless it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from office.documents.issue_lines import COMMITTEE_WORDS, date_line, number_line
from office.documents.numbering import PARTY_STYLE, number_symbol

HEADING = "ĐẢNG CỘNG SẢN VIỆT NAM"
#: HD 36's type letters for a report (báo cáo).
REPORT_TYPE = "BC"
#: What the clerk or the signer fills in by hand.
DOTS = "…"
BLANK_LINE = "……………………"
#: The Party organisation a committee leads, as the heading names it above a committee under it.
_ORGANISATION = {
    "tỉnh uỷ": "ĐẢNG BỘ TỈNH",
    "huyện uỷ": "ĐẢNG BỘ HUYỆN",
    "thị uỷ": "ĐẢNG BỘ THỊ XÃ",
    "thành uỷ": "ĐẢNG BỘ THÀNH PHỐ",
    "đảng uỷ": "ĐẢNG BỘ",
}


class Directory(Protocol):
    """A unit of the directory as the letterhead needs it: its name and the unit above it."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def parent(self) -> str | None: ...


@dataclass(frozen=True)
class Signer:
    """The signature block: ``T/M BAN THƯỜNG VỤ``, ``PHÓ BÍ THƯ``, the name; "" is unknown."""

    authority: str = ""
    position: str = ""
    name: str = ""


@dataclass(frozen=True)
class Issue:
    """What is given about the report's issue; what is not is left blank for the clerk."""

    number: int | None = None
    day: date | None = None
    signer: Signer = Signer()


@dataclass(frozen=True)
class Letterhead:
    heading: str
    #: The body above the issuer; "" for a body at the top of the directory.
    superior: str
    issuer: str
    number_line: str
    date_line: str
    #: The signature block's lines, top to bottom (the space for the signature goes before the
    #: last, the name).
    signature: tuple[str, str, str]
    #: "Nơi nhận" lines, each with its dash.
    recipients: tuple[str, ...]


def _committee(name: str) -> tuple[str, str]:
    """``Huyện uỷ Cam Lộ`` -> (``huyện uỷ``, ``Cam Lộ``); ("", "") if not a committee."""
    for word in COMMITTEE_WORDS:
        if name.startswith(word + " "):
            return word.replace("ủy", "uỷ").casefold(), name[len(word) + 1 :].strip()
    return "", ""


def issuing_body(unit: Directory, parent: Directory | None) -> tuple[str, str]:
    """(superior, issuer) as HD 36 writes them, in capitals (see the module's docstring)."""
    if parent is None:
        return "", unit.name.upper()
    own_word, _ = _committee(unit.name)
    parent_word, parent_rest = _committee(parent.name)
    if own_word and parent_word:
        return f"{_ORGANISATION[parent_word]} {parent_rest}".upper(), unit.name.upper()
    issuer = unit.name
    for word in COMMITTEE_WORDS:
        if parent_word and issuer.casefold().endswith(" " + word.casefold()):
            issuer = issuer[: -len(word) - 1]
            break
    return parent.name.upper(), issuer.upper()


def place_name(units: Mapping[str, Directory], code: str) -> str:
    """The place before the date: the nearest committee's (``Quảng Trị`` for the provincial
    office and boards, ``Cam Lộ`` for Huyện uỷ Cam Lộ); a Party committee of a sector (Đảng uỷ)
    writes its superior's place."""
    seen: set[str] = set()
    current = units.get(code)
    while current is not None and current.code not in seen:
        seen.add(current.code)
        word, rest = _committee(current.name)
        if word and word != "đảng uỷ":
            return rest
        current = units.get(current.parent or "")
    return DOTS


def letterhead(
    units: Mapping[str, Directory], code: str, issuer_code: str, issue: Issue
) -> Letterhead:
    """The letterhead of ``code``'s report; ``issuer_code`` is the abbreviation its outgoing
    register writes after the type (``TU`` in ``13-BC/TU``, HD 36 point 1.3)."""
    unit = units[code]
    parent = units.get(unit.parent or "")
    superior, issuer = issuing_body(unit, parent)
    if issue.number is None:
        number = number_line(f"{DOTS}-{REPORT_TYPE}/{issuer_code}", PARTY_STYLE)
    else:
        symbol = number_symbol(issue.number, REPORT_TYPE, PARTY_STYLE, issuer_code)
        number = number_line(symbol, PARTY_STYLE)
    place = place_name(units, code)
    if issue.day is None:
        dated = f"{place}, ngày {DOTS} tháng {DOTS} năm {DOTS}"
    else:
        dated = date_line(place, issue.day, PARTY_STYLE)
    signer = issue.signer
    signature = (
        signer.authority.upper() or BLANK_LINE,
        signer.position.upper() or BLANK_LINE,
        signer.name or BLANK_LINE,
    )
    recipients = (
        f"- {parent.name}," if parent is not None else f"- {BLANK_LINE},",
        f"- Lưu {unit.name}.",
    )
    return Letterhead(HEADING, superior, issuer, number, dated, signature, recipients)
