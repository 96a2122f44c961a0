"""More processes on the node's SMTP port (``[smtp] processes``) or staff web port (``[web]
processes``), past one.

One Python process uses one core; a node with two or more cores takes mail and serves pages
faster with several. ``congvan serve`` starts ``processes - 1`` children of each kind
(``congvan serve-smtp``, ``congvan serve-web``), which bind the same port (SO_REUSEPORT: the
kernel spreads connections among them) and run only what their listener needs: the
submission listener or the staff web listener, a mail delivery worker and the usage ledger's
flush (each process counts its own accesses). Everything they share is in the database and
the blob and Maildir folders: an accepted message's rows are committed (and synced) before
its 250, whichever process took it; staff sessions, sign-in throttling and one-time form ids
are rows, and form tokens are keyed by the node's passphrase, so a page one process served
posts to another; the delivery workers claim jobs with an UPDATE that takes only free ones,
so each message is delivered once. The rest of the node's work (the peer API, the outbox's
deliveries, the search indexer, the sweeper, reminders, reports) stays in the one ``serve``
process: its claims assume one process on SQLite.

A child that dies is started again after a pause; stopping the node stops the children first.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Literal

from config.logging import get_logger

log = get_logger("congvan.node.children")

RESTART_SECONDS = 1.0
STOP_SECONDS = 30.0


#: What a child serves: ``smtp`` (``congvan serve-smtp``) or ``web`` (``congvan serve-web``).
Listener = Literal["smtp", "web"]


def command(node_dir: Path, listener: Listener) -> list[str]:
    """The command line of one more process of the node in ``node_dir`` on ``listener``."""
    return [sys.executable, "-m", "office.node.cli", f"serve-{listener}", "--dir", str(node_dir)]


class ChildProcesses:
    """``count`` children serving ``listener``, each kept running until :meth:`stop`."""

    def __init__(self, node_dir: Path, count: int, listener: Listener) -> None:
        self.node_dir = node_dir
        self.count = count
        self.listener = listener
        self.children: list[asyncio.subprocess.Process | None] = [None] * count
        self._stopping = asyncio.Event()
        self._keepers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._keepers = [asyncio.create_task(self._keep(index)) for index in range(self.count)]

    async def _keep(self, index: int) -> None:
        while not self._stopping.is_set():
            child = await asyncio.create_subprocess_exec(*command(self.node_dir, self.listener))
            self.children[index] = child
            if self._stopping.is_set():  # stop() came while it started: it missed this one
                child.send_signal(signal.SIGTERM)
            log.info("node.child_started", listener=self.listener, pid=child.pid)
            code = await child.wait()
            if self._stopping.is_set():
                return
            log.error("node.child_exited", listener=self.listener, pid=child.pid, code=code)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RESTART_SECONDS)

    async def stop(self) -> None:
        """SIGTERM to each child (it stops as ``serve`` does: listener first, then workers)."""
        self._stopping.set()
        for child in self.children:
            if child is not None and child.returncode is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            if child is None:
                continue
            try:
                await asyncio.wait_for(child.wait(), STOP_SECONDS)
            except TimeoutError:
                log.error("node.child_killed", listener=self.listener, pid=child.pid)
                child.kill()
                await child.wait()
        await asyncio.gather(*self._keepers, return_exceptions=True)
