"""Each district's live figures go up to the province as a signed ``figures`` dispatch, by
themselves each ``[reports] figures_minutes`` and at once on demand; the province keeps the
newest of each unit with when it arrived, keeps a stopped district's last figures, and refuses
(recording why) figures for another unit, malformed, negative or from the future ones."""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from exchange.envelope import Draft
from exchange.models import Delivery, InboundDispatch, OutboundDispatch
from exchange.outbox import deliveries_of
from exchange.peer_client import PeerClient
from office.node.app import RunningNode, start_node
from office.reports.live import FIGURES_KIND, snapshot_payload, unit_snapshots
from office.reports.live_exchange import LiveExchange
from office.reports.live_store import ReceivedSnapshot, received_snapshots
from office.reports.models import LiveFigures, ReportArrival
from office.reports.service import Reports
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.cli import Cli
from tests.support.dispatches import node_context
from tests.support.handling import cells, row
from tests.support.network import DemoNetwork
from tests.support.nodes import FAST, fast_settings, start_camlo
from tests.support.reports import arrivals
from tests.support.reports import arrived as support_arrived
from tests.support.waiting import wait_for
from tests.support.web import new_account, signed_in

#: Each district sends its figures as it starts, then as each minute begins.
EVERY_MINUTE = {"CONGVAN_REPORTS_FIGURES_MINUTES": "1"}


async def kept(node: RunningNode, unit: str) -> ReceivedSnapshot | None:
    async with node.sessions() as session:
        return (await received_snapshots(session, [unit])).get(unit)


async def arrived(node: RunningNode, dispatch_id: str) -> ReportArrival:
    arrival = await support_arrived(node, dispatch_id)
    assert arrival.kind == FIGURES_KIND
    return arrival


def live(node: RunningNode) -> LiveExchange:
    assert node.live is not None
    return node.live


def shown_on_dashboard(page: str, unit: str) -> tuple[dict[str, str], datetime | None]:
    """A unit's figures as the dashboard's row shows them, and the received time it gives."""
    stamp = re.search(r'<time class="muted" datetime="([^"]+)"', row(page, unit))
    return cells(page, unit), datetime.fromisoformat(stamp.group(1)) if stamp else None


async def test_two_districts_figures_reach_the_province_s_dashboard_and_a_stopped_one_s_stay(
    tu: RunningNode, demo_network: DemoNetwork, make_account: NewAccount
) -> None:
    """The issue's scenario: both districts' figures are on the province's dashboard within one
    ``figures_minutes`` cycle, with when they arrived; Đông Hà stops and keeps its last figures
    and their time there, while Cam Lộ's are renewed."""
    assert tu.reports is not None
    started = tu.reports.clock()
    leader = await make_account(role="leader")
    camlo = await start_camlo(demo_network, {**FAST, **EVERY_MINUTE})
    dongha = await start_node(fast_settings(demo_network, "TX-DONGHA", **EVERY_MINUTE))
    dongha_running = True
    try:

        async def both_there() -> bool:
            rows = [await kept(tu, "HU-CAMLO"), await kept(tu, "TX-DONGHA")]
            return all(row is not None and row.snapshot.made_at >= started for row in rows)

        await wait_for(both_there)
        async with signed_in(tu, leader) as (as_leader,):
            page = (await as_leader.get("/dashboard")).text
            for node, unit in ((camlo, "HU-CAMLO"), (dongha, "TX-DONGHA")):
                row_kept = await kept(tu, unit)
                assert row_kept is not None
                figures, received_at = shown_on_dashboard(page, unit)
                assert received_at == row_kept.received_at
                assert "số liệu cũ" not in row(page, unit)
                # The province holds what the district counted, figure for figure.
                snapshot = row_kept.snapshot
                async with node.sessions() as session:
                    [counted] = await unit_snapshots(session, [unit], snapshot.made_at)
                assert snapshot_payload(snapshot) == snapshot_payload(counted)
                assert figures["received"] == str(counted.incoming.received)
                arrival = await arrived(tu, row_kept.dispatch_id)
                assert (arrival.accepted, arrival.sender, arrival.unit_code) == (True, unit, unit)

            await dongha.stop()
            dongha_running = False
            camlo_before = await kept(tu, "HU-CAMLO")
            dongha_last = await kept(tu, "TX-DONGHA")
            assert camlo_before is not None and dongha_last is not None

            async def camlo_sent_again() -> bool:
                now_kept = await kept(tu, "HU-CAMLO")
                return (
                    now_kept is not None
                    and now_kept.snapshot.made_at > camlo_before.snapshot.made_at
                )

            await wait_for(camlo_sent_again, seconds=120)
            assert await kept(tu, "TX-DONGHA") == dongha_last
            page = (await as_leader.get("/dashboard")).text
            _figures, dongha_shown = shown_on_dashboard(page, "TX-DONGHA")
            _figures, camlo_shown = shown_on_dashboard(page, "HU-CAMLO")
            assert dongha_shown is not None and camlo_shown is not None
            assert dongha_shown < camlo_shown  # its age grows while Cam Lộ's is renewed
            assert cells(page, "TX-DONGHA")["age"].split(" 0")[0] in ("vừa xong", "1 phút trước")
    finally:
        if dongha_running:
            await dongha.stop()
        await camlo.stop()


