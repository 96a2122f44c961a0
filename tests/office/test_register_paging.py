"""The incoming register's pages by key: walking them forwards and back reads every entry a
member of staff may see once, in the book's order, across years, with the filters and the
access rule applied in the query; a cursor from a link is parsed or ignored.

One migrated database per module (SQLite, or PostgreSQL when ``CONGVAN_TEST_DB=postgresql``)
with two units and two clerks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config import migrate
from config.database import create_engine, create_session_factory
from config.settings import Settings, parse_settings
from keys.models import Node, Unit, User
from keys.signin import StaffMember
from office.documents.listing import RegisterFilter, RegisterRow, incoming_register
from office.documents.models import Assignment, Document
from office.documents.paging import Entry, KeyedPage
from office.web.rendering import keyed_query
from tests.support.databases import DatabasePool

CLERK = StaffMember(1, "vanthu", "Văn thư", "DH", "Thành uỷ Đông Hà", "clerk", 0)
CLEARED = StaffMember(2, "vanthu.mat", "Văn thư", "DH", "Thành uỷ Đông Hà", "clerk", 1)
SPECIALIST = StaffMember(3, "chuyenvien", "Chuyên viên", "DH", "Thành uỷ Đông Hà", "specialist", 0)
TODAY = date(2026, 12, 7)
ROWS = 7


@pytest.fixture(scope="module")
def sessions_settings(
    databases: DatabasePool, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """A migrated database with units DH and CL, the staff above, the documents of
    :func:`_documents`, and the specialist's part in every third entry of either unit."""
    url = databases.new_url("paging")
    document = {"node": {"name": "T", "units": ["DH"]}, "database": {"url": url}}
    settings = parse_settings(document, tmp_path_factory.mktemp("paging"), {})

    async def prepare() -> None:
        engine = create_engine(settings)
        try:
            await migrate.upgrade(engine)
            async with engine.begin() as connection:
                await connection.execute(insert(Node).values(name="T", host="t.example"))
                for code in ("DH", "CL"):
                    await connection.execute(
                        insert(Unit).values(
                            code=code,
                            name=code,
                            kind="district",
                            node_name="T",
                            mail_domain=f"{code.lower()}.example",
                        )
                    )
                for staff in (CLERK, CLEARED, SPECIALIST):
                    await connection.execute(
                        insert(User).values(
                            id=staff.id,
                            username=staff.username,
                            unit_code=staff.unit,
                            role=staff.role,
                            clearance=staff.clearance,
                            password_hash="-",
                        )
                    )
                await connection.execute(insert(Document), _documents())
                await connection.execute(
                    insert(Assignment).from_select(
                        ["document_id", "user_id", "part", "due_on", "assigned_by"],
                        select(
                            Document.id,
                            literal(SPECIALIST.id),
                            literal("co"),
                            literal(TODAY),
                            literal(CLERK.id),
                        ).where(Document.register_number % 3 == 0),
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    return settings


def _documents() -> list[dict[str, object]]:
    """Unit DH's book: 23 entries in 2025 and 17 in 2026, every fifth of them secret (độ mật 1,
    still the ordinary book's number here), the odd ones of type CV; and 10 entries of unit CL
    with the same numbers."""
    made = []
    for unit, years in (("DH", {2025: 23, 2026: 17}), ("CL", {2026: 10})):
        for year, count in years.items():
            for number in range(1, count + 1):
                made.append(
                    {
                        "unit_code": unit,
                        "direction": "incoming",
                        "state": "registered",
                        "secrecy": 1 if number % 5 == 0 else 0,
                        "doc_type": "CV" if number % 2 else "TB",
                        "summary": f"{unit} {year} {number}",
                        "register_year": year,
                        "register_series": "normal",
                        "register_number": number,
                    }
                )
    return made


@pytest.fixture
async def sessions(sessions_settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sessions_settings)
    yield create_session_factory(engine)
    await engine.dispose()


async def _page(
    sessions: async_sessionmaker[AsyncSession], staff: StaffMember, wanted: RegisterFilter
) -> KeyedPage[RegisterRow, Entry]:
    async with sessions() as session:
        return await incoming_register(session, staff, wanted, TODAY, page_rows=ROWS)


def _entries(page: KeyedPage[RegisterRow, Entry]) -> list[tuple[int | None, int | None]]:
    return [(row.register_year, row.register_number) for row in page.rows]


def _book(clearance: int, doc_type: str = "", every: int = 1) -> list[tuple[int, int]]:
    """Unit DH's entries ``clearance`` may see (of type ``doc_type``, numbered a multiple of
    ``every``), newest first."""
    return [
        (year, number)
        for year, count in ((2026, 17), (2025, 23))
        for number in range(count, 0, -1)
        if (number % 5 != 0 or clearance >= 1)
        and (not doc_type or (number % 2 == 1))
        and number % every == 0
    ]


async def _walk_older(
    sessions: async_sessionmaker[AsyncSession], staff: StaffMember, doc_type: str = ""
) -> list[KeyedPage[RegisterRow, Entry]]:
    pages = [await _page(sessions, staff, RegisterFilter(doc_type=doc_type))]
    while pages[-1].older is not None:
        after = pages[-1].older
        pages.append(await _page(sessions, staff, RegisterFilter(doc_type=doc_type, after=after)))
    return pages


@pytest.mark.parametrize("staff", [CLERK, CLEARED], ids=["clearance-0", "clearance-1"])
async def test_next_pages_read_the_whole_book_once_newest_first(
    sessions: async_sessionmaker[AsyncSession], staff: StaffMember
) -> None:
    pages = await _walk_older(sessions, staff)
    assert all(len(page.rows) == ROWS for page in pages[:-1])
    assert [entry for page in pages for entry in _entries(page)] == _book(staff.clearance)
    assert all(row.secrecy <= staff.clearance for page in pages for row in page.rows)
    assert pages[0].newer is None
    assert all(page.newer is not None for page in pages[1:])


async def test_staff_page_through_their_own_entries_within_unit_and_clearance(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Their pages start from their assignments, not the register index: still the book's
    order, never another unit's entry or one above their clearance."""
    pages = await _walk_older(sessions, SPECIALIST)
    assert [entry for page in pages for entry in _entries(page)] == _book(0, every=3)


async def test_previous_pages_read_the_same_pages_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    forwards = await _walk_older(sessions, CLEARED)
    backwards = [forwards[-1]]
    while backwards[-1].newer is not None:
        before = backwards[-1].newer
        backwards.append(await _page(sessions, CLEARED, RegisterFilter(before=before)))
    assert [_entries(page) for page in reversed(backwards)] == [_entries(page) for page in forwards]
    # From a previous page, the next one is where the walk came from.
    assert backwards[1].older == forwards[-2].older


async def test_a_filtered_book_pages_by_its_own_entries(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    pages = await _walk_older(sessions, CLERK, doc_type="CV")
    assert [entry for page in pages for entry in _entries(page)] == _book(0, doc_type="CV")


async def test_past_either_end_an_empty_page_links_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    oldest = await _page(sessions, CLERK, RegisterFilter(after=Entry(2025, 1)))
    assert oldest.rows == [] and oldest.older is None and oldest.newer == Entry(2025, 1)
    newest = await _page(sessions, CLERK, RegisterFilter(before=Entry(2026, 17)))
    assert newest.rows == [] and newest.newer is None and newest.older == Entry(2026, 17)


def test_a_cursor_is_read_from_the_link_or_ignored() -> None:
    assert Entry.parse("2026-125") == Entry(2026, 125)
    assert str(Entry(2026, 125)) == "2026-125"
    for junk in (None, "", "2026", "2026-", "-5", "x-1", "2026-1-2", "20260-1", "2026--1"):
        assert Entry.parse(junk) is None, junk


def test_pager_links_keep_the_filters_and_replace_the_page() -> None:
    query = {"type": "CV", "book": "normal", "after": "2026-3", "page": "4"}
    assert keyed_query(query, before=Entry(2026, 9)) == "type=CV&book=normal&before=2026-9"
    assert keyed_query(query) == "type=CV&book=normal"
