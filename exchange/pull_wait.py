"""Pull nodes waiting at the hub for their next dispatch (a long poll).

A commune office is a ``pull`` node: nothing is pushed to it, it asks the hub what waits. Asking
every ``pull_seconds`` made a Hoả tốc document wait up to that long for the commune's next
question (a minute by default). Instead the commune asks and the hub holds the question open
until something arrives for it, or ``[exchange] pull_wait_seconds`` pass: the dispatch leaves
as soon as the hub has it, and an idle commune costs one request every ``pull_wait_seconds``.

What the hub stores itself wakes the waiter at once (:meth:`PullWaiters.arrived`). What another
process of the hub stored (several on one port, ``SO_REUSEPORT``) is found by one query a
``CHECK_SECONDS`` for all the waiting nodes together, so the cost does not grow with the
number of communes waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection

from sqlalchemy.exc import SQLAlchemyError

from config.logging import get_logger

log = get_logger("congvan.exchange.pull_wait")

#: How often the database is asked whether another process stored something for a waiter.
CHECK_SECONDS = 1.0

#: Which of the given nodes have a dispatch waiting at the hub.
HasWork = Callable[[Collection[str]], Awaitable[set[str]]]


class PullWaiters:
    def __init__(self, has_work: HasWork, check_seconds: float = CHECK_SECONDS) -> None:
        self._has_work = has_work
        self._check_seconds = check_seconds
        self._waiting: dict[str, set[asyncio.Future[bool]]] = {}
        self._checker: asyncio.Task[None] | None = None
        self._closed = False

    def waiting(self, node: str) -> bool:
        """Whether a question of ``node`` is held open now."""
        return node in self._waiting

    def arrived(self, node: str) -> None:
        """Something was stored for ``node``: its waiting questions are answered now."""
        for woken in self._waiting.get(node, ()):
            if not woken.done():
                woken.set_result(True)

    async def wait(self, node: str, seconds: float) -> bool:
        """Return when something arrives for ``node``, after ``seconds``, or when the hub
        stops, whichever comes first; says whether it was woken (else nothing came: the
        caller need not look again)."""
        if self._closed or seconds <= 0:
            return False
        # A bare future and a timer: thousands of communes wait at once, and ``wait_for`` on
        # an event made a task and a timeout context for each.
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(seconds, _run_out, woken)
        self._waiting.setdefault(node, set()).add(woken)
        if self._checker is None:
            self._checker = asyncio.create_task(self._check(), name="pull-waiters")
        try:
            return await woken
        finally:
            timer.cancel()
            futures = self._waiting.get(node)
            if futures is not None:
                futures.discard(woken)
                if not futures:
                    del self._waiting[node]

    def close(self) -> None:
        """The hub stops: every waiting question is answered (with what there is), and new
        ones are answered at once."""
        self._closed = True
        for node in list(self._waiting):
            self.arrived(node)

    async def _check(self) -> None:
        """While anyone waits: wake those for whom another process stored something."""
        try:
            while self._waiting and not self._closed:
                await asyncio.sleep(self._check_seconds)
                if not self._waiting:
                    break
                try:
                    found = await self._has_work(list(self._waiting))
                except (SQLAlchemyError, OSError) as error:  # a hiccup ends no wait early
                    log.warning("pull_wait.check_failed", error=f"{type(error).__name__}: {error}")
                    continue
                for node in found:
                    self.arrived(node)
        finally:
            self._checker = None


def _run_out(woken: asyncio.Future[bool]) -> None:
    if not woken.done():
        woken.set_result(False)
