"""Forgetting dispatches whose worth is only their newest: a kind registered with
:meth:`Retention.keep` (the hourly ``figures``, 24 a day from each unit, about 350,000 a year at
the province) has its settled dispatches removed, rows and spool folders, once they are older
than that kind's keeping time; every other kind is kept for good, as official records are.

Settled means nothing will read the dispatch again: sent ones whose every delivery has its
answer or gave up (delivered, refused, failed), received ones accepted and handed over, or
refused. The evidence log keeps its entries (its chain must not break); they then name
dispatches no longer held. A pruned dispatch that a peer offers again is taken in as new: a
kind is registered here only if taking one in twice changes nothing (the newest figures win).

A round removes at most :data:`BATCH` of each side, folders first and rows after, so a crash
between the two leaves rows whose folders are gone, which the next round removes.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, delete, exists, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import utcnow
from config.logging import get_logger
from exchange.models import Delivery, InboundDispatch, OutboundDispatch
from exchange.outbox import DELIVERED, FAILED, REFUSED

log = get_logger("congvan.exchange.retention")

#: The most dispatches of one side removed in one round: a first round after an upgrade (a
#: year of figures) is spread over several sweeps instead of one long transaction.
BATCH = 500
#: Deliveries in these states are over: nothing sends or reads them again.
OVER = (DELIVERED, REFUSED, FAILED)


class Retention:
    """The keeping time of each short-lived kind, and the rounds that apply it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        inbox_folder: Callable[[str], Path],
        outbox_folder: Callable[[str], Path],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.inbox_folder = inbox_folder
        self.outbox_folder = outbox_folder
        self.clock = clock
        self.kept_for: dict[str, timedelta] = {}

    def keep(self, kind: str, how_long: timedelta) -> None:
        """Remove ``kind``'s settled dispatches once they are ``how_long`` old."""
        self.kept_for[kind] = how_long

    async def prune_once(self) -> int:
        """One round over every registered kind: how many dispatches went."""
        removed = 0
        for kind, how_long in self.kept_for.items():
            removed += await self._prune(kind, self.clock() - how_long)
        if removed:
            log.info("dispatch.pruned", count=removed)
        return removed

    async def _prune(self, kind: str, before: datetime) -> int:
        sent = _settled_sent(kind, before)
        removed = await self._remove(OutboundDispatch, sent, self.outbox_folder)
        received = _settled_received(kind, before)
        return removed + await self._remove(InboundDispatch, received, self.inbox_folder)

    async def _remove(
        self,
        model: type[OutboundDispatch] | type[InboundDispatch],
        rule: ColumnElement[bool],
        folder: Callable[[str], Path],
    ) -> int:
        async with self.sessions() as session:
            ids = list((await session.scalars(select(model.id).where(rule).limit(BATCH))).all())
        if not ids:
            return 0
        await asyncio.get_running_loop().run_in_executor(None, _remove_folders, ids, folder)
        async with self.sessions() as session, session.begin():
            # The rule again: a row that changed meanwhile (its delivery tried again) stays.
            still = list(
                (await session.scalars(select(model.id).where(model.id.in_(ids), rule))).all()
            )
            if model is OutboundDispatch:
                await session.execute(delete(Delivery).where(Delivery.dispatch_id.in_(still)))
            await session.execute(delete(model).where(model.id.in_(still)))
        return len(still)


def _settled_sent(kind: str, before: datetime) -> ColumnElement[bool]:
    unfinished = exists().where(
        Delivery.dispatch_id == OutboundDispatch.id, Delivery.state.not_in(OVER)
    )
    return and_(
        OutboundDispatch.kind == kind, OutboundDispatch.created_at < before, not_(unfinished)
    )


def _settled_received(kind: str, before: datetime) -> ColumnElement[bool]:
    done = or_(
        and_(InboundDispatch.state == "accepted", InboundDispatch.handled.is_(True)),
        InboundDispatch.state == "refused",
    )
    return and_(InboundDispatch.kind == kind, InboundDispatch.decided_at < before, done)


def _remove_folders(ids: list[str], folder: Callable[[str], Path]) -> None:
    for dispatch_id in ids:
        shutil.rmtree(folder(dispatch_id), ignore_errors=True)
