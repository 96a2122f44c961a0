"""The yearly provincial report over ``BENCH_REPORT_EVENTS`` ledger events (10,000,000 unless
told otherwise), on SQLite and, when ``BENCH_REPORT_PG`` names a server
(``postgresql://127.0.0.1:5432/postgres``), on PostgreSQL too (``BENCH_REPORT_SQLITE=0`` skips
SQLite). ``python -m bench.report --events N --pg URL`` runs it alone.

The province's node of the demo network is filled with a year of usage (and the last quarter of
the year before) by the sample units and a few thousand people, rolled up, and asked for the
year's report of ``TU`` as if it hosted every unit: all the figures are counted from its own
ledger, the heaviest case. Figures, each against a baseline taken in the same run:

- the report, cold (the first one of a fresh engine) and warm (median of the next ones), against
  the same report over the same database before any event was written. Aim: < 2 s.
- a web request with the ledger counting it (the middleware's record, the batched writes),
  against the same request with recording turned off in the same node, both by turns: the
  health check (the cheapest request, where the ledger weighs most) and a signed-in home page.
  Aim: ratio < 1.05. On a busy machine that comparison is mostly noise, so the ledger's own
  cost a request (its record and its share of the batched write, timed alone) is given too,
  against the health check without the ledger: aim < 0.05.

Loading and the roll-up are timed and printed (events per second), not compared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pyotp

from bench.scratch_database import run_admin_statement
from bench.table import Figure, render
from config.database import DATABASE_FILE, open_database
from config.logging import configure_logging
from config.settings import LogSettings, Settings, load_settings
from exchange.ledger import VIETNAM, UsageLedger
from keys.directory import list_units
from office.node.app import start_node
from office.node.demo import build_demo
from office.reports.service import Reports

EVENTS = 10_000_000
BATCH = 1_000_000
PEOPLE = 3000
#: How often each kind happens: mostly pages, a sign-in for every dozen of them.
KIND_WEIGHTS = {
    "web": 80,
    "login": 8,
    "dispatch-in": 3,
    "dispatch-out": 3,
    "mail-in": 3,
    "mail-out": 3,
}
#: Bytes of one event of each kind, drawn between these bounds.
KIND_BYTES = {
    "web": (2_000, 60_000),
    "login": (0, 0),
    "dispatch-in": (20_000, 3_000_000),
    "dispatch-out": (20_000, 3_000_000),
    "mail-in": (3_000, 2_000_000),
    "mail-out": (3_000, 2_000_000),
}
COLD_RUNS = 3
WARM_RUNS = 5
#: Per page, sequential requests per mode, asked by turns in blocks of the second figure: the
#: home page costs twenty health checks, so fewer of it keep the part short.
REQUESTS = {"/healthz": (1200, 200), "/": (400, 100)}
#: Events recorded and written to time the ledger by itself.
LEDGER_EVENTS = 20_000
AIM_REPORT_SECONDS = 2.0
AIM_LEDGER_RATIO = 1.05


def _year() -> int:
    """The year reported on: the last whole one."""
    return datetime.now(VIETNAM).year - 1


def _events_select(source: str, at: str, year: int, count: int) -> str:
    """A SELECT of events ``i`` of ``source`` (its column ``i``), the database making them:
    kinds in ``KIND_WEIGHTS`` proportions, people and sizes scattered by multiplicative
    hashing of ``i`` (the same events on both databases), in time order from 1 October of the
    year before to the end of ``year`` (Vietnam's calendar). ``at`` turns a UNIX time of whole
    seconds and a count of microseconds into the column's value."""
    start = datetime(year - 1, 10, 1, tzinfo=VIETNAM).timestamp()
    step = (datetime(year + 1, 1, 1, tzinfo=VIETNAM).timestamp() - start) / count
    share = "((i * 37) % 100)"
    kinds, sizes, bound = [], [], 0
    for kind, weight in KIND_WEIGHTS.items():
        bound += weight
        low, high = KIND_BYTES[kind]
        kinds.append(f"WHEN {share} < {bound} THEN '{kind}'")
        sizes.append(f"WHEN {share} < {bound} THEN {low} + (i * 2654435761) % {high - low + 1}")
    kind = f"CASE {' '.join(kinds)} END"
    anonymous = f"({share} < {KIND_WEIGHTS['web']} AND (i / 100) % 20 = 0)"
    dispatch = f"({kind} LIKE 'dispatch%')"
    moment = at.format(seconds=f"({start} + i * {step})", micro="((i * 104729) % 1000000)")
    # Every piece is this module's own constant: nothing from outside reaches the SQL.
    return f"""
        SELECT {moment},
               CASE WHEN {anonymous} THEN '' ELSE people.unit END,
               CASE WHEN {anonymous} OR {dispatch} THEN '' ELSE people."user" END,
               {kind},
               CASE {" ".join(sizes)} END
        FROM {source}
        JOIN bench_people AS people ON people.n = (i * 2654435761 / 65536) % {PEOPLE}
    """  # noqa: S608


def _people(units: list[str]) -> list[tuple[int, str, str]]:
    """Who works where: the people spread over the units at random."""
    rng = random.Random(2005)
    return [(n, rng.choice(units), f"nguoi{n:04d}") for n in range(PEOPLE)]


PEOPLE_TABLE = 'CREATE TEMP TABLE bench_people (n INTEGER PRIMARY KEY, unit TEXT, "user" TEXT)'
EVENT_COLUMNS = 'INSERT INTO usage_events (at, unit, "user", kind, bytes) '


def _load_sqlite(path: Path, count: int, year: int, units: list[str]) -> None:
    """``at`` as SQLAlchemy keeps it on SQLite: naive UTC text, always with microseconds."""
    source = (
        "(WITH RECURSIVE numbers(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM numbers "
        "WHERE i + 1 < ?) SELECT i FROM numbers) AS source"
    )
    at = (
        "strftime('%Y-%m-%d %H:%M:%S', CAST({seconds} AS INTEGER), 'unixepoch')"
        " || printf('.%06d', {micro})"
    )
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(PEOPLE_TABLE)
        connection.executemany("INSERT INTO bench_people VALUES (?, ?, ?)", _people(units))
        statement = EVENT_COLUMNS + _events_select(source, at, year, count)
        for first in range(0, count, BATCH):
            connection.execute(statement, (first, min(first + BATCH, count)))
            connection.commit()
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


async def _load_postgresql(url: str, count: int, year: int, units: list[str]) -> None:
    source = "generate_series($1::bigint, $2::bigint - 1) AS source(i)"
    at = "to_timestamp(trunc({seconds}) + {micro} / 1000000.0)"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(PEOPLE_TABLE)
        await connection.executemany("INSERT INTO bench_people VALUES ($1, $2, $3)", _people(units))
        statement = EVENT_COLUMNS + _events_select(source, at, year, count)
        for first in range(0, count, BATCH):
            await connection.execute(statement, first, min(first + BATCH, count))
        await connection.execute("ANALYZE usage_events")
    finally:
        await connection.close()


async def _report_seconds(settings: Settings, year: int) -> tuple[float, float]:
    """(cold, warm) seconds of the year's report of ``TU``, every unit counted here: cold is
    the first report of a fresh engine, warm the next ones."""
    async with open_database(settings) as sessions, sessions() as session:
        hosted = tuple(unit.code for unit in await list_units(session))
    colds: list[float] = []
    warms: list[float] = []
    for run in range(COLD_RUNS):
        async with open_database(settings) as sessions:
            reports = Reports(
                sessions,
                settings.reports,
                hosted,
                ledger=UsageLedger(sessions),
                clock=lambda: datetime(year + 1, 1, 20, 3, tzinfo=UTC),
            )
            for attempt in range(1 + (WARM_RUNS if run == 0 else 0)):
                started = time.perf_counter()
                report = await reports.report("TU", str(year))
                (warms if attempt else colds).append(time.perf_counter() - started)
            assert len(report.rows) == len(hosted)
    return statistics.median(colds), statistics.median(warms)


async def _signed_in(url: str, account: dict[str, Any]) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(f"{url}/login") as page:
        token = (await page.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {
        "csrf_token": token,
        "username": account["username"],
        "password": account["password"],
        "totp": pyotp.TOTP(account["totp_secret"]).now(),
    }
    async with http.post(f"{url}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, await answer.text()
    return http


def _not_recording(kind: str, *, unit: str = "", user: str = "", size: int = 0) -> None:
    """Stands in for :meth:`UsageLedger.record` in the baseline."""


async def _request_ms(
    settings: Settings, account: dict[str, Any]
) -> dict[str, tuple[float, float]]:
    """Per page, mean milliseconds of a request (with, without the ledger), asked by turns."""
    node = await start_node(settings)
    ledger = node.ledger
    assert ledger is not None
    recording = ledger.record
    http = await _signed_in(node.web_url, account)
    times: dict[str, tuple[float, float]] = {}
    try:
        for page, (requests, block_size) in REQUESTS.items():
            spent = {True: 0.0, False: 0.0}
            for block in range(-1, requests // block_size):
                for counting in (block % 2 == 0, block % 2 != 0):
                    ledger.record = recording if counting else _not_recording  # type: ignore[method-assign]
                    started = time.perf_counter()
                    for _ in range(block_size):
                        async with http.get(node.web_url + page, allow_redirects=False) as answer:
                            await answer.read()
                            assert answer.status == 200, answer.status
                    if block >= 0:  # the first round warms up
                        spent[counting] += time.perf_counter() - started
            times[page] = (spent[True] * 1000 / requests, spent[False] * 1000 / requests)
    finally:
        ledger.record = recording  # type: ignore[method-assign]
        await http.close()
        await node.stop()
    return times


async def _ledger_ms(settings: Settings) -> float:
    """What the ledger costs one request, by itself: the middleware's record and the event's
    share of its batched write, over ``LEDGER_EVENTS`` events (free of the HTTP noise the
    by-turns comparison carries on a busy machine)."""
    async with open_database(settings) as sessions:
        ledger = UsageLedger(sessions)
        started = time.perf_counter()
        for number in range(LEDGER_EVENTS):
            ledger.record("web", unit="TU", user=f"nguoi{number % PEOPLE:04d}", size=4200)
            if (number + 1) % ledger.batch_size == 0:  # as the node's writer does
                await ledger.flush()
        await ledger.flush()
        return (time.perf_counter() - started) * 1000 / LEDGER_EVENTS


async def _measure(
    root: Path, label: str, count: int, base_port: int, database_url: str
) -> list[Figure]:
    demo = await build_demo(root, base_port, {"TU": database_url} if database_url else {})
    settings = load_settings(root / "TU", {"CONGVAN_LOG_LEVEL": "warning"})
    year = _year()
    async with open_database(settings) as sessions, sessions() as session:
        units = [unit.code for unit in await list_units(session)]
    empty_cold, empty_warm = await _report_seconds(settings, year)

    started = time.perf_counter()
    if database_url:
        await _load_postgresql(database_url, count, year, units)
    else:
        await asyncio.to_thread(_load_sqlite, settings.node_dir / DATABASE_FILE, count, year, units)
    loaded = time.perf_counter() - started
    print(f"{label}: {count:,} events loaded in {loaded:.1f} s ({count / loaded:,.0f} events/s)")
    async with open_database(settings) as sessions:
        started = time.perf_counter()
        rolled = await UsageLedger(sessions).roll_up()
        rolled_up = time.perf_counter() - started
    assert rolled == count, (rolled, count)
    print(f"{label}: rolled up in {rolled_up:.1f} s ({count / rolled_up:,.0f} events/s)")

    cold, warm = await _report_seconds(settings, year)
    print(
        f"{label}: {year} report of TU, {len(units)} units: cold {cold:.3f} s, "
        f"warm {warm:.3f} s (aim < {AIM_REPORT_SECONDS:g} s)"
    )
    clerk = next(
        account
        for account in demo["accounts"]
        if account["node"] == "TU" and account["role"] == "clerk"
    )
    requests = await _request_ms(settings, clerk)
    ledger_ms = await _ledger_ms(settings)
    for page, (counted, uncounted) in requests.items():
        print(
            f"{label}: GET {page} {counted:.3f} ms with the ledger, {uncounted:.3f} ms without: "
            f"{counted / uncounted:.3f}x (aim < {AIM_LEDGER_RATIO:g}x)"
        )
    print(
        f"{label}: the ledger alone, {ledger_ms * 1000:.1f} us a request: "
        f"{ledger_ms / requests['/healthz'][1]:.1%} of /healthz, "
        f"{ledger_ms / requests['/'][1]:.1%} of the home page (aim < 5 %)"
    )
    return [
        Figure(f"{year} report, warm ({label})", warm, "same, no events", empty_warm, "s"),
        Figure(f"{year} report, cold ({label})", cold, "same, no events", empty_cold, "s"),
        Figure(
            f"healthz, ledger on ({label})",
            requests["/healthz"][0],
            "healthz, ledger off",
            requests["/healthz"][1],
            "ms",
        ),
        Figure(
            f"home page, ledger on ({label})",
            requests["/"][0],
            "home page, ledger off",
            requests["/"][1],
            "ms",
        ),
        Figure(
            f"ledger alone a request ({label})",
            ledger_ms,
            "healthz, ledger off",
            requests["/healthz"][1],
            "ms",
        ),
    ]


async def run(
    base_port: int = 12200,
    *,
    events: int | None = None,
    server: str | None = None,
    on_sqlite: bool | None = None,
) -> list[Figure]:
    count = events or int(os.environ.get("BENCH_REPORT_EVENTS", str(EVENTS)))
    server = server if server is not None else os.environ.get("BENCH_REPORT_PG", "")
    if on_sqlite is None:
        on_sqlite = os.environ.get("BENCH_REPORT_SQLITE", "1") != "0"
    figures = []
    if on_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            figures += await _measure(Path(folder), "SQLite", count, base_port, "")
    if server:
        database = f"bench_report_{uuid.uuid4().hex[:8]}"
        await run_admin_statement(server, f'CREATE DATABASE "{database}"')
        try:
            with tempfile.TemporaryDirectory() as folder:
                url = server.rsplit("/", 1)[0] + f"/{database}"
                figures += await _measure(Path(folder), "PostgreSQL", count, base_port + 40, url)
        finally:
            await run_admin_statement(server, f'DROP DATABASE "{database}" WITH (FORCE)')
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("--events", type=int, default=None, help=f"default {EVENTS:,}")
    parser.add_argument("--pg", default=None, help="a PostgreSQL server URL, to run there too")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    options = parser.parse_args()
    configure_logging(LogSettings(level="warning"))
    figures = asyncio.run(
        run(
            events=options.events, server=options.pg, on_sqlite=False if options.no_sqlite else None
        )
    )
    print(render(figures))


if __name__ == "__main__":
    main()
