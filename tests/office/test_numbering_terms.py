"""Which sequence an outgoing document's number comes from: per type and committee term (Party
style, HD 36-HD/VPTW point 1.3.1 a), one for every type during a congress, one per calendar year
(state style, Decree 30/2020 Art. 15), secret documents apart in each; and migration 0017,
which moved the single yearly sequence to these without renumbering anything.

Documents are issued through :func:`office.documents.outgoing.issue` on the province's own
database, each in its own transaction, as the issuing page does.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config import migrate
from config.database import UTCDateTime, create_engine, open_database
from config.errors import Conflict, Invalid, NotFound
from config.settings import Settings
from keys.models import User
from keys.signin import StaffMember
from office.documents.models import OUTGOING, Document, NumberingPeriod
from office.documents.numbering import (
    next_number,
    set_congress,
    set_style,
    set_term,
)
from office.documents.outgoing import issue
from office.documents.outgoing_register import OutgoingFilter, outgoing_register
from office.documents.secrecy import NetworkLimit
from tests.support.cli import Cli

Sessions = async_sessionmaker[AsyncSession]
#: The drafts here name no recipient: nothing of theirs would cross the network.
NO_NETWORK = NetworkLimit(max_secrecy=0, on_network=list, unit_name=str)
_accounts = itertools.count()


@pytest.fixture
async def sessions(province: Settings) -> AsyncIterator[Sessions]:
    async with open_database(province) as opened:
        yield opened


async def clerk(sessions: Sessions, unit: str = "TU") -> StaffMember:
    """A clerk of ``unit`` cleared for every level, to issue with."""
    username = f"clerk{next(_accounts)}"
    async with sessions() as session, session.begin():
        user = User(username=username, unit_code=unit, role="clerk", clearance=3, password_hash="-")
        session.add(user)
        await session.flush()
        return StaffMember(user.id, username, "", unit, unit, "clerk", 3)


async def draft(sessions: Sessions, staff: StaffMember, doc_type: str, secrecy: int = 0) -> int:
    """A draft its signer approved (the review chain is ``test_review_chain``'s subject): what
    the clerk numbers."""
    async with sessions() as session, session.begin():
        document = Document(
            unit_code=staff.unit,
            direction=OUTGOING,
            state="approved",
            doc_type=doc_type,
            summary=f"Về việc {doc_type}",
            secrecy=secrecy,
            created_by=staff.id,
        )
        session.add(document)
        await session.flush()
        return document.id


async def issue_draft(sessions: Sessions, staff: StaffMember, document_id: int, on: date) -> str:
    async with sessions() as session, session.begin():
        now = datetime(on.year, on.month, on.day, 2, tzinfo=UTC)
        issued = await issue(session, staff, document_id, 1, now, on, network=NO_NETWORK)
        return issued.number_symbol


async def issued(
    sessions: Sessions, staff: StaffMember, on: date, *doc_types: str, secrecy: int = 0
) -> list[str]:
    """The symbols of documents of ``doc_types`` issued one after the other on ``on``."""
    symbols = []
    for doc_type in doc_types:
        document_id = await draft(sessions, staff, doc_type, secrecy)
        symbols.append(await issue_draft(sessions, staff, document_id, on))
    return symbols


async def in_transaction(
    sessions: Sessions, work: Callable[[AsyncSession], Awaitable[object]]
) -> None:
    async with sessions() as session, session.begin():
        await work(session)


HOSTED = ("TU", "BTC")


async def test_party_style_numbers_each_type_from_01(sessions: Sessions) -> None:
    staff = await clerk(sessions)
    symbols = await issued(sessions, staff, date(2026, 3, 2), "CV", "TB", "CV")
    assert symbols == ["01-CV/TU", "01-TB/TU", "02-CV/TU"]


async def test_a_new_term_restarts_every_type_at_01(sessions: Sessions) -> None:
    staff = await clerk(sessions)
    assert await issued(sessions, staff, date(2026, 9, 1), "CV", "CV", "TB") == [
        "01-CV/TU",
        "02-CV/TU",
        "01-TB/TU",
    ]
    async with sessions() as session, session.begin():
        assert await set_term(session, "TU", "16/10/2026", HOSTED) == date(2026, 10, 16)
    assert await issued(sessions, staff, date(2026, 10, 20), "CV", "TB", "CV") == [
        "01-CV/TU",
        "01-TB/TU",
        "02-CV/TU",
    ]
    # A document dated before the term's first day is numbered in the term it belongs to.
    assert await issued(sessions, staff, date(2026, 10, 15), "CV") == ["03-CV/TU"]
    # The term runs on across the new year: Party numbers do not restart on 1 January.
    assert await issued(sessions, staff, date(2027, 1, 4), "CV") == ["03-CV/TU"]


async def test_a_term_set_after_its_first_documents_continues_above_them(
    sessions: Sessions,
) -> None:
    """The term was set late: what was issued since its first day keeps its number, and the
    term's sequences continue above it, so no symbol repeats within the term."""
    staff = await clerk(sessions)
    await issued(sessions, staff, date(2026, 10, 1), "CV", "CV")
    assert await issued(sessions, staff, date(2026, 10, 20), "CV", "TB") == [
        "03-CV/TU",
        "01-TB/TU",
    ]
    async with sessions() as session, session.begin():
        await set_term(session, "TU", "16/10/2026", HOSTED)
    assert await issued(sessions, staff, date(2026, 10, 21), "CV", "TB", "NQ") == [
        "04-CV/TU",
        "02-TB/TU",
        "01-NQ/TU",
    ]


async def test_setting_a_term_drops_a_later_one_set_by_mistake(sessions: Sessions) -> None:
    staff = await clerk(sessions)
    async with sessions() as session, session.begin():
        await set_term(session, "TU", "16/10/2052", HOSTED)
    async with sessions() as session, session.begin():
        await set_term(session, "TU", "16/10/2026", HOSTED)
    async with sessions() as session:
        starts = list(await session.scalars(select(NumberingPeriod.starts_on)))
    assert starts == [date(2026, 10, 16)]
    assert await issued(sessions, staff, date(2053, 1, 5), "CV") == ["01-CV/TU"]


async def test_a_congress_shares_one_sequence_for_every_type_then_each_type_runs_again(
    sessions: Sessions,
) -> None:
    staff = await clerk(sessions)
    assert await issued(sessions, staff, date(2026, 10, 12), "CV") == ["01-CV/TU"]
    async with sessions() as session, session.begin():
        assert await set_congress(session, "TU", "13/10/2026", "15/10/2026", HOSTED) == (
            date(2026, 10, 13),
            date(2026, 10, 15),
        )
        await set_term(session, "TU", "16/10/2026", HOSTED)
    assert await issued(sessions, staff, date(2026, 10, 13), "NQ", "CV") == [
        "01-NQ/TU",
        "02-CV/TU",
    ]
    assert await issued(sessions, staff, date(2026, 10, 15), "TB", "BB") == [
        "03-TB/TU",
        "04-BB/TU",
    ]
    assert await issued(sessions, staff, date(2026, 10, 16), "CV", "TB", "CV") == [
        "01-CV/TU",
        "01-TB/TU",
        "02-CV/TU",
    ]


async def test_a_congress_set_late_continues_above_what_its_days_already_carry(
    sessions: Sessions,
) -> None:
    staff = await clerk(sessions)
    assert await issued(sessions, staff, date(2026, 10, 13), "CV", "CV", "TB") == [
        "01-CV/TU",
        "02-CV/TU",
        "01-TB/TU",
    ]
    async with sessions() as session, session.begin():
        await set_congress(session, "TU", "13/10/2026", "15/10/2026", HOSTED)
    assert await issued(sessions, staff, date(2026, 10, 14), "TB") == ["03-TB/TU"]


async def test_state_style_runs_one_sequence_per_calendar_year_for_every_type(
    sessions: Sessions,
) -> None:
    staff = await clerk(sessions)
    async with sessions() as session, session.begin():
        await set_style(session, "TU", "state", "TU", HOSTED)
        # A term is a Party committee's: it does not restart a state-style book.
        await set_term(session, "TU", "01/06/2026", HOSTED)
    assert await issued(sessions, staff, date(2026, 5, 4), "QĐ", "CV", "TB") == [
        "1/QĐ-TU",
        "2/TU",
        "3/TB-TU",
    ]
    assert await issued(sessions, staff, date(2026, 12, 31), "QĐ") == ["4/QĐ-TU"]
    assert await issued(sessions, staff, date(2027, 1, 4), "TB", "QĐ") == ["1/TB-TU", "2/QĐ-TU"]


async def test_secret_documents_have_their_own_book_in_every_style(sessions: Sessions) -> None:
    staff, btc = await clerk(sessions), await clerk(sessions, "BTC")
    on = date(2026, 3, 2)
    assert await issued(sessions, staff, on, "CV") == ["01-CV/TU"]
    assert await issued(sessions, staff, on, "CV", "TB", secrecy=1) == ["01-CV/TU", "01-TB/TU"]
    assert await issued(sessions, staff, on, "CV") == ["02-CV/TU"]
    assert await issued(sessions, staff, on, "CV", secrecy=2) == ["02-CV/TU"]

    async with sessions() as session, session.begin():
        await set_congress(session, "TU", "13/10/2026", "15/10/2026", HOSTED)
        await set_style(session, "BTC", "state", "BTC", HOSTED)
    congress = date(2026, 10, 14)
    assert await issued(sessions, staff, congress, "NQ", secrecy=1) == ["01-NQ/TU"]
    assert await issued(sessions, staff, congress, "CV", "TB") == ["01-CV/TU", "02-TB/TU"]
    assert await issued(sessions, staff, congress, "TB", secrecy=1) == ["02-TB/TU"]

    assert await issued(sessions, btc, on, "QĐ", "CV") == ["1/QĐ-BTC", "2/BTC"]
    assert await issued(sessions, btc, on, "CV", secrecy=1) == ["1/BTC"]
    assert await issued(sessions, btc, on, "TB") == ["3/TB-BTC"]


async def test_the_outgoing_register_lists_documents_in_the_order_they_were_issued(
    sessions: Sessions,
) -> None:
    staff = await clerk(sessions)
    for day, doc_type in [(2, "CV"), (3, "CV"), (4, "TB"), (5, "CV")]:
        await issued(sessions, staff, date(2026, 3, day), doc_type)
    async with sessions() as session:
        rows, more = await outgoing_register(session, staff, OutgoingFilter(), lambda code: code)
    assert [row.number_symbol for row in rows] == ["03-CV/TU", "01-TB/TU", "02-CV/TU", "01-CV/TU"]
    assert not more


async def test_fifty_concurrent_issues_give_each_type_a_gap_free_sequence(
    sessions: Sessions,
) -> None:
    staff = await clerk(sessions)
    types = ["CV", "TB", "NQ", "BC", "KH"]
    drafts = [(await draft(sessions, staff, types[i % 5]), types[i % 5]) for i in range(50)]
    on = date(2026, 4, 1)
    symbols = await asyncio.gather(
        *(issue_draft(sessions, staff, document_id, on) for document_id, _type in drafts)
    )
    numbers: dict[str, list[int]] = defaultdict(list)
    for symbol, (_id, doc_type) in zip(symbols, drafts, strict=True):
        number, rest = symbol.split("-", 1)
        assert rest == f"{doc_type}/TU"
        numbers[doc_type].append(int(number))
    assert {doc_type: sorted(found) for doc_type, found in numbers.items()} == {
        doc_type: list(range(1, 11)) for doc_type in types
    }


#: Each example numbers on a day of its own, the first of a new term.
_example_days = itertools.count()


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    documents=st.lists(
        st.tuples(st.sampled_from(["CV", "TB", "NQ"]), st.integers(0, 3)), max_size=8
    ),
    in_congress=st.booleans(),
)
def test_any_mix_of_types_and_secrecy_numbers_each_sequence_from_01_without_gaps(
    province: Settings, documents: list[tuple[str, int]], in_congress: bool
) -> None:
    """A term restarts each (series, type) at 01; a congress each series, whatever the type."""
    on = date(2030, 1, 1) + timedelta(days=next(_example_days))

    async def number() -> list[str]:
        async with open_database(province) as sessions:
            staff = await clerk(sessions)
            async with sessions() as session, session.begin():
                await set_term(session, "TU", f"{on:%d/%m/%Y}", HOSTED)
                if in_congress:
                    await set_congress(session, "TU", f"{on:%d/%m/%Y}", f"{on:%d/%m/%Y}", HOSTED)
            return [
                (await issued(sessions, staff, on, doc_type, secrecy=secrecy))[0]
                for doc_type, secrecy in documents
            ]

    expected, taken = [], defaultdict[tuple[bool, str], int](int)
    for doc_type, secrecy in documents:
        sequence = (secrecy > 0, "" if in_congress else doc_type)
        taken[sequence] += 1
        expected.append(f"{taken[sequence]:02d}-{doc_type}/TU")
    assert asyncio.run(number()) == expected


