"""A TCP relay on loopback that counts the bytes its clients send and cuts every connection
once, when that count passes a mark: a WAN link that breaks in the middle of an upload.

It runs its own event loop in a thread, so the benchmark that drives the nodes can block.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

BLOCK = 256 * 1024


class CutLink:
    """Listens on ``port`` and relays to ``target_port``; once ``cut_after`` bytes have come
    from the clients, closes every open connection (once; later ones are relayed whole)."""

    def __init__(self, port: int, target_port: int, cut_after: int) -> None:
        self.port, self.target_port, self.cut_after = port, target_port, cut_after
        #: Bytes the clients sent through the relay, in all connections.
        self.sent = 0
        self.cut = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="cut-link", daemon=True)

    def __enter__(self) -> CutLink:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await self._stopping.wait()
        for writer in list(self._writers):
            writer.close()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {client_out, server_out}
        try:
            await asyncio.gather(
                self._pipe(client_in, server_out, counted=True),
                self._pipe(server_in, client_out, counted=False),
            )
        finally:
            for writer in (client_out, server_out):
                self._writers.discard(writer)
                writer.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, counted: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while block := await reader.read(BLOCK):
                if counted:
                    self.sent += len(block)
                writer.write(block)
                await writer.drain()
                if counted and not self.cut and self.sent >= self.cut_after:
                    self.cut = True
                    for open_writer in list(self._writers):
                        open_writer.transport.abort()
        writer.close()
