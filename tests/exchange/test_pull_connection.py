"""A pull node keeps one connection to the hub across its questions: under the long poll it asks
again at once, and a new connection each time would cost the hub a TLS handshake per question
for every commune of the province (issue 23)."""

from __future__ import annotations

import asyncio
import resource
import signal
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from cryptography import x509

from exchange.peer_client import PeerClient
from keys.trust import common_name
from office.node.app import RunningNode
from tests.support.cli import CONGVAN, Cli
from tests.support.dispatches import node_context, seal_document
from tests.support.network import DemoNetwork
from tests.support.nodes import Recorder, start
from tests.support.waiting import wait_for

#: The commune asks again only after an hour unless the hub holds its question open.
ONCE_AN_HOUR = {"CONGVAN_EXCHANGE_PULL_SECONDS": "3600", "CONGVAN_EXCHANGE_PULL_WAIT_SECONDS": "20"}


def connections_from(hub: RunningNode, node: str) -> set[int]:
    """The client ports of the hub's open connections whose certificate names ``node``."""
    ports = set()
    for runner in hub.runners:
        assert runner.server is not None
        for handler in runner.server.connections:
            transport = handler.transport
            tls = transport.get_extra_info("ssl_object") if transport else None
            certificate = tls.getpeercert(binary_form=True) if tls else None
            if certificate and common_name(x509.load_der_x509_certificate(certificate)) == node:
                assert transport is not None
                ports.add(transport.get_extra_info("peername")[1])
    return ports


async def test_a_pull_node_asks_the_hub_again_over_the_same_connection(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    tu_dir = fresh_network.node_dir("TU")
    cli("units", "set-pull", "--dir", tu_dir, "HU-CAMLO")
    cli("keys", "directory", "--dir", tu_dir)
    hub, _ = await start(fresh_network, "TU", **ONCE_AN_HOUR)
    camlo, recorder = await start(fresh_network, "HU-CAMLO", **ONCE_AN_HOUR)
    try:
        assert hub.relay is not None
        waiters = hub.relay.waiters

        async def camlo_waits_at_the_hub() -> bool:
            return waiters.waiting("HU-CAMLO")

        await wait_for(camlo_waits_at_the_hub)
        seen = [connections_from(hub, "HU-CAMLO")]
        # Each dispatch answers the question held open; Cam Lộ takes it and asks again.
        for number in (1, 2):
            await send_to_camlo(fresh_network, hub, tmp_path / f"out-{number}")
            await wait_for(received(recorder, number))
            await wait_for(camlo_waits_at_the_hub)
            seen.append(connections_from(hub, "HU-CAMLO"))
    finally:
        await camlo.stop()
        await hub.stop()
    assert len(seen[0]) == 1 and seen[0] == seen[1] == seen[2], seen


async def send_to_camlo(network: DemoNetwork, hub: RunningNode, folder: Path) -> None:
    seal_document(network, folder, sender_node="TX-DONGHA", sender_unit="TX-DONGHA")
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, hub.peer_url, node_context(network, "TX-DONGHA"))
        await client.relay(folder, "HU-CAMLO")


def received(recorder: Recorder, count: int) -> Callable[[], Awaitable[bool]]:
    async def enough() -> bool:
        return len(recorder.received) >= count

    return enough


async def test_a_node_served_with_a_low_open_files_limit_raises_it_to_the_hard_one(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    """A hub holds a connection for each commune asking it: 1,024 open files (systemd's and
    most shells' soft limit) is a province of fewer than a thousand communes."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def low_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    with (tmp_path / "serve.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *(CONGVAN, "serve", "--dir", str(fresh_network.node_dir("TU"))),
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=cli.environment(),
            preexec_fn=low_soft_limit,
        )
    try:

        async def raised() -> bool:
            assert process.returncode is None, (tmp_path / "serve.log").read_text()
            return resource.prlimit(process.pid, resource.RLIMIT_NOFILE) == (hard, hard)

        await wait_for(raised)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
