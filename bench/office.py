"""The e-office under load: the incoming register page (50 rows, filtered) and a search, with
``BENCH_OFFICE_DOCS`` documents (1,000,000 unless told otherwise) in the database, on SQLite
and on PostgreSQL: a scratch database made and dropped on the server ``BENCH_OFFICE_PG``
names (``postgresql://127.0.0.1:5432/postgres`` unless told otherwise; ``0`` skips it, as
``BENCH_OFFICE_SQLITE=0`` skips SQLite). The documents are seeded by
:mod:`bench.office_seed`. The node runs as its own ``congvan serve`` process with ``[web]
processes`` one per core (``BENCH_OFFICE_WEB_PROCESSES`` to choose), as an operator would set
it; 50 signed-in sessions are driven from this one.

Two loads, each against ``/healthz`` (no session, one ``SELECT 1``):

- *working*: 50 people at once, each opening the register or a search, in turn, about every
  second (think time drawn around 1 s): p95 latency of each page; beside them, at the same
  moments, a 51st client asks ``/healthz`` about ``PROBES_PER_SECOND`` times a second, so the
  baseline waits in the same queues (machine and event loop) as the pages. Aim: p95 < 100 ms.
- *saturated*: 50 sessions asking back to back, no think time, one page after the other and
  ``/healthz`` last: pages per second, which is what the node can serve (a p95 there is only
  queueing, 50 requests deep).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import aiohttp
import pyotp

from bench.office_seed import PLACES, TOPICS, seed_postgresql, seed_sqlite
from bench.scratch_database import run_admin_statement
from bench.table import Figure
from config.database import open_database
from config.settings import Settings, load_settings
from config.text import fold
from keys import accounts
from keys.keystore import node_passphrase
from keys.sealing import SecretBox
from office.documents.fields import DOC_TYPES
from office.node.demo import build_demo

CONGVAN = str(Path(sys.executable).with_name("congvan"))
SESSIONS = 50
#: Requests of each page per load: a p95 of 500 times rests on its 25 slowest, and the two
#: loads on both databases are most of the office part's share of the 15 minutes.
REQUESTS = 500
THINK_SECONDS = 1.0
#: How often the 51st client asks /healthz while the people work: a tenth of their pace.
PROBES_PER_SECOND = 5.0
DEFAULT_SERVER = "postgresql://127.0.0.1:5432/postgres"
PASSWORD = "Bench-Thanh-Co 2026 !"


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


async def _signed_in(url: str, person: int, username: str, secret: str) -> aiohttp.ClientSession:
    """Each person at a desk of their own, ``127.0.0.<person + 2>``, as in an office: sign-in
    throttling counts by address (an attempt counts against it until it succeeds), so 50
    people behind one address would be throttled as one."""
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(f"127.0.0.{person + 2}", 0)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )
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


async def _load(
    clients: list[aiohttp.ClientSession], paths: Callable[[int], str], url: str
) -> float:
    """Per second, of REQUESTS GETs spread over the clients, all at once, back to back."""

    async def client_loop(index: int, http: aiohttp.ClientSession) -> None:
        for number in range(index, REQUESTS, len(clients)):
            await _timed(http, url + paths(number))

    began = time.perf_counter()
    await asyncio.gather(*(client_loop(i, http) for i, http in enumerate(clients)))
    return REQUESTS / (time.perf_counter() - began)


async def _timed(http: aiohttp.ClientSession, address: str) -> float:
    started = time.perf_counter()
    async with http.get(address, allow_redirects=False) as answer:
        await answer.read()
        assert answer.status == 200, answer.status
    return (time.perf_counter() - started) * 1000


async def _at_work(
    clients: list[aiohttp.ClientSession], probe: aiohttp.ClientSession, url: str
) -> dict[str, float]:
    """p95 ms of each page, REQUESTS of each, the people opening the register and a search in
    turn about every ``THINK_SECONDS``; and of ``/healthz`` asked beside them meanwhile."""
    pages = _pages()
    timings: dict[str, list[float]] = {name: [] for name in pages}
    rng = random.Random(7)
    working = True

    async def person(index: int, http: aiohttp.ClientSession) -> None:
        await asyncio.sleep(rng.uniform(0, THINK_SECONDS))
        for number in range(index, 2 * REQUESTS, len(clients)):
            name = ("register", "search")[number % 2]
            timings[name].append(await _timed(http, url + pages[name](number // 2)))
            await asyncio.sleep(rng.expovariate(1 / THINK_SECONDS))

    async def prober() -> None:
        while working:
            timings["healthz"].append(await _timed(probe, url + pages["healthz"](0)))
            await asyncio.sleep(rng.expovariate(PROBES_PER_SECOND))

    probing = asyncio.create_task(prober())
    try:
        await asyncio.gather(*(person(i, http) for i, http in enumerate(clients)))
    finally:
        working = False
        await probing
    return {name: statistics.quantiles(times, n=100)[94] for name, times in timings.items()}


async def _until_healthy(url: str, port: int, processes: int) -> None:
    """Until the node answers and every one of its web processes listens on ``port``."""
    async with asyncio.timeout(120), aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{url}/healthz") as answer:
                    if answer.status == 200 and _listeners(port) >= processes:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


def _listeners(port: int) -> int:
    listing = subprocess.run(
        ["ss", "-tlnH", "sport", "=", f":{port}"], capture_output=True, text=True, check=True
    )
    return len(listing.stdout.splitlines())


def _web_processes() -> int:
    return int(os.environ.get("BENCH_OFFICE_WEB_PROCESSES", "0")) or os.cpu_count() or 1


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
    if settings.database.url:
        await seed_postgresql(settings.database.url, count, date.today())
    else:
        await asyncio.to_thread(seed_sqlite, settings, count, date.today())
    print(f"{label}: {count:,} documents in {time.perf_counter() - started:.0f} s")
    made = await _accounts(settings, SESSIONS)
    url = f"http://{settings.web.host}:{settings.web.port}"
    processes = _web_processes()
    print(f"{label}: [web] processes = {processes}")
    node = await asyncio.create_subprocess_exec(
        CONGVAN,
        "serve",
        "--dir",
        str(settings.node_dir),
        env={
            **os.environ,
            "CONGVAN_LOG_LEVEL": "warning",
            "CONGVAN_WEB_PROCESSES": str(processes),
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    clients: list[aiohttp.ClientSession] = []
    try:
        await _until_healthy(url, settings.web.port, processes)
        # One after another: 50 sign-ins at once (each a few writes) outwait SQLite's busy
        # timeout on a loaded machine, and signing in is not what is measured.
        for person, account in enumerate(made):
            clients.append(await _signed_in(url, person, *account))
        async with aiohttp.ClientSession() as probe:
            working = await _at_work(clients, probe, url)
        saturated = {name: await _load(clients, path, url) for name, path in _pages().items()}
    finally:
        await asyncio.gather(*(http.close() for http in clients))
        node.send_signal(signal.SIGINT)
        await asyncio.wait_for(node.wait(), 60)
    return [
        *(
            Figure(
                f"{name} p95 ms, 50 at work ({label})",
                working[name],
                "/healthz p95 ms, beside them",
                working["healthz"],
                "",
            )
            for name in ("register", "search")
        ),
        *(
            Figure(
                f"{name} pages/s, saturated ({label})",
                saturated[name],
                "/healthz answers/s",
                saturated["healthz"],
                "",
            )
            for name in ("register", "search")
        ),
    ]


async def run(base_port: int = 11800) -> list[Figure]:
    count = int(os.environ.get("BENCH_OFFICE_DOCS", "1000000"))
    figures = []
    if os.environ.get("BENCH_OFFICE_SQLITE", "1") != "0":
        with tempfile.TemporaryDirectory() as folder:
            figures += await _measure(Path(folder), "SQLite", count, base_port, {})
    server = os.environ.get("BENCH_OFFICE_PG", DEFAULT_SERVER)
    if server != "0":
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
