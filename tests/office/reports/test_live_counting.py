"""A unit's live figures equal what its registers and exchange records hold: the incoming
queue and work (received, registered, overdue with the oldest, done late), its outgoing
documents and what each recipient made of them, its stuck and refused dispatches; and a
snapshot read back from a dispatch refuses what is malformed, naming the part."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from config.database import open_database
from config.errors import Invalid
from config.settings import Settings
from exchange.models import Delivery, DispatchStatus, OutboundDispatch
from exchange.outbox import DELIVERED, FAILED, QUEUED, REFUSED, RETRY_WAIT
from office.documents.models import INCOMING, OUTGOING, Document, DocumentEvent
from office.documents.recall import AGREED
from office.reports.live import (
    ExchangeHealth,
    IncomingWork,
    MonthWork,
    OutgoingWork,
    last_months,
    snapshot_from_payload,
    snapshot_payload,
    unit_snapshots,
)

#: 10:00 on 20 March 2026 in Vietnam.
NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)


def vn(month: int, day: int, hour: int = 9) -> datetime:
    """``hour`` o'clock on that day of 2026 in Vietnam, as UTC."""
    return datetime(2026, month, day, hour, tzinfo=UTC) - timedelta(hours=7)


def document(
    unit: str, direction: str, state: str, due_on: date | None = None, **fields: Any
) -> Document:
    return Document(
        unit_code=unit,
        direction=direction,
        state=state,
        doc_type="CV",
        summary="Công văn thử",
        due_on=due_on,
        **fields,
    )


def dispatch(dispatch_id: str, sender: str = "TU", kind: str = "document", **fields: Any) -> Any:
    return OutboundDispatch(
        id=dispatch_id,
        sender=sender,
        recipients="[]",
        kind=kind,
        urgency=0,
        size=1000,
        payload_sha256="0" * 64,
        **fields,
    )


def delivery(dispatch_id: str, node: str, state: str, created_at: datetime, *units: str) -> Any:
    return Delivery(
        dispatch_id=dispatch_id,
        node=node,
        units=json.dumps(list(units or (node,))),
        urgency=0,
        state=state,
        created_at=created_at,
    )


