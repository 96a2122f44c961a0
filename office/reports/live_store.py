"""Where the province keeps the snapshots units on other nodes send up (``live_figures``): one
per unit, the newest by the time its node counted it, with when it arrived here.

The dashboard reads the units hosted here live (:func:`office.reports.live.unit_snapshots`) and
the others from here, saying how old each one is: a unit whose node is down keeps its last
figures, shown with their age.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from office.reports.live import UnitSnapshot, snapshot_from_payload, snapshot_payload
from office.reports.models import LiveFigures


@dataclass(frozen=True)
class ReceivedSnapshot:
    snapshot: UnitSnapshot
    received_at: datetime
    dispatch_id: str


async def keep_snapshot(
    session: AsyncSession, snapshot: UnitSnapshot, *, dispatch_id: str, received_at: datetime
) -> bool:
    """Keep ``snapshot`` unless a newer (or the same) one of its unit is already here; says
    whether it was kept. Idempotent: the same dispatch twice changes nothing."""
    row = await session.get(LiveFigures, snapshot.unit, with_for_update=True)
    if row is not None and row.made_at >= snapshot.made_at:
        return False
    if row is None:
        row = LiveFigures(unit_code=snapshot.unit)
        session.add(row)
    row.made_at, row.received_at, row.dispatch_id = snapshot.made_at, received_at, dispatch_id
    row.figures = json.dumps(snapshot_payload(snapshot), ensure_ascii=False)
    return True


async def received_snapshots(
    session: AsyncSession, units: Iterable[str]
) -> dict[str, ReceivedSnapshot]:
    """The last snapshot received of each of ``units`` that sent one."""
    wanted = sorted(set(units))
    if not wanted:
        return {}
    rows = await session.scalars(select(LiveFigures).where(LiveFigures.unit_code.in_(wanted)))
    return {
        row.unit_code: ReceivedSnapshot(
            snapshot_from_payload(json.loads(row.figures)), row.received_at, row.dispatch_id
        )
        for row in rows
    }