async def test_terms_and_congresses_are_refused_with_a_reason(sessions: Sessions) -> None:
    async def refused(work: Callable[[AsyncSession], Awaitable[object]]) -> tuple[str, str]:
        """What the refusal says in Vietnamese (the command line's) and in English."""
        with pytest.raises((Invalid, NotFound, Conflict)) as raised:
            await in_transaction(sessions, work)
        return raised.value.message, raised.value.text("en")

    assert await refused(lambda s: set_term(s, "HU-CAMLO", "16/10/2026", HOSTED)) == (
        "Đơn vị HU-CAMLO không thuộc máy chủ này.",
        "Unit HU-CAMLO is not hosted on this server.",
    )
    assert await refused(lambda s: set_term(s, "TU", "31/02/2026", HOSTED)) == (
        "Ngày bắt đầu nhiệm kỳ không đúng dạng ngày/tháng/năm.",
        "First day of the committee's term is not a date (day/month/year).",
    )
    assert await refused(lambda s: set_term(s, "TU", " ", HOSTED)) == (
        "Chưa nhập ngày bắt đầu nhiệm kỳ.",
        "First day of the committee's term is missing.",
    )
    assert await refused(lambda s: set_congress(s, "TU", "13/10/2026", "mai", HOSTED)) == (
        "Ngày bế mạc đại hội không đúng dạng ngày/tháng/năm.",
        "Closing day of the congress is not a date (day/month/year).",
    )
    assert await refused(lambda s: set_congress(s, "TU", "13/10/2026", "12/10/2026", HOSTED)) == (
        "Ngày bế mạc đại hội (12/10/2026) trước ngày khai mạc (13/10/2026).",
        "The congress would close (12/10/2026) before it opens (13/10/2026).",
    )
    await in_transaction(
        sessions, lambda s: set_congress(s, "TU", "13/10/2026", "15/10/2026", HOSTED)
    )
    assert await refused(lambda s: set_congress(s, "TU", "15/10/2026", "16/10/2026", HOSTED)) == (
        "Trùng thời gian với đại hội đã khai báo từ 13/10/2026 đến 15/10/2026.",
        "These days overlap the congress already set from 13/10/2026 to 15/10/2026.",
    )
    # The same opening day again moves the close.
    await in_transaction(
        sessions, lambda s: set_congress(s, "TU", "13/10/2026", "14/10/2026", HOSTED)
    )
    async with sessions() as session:
        ends = list(await session.scalars(select(NumberingPeriod.ends_on)))
    assert ends == [date(2026, 10, 14)]


