"""Document search: diacritic-free queries, the access rules, hostile input, re-indexing.

One migrated database per module (SQLite, or PostgreSQL when ``CONGVAN_TEST_DB=postgresql``)
with two units and a few staff; each test starts from no documents.
"""

from __future__ import annotations

import asyncio
import random
import unicodedata
from collections.abc import AsyncIterator, Sequence
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config import migrate
from config import text as text_module
from config.database import create_engine, create_session_factory
from config.settings import Settings, parse_settings
from config.text import fold
from keys.models import Node, Unit, User
from keys.signin import StaffMember
from office.documents import search
from office.documents.models import Assignment, Document
from tests.support.databases import DatabasePool

# Staff of unit DH: ids are the users' rows made below.
CLERK = StaffMember(1, "vanthu", "Văn thư", "DH", "Thành uỷ Đông Hà", "clerk", 1)
SPECIALIST = StaffMember(2, "chuyenvien", "Chuyên viên", "DH", "Thành uỷ Đông Hà", "specialist", 3)
ADMIN = StaffMember(3, "quantri", "Quản trị", "DH", "Thành uỷ Đông Hà", "admin", 3)
#: Ids this far apart land in different buckets of the PostgreSQL index.
BUCKET = 2**search.BUCKET_BITS


@pytest.fixture(scope="module")
def settings(databases: DatabasePool, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A migrated database with units DH and CL and the staff above."""
    url = databases.new_url("search")
    document = {"node": {"name": "T", "units": ["DH"]}, "database": {"url": url}}
    settings = parse_settings(document, tmp_path_factory.mktemp("search"), {})

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
                for staff in (CLERK, SPECIALIST, ADMIN):
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
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    return settings


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        await session.execute(text("DELETE FROM document_search"))
        await session.execute(delete(Assignment))
        await session.execute(delete(Document))
    yield factory
    await engine.dispose()


async def add_document(
    session: AsyncSession,
    summary: str,
    *,
    unit: str = "DH",
    secrecy: int = 0,
    number_symbol: str = "",
    sender: str = "",
    extra: Sequence[str] = (),
    document_id: int | None = None,
    created_by: int | None = None,
    indexed: bool = True,
) -> int:
    """A registered incoming document, indexed as the services index one."""
    values = {
        "unit_code": unit,
        "direction": "incoming",
        "state": "registered",
        "secrecy": secrecy,
        "doc_type": "CV",
        "number_symbol": number_symbol,
        "summary": summary,
        "sender_name": sender,
        "created_by": created_by,
    }
    if document_id is not None:
        values["id"] = document_id
    result = await session.execute(insert(Document).values(values).returning(Document.id))
    new_id = result.scalar_one()
    if indexed:
        await search.index_document(session, new_id, [summary, number_symbol, sender, *extra])
    return new_id


async def find(
    sessions: async_sessionmaker[AsyncSession],
    query: str,
    staff: StaffMember = CLERK,
    *,
    limit: int = 50,
    bound: search.Bound = search.NEWEST,
) -> list[int]:
    async with sessions() as session:
        return await search.search_documents(session, query, staff, limit=limit, bound=bound)


async def assert_pages_by_key(
    sessions: async_sessionmaker[AsyncSession],
    query: str,
    staff: StaffMember,
    newest_first: list[int],
) -> None:
    """Two matches at a time from each match, towards the older (the next page) and towards
    the newer (the previous page, nearest first)."""
    for index, document_id in enumerate(newest_first):
        older = await find(
            sessions, query, staff, limit=2, bound=search.Bound(older_than=document_id)
        )
        assert older == newest_first[index + 1 : index + 3], document_id
        newer = await find(
            sessions, query, staff, limit=2, bound=search.Bound(newer_than=document_id)
        )
        assert newer == newest_first[max(index - 2, 0) : index][::-1], document_id


def test_folding_drops_case_diacritics_and_punctuation() -> None:
    assert fold("Công văn  Đông-Hà!") == "cong van dong ha"
    assert fold("Số 15/QĐ-UBND, ĐẢNG BỘ tỉnh Quảng Trị") == "so 15 qd ubnd dang bo tinh quang tri"
    assert fold("Nghị quyết") == fold("nghi quyet") == "nghi quyet"
    # Decomposed input, as some keyboards send it, folds the same as composed.
    assert fold("Đo\u0302ng Ha\u0300") == "dong ha"
    # Full-width letters and digits, ligatures, circled digits.
    assert fold("ＣＶ－２０２４ ﬁle ①") == "cv 2024 file 1"
    assert fold(" \t\n«»…") == ""


@given(st.text())
def test_folding_twice_is_folding_once(value: str) -> None:
    assert fold(fold(value)) == fold(value)


#: Vietnamese letters, composed and decomposed, with what separates words, and a few characters
#: past what the fast path of ``fold`` takes (Greek, full-width, a ligature, a circled digit).
FOLDED_ALPHABET = "aAăâđĐeêoôơuưyýỹ09 -_!,.\t\n\x00\x7f\u0300\u0301\u0303\u0309\u0323ÉỆΩｆﬁ①«"


@given(st.text(FOLDED_ALPHABET))
def test_folding_is_folding_each_character(value: str) -> None:
    """The fast path for Vietnamese text folds as the character table does."""
    decomposed = unicodedata.normalize("NFKD", value.lower()).lower()
    each = "".join(text_module._fold_char(char) for char in decomposed)
    assert fold(value) == " ".join(each.split())


@given(st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1), min_size=1))
def test_folding_leaves_lowercase_ascii_words_alone(words: list[str]) -> None:
    assert fold(" ".join(words)) == " ".join(words)


async def test_cong_van_dong_ha_finds_cong_van_dong_ha(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        wanted = await add_document(session, "Công văn Đông Hà về việc phòng chống bão lụt")
        await add_document(session, "Công văn Cam Lộ về việc phòng chống bão lụt")

    for query in ("cong van dong ha", "đông hà", "DONG HA", "Công Văn ĐÔNG HÀ", "  dong, ha! "):
        assert await find(sessions, query) == [wanted], query


async def test_the_last_word_matches_as_a_prefix(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        wanted = await add_document(session, "Công văn Đông Hà")

    assert await find(sessions, "dong h") == [wanted]
    assert await find(sessions, "cong v") == [wanted]
    # Only the last word: the others match whole.
    assert await find(sessions, "don ha") == []


async def test_a_last_word_longer_than_a_syllable_matches_whole(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        wanted = await add_document(session, "Đường nghiêng xuống Khesanh")

    assert await find(sessions, "nghien") == [wanted]  # six letters: a prefix
    assert await find(sessions, "nghieng") == [wanted]
    assert await find(sessions, "khesan") == [wanted]
    assert await find(sessions, "khesanh") == [wanted]
    assert await find(sessions, "khesa") == [wanted]
    # Seven letters or more are a whole word, not the start of one.
    async with sessions() as session, session.begin():
        await add_document(session, "Khesanhmoi")
    assert await find(sessions, "khesanh") == [wanted]


async def test_a_missing_word_finds_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await add_document(session, "Công văn Đông Hà")

    assert await find(sessions, "cong van dong ha cam lo") == []
    assert await find(sessions, "cong van hai") == []


async def test_number_sender_and_pdf_text_are_searched(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        wanted = await add_document(
            session,
            "Kế hoạch tổng kết năm",
            number_symbol="15/QĐ-UBND",
            sender="UBND thành phố Đông Hà",
            extra=["Điều 1. Thành lập Ban chỉ đạo phòng chống thiên tai"],
        )

    for query in (
        "15 qd",
        "qđ-ubnd",
        "15/QĐ-UBND",
        "thanh pho dong ha",
        "thien tai",
        "ke hoach 15",
    ):
        assert await find(sessions, query) == [wanted], query


async def test_results_are_newest_first_a_page_at_a_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        ids = [await add_document(session, f"Báo cáo tuần {week}") for week in range(1, 8)]
    newest_first = sorted(ids, reverse=True)

    assert await find(sessions, "bao cao") == newest_first
    assert await find(sessions, "bao cao", limit=3) == newest_first[:3]
    after_three = search.Bound(older_than=newest_first[2])
    assert await find(sessions, "bao cao", limit=3, bound=after_three) == newest_first[3:6]
    after_six = search.Bound(older_than=newest_first[5])
    assert await find(sessions, "bao cao", limit=3, bound=after_six) == newest_first[6:]
    before_last = search.Bound(newer_than=newest_first[6])
    assert await find(sessions, "bao cao", limit=3, bound=before_last) == newest_first[5:2:-1]
    assert await find(sessions, "bao cao", limit=0) == []


async def test_matches_spread_over_the_whole_id_range_come_newest_first(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Ids far apart, as in a large register: PostgreSQL looks in the newest buckets first."""
    ids = [1, 2, BUCKET - 1, BUCKET, 2 * BUCKET + 5, 3 * BUCKET + 7, 5 * BUCKET, 5 * BUCKET + 1]
    async with sessions() as session, session.begin():
        for document_id in ids:
            await add_document(session, "Thông báo kết luận", document_id=document_id)
        hidden = await add_document(
            session, "Thông báo kết luận", unit="CL", document_id=4 * BUCKET
        )
    newest_first = sorted(ids, reverse=True)

    assert hidden not in await find(sessions, "thong bao")
    assert await find(sessions, "thong bao") == newest_first
    assert await find(sessions, "thong bao", limit=1) == newest_first[:1]
    await assert_pages_by_key(sessions, "thong bao", CLERK, newest_first)
    # Bounds between matches, and beyond both ends.
    for bucket in range(7):
        older_than = search.Bound(older_than=bucket * BUCKET + 3)
        assert await find(sessions, "thong bao", bound=older_than) == [
            document_id for document_id in newest_first if document_id < bucket * BUCKET + 3
        ]
        newer_than = search.Bound(newer_than=bucket * BUCKET + 3)
        assert await find(sessions, "thong bao", bound=newer_than) == sorted(
            document_id for document_id in ids if document_id > bucket * BUCKET + 3
        )


async def test_results_keep_to_what_the_staff_member_may_see(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        ours = await add_document(session, "Công văn Đông Hà")
        secret_enough = await add_document(session, "Công văn Đông Hà", secrecy=1)
        await add_document(session, "Công văn Đông Hà", secrecy=2)
        await add_document(session, "Công văn Đông Hà", unit="CL")
        assigned = await add_document(session, "Công văn Đông Hà", secrecy=3)
        drafted = await add_document(session, "Công văn Đông Hà", created_by=SPECIALIST.id)
        await session.execute(
            insert(Assignment).values(
                document_id=assigned,
                user_id=SPECIALIST.id,
                part="lead",
                due_on=date(2026, 12, 31),
                assigned_by=CLERK.id,
            )
        )

    assert await find(sessions, "cong van dong ha", CLERK) == [drafted, secret_enough, ours]
    assert await find(sessions, "cong van dong ha", SPECIALIST) == [drafted, assigned]
    assert await find(sessions, "cong van dong ha", ADMIN) == []


async def test_staff_search_only_their_assigned_and_drafted_documents_page_by_page(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Staff who see only what they were assigned or drafted are searched from those documents
    (on PostgreSQL a plan of its own), still within their unit and clearance, newest first."""
    async with sessions() as session, session.begin():
        assigned = [
            await add_document(session, "Thông báo kết luận", document_id=n * BUCKET + 1)
            for n in range(4)
        ]
        drafted = await add_document(
            session, "Thông báo kết luận", document_id=4 * BUCKET, created_by=SPECIALIST.id
        )
        not_matching = await add_document(session, "Quyết định", document_id=4 * BUCKET + 1)
        other_unit = await add_document(
            session, "Thông báo kết luận", unit="CL", document_id=4 * BUCKET + 2
        )
        too_secret = await add_document(
            session, "Thông báo kết luận", secrecy=4, document_id=4 * BUCKET + 3
        )
        others = await add_document(session, "Thông báo kết luận", document_id=4 * BUCKET + 4)
        unassigned = await add_document(session, "Thông báo kết luận", document_id=2)
        for document_id, user in [
            *((document_id, SPECIALIST.id) for document_id in assigned),
            (not_matching, SPECIALIST.id),
            (other_unit, SPECIALIST.id),
            (too_secret, SPECIALIST.id),
            (others, CLERK.id),
        ]:
            await session.execute(
                insert(Assignment).values(
                    document_id=document_id,
                    user_id=user,
                    part="co",
                    due_on=date(2026, 12, 31),
                    assigned_by=CLERK.id,
                )
            )
    newest_first = [drafted, *reversed(assigned)]

    assert await find(sessions, "thong bao", SPECIALIST) == newest_first
    assert await find(sessions, "thong b", SPECIALIST, limit=1) == newest_first[:1]
    await assert_pages_by_key(sessions, "thong bao", SPECIALIST, newest_first)
    assert await find(sessions, "quyet dinh", SPECIALIST) == [not_matching]
    assert await find(sessions, "thong bao", CLERK) == sorted(
        [others, drafted, *assigned, unassigned], reverse=True
    )


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"dong',
        "dong*",
        "*",
        "(dong",
        "NEAR(dong ha)",
        "-dong",
        "dong -ha",
        "body:dong",
        "dong:*",
        "dong AND ha",
        "dong OR cam",
        "NOT ha",
        "'dong' & 'ha'",
        "dong | cam & !ha",
        "dong <-> ha",
        "\\",
        "#0",
        "dong' OR '1'='1",
        "ha\x00",
    ],
)
async def test_query_syntax_in_the_search_box_is_only_text(
    sessions: async_sessionmaker[AsyncSession], query: str
) -> None:
    async with sessions() as session, session.begin():
        wanted = await add_document(session, "Công văn Đông Hà")
    words = fold(query).split()
    expected = [wanted] if words and set(words) <= {"dong", "ha"} else []

    assert await find(sessions, query) == expected


@pytest.mark.parametrize("query", ["", "   ", "?!", "-- ; /* */", "«…»"])
async def test_a_query_without_words_finds_nothing(
    sessions: async_sessionmaker[AsyncSession], query: str
) -> None:
    async with sessions() as session, session.begin():
        await add_document(session, "Công văn Đông Hà")

    assert await find(sessions, query) == []


async def test_indexing_again_replaces_the_old_words(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        document_id = await add_document(session, "Công văn Đông Hà")
    async with sessions() as session, session.begin():
        await search.index_document(session, document_id, ["Công văn Cam Lộ"])

    assert await find(sessions, "dong ha") == []
    assert await find(sessions, "cam lo") == [document_id]


async def test_many_documents_indexed_at_once_replace_what_they_had(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        first = await add_document(session, "Công văn Đông Hà")
        second = await add_document(session, "Tờ trình", indexed=False)
        await search.index_rows(
            session, [(first, "Quyết định Cam Lộ"), (second, "Tờ trình Cam Lộ")]
        )
        await search.index_rows(session, [])

    assert await find(sessions, "cam lo") == [second, first]
    assert await find(sessions, "to trinh") == [second]
    assert await find(sessions, "dong ha") == []


async def test_a_rolled_back_index_leaves_the_old_words(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        document_id = await add_document(session, "Công văn Đông Hà")
    async with sessions() as session:
        await search.index_document(session, document_id, ["Công văn Cam Lộ"])
        await session.rollback()

    assert await find(sessions, "dong ha") == [document_id]
    assert await find(sessions, "cam lo") == []


async def test_a_deleted_documents_words_do_not_pass_to_the_next_with_its_id(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """SQLite may give a deleted document's id to the next one, which may not be indexed yet."""
    async with sessions() as session, session.begin():
        document_id = await add_document(session, "Công văn Đông Hà")
    async with sessions() as session, session.begin():
        await search.forget_document(session, document_id)
        await session.execute(delete(Document).where(Document.id == document_id))
    async with sessions() as session, session.begin():
        await add_document(session, "Công văn Cam Lộ", document_id=document_id, indexed=False)

    assert await find(sessions, "dong ha") == []


async def test_long_runs_of_letters_are_not_words(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = "x" * (search.MAX_WORD + 1)
    async with sessions() as session, session.begin():
        document_id = await add_document(session, f"Công văn {run}")

    assert await find(sessions, "cong van") == [document_id]
    assert await find(sessions, run) == []


async def test_a_huge_text_is_indexed_up_to_the_limit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """PostgreSQL refuses a tsvector over 1 MB; the index takes the first words that fit."""
    rng = random.Random(1)
    letters = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
    huge = " ".join("".join(rng.choices(letters, k=12)) for _ in range(200_000))
    async with sessions() as session, session.begin():
        document_id = await add_document(session, "Phụ lục", extra=[huge])
    first, last = huge.split()[0], huge.split()[-1]

    assert await find(sessions, f"phu luc {first}") == [document_id]
    assert await find(sessions, last) == []
