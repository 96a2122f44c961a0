"""Free loopback ports for nodes started by tests."""

from __future__ import annotations

import random
import socket


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_block(size: int) -> int:
    """The first port of ``size`` consecutive free ports (the demo uses base .. base+21)."""
    for _ in range(200):
        base = random.randrange(20_000, 60_000 - size)
        if all(_free(base + offset) for offset in range(size)):
            return base
    raise RuntimeError("no free block of loopback ports")