def test_an_office_sets_a_units_term_and_congress(cli: Cli, province: Settings) -> None:
    def documents(*args: str, check: bool = True) -> tuple[int, str, str]:
        done = cli("documents", *args, "--dir", province.node_dir, check=check)
        return done.returncode, done.stdout.strip(), done.stderr

    assert documents("term", "TU", "--from", "16/10/2026")[1] == "TU: nhiệm kỳ từ 16/10/2026"
    assert documents("congress", "TU", "--from", "13/10/2026", "--to", "15/10/2026")[1] == (
        "TU: đại hội từ 13/10/2026 đến 15/10/2026"
    )
    code, _out, err = documents("term", "TU", "--from", "16-10-2026", check=False)
    assert code != 0 and "không đúng dạng ngày/tháng/năm" in err
    code, _out, err = documents("term", "HU-CAMLO", "--from", "16/10/2026", check=False)
    assert code != 0 and "không thuộc máy chủ này" in err
    code, _out, err = documents(
        "congress", "TU", "--from", "13/10/2026", "--to", "01/10/2026", check=False
    )
    assert code != 0 and "trước ngày khai mạc" in err


OLD_DOCUMENTS = sa.table(
    "documents",
    *(
        sa.column(name, sa.String)
        for name in (
            "unit_code",
            "direction",
            "state",
            "doc_type",
            "number_symbol",
            "summary",
            "sender_name",
            "signer_name",
            "direction_note",
            "recipients",
            "note",
            "register_series",
        )
    ),
    *(
        sa.column(name, sa.Integer)
        for name in ("secrecy", "urgency", "register_year", "register_number", "version")
    ),
    sa.column("issued_on", sa.Date),
    sa.column("created_at", UTCDateTime()),
)
OLD_COUNTERS = sa.table(
    "register_counters",
    *(sa.column(name, sa.String) for name in ("unit_code", "book", "series")),
    sa.column("year", sa.Integer),
    sa.column("last_number", sa.Integer),
)


