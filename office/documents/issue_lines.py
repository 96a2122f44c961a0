"""What the clerk's issue writes on the document: the number line and the place-and-date line.

- ``Số 05-NQ/TU`` in the Party style (HD 36-HD/VPTW point 1.3.1: "Số" then the number and
  symbol), ``Số: 15/QĐ-UBND`` in the state style (Decree 30/2020 Appendix I: "Số:").
- ``Quảng Trị, ngày 07 tháng 12 năm 2026``: the place (địa danh) and the date. A day below 10
  takes a leading 0 in both styles; a month below 10 takes one in the Party style (HD 36), but
  only January and February do in the state style (Decree 30 Appendix I: "tháng 1, 2").
"""

from __future__ import annotations

from datetime import date

from office.documents.numbering import PARTY_STYLE

#: The committee words a unit's name starts with; what follows is its place.
COMMITTEE_WORDS = (
    "Tỉnh uỷ",
    "Tỉnh ủy",
    "Huyện uỷ",
    "Huyện ủy",
    "Thị uỷ",
    "Thị ủy",
    "Thành uỷ",
    "Thành ủy",
    "Đảng uỷ",
    "Đảng ủy",
)


def number_line(symbol: str, style: str) -> str:
    return f"Số {symbol}" if style == PARTY_STYLE else f"Số: {symbol}"


def place_of(unit_name: str) -> str:
    """``Huyện uỷ Cam Lộ`` -> ``Cam Lộ``; "" for a board or office (``Ban Tổ chức Tỉnh uỷ``),
    which writes its committee's place."""
    for word in COMMITTEE_WORDS:
        if unit_name.startswith(word + " "):
            return unit_name[len(word) + 1 :].strip()
    return ""


def date_line(place: str, day: date, style: str) -> str:
    month = f"{day.month:02d}" if style == PARTY_STYLE or day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"