async def send_raw(node: RunningNode, metadata: dict[str, Any]) -> str:
    assert node.outbox is not None
    draft = Draft(recipients=("TU",), kind=FIGURES_KIND, metadata=metadata)
    await node.outbox.send("HU-CAMLO", draft)
    return draft.id


async def camlo_payload(camlo: RunningNode, **change: Any) -> dict[str, Any]:
    async with camlo.sessions() as session:
        [snapshot] = await unit_snapshots(session, ["HU-CAMLO"], live(camlo).reports.clock())
    return {**snapshot_payload(snapshot), **change}


async def test_an_older_snapshot_arriving_late_changes_nothing(
    tu: RunningNode, camlo: RunningNode
) -> None:
    newer = await camlo_payload(camlo, incoming={"received": 7})
    first = await send_raw(camlo, newer)
    assert (await arrived(tu, first)).accepted
    made_at = live(camlo).reports.clock() - timedelta(hours=2)
    older = {**newer, "made_at": made_at.isoformat(), "incoming": {"received": 9000}}
    assert (await arrived(tu, await send_raw(camlo, older))).accepted
    row = await kept(tu, "HU-CAMLO")
    assert row is not None
    assert (row.dispatch_id, row.snapshot.incoming.received) == (first, 7)


async def test_the_same_dispatch_delivered_twice_is_taken_in_once(
    tu: RunningNode, camlo: RunningNode, demo_network: DemoNetwork
) -> None:
    dispatch_id = await live(camlo).send("HU-CAMLO")
    await arrived(tu, dispatch_id)
    async with tu.sessions() as session:
        before = await session.get(LiveFigures, "HU-CAMLO")
        assert before is not None
        received_at = before.received_at
    assert camlo.outbox is not None
    async with aiohttp.ClientSession() as http:
        client = PeerClient(http, tu.peer_url, node_context(demo_network, "HU-CAMLO"))
        receipt = await client.deliver(camlo.outbox.folder(dispatch_id))
    assert receipt["body"]["status"] == "accepted"
    assert len(await arrivals(tu, dispatch_id)) == 1
    row = await kept(tu, "HU-CAMLO")
    assert row is not None and (row.dispatch_id, row.received_at) == (dispatch_id, received_at)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"unit": "HU-GIOLINH"}, "Đơn vị HU-CAMLO gửi số liệu thay cho đơn vị HU-GIOLINH"),
        ({"months": "mười hai tháng"}, "không đúng dạng (phần months)"),
        ({"made_at": "2026-03-20 10:00"}, "thiếu múi giờ"),
        ({"incoming": {"received": 5, "overdue": -3}}, "(incoming): overdue phải là số nguyên"),
        ({"exchange": {"stuck": 1.5}}, "(exchange): stuck phải là số nguyên"),
        ({"ahead": timedelta(days=1)}, "đồng hồ máy chủ gửi bị sai"),
    ],
)
async def test_wrong_figures_are_refused_with_their_reason_and_change_nothing(
    tu: RunningNode, camlo: RunningNode, change: dict[str, Any], reason: str
) -> None:
    payload = await camlo_payload(camlo, incoming={"received": 123_456})
    if "ahead" in change:
        change = {"made_at": (live(camlo).reports.clock() + change["ahead"]).isoformat()}
    payload.update(change)
    before = await kept(tu, "HU-CAMLO")
    arrival = await arrived(tu, await send_raw(camlo, payload))
    assert not arrival.accepted
    assert reason in arrival.reason
    assert await kept(tu, "HU-CAMLO") == before
    assert await kept(tu, "HU-GIOLINH") is None
    assert tu.reports is not None
    listed = (await tu.reports.recent_arrivals(10, FIGURES_KIND))[0]
    assert (listed.kind, listed.accepted, listed.reason) == (FIGURES_KIND, False, arrival.reason)
    # The reports' own list (the dashboard's) is not filled with the hourly figures.
    assert all(row.kind == "report" for row in await tu.reports.recent_arrivals(100))


