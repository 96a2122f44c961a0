"""A TCP proxy that delays every byte by a fixed time each way: a WAN link of a given round
trip, on loopback, for the benchmarks.

It forwards both ways at full speed and only adds latency (a byte read at t leaves at
t + delay), so a sender that waits for each answer pays the round trip every time, and one that
keeps several requests in flight does not (issue 23: the delivery window over a 50 ms link).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each piece ``delay`` seconds after it was read, in order."""
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await pieces.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                break
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            pieces.put_nowait((loop.time() + delay, data))
    except OSError:
        pass
    finally:
        pieces.put_nowait((loop.time() + delay, b""))
    with contextlib.suppress(OSError):
        await sender


@contextlib.asynccontextmanager
async def slow_link(
    listen_port: int, target_port: int, one_way_seconds: float
) -> AsyncIterator[None]:
    """Listen on ``listen_port`` and forward each connection to ``target_port`` (loopback),
    ``one_way_seconds`` late in each direction."""

    async def connect(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            server_reader, server = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client.close()
            return
        try:
            await asyncio.gather(
                _pump(client_reader, server, one_way_seconds),
                _pump(server_reader, client, one_way_seconds),
            )
        finally:
            for writer in (client, server):
                writer.close()

    listener = await asyncio.start_server(connect, "127.0.0.1", listen_port)
    try:
        yield
    finally:
        listener.close()
        await listener.wait_closed()


async def _serve_until_stopped(listen_port: int, target_port: int, one_way_seconds: float) -> None:
    async with slow_link(listen_port, target_port, one_way_seconds):
        await asyncio.Event().wait()


def main() -> None:
    """``python -m bench.slow_link LISTEN_PORT TARGET_PORT ONE_WAY_MS``: the link in a process
    of its own, so the benchmark's own work does not delay its bytes (SIGTERM stops it)."""
    listen_port, target_port, one_way_ms = (int(arg) for arg in sys.argv[1:4])
    asyncio.run(_serve_until_stopped(listen_port, target_port, one_way_ms / 1000))


if __name__ == "__main__":
    main()
