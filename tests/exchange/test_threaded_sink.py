"""Blocks handed to a sink's thread are consumed in order, all of them before ``close``
returns, and a failure there (a full disk while writing) reaches the writing thread."""

from __future__ import annotations

import pytest

from exchange.threaded_sink import InlineSink, ThreadedSink, sink_for


def test_every_block_is_consumed_in_order_before_close_returns() -> None:
    seen: list[bytes] = []
    with ThreadedSink(seen.append, depth=2) as sink:
        for number in range(100):
            sink.write(str(number).encode())
    assert seen == [str(number).encode() for number in range(100)]


def test_a_failure_in_the_thread_is_raised_in_the_writing_one() -> None:
    def full_disk(_block: bytes) -> None:
        raise OSError(28, "No space left on device")

    sink = ThreadedSink(full_disk, depth=1)
    with pytest.raises(OSError, match="No space"):
        for _ in range(10):  # the queue holds one: a later write or close raises it
            sink.write(b"block")
        sink.close()


def test_leaving_on_the_callers_error_stops_the_thread_without_waiting() -> None:
    sink = ThreadedSink(lambda _block: None, depth=1)
    with pytest.raises(ValueError), sink:
        sink.write(b"block")
        raise ValueError("the caller failed")
    assert not sink._thread.is_alive()


def test_a_small_pass_stays_in_the_callers_thread() -> None:
    assert isinstance(sink_for(1024, lambda _block: None), InlineSink)
    big = sink_for(64 * 1024 * 1024, lambda _block: None)
    assert isinstance(big, ThreadedSink)
    big.close()
