"""``congvan serve`` in a process of its own: started as an operator starts it, stopped with
SIGTERM, or killed with SIGKILL as a power cut or the OOM killer would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import subprocess
import time
import weakref
from pathlib import Path
from typing import Any

from tests.support.cli import CONGVAN, Cli

STARTUP_SECONDS = 30
STOP_SECONDS = 30
KILL_SECONDS = 60

#: Every node process a test started: whatever the test left running (it failed, or
#: pytest-timeout broke out of it before its own ``finally``) is stopped after it by the
#: ``no_node_left_running`` fixture, so one hung test does not hold the ports of the next.
_started: weakref.WeakSet[NodeProcess] = weakref.WeakSet()


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
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

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
        _started.add(self)

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
        """SIGKILL: no shutdown handler runs, nothing is flushed or given back. A process ends
        only once each of its threads leaves the kernel: one in an ``fsync`` on a busy disk
        can take a while, so a slow end is waited for and, if it never comes, reported with
        what the threads were waiting on."""
        assert self._process is not None and self.running
        self._process.send_signal(signal.SIGKILL)
        try:
            returncode = self._process.wait(timeout=KILL_SECONDS)
        except subprocess.TimeoutExpired:
            state = kernel_state(self._process.pid)
            raise AssertionError(f"congvan serve outlived SIGKILL: {state}") from None
        assert returncode == -signal.SIGKILL

    def threads(self) -> int:
        """How many threads the process has now, as the kernel counts them."""
        assert self._process is not None and self.running
        return len(list(Path(f"/proc/{self._process.pid}/task").iterdir()))

    def send(self, signum: signal.Signals) -> None:
        assert self._process is not None and self.running
        self._process.send_signal(signum)

    def stop(self) -> None:
        """SIGTERM, as an operator stops a node; a node that does not stop is killed."""
        stop_all([self])

    def _terminate(self) -> None:
        if self._process is not None and self.running:
            self._process.send_signal(signal.SIGTERM)

    def _ended(self, deadline: float) -> str | None:
        """``None`` if the process ended by ``deadline``; else what its threads were waiting
        on then (it is killed)."""
        if self._process is None:
            return None
        try:
            self._process.wait(timeout=max(0.0, deadline - time.monotonic()))
            return None
        except subprocess.TimeoutExpired:
            state = kernel_state(self._process.pid)
            self._process.send_signal(signal.SIGUSR1)  # its threads' stacks into its log
            time.sleep(1)
            self._process.kill()
            self._process.wait(timeout=KILL_SECONDS)
            return f"{state}; its threads were at: {self.stack_dump()}"

    def stack_dump(self) -> str:
        """Each thread's innermost frames in the dumps ``SIGUSR1`` made (faulthandler's
        format: a "Thread 0x…" or "Current thread 0x…" line, then its "  File" lines)."""
        if not self.log_path.exists():
            return "no log"
        threads: list[list[str]] = []
        reading = False
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("Thread 0x", "Current thread 0x")):
                threads.append([])
                reading = True
            elif reading and line.startswith("  File"):
                threads[-1].append(line.strip())
            else:
                reading = False
        return " | ".join(" <- ".join(frames[:3]) for frames in threads[-12:]) or "no stack dump"

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


def stop_all(processes: list[NodeProcess]) -> None:
    """SIGTERM to every one at once, then wait: each is killed if it has not stopped within
    ``STOP_SECONDS``, and every one is stopped before those that ignored SIGTERM are
    reported."""
    for process in processes:
        process._terminate()
    deadline = time.monotonic() + STOP_SECONDS
    ignored = {process.log_path: process._ended(deadline) for process in processes}
    stuck = [f"{log} (threads {state})" for log, state in ignored.items() if state is not None]
    if stuck:
        raise AssertionError(f"congvan serve ignored SIGTERM; see {', '.join(stuck)}")


def started_so_far() -> set[NodeProcess]:
    return set(_started)


def stop_left_running(earlier: set[NodeProcess]) -> None:
    """Stop the node processes started since ``earlier`` that are still running (a test's
    teardown). One that ignores SIGTERM is killed; the test that left it reports its own
    failure."""
    left = [process for process in list(_started) if process.running and process not in earlier]
    with contextlib.suppress(AssertionError):
        stop_all(left)


def kernel_state(pid: int) -> str:
    """Each thread's state and what it waits on in the kernel (``D`` and ``fsync``…), for a
    process that does not end."""
    states = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        try:
            stat = (task / "stat").read_text()
            wchan = (task / "wchan").read_text()
        except OSError:
            continue
        states.append(f"{task.name}:{stat.rsplit(')', 1)[1].split()[0]}/{wchan or '-'}")
    return " ".join(states) or "gone"


def port_holders(port: int, state: str) -> list[int]:
    """The pids holding TCP sockets on local ``port`` in ``state`` (``ss``), one per socket."""
    listing = subprocess.run(
        ["ss", "-tnpH", "state", state, "sport", "=", f":{port}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [int(pid) for pid in re.findall(r"pid=(\d+)", listing)]
