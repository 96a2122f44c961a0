"""Every promise follows a commit that is on disk.

A receipt that says "accepted", or an SMTP 250, makes the other party stop retrying: if a
power cut then takes the commit away, the document is lost. Killing the process proves
nothing (the page cache survives it), so the order is recorded instead: each fsync of the
database's WAL notes what the database held when it started, and each answer notes when it
arrived. Whatever was answered for must have been held by an fsync that ended before the answer.
"""

from __future__ import annotations

import asyncio
import os
import random
import smtplib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from config.durability import DurableCommits
from exchange.peer_client import PeerClient
from office.node.app import RunningNode, start_node
from tests.support.databases import TEST_DB
from tests.support.dispatches import node_context, seal_document
from tests.support.mail import client_context, message_from
from tests.support.network import DemoNetwork

SQLITE_ONLY = pytest.mark.skipif(
    TEST_DB != "sqlite", reason="SQLite only: PostgreSQL's commit is durable by itself"
)


def is_wal(descriptor: int) -> bool:
    return Path(f"/proc/self/fd/{descriptor}").readlink().name.endswith("-wal")


class WalSyncs:
    """``os.fsync``, recorded for the WAL file: when each sync ended, and the rows ``held``
    returned when it began (everything committed before an fsync begins is on disk after)."""

    def __init__(self, database: Path, held: str, real_fsync: Callable[[int], None]) -> None:
        self.database, self.held_query, self.real_fsync = database, held, real_fsync
        self.syncs: list[tuple[float, set[str]]] = []

    def __call__(self, descriptor: int) -> None:
        if not is_wal(descriptor):
            self.real_fsync(descriptor)
            return
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as reader:
            held = {row[0] for row in reader.execute(self.held_query)}
        reader.close()
        self.real_fsync(descriptor)
        self.syncs.append((time.monotonic(), held))

    def on_disk_at(self, moment: float) -> set[str]:
        return set().union(*(held for ended, held in self.syncs if ended <= moment))


@pytest.fixture
async def camlo(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(demo_network.settings("HU-CAMLO"))
    yield node
    await node.stop()


def recording(monkeypatch: pytest.MonkeyPatch, node: RunningNode, held: str) -> WalSyncs:
    database = node.settings.node_dir / "congvan.db"
    assert database.exists()
    syncs = WalSyncs(database, held, os.fsync)
    monkeypatch.setattr(os, "fsync", syncs)
    return syncs


@SQLITE_ONLY
async def test_each_accepted_receipt_leaves_after_its_commit_is_on_disk(
    demo_network: DemoNetwork,
    camlo: RunningNode,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    syncs = recording(
        monkeypatch, camlo, "SELECT id FROM inbound_dispatches WHERE state = 'accepted'"
    )
    folders = [tmp_path / f"out{i}" for i in range(6)]
    ids = [seal_document(demo_network, folder).id for folder in folders]
    answered: dict[str, float] = {}

    async def deliver(folder: Path, dispatch_id: str) -> None:
        async with aiohttp.ClientSession() as session:
            client = PeerClient(session, camlo.peer_url, node_context(demo_network, "TU"))
            receipt = await client.deliver(folder)
        answered[dispatch_id] = time.monotonic()
        assert receipt["body"]["status"] == "accepted"

    await asyncio.gather(*(deliver(f, i) for f, i in zip(folders, ids, strict=True)))

    for dispatch_id, moment in answered.items():
        assert dispatch_id in syncs.on_disk_at(moment), f"{dispatch_id} answered before on disk"


@SQLITE_ONLY
async def test_an_smtp_250_is_answered_after_the_queued_message_is_on_disk(
    demo_network: DemoNetwork, camlo: RunningNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs = recording(monkeypatch, camlo, "SELECT id FROM mail_queue")
    account = demo_network.account("HU-CAMLO", "staff")
    message = message_from(account["email"], [account["email"]], "Bền vững", "Nội dung")

    def submit() -> tuple[str, float]:
        with smtplib.SMTP(camlo.settings.smtp.host, camlo.settings.smtp.port) as client:
            client.starttls(context=client_context(demo_network))
            client.login(account["username"], account["app_password"])
            client.mail(account["email"])
            client.rcpt(account["email"])
            code, reply = client.data(message.as_bytes())
        assert code == 250, reply
        return reply.decode().rsplit(" ", 1)[-1], time.monotonic()

    queue_id, moment = await asyncio.to_thread(submit)

    assert queue_id in syncs.on_disk_at(moment)


async def test_one_fsync_serves_every_promise_that_waited_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: while one sync runs, all who arrive share the next one."""
    wal = tmp_path / "congvan.db-wal"
    wal.write_bytes(b"frames")
    first_started, release = threading.Event(), threading.Event()
    synced: list[int] = []
    real_fsync = os.fsync

    def slow_fsync(descriptor: int) -> None:
        if is_wal(descriptor):
            synced.append(descriptor)
            first_started.set()
            release.wait(timeout=10)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    durable = DurableCommits(wal)
    first = asyncio.create_task(durable.sync())
    await asyncio.to_thread(first_started.wait, 10)
    waiting = [asyncio.create_task(durable.sync()) for _ in range(20)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in waiting)  # the running sync may predate them
    release.set()
    await asyncio.gather(first, *waiting)

    assert len(synced) == 2


async def test_the_node_keeps_postgresql_commits_synchronous(camlo: RunningNode) -> None:
    async with camlo.engine.connect() as connection:
        if camlo.engine.dialect.name == "postgresql":
            setting = await connection.scalar(text("SHOW synchronous_commit"))
            assert setting == "on"
            assert DurableCommits.for_settings(camlo.settings).wal_file is None
        else:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            wal_file = DurableCommits.for_settings(camlo.settings).wal_file
            assert wal_file == camlo.settings.node_dir / "congvan.db-wal"


@pytest.mark.timeout(60)
async def test_promises_arriving_as_a_sync_ends_all_return(tmp_path: Path) -> None:
    """Two hundred peers' answers wait for their commits, 4,000 in all, arriving at random
    moments: some come just as a sync ends. Each returns, and the event loop is never held
    (a caller that found the ended sync still running once spun for good: the node answered
    nobody and ignored SIGTERM)."""
    wal = tmp_path / "congvan.db-wal"
    wal.write_bytes(b"frames")
    durable = DurableCommits(wal)
    rng = random.Random(1)
    returned = 0

    async def answers() -> None:
        nonlocal returned
        for _ in range(20):
            await asyncio.sleep(rng.random() * 0.002)
            await durable.sync()
            returned += 1

    await asyncio.gather(*(answers() for _ in range(200)))
    assert returned == 4000
