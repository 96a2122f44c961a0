"""A delivery worker too slow for its lease: another worker takes the job over, and the slow one,
when it gets there, neither closes the job nor puts it back for a retry; the job stays with the
worker that holds it now, which can still record its own outcome."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import policy
from typing import Any

import pytest

from mailgw.delivery import MailDelivery
from mailgw.models import QUEUED, QueuedMail
from office.node.app import RunningNode, start_node
from tests.support.mail import message_from
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings

#: The node's own worker wakes only for a submission it is told of, and these tests tell it none.
QUIET_WORKER = {"CONGVAN_SMTP_POLL_SECONDS": "3600"}


@pytest.fixture
async def tu(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(fast_settings(demo_network, "TU", **QUIET_WORKER))
    yield node
    await node.stop()


class SlowLink:
    """The outbox's ``send``, held at a gate for each call in turn (the workers' link to the
    other unit stalls) until the test opens it; a gate opened with ``fail`` breaks the link."""

    def __init__(self, send: Any, gates: int) -> None:
        self.send = send
        self.reached = [asyncio.Event() for _ in range(gates)]
        self.opened = [asyncio.Event() for _ in range(gates)]
        self.failing = [False] * gates
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        gate, self.calls = self.calls, self.calls + 1
        self.reached[gate].set()
        await self.opened[gate].wait()
        if self.failing[gate]:
            raise OSError("link down")
        return await self.send(*args, **kwargs)

    def open(self, gate: int, *, fail: bool = False) -> None:
        self.failing[gate] = fail
        self.opened[gate].set()


def worker(node: RunningNode, lease_seconds: float) -> MailDelivery:
    """A second delivery worker of the node, as another process would run it."""
    assert node.mail is not None and node.delivery is not None
    return MailDelivery(
        node.mail,
        node.delivery.maildir_root,
        node.outbox,
        poll_seconds=3600,
        retry_max=5,
        lease_seconds=lease_seconds,
    )


async def queue_mail_for_another_unit(node: RunningNode, network: DemoNetwork) -> str:
    assert node.mail is not None
    sender = network.account("TU", "staff")["email"]
    recipient = network.account("HU-CAMLO", "clerk")["email"]
    raw = message_from(sender, [recipient], "Gửi Cam Lộ", "Nội dung.\n").as_bytes(
        policy=policy.SMTP
    )
    blob = node.mail.blobs.put_bytes(raw)
    queue_id = str(uuid.uuid4())
    async with node.sessions() as session, session.begin():
        await node.mail.enqueue(
            session,
            queue_id,
            blob,
            mail_from=sender,
            recipients=[recipient],
            unit="TU",
            origin="smtp",
        )
    return queue_id


async def queued(node: RunningNode, queue_id: str) -> QueuedMail:
    async with node.sessions() as session:
        row = await session.get(QueuedMail, queue_id)
    assert row is not None
    return row


@pytest.mark.parametrize("slow_worker_fails", [False, True], ids=["sent", "link-down"])
async def test_a_worker_whose_lease_was_taken_over_leaves_the_job_to_the_new_holder(
    tu: RunningNode,
    demo_network: DemoNetwork,
    monkeypatch: pytest.MonkeyPatch,
    slow_worker_fails: bool,
) -> None:
    assert tu.outbox is not None
    link = SlowLink(tu.outbox.send, gates=2)
    monkeypatch.setattr(tu.outbox, "send", link)
    queue_id = await queue_mail_for_another_unit(tu, demo_network)

    slow = asyncio.create_task(worker(tu, lease_seconds=0.5).deliver_due())
    await link.reached[0].wait()
    await asyncio.sleep(0.6)  # the slow worker's lease runs out
    other = asyncio.create_task(worker(tu, lease_seconds=300).deliver_due())
    await link.reached[1].wait()  # the other worker has claimed the job
    taken_over = await queued(tu, queue_id)
    assert taken_over.attempts == 2 and taken_over.lease_until is not None

    link.open(0, fail=slow_worker_fails)
    assert await slow == 1
    after_slow = await queued(tu, queue_id)
    assert (after_slow.state, after_slow.lease_until, after_slow.last_error) == (
        QUEUED,
        taken_over.lease_until,
        "",
    )

    link.open(1, fail=True)
    assert await other == 1
    after_other = await queued(tu, queue_id)
    assert (after_other.state, after_other.lease_until, after_other.last_error) == (
        QUEUED,
        None,
        "OSError",
    )
    assert after_other.next_attempt_at > datetime.now(UTC)


async def test_a_stopping_worker_gives_back_the_jobs_it_has_not_started(
    tu: RunningNode, demo_network: DemoNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node is told to stop while the first job of a batch is on a stalled link: that
    job ends as it would have, the others go back to the queue untouched, for the next start
    or another process, instead of keeping the operator waiting for the whole batch."""
    assert tu.outbox is not None
    link = SlowLink(tu.outbox.send, gates=3)
    monkeypatch.setattr(tu.outbox, "send", link)
    queue_ids = [await queue_mail_for_another_unit(tu, demo_network) for _ in range(3)]
    stop = asyncio.Event()

    batch = asyncio.create_task(worker(tu, lease_seconds=300).deliver_due(stop))
    await link.reached[0].wait()
    stop.set()
    link.open(0)
    assert await batch == 3

    first, *others = [await queued(tu, queue_id) for queue_id in queue_ids]
    assert first.state != QUEUED
    assert link.calls == 1
    assert [(row.state, row.attempts, row.lease_until) for row in others] == [
        (QUEUED, 0, None),
        (QUEUED, 0, None),
    ]