def hourly_at(node: RunningNode, moment: datetime) -> LiveExchange:
    """The node's live figures as an hourly schedule sees them at ``moment`` (the node's own
    schedule is off, so that its first round cannot take the slot first)."""
    assert node.reports is not None
    reports = node.reports
    return LiveExchange(
        Reports(
            reports.sessions,
            replace(reports.settings, figures_minutes=60),
            tuple(reports.hosted),
            directory=reports.directory,
            outbox=reports.outbox,
            clock=lambda: moment,
        )
    )


async def test_two_processes_sending_in_one_slot_send_one_dispatch(
    tu: RunningNode, camlo: RunningNode, demo_network: DemoNetwork
) -> None:
    second = await start_camlo(demo_network, FAST, own_ports=True)
    try:
        moment = datetime.now(UTC)
        first_process, second_process = hourly_at(camlo, moment), hourly_at(second, moment)
        slot = first_process.slot(moment)
        slot_id = first_process.slot_id("HU-CAMLO", slot)
        assert second_process.slot_id("HU-CAMLO", second_process.slot(moment)) == slot_id
        assert first_process.slot_id("HU-CAMLO", slot + 1) != slot_id
        assert first_process.slot_id("HU-GIOLINH", slot) != slot_id

        sent = await asyncio.gather(first_process.send_due(), second_process.send_due())
        assert sorted(sent) == [[], [slot_id]]
        assert await first_process.send_due() == []
        assert await second_process.send_due() == []
        assert (await arrived(tu, slot_id)).accepted
        async with camlo.sessions() as session:
            row = await session.get(OutboundDispatch, slot_id)
        assert row is not None and row.kind == FIGURES_KIND
    finally:
        await second.stop()


async def test_the_command_sends_the_figures_at_once(
    tu: RunningNode, camlo: RunningNode, demo_network: DemoNetwork, cli: Cli
) -> None:
    camlo_dir = demo_network.node_dir("HU-CAMLO")
    done = await asyncio.to_thread(cli, "report", "figures", "--dir", camlo_dir)
    unit, said = done.stdout.strip().split(": ")
    dispatch_id = said.removeprefix("figures sent as ")
    assert unit == "HU-CAMLO"
    assert (await arrived(tu, dispatch_id)).accepted
    row = await kept(tu, "HU-CAMLO")
    assert row is not None and row.dispatch_id == dispatch_id

    again = await asyncio.to_thread(
        cli, "report", "figures", "--dir", camlo_dir, "--unit", "HU-CAMLO"
    )
    newer = again.stdout.strip().removeprefix("HU-CAMLO: figures sent as ")
    assert newer != dispatch_id
    assert (await arrived(tu, newer)).accepted


