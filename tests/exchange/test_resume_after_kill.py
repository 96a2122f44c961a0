"""A node killed in the middle of a large upload: after its restart the upload resumes from the
bytes the receiver holds, instead of starting over, and the dispatch arrives whole, once.

The sending node runs as ``congvan serve`` in its own process and is killed with SIGKILL (no
shutdown code runs, its delivery stays claimed until the lease lapses). In the second test the
receiving node's process is killed the same way and the node comes back in the test's own
process, with a handler that counts hand-overs. Between the two nodes lies a slow link
(tests/support/links.py) that counts the bytes it carries toward the receiver: an upload that
started over would carry the whole payload again.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from sqlalchemy import select

from config.settings import load_settings
from exchange.envelope import HEADER_FILE, PAYLOAD_FILE, Header
from exchange.models import EvidenceEntry, InboundDispatch
from office.node.app import RunningNode, start_node
from tests.support.cli import Cli
from tests.support.links import SlowLink
from tests.support.network import DemoNetwork
from tests.support.nodes import Recorder
from tests.support.ports import free_port_block
from tests.support.processes import NodeProcess
from tests.support.waiting import wait_for

CONTENT_BYTES = 48 * 1024 * 1024  # about 64 MiB of payload once in MIME (base64) and age
LINK_BYTES_PER_SECOND = 24 * 1024 * 1024  # the payload takes about 3 s to cross
SENDER_ENV = {
    "CONGVAN_EXCHANGE_RETRY_BASE_SECONDS": "1",
    "CONGVAN_EXCHANGE_RETRY_CAP_SECONDS": "2",
    "CONGVAN_EXCHANGE_POLL_SECONDS": "1",
    # The shortest lease the settings allow: a killed sender's claim lapses after 10 s.
    "CONGVAN_EXCHANGE_LEASE_SECONDS": "10",
}


class PartWatch:
    """Samples the receiver's ``payload.age.part`` every few milliseconds, keeping each new
    size: a receiver that threw away what it held would show a size going down."""

    def __init__(self, part: Path) -> None:
        self.part = part
        self.sizes: list[int] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PartWatch:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        assert self._task is not None
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task

    async def _sample(self) -> None:
        while True:
            with suppress(FileNotFoundError):
                size = self.part.stat().st_size
                if not self.sizes or self.sizes[-1] != size:
                    self.sizes.append(size)
            await asyncio.sleep(0.005)

    @property
    def held(self) -> int:
        return self.sizes[-1] if self.sizes else 0

    async def reaches(self, at_least: int, seconds: float = 60) -> int:
        deadline = time.monotonic() + seconds
        while self.held < at_least:
            assert time.monotonic() < deadline, f"the receiver holds only {self.held} bytes"
            await asyncio.sleep(0.005)
        return self.held

    async def settled(self, quiet: float = 0.5, seconds: float = 30) -> int:
        """The size once it stopped changing for ``quiet`` seconds."""
        deadline = time.monotonic() + seconds
        last, since = self.held, time.monotonic()
        while time.monotonic() - since < quiet:
            assert time.monotonic() < deadline, "the receiver's part file keeps changing"
            await asyncio.sleep(0.05)
            if self.held != last:
                last, since = self.held, time.monotonic()
        return last


def write_random_file(path: Path, size: int) -> str:
    """Incompressible content (the age chunks must really travel); returns its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(size // (1024 * 1024)):
            block = os.urandom(1024 * 1024)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def queue_large_dispatch(cli: Cli, network: DemoNetwork, content: Path) -> Header:
    """``congvan exchange send`` on the province: sealed and queued, not yet delivered."""
    dispatch_id = cli(
        "exchange",
        "send",
        "--dir",
        network.node_dir("TU"),
        "--from",
        "TU",
        "--to",
        "HU-CAMLO",
        "--file",
        content,
        "--summary",
        "Bản đồ địa chính số hoá",
    ).stdout.strip()
    folder = network.node_dir("TU") / "spool" / "out" / dispatch_id
    header = Header.from_bytes((folder / HEADER_FILE).read_bytes())
    assert header.size == (folder / PAYLOAD_FILE).stat().st_size > CONTENT_BYTES
    return header


def receiver_part(network: DemoNetwork, dispatch_id: str) -> Path:
    return network.node_dir("HU-CAMLO") / "spool" / "in" / dispatch_id / (PAYLOAD_FILE + ".part")


async def start_receiver(network: DemoNetwork, port: int) -> tuple[RunningNode, Recorder]:
    """Cam Lộ in this process, listening behind the slow link, with a handler that counts."""
    settings = load_settings(network.node_dir("HU-CAMLO"), {"CONGVAN_PEER_PORT": str(port)})
    node = await start_node(settings)
    recorder = Recorder()
    node.handlers.replace("document", recorder)
    return node, recorder


async def link_idle(link: SlowLink) -> None:
    async def idle() -> bool:
        return link.open_connections == 0

    await wait_for(idle, seconds=15)


async def wait_delivered(cli: Cli, network: DemoNetwork, dispatch_id: str) -> str:
    """Until the province's ``congvan exchange show`` says delivered; its output."""
    shown = ""

    async def delivered() -> bool:
        nonlocal shown
        result = await asyncio.to_thread(
            cli, "exchange", "show", dispatch_id, "--dir", network.node_dir("TU")
        )
        shown = result.stdout
        return "HU-CAMLO: delivered" in shown

    await wait_for(delivered, seconds=60)
    return shown


def assert_resumed(carried_after_break: int, size: int, held: int) -> None:
    """After the break the link carried the rest of the payload, not the whole of it again.

    TLS records, chunked encoding, the handshake and the offer and commit requests add well
    under 1% and a few KiB; ``held`` is at least a fifth of the payload, so an upload that
    started over at offset 0 cannot fit under the bound.
    """
    rest = size - held
    assert rest <= carried_after_break < rest + size // 100 + 256 * 1024, (
        f"after the break the link carried {carried_after_break} bytes toward the receiver; "
        f"the payload is {size} bytes and the receiver held {held}"
    )


