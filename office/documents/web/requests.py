"""What every document page reads from its request the same way: the document's id, the
version its form showed, the register filters and the book they read."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiMapping

from config.errors import Invalid, NotFound
from office.documents import books, refusals
from office.documents.fields import DOC_TYPES, URGENCIES, day, level
from office.web.site import STAFF, translator


def document_id_of(request: web.Request) -> int:
    return int(request.match_info["document_id"])


def form_version(form: MultiMapping[Any]) -> int:
    """The version of the document the form was shown with (stale forms are refused)."""
    try:
        return int(str(form.get("version", "")))
    except ValueError:
        raise Invalid(refusals.NO_FORM_VERSION(), code="bad-form") from None


def register_book(request: web.Request) -> str:
    """The book the register's page, print or export reads (``?book=secret``: the sổ mật);
    the secret book asked for by someone who may not open it answers as no such page."""
    book = books.opened_book(request[STAFF], request.query.get("book", ""))
    if book is None:
        raise NotFound(translator(request)("error.not-found"))
    return book


def common_filters(query: MultiMapping[str]) -> dict[str, Any]:
    """The filters both registers take: dates, type, urgency."""
    urgency = query.get("urgency", "")
    return {
        "date_from": day(query.get("from"), refusals.DATE_FROM),
        "date_to": day(query.get("to"), refusals.DATE_TO),
        "doc_type": query.get("type", "") if query.get("type") in DOC_TYPES else "",
        "urgency": level(urgency, refusals.URGENCY, URGENCIES) if urgency else None,
    }


def page_number(query: MultiMapping[str]) -> int:
    """``?page=``: the outgoing register's page, from 1."""
    try:
        return max(1, int(query.get("page", "1")))
    except ValueError:
        return 1