def old_document(
    unit: str, doc_type: str, symbol: str, series: str = "normal", year: int = 2026
) -> dict[str, object]:
    """An outgoing document as revision 0016 numbered it: one sequence for every type."""
    number = int(symbol.split("/")[0].split("-")[0])
    return {
        "unit_code": unit,
        "direction": "outgoing",
        "state": "sent",
        "doc_type": doc_type,
        "number_symbol": symbol,
        "summary": symbol,
        "sender_name": "",
        "signer_name": "",
        "direction_note": "",
        "recipients": "",
        "note": "",
        "register_series": series,
        "secrecy": 1 if series == "secret" else 0,
        "urgency": 0,
        "register_year": year,
        "register_number": number,
        "version": 3,
        "issued_on": date(year, 6, 1),
        "created_at": datetime(year, 6, 1, tzinfo=UTC),
    }


async def test_migration_0017_moves_the_single_sequence_without_renumbering(
    province: Settings,
) -> None:
    engine = create_engine(province)
    try:
        await migrate.downgrade(engine, "0016")
        async with engine.begin() as connection:
            await connection.execute(sa.text("DELETE FROM register_counters"))
            await connection.execute(
                sa.text("INSERT INTO numbering_styles VALUES ('BTC', 'state', 'BTC')")
            )
            await connection.execute(
                OLD_DOCUMENTS.insert(),
                [
                    old_document("TU", "CV", "01-CV/TU", year=2025),
                    old_document("TU", "TB", "02-TB/TU", year=2025),
                    old_document("TU", "CV", "01-CV/TU"),
                    old_document("TU", "TB", "02-TB/TU"),
                    old_document("TU", "CV", "03-CV/TU"),
                    old_document("TU", "NQ", "01-NQ/TU", "secret"),
                    old_document("BTC", "QĐ", "1/QĐ-BTC"),
                    old_document("BTC", "CV", "2/BTC"),
                ],
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO document_events (document_id, at, action, note) "
                    "SELECT id, created_at, 'issued', number_symbol FROM documents"
                )
            )
            await connection.execute(
                OLD_COUNTERS.insert(),
                [
                    {
                        "unit_code": unit,
                        "book": book,
                        "series": series,
                        "year": year,
                        "last_number": last,
                    }
                    for unit, book, series, year, last in [
                        ("TU", "outgoing", "normal", 2025, 2),
                        ("TU", "outgoing", "normal", 2026, 3),
                        ("TU", "outgoing", "secret", 2026, 1),
                        ("BTC", "outgoing", "normal", 2026, 2),
                        ("TU", "incoming", "normal", 2026, 7),
                    ]
                ],
            )
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()

    async with open_database(province) as sessions:
        async with sessions() as session:
            kept = sorted(
                (d.unit_code, d.register_year, d.number_symbol, d.register_period or "")
                for d in await session.scalars(select(Document))
            )
        assert kept == [
            ("BTC", 2026, "1/QĐ-BTC", "year:2026"),
            ("BTC", 2026, "2/BTC", "year:2026"),
            ("TU", 2025, "01-CV/TU", "term:1970-01-01"),
            ("TU", 2025, "02-TB/TU", "term:1970-01-01"),
            ("TU", 2026, "01-CV/TU", "term:1970-01-01"),
            ("TU", 2026, "01-NQ/TU", "term:1970-01-01"),
            ("TU", 2026, "02-TB/TU", "term:1970-01-01"),
            ("TU", 2026, "03-CV/TU", "term:1970-01-01"),
        ]
        staff, btc = await clerk(sessions), await clerk(sessions, "BTC")
        on = date(2026, 6, 2)
        assert await issued(sessions, staff, on, "CV", "TB", "BC") == [
            "04-CV/TU",
            "03-TB/TU",
            "01-BC/TU",
        ]
        assert await issued(sessions, staff, on, "NQ", "CV", secrecy=1) == ["02-NQ/TU", "01-CV/TU"]
        assert await issued(sessions, btc, on, "TB") == ["3/TB-BTC"]
        async with sessions() as session, session.begin():
            assert await next_number(session, "TU", "incoming", "normal", 2026) == 8

    engine = create_engine(province)
    try:
        await migrate.downgrade(engine, "0016")
        async with engine.connect() as connection:
            counters = sorted((await connection.execute(sa.select(OLD_COUNTERS))).all())
            # Downgrading drops a column of documents in place: a copy of the table would
            # cascade the old one's drop to every document's events and files on SQLite.
            symbols = (await connection.execute(sa.select(OLD_DOCUMENTS.c.number_symbol))).all()
            events = (await connection.execute(sa.text("SELECT note FROM document_events"))).all()
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    assert (len(symbols), len(events)) == (8 + 6, 8 + 2 * 6)
    assert counters == [
        ("BTC", "outgoing", "normal", 2026, 3),
        ("TU", "incoming", "normal", 2026, 8),
        ("TU", "outgoing", "normal", 2025, 2),
        ("TU", "outgoing", "normal", 2026, 4),
        ("TU", "outgoing", "secret", 2026, 2),
    ]
