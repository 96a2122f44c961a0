"""``python -m bench``: run every benchmark and print one table, then how long each part took
(the whole run is meant to fit in 15 minutes).

Each part listens on fixed ports of its own (``base_port``) below Linux's ephemeral range
(32768-60999): a port in that range can be taken at any moment as the local end of some
outgoing connection, which once stopped a run with "address already in use"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bench import exchange, network_sim, office, peer_ping, report, smtp
from bench.table import Figure, render
from config.logging import configure_logging
from config.settings import LogSettings

#: Each part in the order it runs. network_sim: 500 communes, long poll against polling,
#: 60 s windows (120 s: BENCH_NETWORK_FULL=1).
PARTS: tuple[tuple[str, Callable[[], Awaitable[list[Figure]]]], ...] = (
    ("peer_ping", peer_ping.run),
    ("exchange", exchange.run),
    ("smtp", smtp.run),
    ("office", office.run),
    ("report", report.run),
    ("network_sim", network_sim.run),
)


async def main() -> None:
    configure_logging(LogSettings(level="warning"))
    figures: list[Figure] = []
    took: list[str] = []
    began = time.monotonic()
    for name, run in PARTS:
        started = time.monotonic()
        figures.extend(await run())
        took.append(f"{name} {time.monotonic() - started:.0f} s")
    print(render(figures))
    print(f"took {time.monotonic() - began:.0f} s: {', '.join(took)}")


if __name__ == "__main__":
    asyncio.run(main())
