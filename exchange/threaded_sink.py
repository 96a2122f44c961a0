"""Hand blocks of bytes to a thread of their own: a second core hashes and writes them.

Sealing and opening a big dispatch are each one pass over its bytes, and each pass did all of
its steps in one thread: read, encrypt or decrypt, SHA-256, write. SHA-256 and file writes
release the GIL, so a thread that takes them over (:class:`ThreadedSink`) runs them beside the
first, on the machine's other core, while the first reads and encrypts or decrypts the next
blocks: the pass costs the longer of the two, not their sum.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

#: Bytes handed to the thread at once, and batches waiting for it at most: some 0.4 MiB of
#: the node's memory at the most, enough to ride out one side being slower for a moment.
BATCH_BYTES = 128 * 1024
DEPTH = 2
#: A pass over fewer bytes stays in its thread: small dispatches come by the hundred a
#: second, and a thread started for each of their parts (some 0.1 ms) would be paid for
#: nothing, while a pass over 4 MiB spends some 5 ms hashing and writing that the thread hides.
THREADED_FROM_BYTES = 4 * 1024 * 1024


class ThreadedSink:
    """Calls ``consume`` on each block given to :meth:`write`, in order, in its own thread.

    A block must not change once given (``bytes``, not a buffer used again). The first error
    of ``consume`` stops the thread and is raised again by the next :meth:`write` or by
    :meth:`close`, which waits for every block to be consumed: only after ``close`` returned
    are all the bytes hashed and written. Leaving the ``with`` block on an error of the caller
    stops the thread too, without waiting for what was still queued.
    """

    def __init__(self, consume: Callable[[bytes], Any], depth: int = DEPTH) -> None:
        self._consume = consume
        #: Batches of blocks; ``None`` ends them.
        self._batches: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=depth)
        self._batch: list[bytes] = []
        self._batched = 0
        self._error: Exception | None = None
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, name="threaded-sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._batches.get()) is not None:
            if self._error is not None or self._abandoned:
                continue  # drain, so that a writer blocked on a full queue wakes up
            try:
                for block in batch:
                    self._consume(block)
            except Exception as error:  # raised again in the writing thread
                self._error = error

    def write(self, block: bytes) -> int:
        if self._error is not None:
            raise self._error
        if block:
            self._batch.append(block)
            self._batched += len(block)
            if self._batched >= BATCH_BYTES:
                self._hand_over()
        return len(block)

    def _hand_over(self) -> None:
        """Blocks go to the thread a batch at a time: each hand-over wakes it, and one per
        64 KiB age chunk cost a fifth as much CPU again as the hashing it handed over."""
        if self._batch:
            self._batches.put(self._batch)
            self._batch, self._batched = [], 0

    def close(self) -> None:
        """Wait until every block is consumed; raise what ``consume`` raised, if it did."""
        if self._thread.is_alive():
            if self._error is None:
                self._hand_over()
            self._batches.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> ThreadedSink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
            return
        self._abandoned = True
        if self._thread.is_alive():
            self._batches.put(None)
            self._thread.join()


class InlineSink:
    """:class:`ThreadedSink`'s interface, consuming in the caller's thread: for small passes,
    where starting a thread would cost more than it saves (a 10 KB dispatch's parts)."""

    def __init__(self, consume: Callable[[bytes], Any]) -> None:
        self._consume = consume

    def write(self, block: bytes) -> int:
        self._consume(block)
        return len(block)

    def close(self) -> None:
        """Nothing waits: every block was consumed as it was written."""

    def __enter__(self) -> InlineSink:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def sink_for(size: int, consume: Callable[[bytes], Any]) -> ThreadedSink | InlineSink:
    """A sink for a pass over ``size`` bytes: threaded from ``THREADED_FROM_BYTES`` on."""
    return ThreadedSink(consume) if size >= THREADED_FROM_BYTES else InlineSink(consume)
