"""``python -m bench``: run every benchmark and print one table."""

from __future__ import annotations

import asyncio

from bench import exchange, network_sim, office, peer_ping, report, smtp
from bench.table import render
from config.logging import configure_logging
from config.settings import LogSettings


async def main() -> None:
    configure_logging(LogSettings(level="warning"))
    figures = [
        *await peer_ping.run(),
        *await exchange.run(),
        *await smtp.run(),
        *await office.run(),
        *await report.run(),
        # 500 communes, long poll against polling, 60 s windows (120 s: BENCH_NETWORK_FULL=1).
        *await network_sim.run(),
    ]
    print(render(figures))


if __name__ == "__main__":
    asyncio.run(main())
