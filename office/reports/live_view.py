"""The live figures the leaders' dashboard shows, one snapshot per unit: counted now for a unit
hosted here, the last one received for a unit on another node, with when it arrived (a unit
whose node is down keeps its last figures, shown with their age)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from office.reports.live import UnitSnapshot, unit_snapshots
from office.reports.live_store import received_snapshots
from office.reports.service import Reports


class ShownSnapshot(NamedTuple):
    snapshot: UnitSnapshot
    #: When it arrived here; None for a unit hosted here (counted as it was asked for).
    received_at: datetime | None


async def snapshots_for(reports: Reports, units: Iterable[str]) -> dict[str, ShownSnapshot]:
    """The snapshot of each of ``units`` that has one: a unit on another node that never sent
    its figures is left out."""
    wanted = set(units)
    hosted = wanted & reports.hosted
    async with reports.sessions() as session:
        counted = await unit_snapshots(session, hosted, reports.clock())
        received = await received_snapshots(session, wanted - hosted)
    shown = {snapshot.unit: ShownSnapshot(snapshot, None) for snapshot in counted}
    for unit, kept in received.items():
        shown[unit] = ShownSnapshot(kept.snapshot, kept.received_at)
    return shown