async def test_a_unit_s_snapshot_counts_its_registers_and_its_exchange(
    province: Settings,
) -> None:
    async with open_database(province) as sessions:
        async with sessions() as session, session.begin():
            queued = document("TU", INCOMING, "received")
            paper = document("TU", INCOMING, "registered")
            overdue = document("TU", INCOMING, "assigned", date(2026, 3, 10))
            in_time = document("TU", INCOMING, "assigned", date(2026, 3, 25))
            also_overdue = document("TU", INCOMING, "assigned", date(2026, 3, 15))
            done_late = document("TU", INCOMING, "done", date(2026, 3, 5))
            done_in_time = document("TU", INCOMING, "done", date(2026, 3, 20))
            done_before = document("TU", INCOMING, "done", date(2026, 2, 20))
            recalled = document("TU", INCOMING, "received", recall_state=AGREED)
            other_unit = document("BTC", INCOMING, "received")
            sent = document("TU", OUTGOING, "sent", registered_at=vn(3, 4), dispatch_id="D1")
            on_paper = document("TU", OUTGOING, "paper", registered_at=vn(3, 6))
            waiting = document("TU", OUTGOING, "sent", registered_at=vn(3, 10), dispatch_id="D2")
            last_month = document("TU", OUTGOING, "sent", registered_at=vn(2, 27), dispatch_id="D3")
            draft = document("TU", OUTGOING, "draft")
            incoming = [queued, paper, overdue, in_time, also_overdue, done_late, done_in_time]
            incoming += [done_before, recalled, other_unit]
            session.add_all([*incoming, sent, on_paper, waiting, last_month, draft])
            await session.flush()
            steps = [
                (queued, "received", vn(3, 2)),
                (paper, "entered", vn(3, 5)),
                (overdue, "received", vn(2, 20)),
                (overdue, "registered", vn(3, 1, 0)),  # 00:00 on 1 March: this month
                (in_time, "received", vn(3, 3)),
                (in_time, "registered", vn(3, 3, 10)),
                (also_overdue, "received", vn(2, 10)),
                (done_late, "received", vn(3, 1, 0)),
                (done_late, "registered", vn(3, 1, 8)),
                (done_late, "done", vn(3, 8)),
                (done_in_time, "received", vn(2, 15)),
                (done_in_time, "done", vn(3, 18)),
                (done_before, "received", vn(2, 1)),
                (done_before, "done", vn(2, 25)),
                (recalled, "received", vn(3, 4)),
                (other_unit, "received", vn(3, 4)),
            ]
            for step_document, action, at in steps:
                session.add(DocumentEvent(document_id=step_document.id, action=action, at=at))
            long_ago, lately = NOW - timedelta(days=3), NOW - timedelta(minutes=30)
            session.add_all(
                [
                    dispatch("D1"),
                    dispatch("D2"),
                    dispatch("D3", created_at=vn(2, 27)),
                    dispatch("D4"),
                    dispatch("D5", kind="figures"),
                    dispatch("D6"),
                    dispatch("D7", origin_node="HU-CAMLO"),
                    dispatch("D8", sender="BTC"),
                ]
            )
            await session.flush()
            session.add_all(
                [
                    delivery("D1", "HU-CAMLO", DELIVERED, vn(3, 4)),
                    delivery("D1", "TX-DONGHA", REFUSED, vn(3, 4), "TX-DONGHA", "TX-QUANGTRI"),
                    delivery("D2", "HU-GIOLINH", RETRY_WAIT, vn(3, 10)),
                    delivery("D3", "HU-CAMLO", FAILED, vn(2, 27)),
                    delivery("D4", "HU-CAMLO", QUEUED, lately),
                    delivery("D5", "TX-DONGHA", QUEUED, long_ago),
                    delivery("D6", "HU-CAMLO", FAILED, vn(3, 12)),
                    delivery("D7", "TX-DONGHA", QUEUED, long_ago),
                    delivery("D8", "TX-DONGHA", QUEUED, long_ago),
                ]
            )
            for number, unit in enumerate(("HU-CAMLO", "HU-CAMLO", "TX-DONGHA")):
                code = "06" if unit == "HU-CAMLO" else "03"
                session.add(
                    DispatchStatus(
                        dispatch_id="D1",
                        unit=unit,
                        code=code,
                        reported_at="2026-03-09T10:00:00",
                        status_dispatch_id=f"S{number}",
                    )
                )
        async with sessions() as session:
            btc, tu = await unit_snapshots(session, ["TU", "BTC", "TU"], NOW)

    assert (btc.unit, tu.unit, tu.made_at) == ("BTC", "TU", NOW)
    assert tu.incoming == IncomingWork(
        received=4,  # queued, paper (entered), in_time, done_late; not the recalled one
        to_register=1,
        registered=4,  # paper, overdue, in_time, done_late
        waiting_direction=1,
        in_progress=3,
        overdue=2,
        done=2,
        done_late=1,
    )
    assert tu.oldest_overdue == date(2026, 3, 10)
    assert tu.outgoing == OutgoingWork(
        issued=3, recipients=4, delivered=1, refused=2, waiting=1, done=1
    )
    # Stuck: D2 (retrying for ten days); not D4 (half an hour), D5 (the figures' own), D7
    # (relayed for another node), D8 (another unit's), D3 (given up: refused, last month).
    # Refused this month: D1 at TX-DONGHA, and D6 given up.
    assert tu.exchange == ExchangeHealth(stuck=1, refused=2)
    assert [month.month for month in tu.months] == list(last_months(date(2026, 3, 20)))
    assert tu.months[0].month == "2025-04"
    assert tu.months[-2] == MonthWork("2026-02", received=4, done=1, overdue=1)
    # A month's received are the documents that came through the network, as the monthly
    # report counts them (not the one entered from paper; the recalled one too); its overdue,
    # those whose deadline in it passed (up to today) before they were done.
    assert tu.months[-1] == MonthWork("2026-03", received=4, done=2, overdue=3)
    assert all(month == MonthWork(month.month) for month in tu.months[:-2])

    assert btc.incoming == IncomingWork(received=1, to_register=1)
    assert btc.oldest_overdue is None
    assert btc.outgoing == OutgoingWork()
    assert btc.exchange == ExchangeHealth(stuck=1)


