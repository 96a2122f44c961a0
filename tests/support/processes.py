"""``congvan serve`` in a process of its own: started as an operator starts it, stopped with
SIGTERM, or killed with SIGKILL as a power cut or the OOM killer would."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.support.cli import CONGVAN, Cli

STARTUP_SECONDS = 30


class NodeProcess:
    """One node folder served by ``congvan serve --dir``; every start logs (JSON lines) to
    ``log_path``, a file the secrets guard reads."""

    def __init__(
        self, cli: Cli, node_dir: Path, log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.cli = cli
        self.node_dir = node_dir
        self.log_path = log_path
        self.env = env or {}
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        assert not self.running, "already running"
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [CONGVAN, "serve", "--dir", str(self.node_dir)],
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=self.cli.environment(self.env),
            )
        self.starts += 1

    async def started(self, seconds: float = STARTUP_SECONDS) -> None:
        """Wait until this start logged ``node.started`` (its listeners are up); on a busy
        machine several processes starting at once need longer than the default."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.running, f"congvan serve exited early; see {self.log_path}"
            if len(self.events("node.started")) >= self.starts:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"congvan serve did not start in time; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed or given back."""
        assert self._process is not None and self.running
        self._process.send_signal(signal.SIGKILL)
        assert self._process.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        """SIGTERM, as an operator stops a node; a node that does not stop is killed."""
        if self._process is None or not self.running:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
            raise AssertionError(f"congvan serve ignored SIGTERM; see {self.log_path}") from None

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines written so far (of every start), optionally one event's only."""
        if not self.log_path.exists():
            return []
        found = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a traceback printed outside the JSON logger
            if isinstance(entry, dict) and (name is None or entry.get("event") == name):
                found.append(entry)
        return found
