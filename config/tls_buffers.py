"""One TLS read buffer per thread instead of one per connection.

asyncio's TLS protocol (``asyncio.sslproto.SSLProtocol``, CPython 3.11) gives each connection
a 256 KiB buffer of its own, zero-filled when the connection opens and so resident at once,
for the socket reads it hands to OpenSSL. A hub holds a connection open for every commune
asking it (a long poll each): at 500 communes these buffers were 125 MiB of the hub's 281 MiB,
at 5,000 communes 1.25 GiB of its 1.67 GiB, though an idle connection reads nothing.

The buffer holds bytes only from the socket read to the ``MemoryBIO.write`` that copies them
into the connection's TLS state, and the event loop does both in one synchronous step
(``get_buffer``, ``recv_into``, ``buffer_updated`` in the selector transport's read callback):
no other connection of that loop reads in between. So every connection of a thread reads into
the same buffer, of the same size (a big upload is read 256 KiB a system call, as before).

Installed by a serving process at its start, for its server and client connections alike.
"""

from __future__ import annotations

import threading
from asyncio import sslproto
from typing import Any

_per_thread = threading.local()


def _thread_buffer(size: int) -> tuple[bytearray, memoryview]:
    """This thread's read buffer, of at least ``size`` bytes."""
    held: tuple[bytearray, memoryview] | None = getattr(_per_thread, "buffer", None)
    if held is None or len(held[0]) < size:
        buffer = bytearray(size)
        held = (buffer, memoryview(buffer))
        _per_thread.buffer = held
    return held


class SharedReadBufferProtocol(sslproto.SSLProtocol):
    """asyncio's TLS protocol reading into its thread's buffer. The one its ``__init__`` makes
    is dropped at once: freed, it is reused by the next connection's, not kept per connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ssl_buffer, self._ssl_buffer_view = _thread_buffer(self.max_size)


def reads_as_expected(protocol: type) -> bool:
    """Whether ``protocol`` reads the way this module relies on: its ``get_buffer`` hands out
    ``_ssl_buffer_view``, sized by ``max_size`` (CPython 3.11's). Another Python's asyncio may
    not, and then it keeps its own buffers rather than fail every TLS connection."""
    get_buffer = getattr(protocol, "get_buffer", None)
    names = getattr(getattr(get_buffer, "__code__", None), "co_names", ())
    return {"_ssl_buffer", "_ssl_buffer_view", "max_size"} <= set(names)


def share_tls_read_buffers() -> bool:
    """Make every TLS connection opened from now on in this process read into its thread's
    buffer (asyncio's event loops build the protocol by this module attribute's name).
    Returns whether it did: not where asyncio's protocol reads otherwise."""
    if not reads_as_expected(sslproto.SSLProtocol):
        return False
    sslproto.SSLProtocol = SharedReadBufferProtocol  # type: ignore[misc]
    return True
