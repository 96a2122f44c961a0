"""The e-office under load: the incoming register page (50 rows, filtered) and a search, with
``BENCH_OFFICE_DOCS`` documents (1,000,000 unless told otherwise) in the database, on SQLite
and, when ``BENCH_OFFICE_PG`` names a server (``postgresql://127.0.0.1:5432/postgres``), on
PostgreSQL too (``BENCH_OFFICE_SQLITE=0`` skips SQLite). The node runs as its own
``congvan serve`` process; 50 signed-in sessions are driven from this one.

Two loads, each against ``/healthz`` (no session, one ``SELECT 1``) under the same load in the
same run:

- *working*: 50 people at once, each opening a page about every second (think time drawn
  around 1 s): p95 latency. Aim: p95 < 100 ms.
- *saturated*: 50 sessions asking back to back, no think time: pages per second, which is what
  the node can serve (a p95 there is only queueing, 50 requests deep).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
from sqlalchemy import insert, text

from bench.scratch_database import run_admin_statement
from bench.table import Figure
from config.database import open_database
from config.settings import Settings, load_settings
from config.text import fold
from keys import accounts
from keys.keystore import node_passphrase
from keys.sealing import SecretBox
from office.documents.fields import DOC_TYPES
from office.documents.models import Document
from office.documents.search import index_rows
from office.node.demo import build_demo

CONGVAN = str(Path(sys.executable).with_name("congvan"))
SESSIONS = 50
REQUESTS = 1000
BATCH = 5000
PASSWORD = "Bench-Thanh-Co 2026 !"
PLACES = ("Đông Hà", "Cam Lộ", "Gio Linh", "Hải Lăng", "Triệu Phong", "Vĩnh Linh", "Hướng Hóa")
TOPICS = (
    "chuyển đổi số",
    "công tác cán bộ",
    "xây dựng Đảng",
    "ứng dụng công nghệ thông tin",
    "phòng chống thiên tai",
    "kiểm tra giám sát",
    "tuyên giáo",
    "dân vận",
)
SENDERS = tuple(f"Huyện uỷ {place}" for place in PLACES)


def _document(number: int, year: int, rng: random.Random) -> dict[str, Any]:
    topic, place = rng.choice(TOPICS), rng.choice(PLACES)
    doc_type = rng.choice(tuple(DOC_TYPES))
    received = datetime(year, 1, 1, tzinfo=UTC) + timedelta(minutes=number * 3 % 525_000)
    return {
        "unit_code": "TU",
        "direction": "incoming",
        "state": rng.choice(("registered", "assigned", "done", "done", "done")),
        "secrecy": 0 if rng.random() < 0.95 else 1,
        "urgency": rng.choice((0, 0, 0, 1, 2)),
        "doc_type": doc_type,
        "number_symbol": f"{number}-{doc_type}/HU",
        "summary": f"V/v {topic} tại {place} (lần {number})",
        "sender_name": rng.choice(SENDERS),
        "signer_name": "",
        "issued_on": received.date() - timedelta(days=2),
        "received_at": received,
        "register_year": year,
        "register_series": "normal",
        "register_number": number,
        "registered_at": received,
        "direction_note": "",
        "recipients": "",
        "note": "",
        "created_at": received,
        "version": 1,
    }


async def _fill(settings: Settings, count: int) -> None:
    """``count`` registered documents over several years, and their search entries."""
    rng = random.Random(2026)
    per_year = 100_000
    async with open_database(settings) as sessions:
        done = 0
        while done < count:
            rows = []
            for offset in range(min(BATCH, count - done)):
                serial = done + offset
                year = date.today().year - serial // per_year
                rows.append(_document(serial % per_year + 1, year, rng))
            async with sessions() as session, session.begin():
                result = await session.execute(
                    insert(Document).returning(
                        Document.id, Document.summary, Document.number_symbol, Document.sender_name
                    ),
                    rows,
                )
                entries = [
                    (row.id, fold(f"{row.summary} {row.number_symbol} {row.sender_name}"))
                    for row in result
                ]
                await index_rows(session, entries)
            done += len(rows)
        async with sessions() as session, session.begin():
            await session.execute(text("ANALYZE"))


async def _accounts(settings: Settings, count: int) -> list[tuple[str, str]]:
    box = SecretBox(node_passphrase(settings), settings.node.name)
    made = []
    async with open_database(settings) as sessions, sessions() as session, session.begin():
        for _ in range(count):
            username = f"bench.{uuid.uuid4().hex[:8]}"
            await accounts.add_user(
                session, username, PASSWORD, "TU", "clerk", 1, settings.node.units, "Văn thư"
            )
            made.append((username, (await accounts.enrol_totp(session, username, box)).secret))
    return made


async def _signed_in(url: str, username: str, secret: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(f"{url}/login") as page:
        token = (await page.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {
        "csrf_token": token,
        "username": username,
        "password": PASSWORD,
        "totp": pyotp.TOTP(secret).now(),
    }
    async with http.post(f"{url}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, await answer.text()
    return http


@dataclass(frozen=True)
class Load:
    p95_ms: float
    per_second: float


async def _load(
    clients: list[aiohttp.ClientSession],
    paths: Callable[[int], str],
    url: str,
    think_seconds: float,
) -> Load:
    """REQUESTS GETs spread over the clients, all clients at once, each waiting about
    ``think_seconds`` between its requests (exponentially: people are not clocks)."""
    timings: list[float] = []
    rng = random.Random(7)

    async def client_loop(index: int, http: aiohttp.ClientSession) -> None:
        if think_seconds:
            await asyncio.sleep(rng.uniform(0, think_seconds))
        for number in range(index, REQUESTS, len(clients)):
            started = time.perf_counter()
            async with http.get(url + paths(number), allow_redirects=False) as answer:
                await answer.read()
                assert answer.status == 200, answer.status
            timings.append((time.perf_counter() - started) * 1000)
            if think_seconds:
                await asyncio.sleep(rng.expovariate(1 / think_seconds))

    began = time.perf_counter()
    await asyncio.gather(*(client_loop(i, http) for i, http in enumerate(clients)))
    elapsed = time.perf_counter() - began
    return Load(statistics.quantiles(timings, n=100)[94], len(timings) / elapsed)


async def _until_healthy(url: str) -> None:
    async with asyncio.timeout(60), aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{url}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


def _pages() -> dict[str, Callable[[int], str]]:
    types = tuple(DOC_TYPES)
    queries = [f"{fold(topic)} {fold(place).split()[0]}" for topic in TOPICS for place in PLACES]
    return {
        "register": lambda n: f"/incoming?type={types[n % len(types)]}&page={1 + n % 3}",
        "search": lambda n: f"/search?q={queries[n % len(queries)]}",
        "healthz": lambda _n: "/healthz",
    }


async def _measure(
    root: Path, label: str, count: int, base_port: int, urls: dict[str, str]
) -> list[Figure]:
    await build_demo(root, base_port, urls)
    settings = load_settings(root / "TU", {"CONGVAN_LOG_LEVEL": "warning"})
    started = time.perf_counter()
    await _fill(settings, count)
    print(f"{label}: {count:,} documents in {time.perf_counter() - started:.0f} s")
    made = await _accounts(settings, SESSIONS)
    url = f"http://{settings.web.host}:{settings.web.port}"
    node = await asyncio.create_subprocess_exec(
        CONGVAN,
        "serve",
        "--dir",
        str(settings.node_dir),
        env={**os.environ, "CONGVAN_LOG_LEVEL": "warning"},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    clients: list[aiohttp.ClientSession] = []
    try:
        await _until_healthy(url)
        clients = list(await asyncio.gather(*(_signed_in(url, *a) for a in made)))
        pages = _pages()
        working = {name: await _load(clients, path, url, 1.0) for name, path in pages.items()}
        saturated = {name: await _load(clients, path, url, 0.0) for name, path in pages.items()}
    finally:
        await asyncio.gather(*(http.close() for http in clients))
        node.send_signal(signal.SIGINT)
        await asyncio.wait_for(node.wait(), 60)
    return [
        *(
            Figure(
                f"{name} p95 ms, 50 at work ({label})",
                working[name].p95_ms,
                "/healthz p95 ms",
                working["healthz"].p95_ms,
                "",
            )
            for name in ("register", "search")
        ),
        *(
            Figure(
                f"{name} pages/s, saturated ({label})",
                saturated[name].per_second,
                "/healthz answers/s",
                saturated["healthz"].per_second,
                "",
            )
            for name in ("register", "search")
        ),
    ]


async def run(base_port: int = 47800) -> list[Figure]:
    count = int(os.environ.get("BENCH_OFFICE_DOCS", "1000000"))
    figures = []
    if os.environ.get("BENCH_OFFICE_SQLITE", "1") != "0":
        with tempfile.TemporaryDirectory() as folder:
            figures += await _measure(Path(folder), "SQLite", count, base_port, {})
    server = os.environ.get("BENCH_OFFICE_PG")
    if server:
        database = f"bench_office_{uuid.uuid4().hex[:8]}"
        await run_admin_statement(server, f'CREATE DATABASE "{database}"')
        try:
            with tempfile.TemporaryDirectory() as folder:
                url = server.rsplit("/", 1)[0] + f"/{database}"
                figures += await _measure(
                    Path(folder), "PostgreSQL", count, base_port + 20, {"TU": url}
                )
        finally:
            await run_admin_statement(server, f'DROP DATABASE "{database}" WITH (FORCE)')
    return figures
