"""One page of a register, newest entry first, in the order of an index of the register, with
one row more than the page to tell whether more follow: the incoming book by number, the
outgoing book by the time of issue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select

from office.documents.models import Document

PAGE_ROWS = 50
Row = TypeVar("Row")
AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


def register_page(query: AnySelect, page: int, page_rows: int = PAGE_ROWS) -> AnySelect:
    """``query`` ordered as the register index is, so a page reads ``page_rows`` rows from the
    end of it instead of sorting the year (one book at a time: each runs its own numbers)."""
    ordered = query.order_by(
        Document.register_year.desc(),
        Document.register_number.desc(),
        Document.register_series,
    )
    return _page(ordered, page, page_rows)


def issue_order_page(query: AnySelect, page: int, page_rows: int = PAGE_ROWS) -> AnySelect:
    """``query`` in the order the outgoing book was written, as its issue index is: its numbers
    run per type and term (HD 36 point 1.3.1 a), so 05-CV/TU may follow 01-TB/TU, and the
    number alone would not put the book in order."""
    ordered = query.order_by(
        Document.register_year.desc(), Document.registered_at.desc(), Document.id.desc()
    )
    return _page(ordered, page, page_rows)


def _page(query: AnySelect, page: int, page_rows: int) -> AnySelect:
    return query.offset((max(page, 1) - 1) * page_rows).limit(page_rows + 1)


def page_and_more(rows: Sequence[Row], page_rows: int = PAGE_ROWS) -> tuple[list[Row], bool]:
    """The page's rows, and whether more follow (the query read one extra)."""
    return list(rows[:page_rows]), len(rows) > page_rows
