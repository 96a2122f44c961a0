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

A question first finds out whether anything waits already. While questions are held the
once-a-second read is running anyway, and a question takes its answer when that read started
at most ``CHECK_SECONDS`` ago, with what this process stored since added: what another process
stored meanwhile wakes it at the next check, within a second, as it would have had it been
waiting already. An idle commune's question (one every ``pull_wait_seconds``) then costs the
hub no query at all. Otherwise the question reads, a read shared too (:meth:`PullWaiters.wait`):
every question that arrives while one read runs is answered by the next, one query for all of
them. A province of 5,000 communes asks 90 times a second when nothing moves (200 when the
hold was 25 s); one query and one pooled connection each held the pool's connections long
enough, on a busy machine, for the next questions to run out of them.

A node the answer names may have been served meanwhile (its commune took the work and asks
again at once): the caller that finds nothing to list says so (:meth:`PullWaiters.taken`), and
holds the question on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from config.logging import get_logger

log = get_logger("congvan.exchange.pull_wait")

#: How often the database is asked whether another process stored something for a waiter.
CHECK_SECONDS = 1.0

#: Every node that has a dispatch waiting at the hub.
NodesWithWork = Callable[[], Awaitable[set[str]]]


class PullWaiters:
    def __init__(
        self, nodes_with_work: NodesWithWork, check_seconds: float = CHECK_SECONDS
    ) -> None:
        self._nodes_with_work = nodes_with_work
        self._check_seconds = check_seconds
        self._waiting: dict[str, set[asyncio.Future[bool]]] = {}
        self._checker: asyncio.Task[None] | None = None
        self._closed = False
        #: The shared read: how many were started and finished, the one running, and what
        #: the last one found.
        self._reads_started = 0
        self._reads_finished = 0
        self._reading: asyncio.Future[None] | None = None
        self._found: set[str] = set()
        #: When the read that ``_found`` comes from started (None: no read yet), and what
        #: this process stored since it started, which it may not have seen.
        self._found_at: float | None = None
        self._stored_since: set[str] = set()

    def waiting(self, node: str) -> bool:
        """Whether a question of ``node`` is held open now."""
        return self.held(node) > 0

    def held(self, node: str) -> int:
        """How many questions of ``node`` are held open now, not yet woken."""
        return sum(not woken.done() for woken in self._waiting.get(node, ()))

    @property
    def closed(self) -> bool:
        return self._closed

    def arrived(self, node: str) -> None:
        """Something was stored for ``node``: its waiting questions are answered now."""
        self._found.add(node)
        self._stored_since.add(node)
        for woken in self._waiting.get(node, ()):
            if not woken.done():
                woken.set_result(True)

    async def wait(self, node: str, seconds: float) -> bool:
        """Whether something waits for ``node``: at once if it does already, else when it
        arrives; False when ``seconds`` pass first (nothing came: the caller need not look).
        A stopping hub answers True, so that the caller answers with what there is."""
        if self._closed:
            return True
        # Held from before the read: what arrives while it runs wakes this question too.
        # A bare future and a timer: thousands of communes wait at once, and ``wait_for``
        # on an event made a task and a timeout context for each.
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(seconds, _run_out, woken)
        self._waiting.setdefault(node, set()).add(woken)
        if self._checker is None:
            self._checker = asyncio.create_task(self._check(), name="pull-waiters")
        try:
            if node in await self._recent():
                return True
            return await woken
        finally:
            timer.cancel()
            futures = self._waiting.get(node)
            if futures is not None:
                futures.discard(woken)
                if not futures:
                    del self._waiting[node]

    def taken(self, node: str) -> None:
        """Nothing waits for ``node`` after all (a recent read named it, and it was served
        since): its next question is held, not answered at once."""
        self._found.discard(node)

    def close(self) -> None:
        """The hub stops: every waiting question is answered (with what there is), and new
        ones are answered at once."""
        self._closed = True
        for node in list(self._waiting):
            self.arrived(node)

    async def _recent(self) -> set[str]:
        """The nodes with work, from a read that started at most ``check_seconds`` ago
        (with what this process stored since), or from a new one."""
        loop = asyncio.get_running_loop()
        if self._found_at is not None and loop.time() - self._found_at <= self._check_seconds:
            return self._found
        return await self._read()

    async def _read(self) -> set[str]:
        """The nodes with work, as read by a query that started after this call: one that
        is running may have read before what the caller must see was committed, so the
        caller waits for the next, which serves every caller that came meanwhile."""
        needed = self._reads_started + 1
        while self._reads_finished < needed:
            if self._reading is None:
                self._reading = asyncio.ensure_future(self._run_read())
            await asyncio.shield(self._reading)
        return self._found

    async def _run_read(self) -> None:
        """One read, counted as started when its query is sent (the callers that came
        before are served by it) and as finished before the task is done (see
        :meth:`config.durability.DurableCommits._run_sync` for why not in a callback)."""
        self._reads_started += 1
        started, self._stored_since = asyncio.get_running_loop().time(), set()
        try:
            self._found = await self._nodes_with_work() | self._stored_since
            self._found_at = started
        finally:
            self._reads_finished += 1
            self._reading = None

    async def _check(self) -> None:
        """While anyone waits: wake those for whom another process stored something."""
        try:
            while self._waiting and not self._closed:
                await asyncio.sleep(self._check_seconds)
                if not self._waiting:
                    break
                try:
                    found = await self._read()
                except (SQLAlchemyError, OSError) as error:  # a hiccup ends no wait early
                    log.warning("pull_wait.check_failed", error=f"{type(error).__name__}: {error}")
                    continue
                for node in found.intersection(self._waiting):
                    self.arrived(node)
        finally:
            self._checker = None


def _run_out(woken: asyncio.Future[bool]) -> None:
    if not woken.done():
        woken.set_result(False)
