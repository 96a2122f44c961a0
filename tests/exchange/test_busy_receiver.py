"""Under load: a receiver whose database another writer holds answers ``busy`` (503 with
Retry-After), not a 500; the sender tries again later, and the dispatch arrives, once, when the
lock is let go."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config.database import DATABASE_FILE
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE
from exchange.outbox import Outbox, deliveries_of
from exchange.peer_client import API, DIRECT, b64_of_file
from tests.support.databases import using_postgresql
from tests.support.network import DemoNetwork
from tests.support.nodes import draft, start, states
from tests.support.waiting import wait_for

#: The receiver's writers give up after 300 ms instead of 10 s.
SHORT_BUSY_TIMEOUT = {"CONGVAN_DATABASE_BUSY_TIMEOUT_MS": "300"}


@contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """Another connection holds SQLite's write lock, as a long write transaction would."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def offer_again(
    sender: Outbox, receiver: str, dispatch_id: str
) -> tuple[int, str, dict[str, Any]]:
    """The sealed dispatch offered whole, as the sender's client does: the answer's status,
    Retry-After and body."""
    folder = sender.folder(dispatch_id)
    offer = {
        "header": b64_of_file(folder / HEADER_FILE),
        "signature": b64_of_file(folder / HEADER_SIGNATURE_FILE),
        "payload": b64_of_file(folder / PAYLOAD_FILE),
    }
    url = sender.directory.node(receiver).peer_url.rstrip("/") + API + DIRECT
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=offer, ssl=sender.client_context) as response,
    ):
        return response.status, response.headers.get("Retry-After", ""), await response.json()


@pytest.mark.skipif(using_postgresql(), reason="SQLite's database-wide write lock")
async def test_a_receiver_whose_database_is_locked_answers_busy_and_gets_the_dispatch_later(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    province, recorder = await start(demo_network, "TU", **SHORT_BUSY_TIMEOUT)
    camlo, _ = await start(demo_network, "HU-CAMLO")
    try:
        assert camlo.outbox is not None
        with write_locked(demo_network.node_dir("TU") / DATABASE_FILE):
            header = await camlo.outbox.send("HU-CAMLO", draft(tmp_path, ("TU",), summary="bận"))

            async def told_busy() -> bool:
                async with camlo.sessions() as session:
                    [delivery] = await deliveries_of(session, header.id)
                return delivery.state == "retry-wait" and (delivery.last_error or "").startswith(
                    "busy:"
                )

            await wait_for(told_busy)
            status, retry_after, body = await offer_again(camlo.outbox, "TU", header.id)
            assert (status, body["error"]) == (503, "busy")
            assert int(retry_after) > 0
            assert recorder.received == []

        async def delivered() -> bool:
            return await states(camlo, header.id) == {"TU": "delivered"}

        await wait_for(delivered)
    finally:
        await camlo.stop()
        await province.stop()
    assert [dispatch.header.id for dispatch in recorder.received] == [header.id]
