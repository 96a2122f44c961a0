"""What a peer call costs: mutual TLS with the CRL check, kept alive and with a new handshake.

All figures are taken against one node in one process: a peer ping on a kept-alive connection
against the staff listener's health check (plain HTTP plus one database query), and a peer ping
that opens a new mutual-TLS connection each time (what a node on a flaky WAN link pays) against
the kept-alive one.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.table import Figure
from config.settings import load_settings
from exchange.tls import peer_client_context
from keys.keystore import node_passphrase
from office.node.app import start_node
from office.node.demo import build_demo

REQUESTS = 300


async def _median_ms(session: aiohttp.ClientSession, url: str, **kwargs: object) -> float:
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        async with session.get(url, **kwargs) as response:  # type: ignore[arg-type]
            await response.read()
            assert response.status == 200
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def run(base_port: int = 11400) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        await build_demo(root, base_port, {})
        province = load_settings(root / "TU", {})
        district = load_settings(root / "HU-CAMLO", {})
        node = await start_node(province)
        try:
            context = peer_client_context(district, node_passphrase(district))
            ping_url = f"{node.peer_url}/exchange/v1/ping"
            async with aiohttp.ClientSession() as session:
                plain = await _median_ms(session, f"{node.web_url}/healthz")
                kept_alive = await _median_ms(session, ping_url, ssl=context)
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True)
            ) as session:
                handshake = await _median_ms(session, ping_url, ssl=context)
        finally:
            await node.stop()
    return [
        Figure("peer ping, kept alive", kept_alive, "healthz (HTTP + DB query)", plain, "ms"),
        Figure(
            "peer ping, new mTLS handshake", handshake, "peer ping, kept alive", kept_alive, "ms"
        ),
    ]
