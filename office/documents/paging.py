"""One page of a register (incoming or outgoing book): newest number first, in the register
index's own order, with one row more than the page to tell whether more follow."""

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
    end of it instead of sorting the year; the secret book's numbers interleave by number."""
    return (
        query.order_by(
            Document.register_year.desc(),
            Document.register_number.desc(),
            Document.register_series,
        )
        .offset((max(page, 1) - 1) * page_rows)
        .limit(page_rows + 1)
    )


def page_and_more(rows: Sequence[Row], page_rows: int = PAGE_ROWS) -> tuple[list[Row], bool]:
    """The page's rows, and whether more follow (the query read one extra)."""
    return list(rows[:page_rows]), len(rows) > page_rows
