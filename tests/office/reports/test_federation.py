"""A district's figures and form go up to the province as a signed ``report`` dispatch; a
newer report replaces an older one, and a report for another unit, for a period not begun or
with impossible figures is refused with its reason and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from config.database import open_database
from exchange.envelope import Draft
from exchange.ledger import VIETNAM
from exchange.models import UsageDaily
from office.node.app import RunningNode
from office.reports.models import ReportedMonth, ReportSend, UnitFormRecord
from office.reports.service import KIND
from tests.support.network import DemoNetwork
from tests.support.nodes import FAST, start_camlo
from tests.support.reports import arrived
from tests.support.waiting import wait_for

FORM = {
    "staff_total": 42,
    "staff_computer_literate": 37,
    "computers": 9,
    "servers": 2,
    "lan_state": "Mạng LAN ổn định",
    "incidents": "Mất điện 2 ngày",
}


def this_month(node: RunningNode) -> str:
    assert node.reports is not None
    return node.reports.today().strftime("%Y-%m")


async def kept_month(node: RunningNode, unit: str, month: str) -> ReportedMonth | None:
    async with node.sessions() as session:
        return await session.get(ReportedMonth, (unit, month))


async def test_a_district_s_report_reaches_the_province_s_report_and_a_newer_one_replaces_it(
    tu: RunningNode, camlo: RunningNode
) -> None:
    assert camlo.reports is not None and tu.reports is not None and camlo.ledger is not None
    month = this_month(camlo)
    for user in ("an", "binh", "an", "chi"):
        camlo.ledger.record("login", unit="HU-CAMLO", user=user)
    camlo.ledger.record("dispatch-out", unit="HU-CAMLO", size=70_000)
    await camlo.reports.save_form("HU-CAMLO", month, dict(FORM), entered_by="test")
    first = await camlo.reports.send("HU-CAMLO", month)
    assert (await arrived(tu, first)).accepted
    kept = await kept_month(tu, "HU-CAMLO", month)
    assert kept is not None
    assert (kept.accesses, kept.bytes_out) == (4, 70_000)

    report = await tu.reports.report("TU", month)
    row = next(row for row in report.rows if row.code == "HU-CAMLO")
    assert row.figures.usage.accesses == 4
    assert row.figures.active_people == 3
    assert row.form is not None and row.form.staff_total == 42
    assert row.form.incidents == "Mất điện 2 ngày"

    camlo.ledger.record("login", unit="HU-CAMLO", user="dung")
    second = await camlo.reports.send("HU-CAMLO", month)
    assert (await arrived(tu, second)).accepted
    kept = await kept_month(tu, "HU-CAMLO", month)
    assert kept is not None and kept.accesses == 5
    report = await tu.reports.report("TU", month)
    row = next(row for row in report.rows if row.code == "HU-CAMLO")
    assert row.figures.active_people == 4


async def send_raw(node: RunningNode, metadata: dict[str, Any]) -> str:
    assert node.outbox is not None
    draft = Draft(recipients=("TU",), kind=KIND, metadata=metadata)
    await node.outbox.send("HU-CAMLO", draft)
    return draft.id


async def test_an_older_report_arriving_late_does_not_replace_a_newer_one(
    tu: RunningNode, camlo: RunningNode
) -> None:
    assert camlo.reports is not None and camlo.ledger is not None
    month = this_month(camlo)
    period = camlo.reports.period(month)
    camlo.ledger.record("login", unit="HU-CAMLO", user="an")
    newer = await camlo.reports.payload("HU-CAMLO", period)
    assert (await arrived(tu, await send_raw(camlo, newer))).accepted
    accesses = newer["months"][-1]["accesses"]
    older = dict(newer)
    older["made_at"] = (camlo.reports.clock() - timedelta(days=3)).isoformat()
    older["months"] = [{**newer["months"][-1], "accesses": accesses + 1000}]
    assert (await arrived(tu, await send_raw(camlo, older))).accepted
    kept = await kept_month(tu, "HU-CAMLO", month)
    assert kept is not None and kept.accesses == accesses


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"unit": "HU-GIOLINH"}, "thay cho đơn vị HU-GIOLINH"),
        ({"period": "2999-01"}, "chưa bắt đầu"),
        ({"period": "2005-13"}, "không hợp lệ"),
        ({"negative": True}, "không âm"),
        ({"form": {**FORM, "staff_computer_literate": 99}}, "không thể lớn hơn tổng số cán bộ"),
        ({"form": {**FORM, "servers": -1}}, "không được là số âm"),
    ],
)
async def test_a_wrong_report_is_refused_with_its_reason_and_changes_nothing(
    tu: RunningNode, camlo: RunningNode, change: dict[str, Any], reason: str
) -> None:
    assert camlo.reports is not None
    month = this_month(camlo)
    payload = await camlo.reports.payload("HU-CAMLO", camlo.reports.period(month))
    payload["months"] = [{**payload["months"][-1], "accesses": 123_456}]
    if change.pop("negative", False):
        payload["months"] = [{**payload["months"][-1], "bytes_in": -5}]
    payload.update(change)
    before = await kept_month(tu, "HU-CAMLO", month)
    arrival = await arrived(tu, await send_raw(camlo, payload))
    assert not arrival.accepted
    assert reason in arrival.reason
    after = await kept_month(tu, "HU-CAMLO", month)
    assert after is None or after.accesses != 123_456
    assert (before.accesses if before else None) == (after.accesses if after else None)
    async with tu.sessions() as session:
        form = await session.get(UnitFormRecord, ("HU-CAMLO", month))
    assert form is None or form.staff_computer_literate != 99


async def test_last_month_s_report_goes_up_by_itself_once(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    node = await start_camlo(demo_network, {**FAST, "CONGVAN_REPORTS_SEND_DAY": "1"})
    try:
        assert node.reports is not None
        last_month = (node.reports.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

        async def sent() -> ReportSend | None:
            async with node.sessions() as session:
                return await session.get(ReportSend, ("HU-CAMLO", last_month))

        async def was_sent() -> bool:
            return await sent() is not None

        await wait_for(was_sent)
        record = await sent()
        assert record is not None
        arrival = await arrived(tu, record.dispatch_id)
        assert (arrival.accepted, arrival.unit_code, arrival.period) == (
            True,
            "HU-CAMLO",
            last_month,
        )
        assert await node.reports.send_due() == []
    finally:
        await node.stop()


async def test_a_node_in_use_since_this_month_sends_no_report_of_the_last(
    fresh_network: DemoNetwork,
) -> None:
    """A new district's first start must not send a report of a month it never saw."""
    settings = fresh_network.settings("HU-CAMLO")
    async with open_database(settings) as sessions, sessions() as session, session.begin():
        this_month_first = datetime.now(VIETNAM).date().replace(day=1).isoformat()
        await session.execute(delete(UsageDaily).where(UsageDaily.day < this_month_first))
    node = await start_camlo(fresh_network, {**FAST, "CONGVAN_REPORTS_SEND_DAY": "1"})
    try:
        assert node.reports is not None
        assert await node.reports.send_due() == []
        async with node.sessions() as session:
            assert (await session.scalars(select(ReportSend))).all() == []
    finally:
        await node.stop()