async def assert_received_once(
    node: RunningNode, recorder: Recorder, header: Header, content_sha256: str
) -> None:
    """Accepted once, handed over once, and the file inside is the file that was sent."""
    [handed] = recorder.received
    assert handed.header == header
    assert [sha256_of(path) for path in handed.files] == [content_sha256]
    async with node.sessions() as session:
        row = await session.get(InboundDispatch, header.id)
        events = (
            await session.scalars(
                select(EvidenceEntry.event)
                .where(EvidenceEntry.dispatch_id == header.id)
                .order_by(EvidenceEntry.seq)
            )
        ).all()
    assert row is not None and row.state == "accepted" and row.handled
    assert list(events) == ["offered", "received"]  # the second offer found the first one


async def test_a_sender_killed_mid_upload_resumes_from_the_bytes_the_receiver_holds(
    fresh_network: DemoNetwork, cli: Cli, log_dir: Path, tmp_path: Path
) -> None:
    network = fresh_network
    content_sha256 = write_random_file(tmp_path / "ban-do.bin", CONTENT_BYTES)
    header = queue_large_dispatch(cli, network, tmp_path / "ban-do.bin")
    backend = free_port_block(1)
    sender = NodeProcess(
        cli, network.node_dir("TU"), log_dir / f"sender-killed-{header.id}.log", SENDER_ENV
    )
    with SlowLink(network.settings("HU-CAMLO").peer.port, backend, LINK_BYTES_PER_SECOND) as link:
        receiver, recorder = await start_receiver(network, backend)
        try:
            async with PartWatch(receiver_part(network, header.id)) as watch:
                sender.start()
                try:
                    await watch.reaches(header.size // 5)
                    sender.kill()
                    await link_idle(link)
                    held = await watch.settled()
                    assert held < header.size, "the upload finished before the kill"
                    carried_before_restart = link.bytes_to_node
                    sender.start()
                    shown = await wait_delivered(cli, network, header.id)
                finally:
                    sender.stop()
            await assert_received_once(receiver, recorder, header, content_sha256)
        finally:
            await receiver.stop()

    assert_resumed(link.bytes_to_node - carried_before_restart, header.size, held)
    assert watch.sizes == sorted(watch.sizes), "the receiver's part file shrank"
    assert watch.sizes[-1] == header.size
    assert "HU-CAMLO: delivered, 2 attempts" in shown  # the killed attempt and the resumed one
    assert "receipt: accepted by HU-CAMLO" in shown
    delivered = [e["dispatch_id"] for e in sender.events("dispatch.delivered")]
    assert delivered == [header.id]


async def test_a_receiver_killed_mid_upload_takes_only_the_rest_after_its_restart(
    fresh_network: DemoNetwork, cli: Cli, log_dir: Path, tmp_path: Path
) -> None:
    network = fresh_network
    content_sha256 = write_random_file(tmp_path / "ban-do.bin", CONTENT_BYTES)
    header = queue_large_dispatch(cli, network, tmp_path / "ban-do.bin")
    backend = free_port_block(1)
    sender = NodeProcess(
        cli, network.node_dir("TU"), log_dir / f"sender-{header.id}.log", SENDER_ENV
    )
    receiver_process = NodeProcess(
        cli,
        network.node_dir("HU-CAMLO"),
        log_dir / f"receiver-killed-{header.id}.log",
        {"CONGVAN_PEER_PORT": str(backend)},
    )
    with SlowLink(network.settings("HU-CAMLO").peer.port, backend, LINK_BYTES_PER_SECOND) as link:
        try:
            receiver_process.start()
            await receiver_process.started()
            async with PartWatch(receiver_part(network, header.id)) as watch:
                sender.start()
                await watch.reaches(header.size // 5)
                receiver_process.kill()
                await link_idle(link)
                held = await watch.settled()
                assert held < header.size, "the upload finished before the kill"
                carried_before_restart = link.bytes_to_node
                receiver, recorder = await start_receiver(network, backend)
                try:
                    shown = await wait_delivered(cli, network, header.id)
                    await assert_received_once(receiver, recorder, header, content_sha256)
                finally:
                    await receiver.stop()
        finally:
            sender.stop()
            receiver_process.stop()

    assert_resumed(link.bytes_to_node - carried_before_restart, header.size, held)
    assert watch.sizes == sorted(watch.sizes), "the receiver's part file shrank"
    assert watch.sizes[-1] == header.size
    assert "HU-CAMLO: delivered" in shown and "receipt: accepted by HU-CAMLO" in shown
    assert sender.events("dispatch.retry"), "the sender never noticed the broken upload"


async def test_a_long_upload_keeps_its_lease_so_a_second_sender_process_does_not_take_over(
    fresh_network: DemoNetwork, cli: Cli, log_dir: Path, tmp_path: Path
) -> None:
    """Two processes serve the province from one database. The upload outlasts the 10 s lease
    (about 16 s on a 4 MiB/s link); the worker renews its lease as it goes, so the other
    process never claims the delivery: one attempt, delivered once."""
    network = fresh_network
    content_sha256 = write_random_file(tmp_path / "ban-do.bin", CONTENT_BYTES)
    header = queue_large_dispatch(cli, network, tmp_path / "ban-do.bin")
    backend = free_port_block(1)
    first = NodeProcess(cli, network.node_dir("TU"), log_dir / f"first-{header.id}.log", SENDER_ENV)
    second: NodeProcess | None = None
    with SlowLink(network.settings("HU-CAMLO").peer.port, backend, 4 * 1024 * 1024):
        receiver, recorder = await start_receiver(network, backend)
        try:
            async with PartWatch(receiver_part(network, header.id)) as watch:
                first.start()
                await watch.reaches(1)
                # Its ports are chosen just before it starts: chosen earlier, another test's
                # node (another worker's) may take them while the upload runs.
                other_ports = free_port_block(2)
                second = NodeProcess(
                    cli,
                    network.node_dir("TU"),
                    log_dir / f"second-{header.id}.log",
                    {
                        **SENDER_ENV,
                        "CONGVAN_WEB_PORT": str(other_ports),
                        "CONGVAN_PEER_PORT": str(other_ports + 1),
                    },
                )
                second.start()
                await second.started()
                shown = await wait_delivered(cli, network, header.id)
            await assert_received_once(receiver, recorder, header, content_sha256)
        finally:
            first.stop()
            if second is not None:
                second.stop()
            await receiver.stop()
    assert second is not None
    assert "HU-CAMLO: delivered, 1 attempts" in shown
    assert second.events("dispatch.delivered") == []
    assert [e["dispatch_id"] for e in first.events("dispatch.delivered")] == [header.id]
