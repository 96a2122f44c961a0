"""1,000 dispatches while the receiver is restarted at random: each arrives, is handled exactly
once, and is covered by a valid signed receipt."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.database import open_database
from config.settings import load_settings
from exchange.envelope import Draft
from exchange.evidence import verify_chain
from exchange.handlers import ReceivedDispatch
from exchange.models import Delivery, InboundDispatch, OutboundDispatch
from exchange.receipts import check_receipt
from office.node.app import RunningNode, start_node
from tests.support.network import DemoNetwork
from tests.support.waiting import wait_for

COUNT = 1000
FAST = {
    "CONGVAN_EXCHANGE_RETRY_BASE_SECONDS": "1",
    "CONGVAN_EXCHANGE_RETRY_CAP_SECONDS": "2",
    "CONGVAN_EXCHANGE_POLL_SECONDS": "1",
    "CONGVAN_EXCHANGE_RETRY_MAX": "1000",
    "CONGVAN_LOG_LEVEL": "warning",
    # One delivery in flight at a time: with more, a thousand small dispatches go by before a
    # restart has finished, and there is no stream left to restart into (the fault campaign,
    # tests/e2e/test_faults.py, kills nodes under the default window).
    "CONGVAN_EXCHANGE_WINDOW": "1",
}


async def test_a_thousand_dispatches_survive_receiver_restarts_exactly_once(
    fresh_network: DemoNetwork,
) -> None:
    handled: Counter[str] = Counter()

    async def count(_session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        handled[dispatch.header.id] += 1

    async def start_camlo() -> RunningNode:
        node = await start_node(load_settings(fresh_network.node_dir("HU-CAMLO"), FAST))
        node.handlers.replace("document", count)
        return node

    province = await start_node(load_settings(fresh_network.node_dir("TU"), FAST))
    camlo = await start_camlo()
    rng = random.Random(20061231)
    try:
        assert province.outbox is not None
        ids = [
            (
                await province.outbox.send(
                    "TU",
                    Draft(("HU-CAMLO",), "document", {"summary": f"số {n}"}, urgency=n % 4),
                )
            ).id
            for n in range(COUNT)
        ]

        async def delivered() -> int:
            async with province.sessions() as session:
                done = await session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state == "delivered")
                )
            return int(done or 0)

        # Cam Lộ restarts as each sixth of the dispatches is delivered: five restarts in the
        # middle of the stream, each at a random moment of its sixth.
        deadline = datetime.now(UTC) + timedelta(minutes=8)
        restarts = 0
        while (done := await delivered()) < COUNT:
            assert datetime.now(UTC) < deadline, "not all delivered in time"
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            if restarts < 5 and done >= (restarts + 1) * COUNT // 6:
                await camlo.stop()
                await asyncio.sleep(rng.uniform(0.1, 1.5))
                camlo = await start_camlo()
                restarts += 1

        async def all_handled() -> bool:
            return len(handled) == COUNT

        await wait_for(all_handled, seconds=60)
    finally:
        await camlo.stop()
        await province.stop()

    assert restarts == 5
    assert set(handled) == set(ids)
    assert set(handled.values()) == {1}
    async with open_database(province.settings) as sessions, sessions() as session:
        deliveries = (await session.scalars(select(Delivery))).all()
        sent = {row.id: row for row in (await session.scalars(select(OutboundDispatch))).all()}
        assert (await verify_chain(session)).intact
    for delivery in deliveries:
        assert delivery.receipt is not None
        receipt = json.loads(delivery.receipt)
        check_receipt(receipt)
        assert receipt["body"]["status"] == "accepted"
        assert receipt["body"]["payload_sha256"] == sent[delivery.dispatch_id].payload_sha256
    async with open_database(camlo.settings) as sessions, sessions() as session:
        received = (await session.scalars(select(InboundDispatch))).all()
        assert (await verify_chain(session)).intact
    assert len(received) == COUNT
    assert all(row.state == "accepted" and row.handled for row in received)
