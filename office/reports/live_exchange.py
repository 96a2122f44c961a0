"""Live figures up the line: each hosted unit's document-handling snapshot
(:mod:`office.reports.live`) goes where its reports go (:meth:`Reports.recipient`: ``[reports]
send_to``, else the top of its line of parents) as a signed ``figures`` dispatch encrypted to
that unit, once in every slot of ``[reports] figures_minutes`` and whenever someone asks; the
receiving node keeps the newest of each unit (:mod:`office.reports.live_store`) and records
every arrival, accepted or refused with the reason, in ``report_arrivals``.

A snapshot holds numbers and dates only, never a document's number, summary or content, so it
carries nothing of a secret document up (the 2018 Law on Protection of State Secrets): it goes
like a report, whatever the secrecy of what it counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import CongvanError, Invalid
from config.logging import get_logger
from exchange.envelope import Draft
from exchange.handlers import ReceivedDispatch
from exchange.ledger import VIETNAM
from exchange.models import Delivery, OutboundDispatch
from office.reports import refusals
from office.reports.live import (
    FIGURES_KIND,
    UnitSnapshot,
    snapshot_from_payload,
    snapshot_payload,
    unit_snapshots,
)
from office.reports.live_store import keep_snapshot
from office.reports.models import ReportArrival
from office.reports.service import Reports

log = get_logger("congvan.office.reports.live")

#: Names a unit's dispatch of one time slot: every process of a node derives the same id.
SLOT_NAMESPACE = uuid.UUID("6f1d3c2a-8b4e-5f70-9a12-3c4d5e6f7a8b")
#: A snapshot counted further ahead of the receiver's clock than this is refused: kept, it
#: would hide every true one after it until the sender's clock caught up.
MAX_AHEAD = timedelta(hours=1)


@dataclass(frozen=True)
class FiguresSending:
    """A hosted unit whose figures go up: where, and its newest figures dispatch (none yet:
    ``None``) with its delivery's state (``queued``, ``delivered``…)."""

    unit: str
    to: str
    sent_at: datetime | None = None
    state: str | None = None


