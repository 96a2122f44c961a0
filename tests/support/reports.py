"""What a node recorded of the ``report`` and ``figures`` dispatches it received."""

from __future__ import annotations

from sqlalchemy import select

from office.node.app import RunningNode
from office.reports.models import ReportArrival
from tests.support.waiting import wait_for


async def arrivals(node: RunningNode, dispatch_id: str) -> list[ReportArrival]:
    async with node.sessions() as session:
        rows = await session.scalars(
            select(ReportArrival).where(ReportArrival.dispatch_id == dispatch_id)
        )
        return list(rows.all())


async def arrived(node: RunningNode, dispatch_id: str) -> ReportArrival:
    """The arrival of the dispatch, once it is recorded: one, however often it came."""

    async def there() -> bool:
        return bool(await arrivals(node, dispatch_id))

    await wait_for(there)
    [arrival] = await arrivals(node, dispatch_id)
    return arrival
