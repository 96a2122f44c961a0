"""Free loopback ports for nodes started by tests."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_low() -> int:
    """Where the kernel starts picking client ports: a node's port, chosen once and bound again
    by every test of a module, must stay below it, or a client connection (to PostgreSQL, say)
    may hold it in between."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _worker_slice(low: int, high: int) -> tuple[int, int]:
    """This xdist worker's share of ``low``..``high``: a block is free when chosen, but the
    nodes that take it start later, and another worker choosing the same ports meanwhile
    made a node fail with "cannot listen" (seen in CI). Workers never share a port now."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(worker) if worker.isdigit() else 0
    width = (high - low) // max(count, 1)
    return low + index * width, low + (index + 1) * width


#: Every port this process handed out: a block is free when chosen, but its nodes bind it
#: later, and only while they run; a second block chosen meanwhile looked free there too and
#: took a port of the first (a province's SMTP port: "cannot listen", seen in CI).
_handed_out: set[int] = set()


def free_port_block(size: int) -> int:
    """The first port of ``size`` consecutive free ports (the demo uses base .. base+22), in
    this worker's share of the range, none of them handed out before by this process."""
    low, high = _worker_slice(20_000, min(_ephemeral_low(), 60_000))
    for _ in range(200):
        base = random.randrange(low, high - size)
        block = range(base, base + size)
        if _handed_out.isdisjoint(block) and all(_free(port) for port in block):
            _handed_out.update(block)
            return base
    raise RuntimeError("no free block of loopback ports")
