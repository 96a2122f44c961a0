"""The shape of every periodic background job: do the work, wait, until the node stops.

A job that fails on the database or the disk is logged and tried again next round; any other
error is a bug and ends the job (the node's stop reports it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from config.errors import CongvanError
from config.logging import bind_request_id, get_logger

log = get_logger("congvan.loops")


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if the node stops meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return


async def every(
    stop: asyncio.Event,
    seconds: float | Callable[[], float],
    work: Callable[[], Awaitable[object]],
    *,
    event: str,
) -> None:
    """Run ``work`` now and every ``seconds`` until ``stop``; failures are logged as ``event``.
    ``seconds`` may be a function, asked after each round: a job that wakes at the start of
    each time slot rather than a fixed time after its last round."""
    bind_request_id()
    while not stop.is_set():
        try:
            await work()
        except (SQLAlchemyError, OSError, CongvanError) as error:
            log.warning(event, error=f"{type(error).__name__}: {error}")
        await pause(stop, seconds() if callable(seconds) else seconds)