async def test_a_unit_with_nothing_yet_has_a_snapshot_of_zeros(province: Settings) -> None:
    async with open_database(province) as sessions, sessions() as session:
        [snapshot] = await unit_snapshots(session, ["BTC"], NOW)
    assert snapshot.incoming == IncomingWork()
    assert snapshot.outgoing == OutgoingWork()
    assert snapshot.exchange == ExchangeHealth()
    assert len(snapshot.months) == 12


def payload() -> dict[str, Any]:
    history = last_months(NOW.date())
    months = tuple(MonthWork(month, received=3, done=2, overdue=1) for month in history)
    snapshot = snapshot_from_payload(
        {
            "unit": "HU-CAMLO",
            "made_at": NOW.isoformat(),
            "incoming": asdict(IncomingWork(received=5, overdue=2)),
            "oldest_overdue": "2026-03-02",
            "outgoing": asdict(OutgoingWork(issued=1, recipients=3, delivered=2, waiting=1)),
            "exchange": asdict(ExchangeHealth(stuck=1)),
            "months": [asdict(month) for month in months],
        }
    )
    return snapshot_payload(snapshot)


def test_a_snapshot_goes_into_a_dispatch_and_comes_back_the_same() -> None:
    raw = payload()
    snapshot = snapshot_from_payload(json.loads(json.dumps(raw)))
    assert snapshot_payload(snapshot) == raw
    assert snapshot.made_at == NOW
    assert snapshot.oldest_overdue == date(2026, 3, 2)
    assert snapshot.incoming.received == 5 and snapshot.outgoing.delivered == 2
    assert snapshot.months[-1] == MonthWork("2026-03", received=3, done=2, overdue=1)


def test_a_figure_left_out_is_zero() -> None:
    raw = payload()
    del raw["incoming"]["overdue"]
    raw["oldest_overdue"] = None
    snapshot = snapshot_from_payload(raw)
    assert snapshot.incoming.overdue == 0 and snapshot.oldest_overdue is None


def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    raw = payload()
    where = raw
    for key in path[:-1]:
        where = where[key]
    if value is KeyError:
        del where[path[-1]]
    else:
        where[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "code", "said"),
    [
        (("unit",), "", "figures-malformed", "phần unit"),
        (("unit",), "hu camlo", "figures-malformed", "phần unit"),
        (("unit",), 7, "figures-malformed", "phần unit"),
        (("made_at",), KeyError, "figures-malformed", "phần made_at"),
        (("made_at",), "hôm qua", "figures-malformed", "phần made_at"),
        (("made_at",), "2026-03-20T10:00:00", "figures-malformed", "thiếu múi giờ"),
        (("oldest_overdue",), "02/03/2026", "figures-malformed", "phần oldest_overdue"),
        (("incoming",), [1, 2], "figures-malformed", "phần incoming"),
        (("outgoing",), "nhiều", "figures-malformed", "phần outgoing"),
        (("months",), {"2026-03": 1}, "figures-malformed", "phần months"),
        (("months", 0, "month"), "2026-13", "figures-malformed", "phần months"),
        (("months", 0, "month"), "2026-04", "figures-malformed", "phần months"),  # twice
        (("months", 0), "2025-04", "figures-malformed", "phần months"),
        (("incoming", "overdue"), -1, "figures-negative", "(incoming): overdue"),
        (("outgoing", "refused"), 2.5, "figures-negative", "(outgoing): refused"),
        (("exchange", "stuck"), "3", "figures-negative", "(exchange): stuck"),
        (("exchange", "refused"), True, "figures-negative", "(exchange): refused"),
        (("incoming", "received"), 10**12, "figures-negative", "(incoming): received"),
        (("months", 11, "done"), -4, "figures-negative", "(2026-03): done"),
    ],
)
def test_a_malformed_or_negative_figure_is_refused_naming_the_part(
    path: tuple[Any, ...], value: Any, code: str, said: str
) -> None:
    with pytest.raises(Invalid) as refused:
        snapshot_from_payload(changed(path, value))
    assert refused.value.code == code
    assert said in refused.value.message


def test_more_months_than_a_snapshot_carries_are_refused() -> None:
    raw = payload()
    raw["months"] = [{"month": "2025-03"}, *raw["months"]]
    with pytest.raises(Invalid) as refused:
        snapshot_from_payload(raw)
    assert refused.value.code == "figures-malformed"
