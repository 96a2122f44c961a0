"""A slow WAN link on loopback: a TCP relay in front of a node's peer port.

The nodes still speak mutual TLS end to end through it; the link only limits the speed toward
the node, so that a large upload takes long enough to be broken in the middle, and counts the
bytes it carried toward the node, so that a test can tell an upload that resumed from one that
started over. Asked to (:meth:`SlowLink.cut_next`), it drops a connection in the middle of
what it carries, as a WAN link that breaks. It runs in threads of its own: a
test may block its event loop without stalling the link.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress
from types import TracebackType

CHUNK_BYTES = 64 * 1024


class SlowLink:
    """Listens on ``listen_port`` and relays each connection to ``target_port``."""

    def __init__(self, listen_port: int, target_port: int, bytes_per_second: int) -> None:
        self.target_port = target_port
        self.bytes_per_second = bytes_per_second
        self._server = socket.create_server(("127.0.0.1", listen_port))
        self._server.settimeout(0.1)
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._to_node = 0
        self._open = 0
        self._cuts_armed: list[int] = []
        self._cuts = 0
        self._accepter = threading.Thread(target=self._accept, name="slow-link", daemon=True)

    def __enter__(self) -> SlowLink:
        self._accepter.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def bytes_to_node(self) -> int:
        """Bytes carried toward the node so far, over every connection."""
        with self._lock:
            return self._to_node

    @property
    def open_connections(self) -> int:
        with self._lock:
            return self._open

    @property
    def cuts(self) -> int:
        """Connections dropped so far at :meth:`cut_next`'s request."""
        with self._lock:
            return self._cuts

    @property
    def cuts_armed(self) -> int:
        """Cuts asked for and not made yet."""
        with self._lock:
            return len(self._cuts_armed)

    def cut_next(self, after_bytes: int) -> None:
        """Drop the next connection to carry more than ``after_bytes`` one way (an upload
        toward the node, or a download from it), right there: both ends see the stream end in
        the middle of a request or an answer. Cuts asked for in a row are made in turn."""
        with self._lock:
            self._cuts_armed.append(after_bytes)

    def _cut_here(self, carried: int, chunk: bytes) -> int | None:
        """How much of ``chunk`` goes before the first armed cut, if it falls within it (the
        cut is then made, and no longer armed)."""
        with self._lock:
            if not self._cuts_armed or carried + len(chunk) <= self._cuts_armed[0]:
                return None
            before = max(0, self._cuts_armed.pop(0) - carried)
            self._cuts += 1
            return before

    def close(self) -> None:
        self._closing.set()
        self._accepter.join(timeout=5)
        self._server.close()
        with self._lock:
            for sock in self._sockets:
                _shut(sock, socket.SHUT_RDWR)
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _address = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._relay, args=(client,), daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _relay(self, client: socket.socket) -> None:
        with client:
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                return  # the node is down: the caller sees the connection closed at once
            with upstream:
                client.settimeout(None)
                upstream.settimeout(None)
                with self._lock:
                    self._open += 1
                    self._sockets.update((client, upstream))
                toward_node = threading.Thread(
                    target=self._pump, args=(client, upstream, True), daemon=True
                )
                toward_node.start()
                self._pump(upstream, client, False)
                toward_node.join()
                with self._lock:
                    self._open -= 1
                    self._sockets.difference_update((client, upstream))

    def _pump(self, source: socket.socket, sink: socket.socket, toward_node: bool) -> None:
        """Copy until one side ends; toward the node, no faster than ``bytes_per_second``."""
        started, carried = time.monotonic(), 0
        try:
            while chunk := source.recv(CHUNK_BYTES):
                cut = self._cut_here(carried, chunk)
                if cut is not None:
                    sink.sendall(chunk[:cut])
                    _shut(source, socket.SHUT_RDWR)
                    _shut(sink, socket.SHUT_RDWR)
                    break
                sink.sendall(chunk)
                carried += len(chunk)
                if not toward_node:
                    continue
                with self._lock:
                    self._to_node += len(chunk)
                ahead = carried / self.bytes_per_second - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        except OSError:
            pass  # a killed process resets its connections: that is what the link is for
        finally:
            _shut(sink, socket.SHUT_WR)
            _shut(source, socket.SHUT_RD)


def _shut(sock: socket.socket, how: int) -> None:
    with suppress(OSError):  # already closed or reset
        sock.shutdown(how)
