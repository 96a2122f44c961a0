"""What a document's form may hold: types, levels and the checks on each field.

The checks raise :class:`config.errors.Invalid` with a Vietnamese message naming the field, so a
form can be shown again with the reason and nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from config.errors import Invalid
from config.refusals import Message
from exchange.secrecy import declared_secrecy
from office.documents import refusals

#: Loại văn bản (Decree 30/2020, and the Party's own types), by abbreviation.
DOC_TYPES: dict[str, str] = {
    "CV": "Công văn",
    "NQ": "Nghị quyết",
    "QĐ": "Quyết định",
    "CT": "Chỉ thị",
    "KL": "Kết luận",
    "QC": "Quy chế",
    "QyĐ": "Quy định",
    "TB": "Thông báo",
    "HD": "Hướng dẫn",
    "KH": "Kế hoạch",
    "CTr": "Chương trình",
    "BC": "Báo cáo",
    "TTr": "Tờ trình",
    "GM": "Giấy mời",
    "BB": "Biên bản",
    "CĐ": "Công điện",
}
URGENCIES = {0: "Thường", 1: "Khẩn", 2: "Thượng khẩn", 3: "Hỏa tốc"}
SECRECY_LEVELS = {0: "Không mật", 1: "Mật", 2: "Tối mật", 3: "Tuyệt mật"}
MAX_SUMMARY = 1000
MAX_SHORT = 255
MAX_SYMBOL = 64
MAX_NOTE = 4000


@dataclass(frozen=True)
class DocumentFields:
    """The descriptive fields of a document, checked."""

    doc_type: str
    summary: str
    number_symbol: str = ""
    sender_name: str = ""
    signer_name: str = ""
    issued_on: date | None = None
    urgency: int = 0
    secrecy: int = 0
    pages: int | None = None
    note: str = ""


def text(value: object, label: Message, limit: int, *, required: bool = False) -> str:
    cleaned = " ".join(value.split()) if isinstance(value, str) else ""
    if required and not cleaned:
        raise Invalid(refusals.MISSING_FIELD(label=label), code="missing-field")
    if len(cleaned) > limit:
        raise Invalid(refusals.TOO_LONG(label=label, limit=limit), code="too-long")
    return cleaned


def level(value: object, label: Message, allowed: dict[int, str]) -> int:
    try:
        number = int(str(value or 0))
    except ValueError:
        number = -1
    if number not in allowed:
        raise Invalid(refusals.NOT_VALID(label=label), code="bad-field")
    return number


def day(value: object, label: Message, *, today: date | None = None) -> date | None:
    """A date from a form: ``dd/mm/yyyy`` (as staff write it) or ``yyyy-mm-dd`` (a date input)."""
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    try:
        if "/" in raw:
            d, m, y = (int(part) for part in raw.split("/"))
            parsed = date(y, m, d)
        else:
            parsed = date.fromisoformat(raw)
    except ValueError:
        raise Invalid(refusals.NOT_A_DATE(label=label), code="bad-date") from None
    if today is not None and parsed > today:
        raise Invalid(refusals.IN_THE_FUTURE(label=label), code="bad-date")
    return parsed


def document_fields(form: Any, today: date, *, max_secrecy: int) -> DocumentFields:
    """Check a posted form's descriptive fields; ``max_secrecy``: the user's clearance."""
    doc_type = form.get("doc_type")
    if doc_type not in DOC_TYPES:
        raise Invalid(refusals.BAD_DOC_TYPE(), code="bad-field")
    secrecy = level(form.get("secrecy"), refusals.SECRECY, SECRECY_LEVELS)
    if secrecy > max_secrecy:
        raise Invalid(refusals.ABOVE_CLEARANCE(), code="above-clearance")
    pages_raw = text(form.get("pages"), refusals.PAGES, 6)
    try:
        pages = int(pages_raw) if pages_raw else None
    except ValueError:
        raise Invalid(refusals.PAGES_NOT_A_NUMBER(), code="bad-field") from None
    return DocumentFields(
        doc_type=doc_type,
        summary=text(form.get("summary"), refusals.SUMMARY, MAX_SUMMARY, required=True),
        number_symbol=text(form.get("number_symbol"), refusals.NUMBER_SYMBOL, MAX_SYMBOL),
        sender_name=text(form.get("sender_name"), refusals.SENDER, MAX_SHORT),
        signer_name=text(form.get("signer_name"), refusals.SIGNER, MAX_SHORT),
        issued_on=day(form.get("issued_on"), refusals.ISSUED_ON, today=today),
        urgency=level(form.get("urgency"), refusals.URGENCY, URGENCIES),
        secrecy=secrecy,
        pages=pages if pages is None or pages > 0 else None,
        note=text(form.get("note"), refusals.NOTE, MAX_NOTE),
    )


def received_secrecy(value: object) -> int:
    """The secrecy a sender declared, failing closed: a level we cannot read is taken as the
    highest, never as "Không mật" (Luật Bảo vệ bí mật nhà nước 2018: only the originator
    lowers a level, and the register never goes below what arrived). A sender that says
    nothing declares no secret. The same reading as the exchange's, which refused the
    dispatch if that level is above what this node takes from the network."""
    return declared_secrecy(value)


def from_metadata(metadata: dict[str, Any], sender_name: str) -> DocumentFields:
    """A received dispatch's metadata, leniently: a sender's odd field never loses the
    document; the clerk corrects it when registering."""

    def pick(name: str, limit: int) -> str:
        value = metadata.get(name)
        return " ".join(value.split())[:limit] if isinstance(value, str) else ""

    def clamp(name: str, allowed: dict[int, str]) -> int:
        value = metadata.get(name)
        return value if isinstance(value, int) and value in allowed else 0

    issued: date | None
    try:
        issued = date.fromisoformat(str(metadata.get("issued_on", "")))
    except ValueError:
        issued = None
    doc_type = metadata.get("doc_type")
    pages = metadata.get("pages")
    return DocumentFields(
        doc_type=doc_type if doc_type in DOC_TYPES else "CV",
        summary=pick("summary", MAX_SUMMARY)
        or pick("subject", MAX_SUMMARY)
        or "(chưa có trích yếu)",
        number_symbol=pick("number_symbol", MAX_SYMBOL),
        sender_name=pick("sender_name", MAX_SHORT) or sender_name,
        signer_name=pick("signer_name", MAX_SHORT),
        issued_on=issued,
        urgency=clamp("urgency", URGENCIES),
        secrecy=received_secrecy(metadata.get("secrecy")),
        pages=pages if isinstance(pages, int) and 0 < pages < 100_000 else None,
    )
