"""The usage ledger counts every access and byte, in batches, and rolls them up per day."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import insert

from config.database import open_database
from config.settings import Settings
from exchange.envelope import Attachment, Draft
from exchange.ledger import (
    VIETNAM,
    UsageLedger,
    active_people,
    active_users,
    daily_totals,
    monthly,
    roll_up,
)
from exchange.models import UsageEvent
from exchange.outbox import deliveries_of
from office.node.app import start_node
from tests.support.cli import Cli
from tests.support.network import DemoNetwork
from tests.support.waiting import wait_for


async def test_events_are_written_in_a_batch_and_rolled_up_per_month(province: Settings) -> None:
    async with open_database(province) as sessions:
        ledger = UsageLedger(sessions)
        for user in ("an", "binh", "an"):
            ledger.record("login", unit="TU", user=user)
        ledger.record("web", unit="TU", user="an", size=1200)
        ledger.record("dispatch-out", unit="BTC", size=5000)
        assert await ledger.flush() == 5
        assert await ledger.flush() == 0
        async with sessions() as session, session.begin():
            assert await roll_up(session) == 5
        async with sessions() as session, session.begin():
            assert await roll_up(session) == 0
        ledger.record("web", unit="TU", user="an", size=800)
        await ledger.flush()
        async with sessions() as session, session.begin():
            assert await roll_up(session) == 1
        now = datetime.now(UTC)
        async with sessions() as session:
            rows = await monthly(session, now.year)
            users = await active_users(session, now - timedelta(days=1), now + timedelta(days=1))
    month = now.strftime("%Y-%m")
    assert {(r.month, r.unit, r.kind): (r.events, r.bytes) for r in rows} == {
        (month, "BTC", "dispatch-out"): (1, 5000),
        (month, "TU", "login"): (3, 0),
        (month, "TU", "web"): (2, 2000),
    }
    assert users == {"TU": 2}


async def test_two_roll_ups_at_once_count_each_event_once(province: Settings) -> None:
    async with open_database(province) as sessions:
        ledger = UsageLedger(sessions)
        for _ in range(40):
            ledger.record("web", unit="TU", size=10)
        await ledger.flush()

        async def one() -> int:
            async with sessions() as session, session.begin():
                return await roll_up(session)

        counts = await asyncio.gather(one(), one(), one())
        async with sessions() as session:
            [row] = await monthly(session, datetime.now(UTC).year)
    assert sorted(counts) == [0, 0, 40]
    assert (row.events, row.bytes) == (40, 400)


async def test_an_event_counts_on_vietnams_day_and_month(province: Settings) -> None:
    """18:30 UTC on 31 January is 01:30 on 1 February in Vietnam; a microsecond before 17:00
    UTC is still 31 January there."""
    events = [
        {"at": datetime(2005, 1, 31, 18, 30, tzinfo=UTC), "kind": "login", "user": "an"},
        {"at": datetime(2005, 1, 31, 16, 59, 59, 999999, tzinfo=UTC), "kind": "web", "user": ""},
    ]
    async with open_database(province) as sessions:
        async with sessions() as session, session.begin():
            await session.execute(
                insert(UsageEvent), [{"unit": "TU", "bytes": 0, **event} for event in events]
            )
        async with sessions() as session, session.begin():
            assert await roll_up(session) == 2
        async with sessions() as session:
            days = await daily_totals(session, ["TU"], "2005-01-01", "2005-03-01")
            january = await active_people(session, ["TU"], ["2005-01"])
            february = await active_people(session, ["TU"], ["2005-02"])
    assert sorted(days) == [("2005-01-31", "TU", "web", 1, 0), ("2005-02-01", "TU", "login", 1, 0)]
    assert (dict(january), dict(february)) == ({}, {"TU": {"an"}})


async def test_a_roll_up_in_small_chunks_sums_like_one_in_a_single_chunk(
    province: Settings,
) -> None:
    async with open_database(province) as sessions:
        ledger = UsageLedger(sessions)
        for number in range(25):
            ledger.record("web", unit="TU", user="an", size=number)
            ledger.record("login", unit=("TU", "BTC")[number % 2], user=f"u{number % 3}")
        await ledger.flush()
        async with sessions() as session, session.begin():
            assert await roll_up(session, chunk=7) == 50
        ledger.record("web", unit="TU", size=100)
        await ledger.flush()
        async with sessions() as session, session.begin():
            assert await roll_up(session, chunk=7) == 1
        today = datetime.now(VIETNAM)
        month = today.strftime("%Y-%m")
        async with sessions() as session:
            rows = await monthly(session, today.year)
            people = await active_people(session, ["TU", "BTC"], [month])
    assert {(r.month, r.unit, r.kind): (r.events, r.bytes) for r in rows} == {
        (month, "TU", "web"): (26, sum(range(25)) + 100),
        (month, "TU", "login"): (13, 0),
        (month, "BTC", "login"): (12, 0),
    }
    assert dict(people) == {"TU": {"u0", "u1", "u2"}, "BTC": {"u0", "u1", "u2"}}


def test_an_unknown_kind_is_a_programming_error() -> None:
    ledger = UsageLedger(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown usage kind"):
        ledger.record("download")


async def test_a_running_network_counts_web_requests_and_dispatch_bytes(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    province = await start_node(fresh_network.settings("TU"))
    camlo = await start_node(fresh_network.settings("HU-CAMLO"))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                async with http.get(f"{province.web_url}/healthz") as response:
                    assert response.status == 200
        attachment = tmp_path / "bao-cao.txt"
        attachment.write_text("Báo cáo tháng\n", encoding="utf-8")
        assert province.outbox is not None
        header = await province.outbox.send(
            "BTC",
            Draft(
                recipients=("HU-CAMLO",),
                kind="document",
                metadata={"summary": "báo cáo"},
                attachments=(Attachment(attachment.name, attachment),),
            ),
        )

        async def delivered() -> bool:
            async with province.sessions() as session:
                return [d.state for d in await deliveries_of(session, header.id)] == ["delivered"]

        await wait_for(delivered)
    finally:
        await camlo.stop()
        await province.stop()  # flushes the ledger and rolls up once more
    year = str(datetime.now(UTC).year)
    sent = cli("usage", "show", "--year", year, "--dir", fresh_network.node_dir("TU")).stdout
    received = cli(
        "usage", "show", "--year", year, "--dir", fresh_network.node_dir("HU-CAMLO")
    ).stdout
    assert any(
        line.split()[1:] == ["BTC", "dispatch-out", "1", str(header.size)]
        for line in sent.splitlines()
    ), sent
    assert any(line.split()[1:4] == ["-", "web", "3"] for line in sent.splitlines()), sent
    assert any(
        line.split()[1:] == ["HU-CAMLO", "dispatch-in", "1", str(header.size)]
        for line in received.splitlines()
    ), received
