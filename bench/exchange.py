"""Exchange throughput and memory, each against a baseline measured in the same run.

1. Dispatches per second for 10 KB documents from TU to HU-CAMLO (seal, offer, upload,
   commit with every check, signed receipt), the two nodes running as two ``congvan serve``
   processes and the dispatches queued by this process as ``congvan exchange send`` would,
   with the median time from queued to receipt; against the dispatch floor
   (:mod:`bench.floor`: the signatures, encryption and fsyncs any design pays, one thread).
   Then the same with TU reaching HU-CAMLO through a link of 50 ms round trip
   (:mod:`bench.slow_link`), where only the deliveries kept in flight together hide it.
   (The earlier baseline, raw aiohttp POSTs of the same bytes with both nodes in this one
   process, is gone: it neither signs, encrypts nor writes durably, so it judged nothing.)
2. One big document (1 GiB unless ``BENCH_BIG_MIB`` says otherwise), nodes in their own
   processes: peak RSS of each node and MB/s end to end, against ``age`` encrypting and
   decrypting the same file.
3. The same document again through a relay that breaks the link once half of it went
   through (:mod:`bench.cut_link`): the bytes sent beyond the payload's size until the
   receipt, as a share of it (what the cut costs in bytes sent twice, plus the TLS and HTTP
   framing of the whole, some 0.1 %).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bench import floor
from bench.cut_link import CutLink
from bench.table import Figure
from config.database import open_database
from config.settings import Settings, load_settings
from exchange.cli import open_exchange
from exchange.envelope import Attachment, Draft
from exchange.models import Delivery
from exchange.outbox import Outbox, deliveries_of
from office.node.demo import build_demo

SMALL_COUNT = 200
SMALL_BYTES = 10 * 1024
CONGVAN = str(Path(sys.executable).with_name("congvan"))
FAST = {"CONGVAN_EXCHANGE_POLL_SECONDS": "1", "CONGVAN_LOG_LEVEL": "warning"}
#: The round trip of the slow link the second two-process measure goes through (issue 23).
LINK_ROUND_TRIP_MS = 50


async def _queue_small(outbox: Outbox, root: Path) -> list[str]:
    """Queue SMALL_COUNT 10 KB documents from TU to HU-CAMLO; their dispatch ids."""
    document = root / "document.bin"
    document.write_bytes(os.urandom(SMALL_BYTES))
    ids = []
    for number in range(SMALL_COUNT):
        draft = Draft(
            recipients=("HU-CAMLO",),
            kind="document",
            metadata={"summary": f"bench {number}"},
            attachments=(Attachment("document.bin", document),),
        )
        ids.append((await outbox.send("TU", draft)).id)
    return ids


def _serve(
    root: Path,
    names: tuple[str, ...],
    env: dict[str, str],
    overrides: dict[str, dict[str, str]] | None = None,
) -> list[subprocess.Popen[bytes]]:
    """Start ``congvan serve`` for each node and wait until each accepts peer connections;
    ``overrides``: more environment for some of them (by node name)."""
    envs = [{**env, **(overrides or {}).get(name, {})} for name in names]
    nodes = [
        subprocess.Popen(
            [CONGVAN, "serve", "--dir", str(root / name)],
            env=node_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, node_env in zip(names, envs, strict=True)
    ]
    for name, process, node_env in zip(names, nodes, envs, strict=True):
        port = load_settings(root / name, node_env).peer.port
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    _stop(nodes)  # none is left running when one cannot start
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.1)
    return nodes


def _stop(nodes: list[subprocess.Popen[bytes]]) -> None:
    for process in nodes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in nodes:
        process.wait(timeout=60)


async def _queued_and_delivered(root: Path, env: dict[str, str]) -> tuple[float, float]:
    """Queue SMALL_COUNT dispatches at TU (a running node delivers them); dispatches a second
    from the first queued to the last receipt, and the median seconds from queued to receipt."""
    settings = load_settings(root / "TU", env)
    async with open_exchange(settings) as parts:
        started = time.perf_counter()
        ids = await _queue_small(parts.outbox, root)
        async with open_database(settings) as sessions:
            while True:
                async with sessions() as session:
                    rows = (
                        await session.execute(
                            select(Delivery.state, Delivery.created_at, Delivery.decided_at).where(
                                Delivery.dispatch_id.in_(ids)
                            )
                        )
                    ).all()
                states = {state for state, _created, _decided in rows}
                if states == {"delivered"} and len(rows) == len(ids):
                    break
                if states & {"refused", "failed"}:
                    raise RuntimeError(f"bench dispatches not delivered: {states}")
                await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    latencies = sorted((decided - created).total_seconds() for _s, created, decided in rows)
    return SMALL_COUNT / elapsed, latencies[len(latencies) // 2]


def _between_processes(root: Path, link_port: int | None = None) -> tuple[float, float]:
    """With ``link_port``, HU-CAMLO listens there and TU reaches it, at the address the
    directory gives, through a link of ``LINK_ROUND_TRIP_MS`` (:mod:`bench.slow_link`)."""
    env = {**os.environ, **FAST}
    if link_port is None:
        nodes = _serve(root, ("TU", "HU-CAMLO"), env)
        try:
            return asyncio.run(_queued_and_delivered(root, env))
        finally:
            _stop(nodes)
    published = load_settings(root / "HU-CAMLO", env).peer.port
    one_way_ms = str(LINK_ROUND_TRIP_MS // 2)
    link = subprocess.Popen(
        [sys.executable, "-m", "bench.slow_link", str(published), str(link_port), one_way_ms],
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        camlo = {"CONGVAN_PEER_PORT": str(link_port)}
        nodes = _serve(root, ("TU", "HU-CAMLO"), env, {"HU-CAMLO": camlo})
        try:
            return asyncio.run(_queued_and_delivered(root, env))
        finally:
            _stop(nodes)
    finally:
        link.terminate()
        link.wait(timeout=30)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _big_env(size_mib: int) -> dict[str, str]:
    return {
        **os.environ,
        **FAST,
        "CONGVAN_EXCHANGE_SEND_TIMEOUT_SECONDS": "86400",
        "CONGVAN_EXCHANGE_MAX_DISPATCH_BYTES": str(4 * size_mib * 1024 * 1024),
        "CONGVAN_EXCHANGE_RETRY_BASE_SECONDS": "1",
    }


def _big_transfer(root: Path, size_mib: int) -> tuple[float, float, float]:
    """MB/s end to end, and the peak RSS (MiB) of the sending and the receiving node."""
    big = root / "big.bin"
    with big.open("wb") as handle:
        for _ in range(size_mib):
            handle.write(os.urandom(1024 * 1024))
    env = _big_env(size_mib)
    sender, receiver = _serve(root, ("TU", "HU-CAMLO"), env)
    try:
        # A node seals binary parts only for a peer that said it reads them, in its answer
        # to an earlier offer: as between any two nodes that have exchanged before.
        small = root / "small.bin"
        small.write_bytes(os.urandom(SMALL_BYTES))
        asyncio.run(_delivered(load_settings(root / "TU", env), _send(root, small, env)))
        started = time.perf_counter()
        dispatch_id = _send(root, big, env)
        asyncio.run(_delivered(load_settings(root / "TU", env), dispatch_id))
        elapsed = time.perf_counter() - started
        return size_mib / elapsed, _peak_rss_mib(sender.pid), _peak_rss_mib(receiver.pid)
    finally:
        _stop([sender, receiver])


def _cut_transfer(root: Path, size_mib: int) -> tuple[int, int]:
    """Send ``big.bin`` again through a relay (:class:`CutLink`) that breaks the link once
    half the payload went through: the bytes the sending node sent through it until the
    receipt (TLS records, HTTP and the offers included), and the payload's size."""
    env = _big_env(size_mib)
    port = load_settings(root / "HU-CAMLO", env).peer.port  # where the directory points
    with socket.socket() as probe:  # a free port for the receiving node, behind the relay
        probe.bind(("127.0.0.1", 0))
        behind_port = probe.getsockname()[1]
    behind = {**env, "CONGVAN_PEER_PORT": str(behind_port)}
    payload_bytes = size_mib * 1024 * 1024  # about the ciphertext's (binary parts)
    with CutLink(port, behind_port, cut_after=payload_bytes // 2) as link:
        (receiver,) = _serve(root, ("HU-CAMLO",), behind)
        (sender,) = _serve(root, ("TU",), env)
        try:
            dispatch_id = _send(root, root / "big.bin", env)
            asyncio.run(_delivered(load_settings(root / "TU", env), dispatch_id))
        finally:
            _stop([sender, receiver])
        sealed = root / "TU" / "spool" / "out" / dispatch_id / "header.json"
        if not link.cut:
            raise RuntimeError("the link was never cut")
        return link.sent, int(json.loads(sealed.read_text())["size"])


def _send(root: Path, document: Path, env: dict[str, str]) -> str:
    """``congvan exchange send`` of ``document`` from TU to HU-CAMLO: the dispatch id."""
    return subprocess.run(
        [
            CONGVAN,
            "exchange",
            "send",
            "--dir",
            str(root / "TU"),
            "--from",
            "TU",
            "--to",
            "HU-CAMLO",
            "--file",
            str(document),
            "--summary",
            document.name,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


async def _delivered(settings: Settings, dispatch_id: str) -> None:
    """Wait for the delivery by reading the sending node's database. Not by running
    ``congvan exchange show``: a CLI process a poll kept about a core busy with Python start-up
    on the machine whose CPUs the nodes were being measured on."""
    async with open_database(settings) as sessions:
        while True:
            async with sessions() as session:
                states = {delivery.state for delivery in await deliveries_of(session, dispatch_id)}
            if states == {"delivered"}:
                return
            if states & {"refused", "failed"}:
                raise RuntimeError(f"big dispatch not delivered: {states}")
            await asyncio.sleep(0.2)


def _age_round_trip(root: Path, size_mib: int) -> float:
    """MB/s of `age` encrypting then decrypting the same file (the baseline for the big run)."""
    identity = root / "bench.agekey"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
    ).stdout.strip()
    started = time.perf_counter()
    subprocess.run(
        ["age", "-r", recipient, "-o", str(root / "big.age"), str(root / "big.bin")], check=True
    )
    subprocess.run(
        ["age", "-d", "-i", str(identity), "-o", str(root / "big.out"), str(root / "big.age")],
        check=True,
    )
    return size_mib / (time.perf_counter() - started)


async def run(base_port: int = 11600) -> list[Figure]:
    size_mib = int(os.environ.get("BENCH_BIG_MIB", "1024"))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        await build_demo(root, base_port, {})
        apart, median = await asyncio.to_thread(_between_processes, root)
        far, far_median = await asyncio.to_thread(_between_processes, root, base_port + 60)
        floor_rate = await asyncio.to_thread(floor.dispatches_per_second, SMALL_COUNT, SMALL_BYTES)
        figures = [
            Figure(
                "10 KB dispatches/s, 2 processes", apart, "dispatch floor (fsync)", floor_rate, "/s"
            ),
            Figure("  queued -> receipt p50, ms", median * 1000, "", 0.0, ""),
            Figure(
                f"  same over a {LINK_ROUND_TRIP_MS} ms RTT link",
                far,
                "dispatch floor (fsync)",
                floor_rate,
                "/s",
            ),
            Figure("  queued -> receipt p50, ms", far_median * 1000, "", 0.0, ""),
        ]
        if shutil.which("age") and size_mib > 0:
            speed, sender_rss, receiver_rss = await asyncio.to_thread(_big_transfer, root, size_mib)
            age_speed = await asyncio.to_thread(_age_round_trip, root, size_mib)
            sent, size = await asyncio.to_thread(_cut_transfer, root, size_mib)
            figures += [
                Figure(
                    f"{size_mib} MiB dispatch, MB/s", speed, "age encrypt+decrypt", age_speed, ""
                ),
                Figure("peak RSS sending node, MiB", sender_rss, "limit", 100.0, ""),
                Figure("peak RSS receiving node, MiB", receiver_rss, "limit", 100.0, ""),
                Figure(
                    "  link cut at half: bytes sent over, %",
                    100 * (sent - size) / size,
                    "limit",
                    1.0,
                    "",
                ),
            ]
    return figures
