"""Group commit for the receipts a sending node closes its deliveries with: those that come
back while another group is being recorded are recorded together, in one transaction, and
each caller goes on once that one commits.

With several deliveries in flight to a node (``[exchange] window``), their receipts come back
close together, and each closed its delivery in a transaction of its own: its update, the
evidence head's update and the entry's insert, the commit. Together they share the evidence
appends (three statements for the group, :func:`exchange.evidence.append_all`) and the commit;
each delivery keeps its own conditional update, so one decided already (by another process's
attempt) is left as it is and gets no ``receipt`` entry. A failure is every member's, as it
would have been alone: nothing was committed, and each delivery is tried again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange import evidence
from exchange.models import Delivery
from exchange.receipts import receipt_json

#: The most receipts recorded in one transaction: it holds the database's write lock.
MAX_GROUP = 32

_DELIVERIES = cast(Table, Delivery.__table__)


def close_statement(decided: tuple[str, ...]) -> Update:
    """A delivery closed with its receipt, unless in one of the ``decided`` states already: a
    Core statement built once. Through the ORM, each receipt built it anew and had the session
    evaluate its WHERE clause against the objects it holds (none), a sixth of the sending
    node's event loop (issue 23)."""
    return (
        update(_DELIVERIES)
        .where(
            _DELIVERIES.c.dispatch_id == bindparam("closed_id"),
            _DELIVERIES.c.node == bindparam("closed_node"),
            _DELIVERIES.c.state.not_in(decided),
        )
        .values(
            state=bindparam("new_state"),
            receipt=bindparam("new_receipt"),
            last_error=bindparam("new_error"),
            lease_until=None,
            decided_at=bindparam("new_decided_at"),
        )
    )


@dataclass
class Decision:
    """A delivery to close with ``state`` (delivered or refused) on the peer's ``receipt``."""

    dispatch_id: str
    node: str
    state: str
    receipt: dict[str, Any]
    code: str | None
    #: Whether this decision closed the delivery (False: it was decided already).
    closed: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ReceiptGroup:
    """Records decisions one group at a time, in a task of its own: a delivery attempt that is
    cancelled (the node stops) cannot cancel a transaction that records others too."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], decided: tuple[str, ...]
    ) -> None:
        """``decided``: the states of a delivery that has its receipt already."""
        self.sessions = sessions
        self._close = close_statement(decided)
        self._waiting: list[Decision] = []
        self._task: asyncio.Task[None] | None = None

    async def close(self, decision: Decision) -> bool:
        """Return once ``decision`` is committed: whether it closed the delivery. Raises what
        recording it raised."""
        decision.closed.add_done_callback(_retrieved)
        self._waiting.append(decision)
        if self._task is None:
            self._task = asyncio.create_task(self._record_waiting())
        return await asyncio.shield(decision.closed)

    async def settled(self) -> None:
        """Return once no group is being recorded (a node that stops waits for it)."""
        if self._task is not None:
            await asyncio.wait({self._task})

    async def _record_waiting(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
                try:
                    closed = await self._record(group)
                except Exception as error:  # every member's, as it would have been alone
                    for decision in group:
                        decision.closed.set_exception(error)
                except BaseException:  # cancelled (the node stops): tried again later
                    waiting, self._waiting = self._waiting, []
                    for decision in [*group, *waiting]:
                        decision.closed.cancel()
                    raise
                else:
                    for decision, was_closed in zip(group, closed, strict=True):
                        decision.closed.set_result(was_closed)
        finally:
            self._task = None

    async def _record(self, group: list[Decision]) -> list[bool]:
        closed = []
        async with self.sessions() as session, session.begin():
            for decision in group:
                result = await session.execute(
                    self._close,
                    {
                        "closed_id": decision.dispatch_id,
                        "closed_node": decision.node,
                        "new_state": decision.state,
                        "new_receipt": receipt_json(decision.receipt),
                        "new_error": decision.code,
                        "new_decided_at": datetime.now(UTC),
                    },
                )
                closed.append(bool(result.rowcount))  # type: ignore[attr-defined]
            entries = [
                evidence.Entry(
                    "receipt",
                    decision.dispatch_id,
                    {"node": decision.node, "status": decision.state, "code": decision.code},
                )
                for decision, was_closed in zip(group, closed, strict=True)
                if was_closed
            ]
            if entries:
                await evidence.append_all(session, entries)
        return closed


def _retrieved(closed: asyncio.Future[bool]) -> None:
    """The failure of a decision whose caller went away is nobody's to read: read here."""
    if not closed.cancelled():
        closed.exception()
