"""The evidence log is a hash chain: ``congvan audit verify`` finds an edited or cut record."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select, update

from config.database import open_database
from config.settings import Settings
from exchange import evidence
from exchange.models import EvidenceEntry
from tests.support.cli import Cli


async def _append(settings: Settings, count: int) -> None:
    async with open_database(settings) as sessions:
        for number in range(count):
            async with sessions() as session, session.begin():
                await evidence.append(session, "received", None, {"n": number, "văn bản": "đến"})


def _verify(cli: Cli, settings: Settings) -> tuple[int, str]:
    result = cli("audit", "verify", "--dir", settings.node_dir, check=False)
    return result.returncode, (result.stdout + result.stderr).strip()


async def test_an_untouched_log_verifies_with_its_entry_count(province: Settings, cli: Cli) -> None:
    await _append(province, 5)
    assert _verify(cli, province) == (0, "evidence log intact: 5 entries")


async def test_entries_appended_together_chain_as_if_appended_one_by_one(
    province: Settings, cli: Cli
) -> None:
    await _append(province, 2)
    async with open_database(province) as sessions:
        async with sessions() as session, session.begin():
            numbers = await evidence.append_all(
                session,
                [
                    evidence.Entry("offered", None, {"n": 2}),
                    evidence.Entry("received", None, {"n": 3, "văn bản": "đến"}),
                ],
            )
        async with sessions() as session:
            events = (
                await session.scalars(select(EvidenceEntry.event).order_by(EvidenceEntry.seq))
            ).all()
    assert numbers == [3, 4]
    assert events == ["received", "received", "offered", "received"]
    await _append(province, 1)
    assert _verify(cli, province) == (0, "evidence log intact: 5 entries")


async def test_an_edited_record_is_reported_as_the_first_broken_link(
    province: Settings, cli: Cli
) -> None:
    await _append(province, 5)
    async with open_database(province) as sessions, sessions() as session, session.begin():
        await session.execute(
            update(EvidenceEntry).where(EvidenceEntry.seq == 3).values(detail='{"n":99}')
        )
    assert _verify(cli, province) == (
        1,
        "error: evidence log broken at entry 3: entry 3 was altered",
    )


async def test_a_deleted_record_in_the_middle_is_reported(province: Settings, cli: Cli) -> None:
    await _append(province, 5)
    async with open_database(province) as sessions, sessions() as session, session.begin():
        await session.execute(delete(EvidenceEntry).where(EvidenceEntry.seq == 2))
    code, message = _verify(cli, province)
    assert code == 1
    assert message == "error: evidence log broken at entry 2: entry 2 is missing"


async def test_records_cut_from_the_end_are_reported(province: Settings, cli: Cli) -> None:
    await _append(province, 5)
    async with open_database(province) as sessions, sessions() as session, session.begin():
        await session.execute(delete(EvidenceEntry).where(EvidenceEntry.seq >= 4))
    code, message = _verify(cli, province)
    assert code == 1
    assert "removed from the end" in message


async def test_a_rewritten_record_with_a_recomputed_hash_breaks_the_next_link(
    province: Settings, cli: Cli
) -> None:
    await _append(province, 4)
    async with open_database(province) as sessions, sessions() as session, session.begin():
        entry = await session.get(EvidenceEntry, 2)
        assert entry is not None
        entry.detail = '{"n":42}'
        entry.hash = evidence.entry_hash(
            entry.seq, entry.at, entry.event, entry.dispatch_id, entry.detail, entry.previous_hash
        )
    code, message = _verify(cli, province)
    assert (code, message) == (
        1,
        "error: evidence log broken at entry 3: entry 3 does not follow its predecessor",
    )


@pytest.mark.parametrize("writers", [12])
async def test_concurrent_appends_keep_one_unbroken_chain(province: Settings, writers: int) -> None:
    async with open_database(province) as sessions:

        async def one(number: int) -> None:
            async with sessions() as session, session.begin():
                await evidence.append(session, "sent", None, {"n": number})

        await asyncio.gather(*(one(number) for number in range(writers)))
        async with sessions() as session:
            report = await evidence.verify_chain(session)
            seqs = (
                await session.scalars(select(EvidenceEntry.seq).order_by(EvidenceEntry.seq))
            ).all()
            count = await session.scalar(select(func.count()).select_from(EvidenceEntry))
    assert report.intact
    assert list(seqs) == list(range(1, writers + 1))
    assert count == writers