async def test_a_unit_with_nowhere_to_send_its_figures_is_told_so(
    tu: RunningNode, demo_network: DemoNetwork, cli: Cli
) -> None:
    tu_dir = demo_network.node_dir("TU")
    refused = await asyncio.to_thread(cli, "report", "figures", "--dir", tu_dir, check=False)
    assert refused.returncode == 1
    assert "không có đơn vị nào gửi số liệu lên máy chủ khác" in refused.stderr
    one = await asyncio.to_thread(
        cli, "report", "figures", "--dir", tu_dir, "--unit", "TU", check=False
    )
    assert one.returncode == 1
    assert "Đơn vị TU không có nơi nhận báo cáo ở máy chủ khác" in one.stderr
    other = await asyncio.to_thread(
        cli, "report", "figures", "--dir", tu_dir, "--unit", "HU-CAMLO", check=False
    )
    assert other.returncode == 1
    assert "không thuộc máy chủ này" in other.stderr


async def aged(node: RunningNode, dispatch_ids: list[str], days: int) -> None:
    """Make the dispatches ``days`` older on ``node``, as if sent and received back then."""
    back = timedelta(days=days)
    async with node.sessions() as session, session.begin():
        for dispatch_id in dispatch_ids:
            sent = await session.get(OutboundDispatch, dispatch_id)
            if sent is not None:
                sent.created_at -= back
            received = await session.get(InboundDispatch, dispatch_id)
            if received is not None and received.decided_at is not None:
                received.decided_at -= back


async def held(node: RunningNode, dispatch_id: str) -> tuple[bool, bool]:
    """Whether ``node`` still holds the dispatch as sent and as received."""
    assert node.outbox is not None and node.inbox is not None
    async with node.sessions() as session:
        sent = await session.get(OutboundDispatch, dispatch_id) is not None
        received = await session.get(InboundDispatch, dispatch_id) is not None
    assert sent == node.outbox.folder(dispatch_id).exists()
    assert received == node.inbox.folder(dispatch_id).exists()
    return sent, received


