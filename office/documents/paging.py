"""One page of a register, newest entry first, in the order of an index of the register, with
one row more than the page to tell whether more follow: the incoming book by number, the
outgoing book by the time of issue.

The incoming book pages by key: a page starts after (or ends before) an entry, its year and
number, so any page reads ``page_rows`` entries of the index from there, where an OFFSET would
read and drop every entry above it (page 1000 of a filtered book of a million: 9 s on SQLite).
The outgoing book still pages by number (its order has no short key to carry yet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_

from office.documents.models import Document

PAGE_ROWS = 50
Row = TypeVar("Row")
#: Where a keyed page starts or ends: an :class:`Entry` of the incoming book, a document's id.
Key = TypeVar("Key")
AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Entry:
    """An entry of the incoming book, where a page starts or ends: its year and number (the
    book is one series, so they name one entry)."""

    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.year}-{self.number}"

    @classmethod
    def parse(cls, value: str | None) -> Entry | None:
        """``2026-125`` as the pager links write it; anything else is no entry (the first
        page)."""
        year, _, number = (value or "").partition("-")
        if not (year.isdigit() and number.isdigit()) or len(year) > 4 or len(number) > 9:
            return None
        return cls(int(year), int(number))


@dataclass(frozen=True)
class KeyedPage(Generic[Row, Key]):
    """A page, newest first, and where the pages around it are: ``newer`` (the previous page
    ends before it), ``older`` (the next page starts after it), None when there is none."""

    rows: list[Row]
    newer: Key | None
    older: Key | None


def register_page(
    query: AnySelect, after: Entry | None, before: Entry | None, page_rows: int = PAGE_ROWS
) -> AnySelect:
    """``query`` in the register index's order from ``after`` (newest first), or back from
    ``before`` (oldest first: :func:`keyed_page` turns it round), one book at a time: each runs
    its own numbers. ``page_rows`` and one more, to tell whether more follow."""
    key = tuple_(Document.register_year, Document.register_number)
    if before is not None:
        return (
            query.where(key > tuple_(before.year, before.number))
            .order_by(Document.register_year, Document.register_number, Document.register_series)
            .limit(page_rows + 1)
        )
    if after is not None:
        query = query.where(key < tuple_(after.year, after.number))
    return query.order_by(
        Document.register_year.desc(), Document.register_number.desc(), Document.register_series
    ).limit(page_rows + 1)


def keyed_page(
    rows: Sequence[Row],
    after: Key | None,
    before: Key | None,
    entry: Callable[[Row], Key],
    page_rows: int = PAGE_ROWS,
) -> KeyedPage[Row, Key]:
    """The page a keyed query read (``page_rows`` and one more, nearest the key first: newest
    first ``after`` it, oldest first ``before`` it), newest first; ``entry`` gives a row's key.
    Past either end, an empty page links back to where it was asked from."""
    page = list(rows[:page_rows])
    beyond = len(rows) > page_rows
    if before is not None:
        page.reverse()
        newer = entry(page[0]) if beyond else None
        return KeyedPage(page, newer, entry(page[-1]) if page else before)
    newer = (entry(page[0]) if page else after) if after is not None else None
    return KeyedPage(page, newer, entry(page[-1]) if beyond else None)


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
