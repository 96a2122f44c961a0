"""``congvan serve`` and the signals an operator sends it: ``SIGUSR1`` writes every thread's
stack to the node's log and the node goes on (to see where a node that does not answer is
stuck: the dump is written at once, even while a step holds the event loop); ``SIGTERM``
stops it cleanly."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.support.cli import Cli
from tests.support.network import DemoNetwork
from tests.support.processes import NodeProcess
from tests.support.waiting import wait_for


async def test_sigusr1_writes_every_thread_s_stack_to_the_log_and_the_node_goes_on(
    cli: Cli, demo_network: DemoNetwork, log_dir: Path
) -> None:
    node = NodeProcess(cli, demo_network.node_dir("TU"), log_dir / "tu-signals.log")
    node.start()
    try:
        await node.started()
        threads_before = node.threads()
        node.send(signal.SIGUSR1)

        def log() -> str:
            return node.log_path.read_text(encoding="utf-8", errors="replace")

        async def dumped() -> bool:
            return "(most recent call first)" in log()

        await wait_for(dumped)
        await asyncio.sleep(0.5)
        # Every thread the kernel counts: the main one (in the event loop, or in a database
        # call's greenlet, whose stack stops there) and whatever database and executor threads
        # the node has started (SQLite's driver has one; PostgreSQL's none).
        threads = min(threads_before, node.threads())
        assert log().count("(most recent call first)") >= threads >= 1
        assert "no stack dump" not in node.stack_dump()
        await asyncio.sleep(0.5)
        assert node.running
    finally:
        node.stop()
    assert node.events("node.stopped")
