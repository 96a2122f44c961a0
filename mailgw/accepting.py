"""Group commit for accepted mail: the rows of every message accepted meanwhile, written in one
transaction and made durable by one sync, before any of their clients is answered 250.

Twenty clients sending at once would otherwise be twenty write transactions queueing for
SQLite's one writer (each waiting in its busy handler's sleeps) and as many commits. A batch
is whatever arrived while the previous one was written: nothing waits on a timer, and a lone
message is written at once. Should the batch fail, every message in it fails alike (each
client is answered "try again later" and sends it again); none is half kept.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.durability import DurableCommits
from mailgw.models import MailboxMessage, QueuedMail

# Core INSERTs of the tables: the ORM's bulk path cost more than the rows.
_QUEUE = cast(Table, QueuedMail.__table__)
_FILED = cast(Table, MailboxMessage.__table__)


@dataclass(frozen=True)
class Accepted:
    """One message's rows: its queue row and its copy in the sender's sent folder."""

    queued: dict[str, object]
    filed: dict[str, object]


class GroupCommit:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], durable: DurableCommits) -> None:
        self.sessions = sessions
        self.durable = durable
        self._waiting: list[tuple[Accepted, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, accepted: Accepted) -> None:
        """Return once ``accepted`` is committed and on disk; raise what the batch raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((accepted, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        # A client that hangs up meanwhile does not cancel the batch of the others.
        await asyncio.shield(done)

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(
                        insert(_QUEUE), [accepted.queued for accepted, _done in batch]
                    )
                    await session.execute(
                        insert(_FILED), [accepted.filed for accepted, _done in batch]
                    )
                await self.durable.sync()
            except Exception as error:  # each client is told, as its own submit would be
                for _accepted, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for _accepted, done in batch:
                if not done.done():
                    done.set_result(None)
