"""The figures a report counts equal the totals of the events that happened: sign-ins, bytes
and mail from the usage ledger, documents from the registers' steps and deadlines, in
Vietnam's calendar."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from config.database import open_database
from config.settings import Settings
from office.documents.models import INCOMING, OUTGOING, Document, DocumentEvent
from office.reports.figures import counted_months, pseudonym
from office.reports.periods import Period
from tests.support.usage import Events

YEAR = Period(2005, "year")
TODAY = date(2006, 3, 31)
#: Every usage kind: a refused sign-in (login-failed) is never an access.
KINDS = ("login", "login-failed", "web", "dispatch-in", "dispatch-out", "mail-in", "mail-out")


async def test_ledger_figures_per_unit_and_month_equal_the_events_generated(
    province: Settings,
) -> None:
    rng = random.Random(11)
    events = Events()
    expected: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    start = datetime(2004, 12, 31, 17, 0, tzinfo=UTC)  # 00:00 on 1 January 2005 in Vietnam
    for _ in range(3000):
        at = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        unit, kind = rng.choice(("TU", "BTC")), rng.choice(KINDS)
        user, size = rng.choice(("an", "binh", "chi", "")), rng.randrange(100_000)
        events.add(at, unit, kind, user=user, size=size)
        month = (at + timedelta(hours=7)).strftime("%Y-%m")
        figures = expected[(unit, month)]
        if kind == "login":
            figures["accesses"] += 1
            if user:
                people[(unit, month)].add(pseudonym(unit, user))
        if kind in ("dispatch-in", "mail-in"):
            figures["bytes_in"] += size
        if kind in ("dispatch-out", "mail-out"):
            figures["bytes_out"] += size
        if kind == "mail-out":
            figures["mails_sent"] += 1
    # Two batches with a roll-up between them: the roll-up adds, never recounts.
    half = len(events.rows) // 2
    first, second = Events(events.rows[:half]), Events(events.rows[half:])
    async with open_database(province) as sessions:
        await first.write_and_roll_up(sessions)
        await second.write_and_roll_up(sessions)
        async with sessions() as session:
            counted = await counted_months(session, ["TU", "BTC"], YEAR.months, TODAY)
    for unit in ("TU", "BTC"):
        for month in YEAR.months:
            usage = counted[unit].usage.get(month)
            want = expected[(unit, month)]
            got = {name: getattr(usage, name) for name in want} if usage else {}
            assert got == dict(want), (unit, month)
            assert counted[unit].people.get(month, set()) == people[(unit, month)]
        quarter = ("2005-01", "2005-02", "2005-03")
        distinct = set().union(*(people[(unit, month)] for month in quarter))
        assert counted[unit].total(quarter)[1] == len(distinct)


def _document(unit: str, direction: str, due_on: date | None = None) -> Document:
    return Document(
        unit_code=unit,
        direction=direction,
        state="registered",
        doc_type="CV",
        summary="Công văn thử",
        due_on=due_on,
    )


async def test_document_figures_come_from_the_register_s_steps_and_deadlines(
    province: Settings,
) -> None:
    def vn(day: date, hour: int = 9) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=7)

    async with open_database(province) as sessions:
        async with sessions() as session, session.begin():
            late = _document("TU", INCOMING, due_on=date(2005, 3, 20))
            in_time = _document("TU", INCOMING, due_on=date(2005, 4, 10))
            never = _document("TU", INCOMING, due_on=date(2005, 5, 2))
            paper = _document("TU", INCOMING)
            sent = _document("TU", OUTGOING)
            other_unit = _document("BTC", INCOMING)
            session.add_all([late, in_time, never, paper, sent, other_unit])
            await session.flush()
            steps = [
                (late, "received", vn(date(2005, 3, 1))),
                (late, "registered", vn(date(2005, 3, 1), 10)),
                (late, "done", vn(date(2005, 3, 25))),
                (in_time, "received", vn(date(2005, 3, 31), 23)),  # 31/03, late at night
                (in_time, "registered", vn(date(2005, 4, 1))),
                (in_time, "done", vn(date(2005, 4, 9))),
                (never, "received", vn(date(2005, 4, 20))),
                (paper, "entered", vn(date(2005, 4, 21))),
                (sent, "sent", vn(date(2005, 6, 3))),
                (other_unit, "received", vn(date(2005, 6, 3))),
            ]
            for document, action, at in steps:
                session.add(DocumentEvent(document_id=document.id, action=action, at=at))
        async with sessions() as session:
            counted = await counted_months(session, ["TU"], YEAR.months, TODAY)
    tu = counted["TU"].usage

    def figures(month: str, *names: str) -> tuple[int, ...]:
        return tuple(getattr(tu[month], name) for name in names)

    names = ("documents_received", "incoming_registered", "incoming_done", "incoming_overdue")
    assert figures("2005-03", *names) == (2, 1, 1, 1)
    assert figures("2005-04", *names) == (1, 2, 1, 0)
    assert figures("2005-05", *names) == (0, 0, 0, 1)
    assert figures("2005-06", "documents_sent", "documents_received") == (1, 0)
