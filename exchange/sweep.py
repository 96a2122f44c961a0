"""The spool's upkeep: uploads that were begun and never finished are removed after
``[exchange] offer_expiry_seconds``, so a peer cannot fill the disk with offers it abandons;
the staging folder of an inline dispatch whose process died mid-check goes once a check's lease
(``verify_lease_seconds``) has passed, as does the folder of a send whose process died while
sealing, and so does the wait of an accepted dispatch whose handler failed (a full disk): it is
handed over again.

The inbox sweeps its offers; on the hub the relay desk sweeps uploads handed to it for
forwarding. An upload under way holds its file's lock and is left alone. Short-lived kinds
(the hourly figures) are forgotten once settled and old (:mod:`exchange.retention`).
"""

from __future__ import annotations

import asyncio

from config.logging import get_logger
from config.loops import every
from exchange.inbox_upkeep import InboxUpkeep
from exchange.outbox import Outbox
from exchange.relay import RelayDesk
from exchange.retention import Retention

log = get_logger("congvan.exchange.sweep")


class Sweeper:
    def __init__(
        self, upkeep: InboxUpkeep, relay: RelayDesk | None, outbox: Outbox, retention: Retention
    ) -> None:
        self.upkeep = upkeep
        self.relay = relay
        self.outbox = outbox
        self.retention = retention

    async def sweep_once(self) -> int:
        """Remove what expired, and hand over again what was accepted but whose handler
        failed; the answer is how many offers and uploads went."""
        await self.upkeep.remove_abandoned_staging()
        await asyncio.get_running_loop().run_in_executor(
            None,
            self.outbox.remove_abandoned_seals,
            self.upkeep.inbox.verify_lease.total_seconds(),
        )
        handed = await self.upkeep.hand_over_stalled()
        if handed:
            log.info("dispatch.handed_over_late", count=handed)
        expired = await self.upkeep.expire_stale_offers()
        if self.relay is not None:
            expired += await self.relay.expire_stale_uploads()
        await self.retention.prune_once()
        return expired

    async def run(self, stop: asyncio.Event, sweep_seconds: float) -> None:
        await every(stop, sweep_seconds, self.sweep_once, event="spool.sweep_failed")