async def test_settled_figures_dispatches_go_after_their_keeping_time_and_the_rest_stays(
    tu: RunningNode, camlo: RunningNode, demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """``[reports] figures_keep_days`` (7): a week-old figures dispatch, delivered and taken in,
    is removed on both sides with its spool folder; one still being tried, a newer one and a
    week-old dispatch of another kind stay, and so does the kept snapshot. Offered again after
    its removal, the old one is taken in as new and changes nothing."""
    assert camlo.outbox is not None and camlo.sweeper is not None and tu.sweeper is not None
    old = await send_raw(camlo, await camlo_payload(camlo, incoming={"received": 3}))
    trying = await send_raw(camlo, await camlo_payload(camlo, incoming={"received": 4}))
    other = Draft(recipients=("TU",), kind="report", metadata={"period": "thirteenth month"})
    await camlo.outbox.send("HU-CAMLO", other)
    fresh = await send_raw(camlo, await camlo_payload(camlo, incoming={"received": 5}))
    for dispatch_id in (old, trying, other.id, fresh):
        await support_arrived(tu, dispatch_id)

    async def all_delivered() -> bool:
        async with camlo.sessions() as session:
            for dispatch_id in (old, trying, other.id, fresh):
                if [d.state for d in await deliveries_of(session, dispatch_id)] != ["delivered"]:
                    return False
        return True

    await wait_for(all_delivered)
    async with camlo.sessions() as session, session.begin():
        # As if the province had not answered this one yet: it is still being tried.
        delivery = await session.get(Delivery, (trying, "TU"))
        assert delivery is not None
        delivery.state = "retry-wait"
    copy = tmp_path / old
    shutil.copytree(camlo.outbox.folder(old), copy)
    kept_before = await kept(tu, "HU-CAMLO")
    for node in (camlo, tu):
        await aged(node, [old, trying, other.id], days=8)
        await node.sweeper.retention.prune_once()

    assert await held(camlo, old) == (False, False)
    assert await held(tu, old) == (False, False)
    assert await held(camlo, trying) == (True, False)
    assert await held(tu, trying) == (False, False)  # received and taken in: settled there
    for dispatch_id in (other.id, fresh):
        assert await held(camlo, dispatch_id) == (True, False)
        assert await held(tu, dispatch_id) == (False, True)
    assert await kept(tu, "HU-CAMLO") == kept_before

    async with aiohttp.ClientSession() as http:
        client = PeerClient(http, tu.peer_url, node_context(demo_network, "HU-CAMLO"))
        receipt = await client.deliver(copy)
    assert receipt["body"]["status"] == "accepted"
    # Recorded again as it arrived again, and older than the kept snapshot: nothing changes.
    assert [arrival.accepted for arrival in await arrivals(tu, old)] == [True, True]
    assert await kept(tu, "HU-CAMLO") == kept_before


async def test_an_administrator_sends_the_figures_at_once_from_the_usage_page(
    tu: RunningNode, camlo: RunningNode, secrets_seen: SecretsSeen
) -> None:
    """Cam Lộ's administrator sees where its figures go and how the last ones stand, and
    "Gửi ngay" sends them now; a leader reads the page without the button and a post from
    them is refused; a unit the node does not host is refused and nothing is sent."""
    admin = await new_account(camlo, role="admin")
    leader = await new_account(camlo, role="leader")
    secrets_seen.add(admin.password, admin.totp_secret, leader.password, leader.totp_secret)
    async with signed_in(camlo, admin, leader) as (admin_browser, leader_browser):
        before = await admin_browser.get("/reports/usage")
        assert before.status == 200
        assert 'id="sending-HU-CAMLO"' in before.text
        assert "Gửi ngay" in before.text

        sent = await admin_browser.post(
            "/reports/figures/send", {"csrf_token": before.form_token, "unit": "HU-CAMLO"}
        )
        assert sent.status == 303
        assert sent.location is not None and "sent=HU-CAMLO" in sent.location
        async with camlo.sessions() as session:
            newest = await session.scalar(
                select(OutboundDispatch.id)
                .where(OutboundDispatch.kind == FIGURES_KIND)
                .order_by(OutboundDispatch.created_at.desc())
                .limit(1)
            )
        assert newest is not None
        assert (await arrived(tu, newest)).accepted
        row = await kept(tu, "HU-CAMLO")
        assert row is not None and row.dispatch_id == newest

        async def shown_delivered() -> bool:
            page = await admin_browser.get("/reports/usage?sent=HU-CAMLO")
            return 'id="figures-sent"' in page.text and "Đã đến (có báo nhận)" in row_of(
                page.text, "sending-HU-CAMLO"
            )

        await wait_for(shown_delivered)

        figures_before = await figures_sent(camlo)
        read = await leader_browser.get("/reports/usage")
        assert read.status == 200 and "Gửi ngay" not in read.text
        forbidden = await leader_browser.post(
            "/reports/figures/send", {"csrf_token": read.form_token, "unit": "HU-CAMLO"}
        )
        assert forbidden.status == 403
        elsewhere = await admin_browser.post(
            "/reports/figures/send", {"csrf_token": before.form_token, "unit": "TX-DONGHA"}
        )
        assert elsewhere.status == 404
        no_token = await admin_browser.post("/reports/figures/send", {"unit": "HU-CAMLO"})
        assert no_token.status == 403
        # Neither the leader's, the other unit's nor the tokenless post sent anything.
        assert await figures_sent(camlo) == figures_before


async def figures_sent(node: RunningNode) -> int:
    async with node.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboundDispatch)
            .where(OutboundDispatch.kind == FIGURES_KIND)
        )
    return int(count or 0)


def row_of(page: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, re.S)
    assert found, f"no row {row_id}"
    return found.group(1)
