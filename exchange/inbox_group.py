"""Group commit for accepted inline dispatches: those checked while another was being recorded
are recorded together, in one transaction, and each is answered once that one commits.

The transactions that accept go one at a time anyway (SQLite has one writer; on PostgreSQL the
evidence chain's head row queues them), so with several dispatches in flight from a peer
(``[exchange] window``) each waited for the one before. Together they share what each paid
alone: the transaction, the evidence head's update, the rows' insert, the sync of the spool
folder the dispatches move into, and the WAL sync of the answers (``durable_answers``). Each
handler still runs in a savepoint of its own, so one that fails takes back only its writes.

If the shared insert meets a dispatch already recorded (the same offer at another process, or
offered again while the group before recorded it), nothing of the group was written: the rest
are recorded together again, and the one already recorded answers as it did before
(``IntegrityError`` to :class:`~exchange.inbox_inline.InlineInbox`).
Any other failure is every member's: nothing was committed, and each sender offers again.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.files import sync_folder
from exchange import evidence
from exchange.envelope import Header
from exchange.handlers import ReceivedDispatch
from exchange.inbox import Inbox
from exchange.inbox_checks import insert_offered, offered_entry, received_entry
from exchange.models import InboundDispatch

#: The most dispatches recorded in one transaction: it holds the database's write lock.
MAX_GROUP = 32


@dataclass
class Arrival:
    """An inline dispatch checked and opened in ``staging``, to record as accepted."""

    peer: str
    header: Header
    raw: bytes
    signature: bytes
    staging: Path
    dispatch: ReceivedDispatch
    columns: dict[str, Any]
    recorded: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


#: Hands one recorded dispatch (moved to its folder) to its handler in the caller's transaction.
HandOver = Callable[[AsyncSession, Arrival, Path], Awaitable[None]]


class GroupRecorder:
    """Records arrivals one group at a time, in a task of its own: a request that goes away
    (its peer hung up) cannot cancel a transaction that records others too."""

    def __init__(self, inbox: Inbox, hand_over: HandOver) -> None:
        self.inbox = inbox
        self.hand_over = hand_over
        self._waiting: list[Arrival] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> frozenset[str]:
        """The ids of the checked arrivals waiting for the next group (one offered twice is
        there once)."""
        return frozenset(arrival.header.id for arrival in self._waiting)

    async def record(self, arrival: Arrival) -> None:
        """Return once ``arrival`` is committed; raise what recording it raised."""
        arrival.recorded.add_done_callback(_retrieved)
        self._waiting.append(arrival)
        if self._task is None:
            self._task = asyncio.create_task(self._record_waiting())
        try:
            await asyncio.shield(arrival.recorded)
        except asyncio.CancelledError:
            # The staging folder is the group's until the group ends: the caller, which
            # removes what is left of it, waits for that.
            await asyncio.wait({arrival.recorded})
            raise

    async def _record_waiting(self) -> None:
        try:
            while self._waiting:
                group = self._next_group()
                try:
                    await self._record(group)
                except IntegrityError as conflict:
                    await self._after_conflict(group, conflict)
                except Exception as error:  # every member's, as it would have been alone
                    for arrival in group:
                        _set_exception(arrival, error)
                except BaseException:  # cancelled (the node stops): the senders ask again
                    waiting, self._waiting = self._waiting, []
                    for arrival in [*group, *waiting]:
                        arrival.recorded.cancel()
                    raise
                else:
                    for arrival in group:
                        if not arrival.recorded.done():
                            arrival.recorded.set_result(None)
        finally:
            self._task = None

    def _next_group(self) -> list[Arrival]:
        """The next arrivals to record, each dispatch once: the same offer twice (a sender
        that asked again) would fail the shared insert, so the second waits for the next
        group, and meets the first's row there alone."""
        group: list[Arrival] = []
        later: list[Arrival] = []
        for arrival in self._waiting:
            taken = any(other.header.id == arrival.header.id for other in group)
            (later if taken or len(group) >= MAX_GROUP else group).append(arrival)
        self._waiting = later
        return group

    async def _after_conflict(self, group: list[Arrival], conflict: IntegrityError) -> None:
        """Nothing of ``group`` was written. Its members recorded meanwhile (by another process,
        or by an earlier group when a sender offered again) meet their conflict; the rest are
        recorded together, as the group would have been, ahead of those waiting. A conflict no
        member explains (none is recorded now) is met by each alone."""
        if len(group) == 1:
            _set_exception(group[0], conflict)
            return
        async with self.inbox.sessions() as session:
            recorded = set(
                await session.scalars(
                    select(InboundDispatch.id).where(
                        InboundDispatch.id.in_([a.header.id for a in group])
                    )
                )
            )
        if not recorded:
            for arrival in group:
                await self._record_alone(arrival)
            return
        for arrival in group:
            if arrival.header.id in recorded:
                _set_exception(arrival, conflict)
        self._waiting[:0] = [a for a in group if a.header.id not in recorded]

    async def _record_alone(self, arrival: Arrival) -> None:
        try:
            await self._record([arrival])
        except Exception as error:
            _set_exception(arrival, error)
        else:
            if not arrival.recorded.done():
                arrival.recorded.set_result(None)

    async def _record(self, group: list[Arrival]) -> None:
        loop = asyncio.get_running_loop()
        async with self.inbox.sessions() as session, session.begin():
            await insert_offered(
                session,
                [(a.peer, a.header, a.raw, a.signature, a.columns) for a in group],
            )
            entries = []
            for a in group:
                entries += [offered_entry(a.peer, a.header), received_entry(a.header, a.dispatch)]
            await evidence.append_all(session, entries)
            folders = await loop.run_in_executor(None, self._all_into_place, group)
            for arrival, folder in zip(group, folders, strict=True):
                await self.hand_over(session, arrival, folder)
        for arrival in group:
            self.inbox.count_received(arrival.header, arrival.dispatch.units)

    def _all_into_place(self, group: list[Arrival]) -> list[Path]:
        """Each arrival's folder moved into place, and the spool synced once for all: one trip
        to a thread for the group, in the transaction that holds the write lock."""
        folders = [self._into_place(arrival) for arrival in group]
        sync_folder(self.inbox.spool)
        return folders

    def _into_place(self, arrival: Arrival) -> Path:
        """Called with the dispatch's row inserted, not yet committed: no other process may
        record the dispatch meanwhile, so a folder found in its place was left by an attempt
        whose row never was (a process that died, a failed commit), and makes way."""
        folder = self.inbox.folder(arrival.header.id)
        if folder.exists():
            shutil.rmtree(folder)
        arrival.staging.replace(folder)
        return folder


def _set_exception(arrival: Arrival, error: BaseException) -> None:
    if not arrival.recorded.done():
        arrival.recorded.set_exception(error)


def _retrieved(recorded: asyncio.Future[None]) -> None:
    """The failure of an arrival whose request went away is nobody's to read: read here."""
    if not recorded.cancelled():
        recorded.exception()