class LiveExchange:
    """Sends the hosted units' snapshots up and takes in those of the units below."""

    def __init__(self, reports: Reports) -> None:
        self.reports = reports

    # -- sending ---------------------------------------------------------------------------

    @property
    def minutes(self) -> int:
        return self.reports.settings.figures_minutes

    def slot(self, now: datetime) -> int:
        """The number of the ``figures_minutes`` slot ``now`` is in, counted from the epoch."""
        return int(now.timestamp()) // (self.minutes * 60)

    def slot_id(self, unit: str, slot: int) -> str:
        """The dispatch id of ``unit``'s figures for ``slot``: two processes send one."""
        return str(uuid.uuid5(SLOT_NAMESPACE, f"{unit}:{self.minutes}:{slot}"))

    def seconds_to_next_slot(self) -> float:
        """How long until the next slot begins (the periodic job's wait)."""
        length = self.minutes * 60
        return length - self.reports.clock().timestamp() % length

    async def senders(self) -> dict[str, str]:
        """Each hosted unit whose figures go to another node, and the unit they go to."""
        if self.reports.outbox is None:
            return {}
        found = {}
        for unit in sorted(self.reports.hosted):
            to = await self.reports.recipient(unit)
            if to is not None:
                found[unit] = to
        return found

    async def sending(self) -> list[FiguresSending]:
        """Each hosted unit whose figures go up, with how its newest figures dispatch stands
        (the administrator's page, beside the button that sends them at once)."""
        found = []
        for unit, to in (await self.senders()).items():
            newest = (
                select(OutboundDispatch.created_at, Delivery.state)
                .join(Delivery, Delivery.dispatch_id == OutboundDispatch.id)
                .where(OutboundDispatch.sender == unit, OutboundDispatch.kind == FIGURES_KIND)
                .order_by(OutboundDispatch.created_at.desc())
                .limit(1)
            )
            async with self.reports.sessions() as session:
                row = (await session.execute(newest)).first()
            found.append(FiguresSending(unit, to, *(row or (None, None))))
        return found

    async def send(self, unit: str) -> str:
        """Count ``unit``'s figures now and send them up; answers the dispatch id."""
        self.reports.check_hosted(unit)
        to = (await self.senders()).get(unit)
        if to is None:
            raise Invalid(refusals.NO_RECIPIENT(unit=unit), code="no-recipient")
        [snapshot] = await self._count([unit])
        return await self._send(snapshot, to, str(uuid.uuid4()))

    async def send_all(self) -> dict[str, str]:
        """Count and send now the figures of every hosted unit whose figures go up: the
        dispatch id of each."""
        senders = await self.senders()
        if not senders:
            raise Invalid(refusals.NO_FIGURES_TO_SEND(), code="no-recipient")
        return {
            snapshot.unit: await self._send(snapshot, senders[snapshot.unit], str(uuid.uuid4()))
            for snapshot in await self._count(senders)
        }

    async def send_due(self) -> list[str]:
        """Send this slot's figures of each unit that has not sent them yet (``figures_minutes``
        0: none); a unit that cannot send now is logged and tried in the next slot."""
        if not self.minutes:
            return []
        slot = self.slot(self.reports.clock())
        due: dict[str, tuple[str, str]] = {}
        for unit, to in (await self.senders()).items():
            dispatch_id = self.slot_id(unit, slot)
            async with self.reports.sessions() as session:
                if await session.get(OutboundDispatch, dispatch_id) is None:
                    due[unit] = (to, dispatch_id)
        sent = []
        for snapshot in await self._count(due) if due else []:
            to, dispatch_id = due[snapshot.unit]
            try:
                sent.append(await self._send(snapshot, to, dispatch_id))
            except IntegrityError:
                log.info("figures.sent_by_another_process", unit=snapshot.unit)
            except CongvanError as error:
                log.warning("figures.not_sent", unit=snapshot.unit, reason=error.code)
        return sent

    async def _count(self, units: Iterable[str]) -> list[UnitSnapshot]:
        async with self.reports.sessions() as session:
            return await unit_snapshots(session, units, self.reports.clock())

    async def _send(self, snapshot: UnitSnapshot, to: str, dispatch_id: str) -> str:
        assert self.reports.outbox is not None, "senders() found none without an outbox"
        draft = Draft(
            recipients=(to,),
            kind=FIGURES_KIND,
            metadata=snapshot_payload(snapshot),
            id=dispatch_id,
        )
        await self.reports.outbox.send(snapshot.unit, draft)
        log.info("figures.sent", unit=snapshot.unit, to=to, dispatch_id=dispatch_id)
        return dispatch_id

    # -- receiving -------------------------------------------------------------------------

    async def receive(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        """The ``figures`` handler: keep the snapshot if it is the newest of its unit, or
        record why it was refused; it is never half kept."""
        metadata, sender = dispatch.metadata, dispatch.header.sender
        received_at = self.reports.clock()
        arrival = ReportArrival(
            dispatch_id=dispatch.header.id,
            kind=FIGURES_KIND,
            sender=sender,
            unit_code=str(metadata.get("unit", ""))[:32],
            received_at=received_at,
        )
        try:
            snapshot = self._check(sender, metadata, received_at)
            async with session.begin_nested():
                kept = await keep_snapshot(
                    session, snapshot, dispatch_id=dispatch.header.id, received_at=received_at
                )
        except Invalid as error:
            arrival.accepted, arrival.reason = False, error.message
            log.warning("figures.refused", dispatch_id=dispatch.header.id, code=error.code)
        else:
            arrival.accepted, arrival.reason = True, ""
            log.info("figures.received", dispatch_id=dispatch.header.id, unit=sender, kept=kept)
        session.add(arrival)

    @staticmethod
    def _check(sender: str, metadata: dict[str, Any], received_at: datetime) -> UnitSnapshot:
        """The snapshot, if it is the signing unit's own and not counted in the future."""
        unit = metadata.get("unit")
        if unit != sender:
            raise Invalid(
                refusals.FIGURES_WRONG_UNIT(sender=sender, unit=unit), code="figures-wrong-unit"
            )
        snapshot = snapshot_from_payload(metadata)
        if snapshot.made_at > received_at + MAX_AHEAD:
            raise Invalid(
                refusals.FIGURES_FUTURE(
                    made_at=snapshot.made_at.astimezone(VIETNAM),
                    received_at=received_at.astimezone(VIETNAM),
                ),
                code="figures-future",
            )
        return snapshot


#: The node's live figures, for the pages that send them at once (set by ``office.node``).
LIVE = web.AppKey("live_figures", LiveExchange)
