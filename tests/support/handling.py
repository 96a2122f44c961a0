"""Documents being handled, for the leaders' dashboard's tests: incoming documents entered and
directed through the pages, deadlines moved into the past as if the days had gone by, other
units' figures as their ``figures`` dispatches would have left them, and the rows the
dashboard's table shows."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.ledger import VIETNAM
from exchange.models import Delivery, OutboundDispatch
from exchange.outbox import DELIVERED, QUEUED, REFUSED
from office.documents.models import INCOMING, OUTGOING, Assignment, Document, DocumentEvent
from office.node.app import RunningNode
from office.reports.live import (
    ExchangeHealth,
    IncomingWork,
    MonthWork,
    OutgoingWork,
    UnitSnapshot,
    last_months,
)
from office.reports.live_store import keep_snapshot
from tests.support import documents
from tests.support.documents import form_id, version
from tests.support.web import StaffBrowser

ROW = re.compile(r'<tr id="unit-([A-Z0-9-]+)"[^>]*>(.*?)</tr>', re.S)
CELL = re.compile(r'data-column="([a-z_]+)">(.*?)</td>', re.S)
TAG = re.compile(r"<[^>]+>")


async def directed(
    node: RunningNode,
    clerk: StaffBrowser,
    leader: StaffBrowser,
    leader_id: int,
    handler_id: int,
    pdf: Path,
    summary: str,
    **extra: str,
) -> int:
    """An incoming paper document the clerk enters and presents to the leader, who directs it
    to ``handler_id`` with five working days; its id."""
    path = await documents.enter_paper(clerk, pdf, summary, leader=str(leader_id), **extra)
    page = await leader.get(path)
    assert page.status == 200, page.text
    done = await leader.post(
        f"{path}/direct",
        {
            "csrf_token": page.form_token,
            "form_id": form_id(page),
            "version": version(page),
            "note": "Giao xử lý, báo cáo kết quả.",
            "lead": str(handler_id),
            "days": "5",
        },
    )
    assert done.status == 303, done.text
    return documents.id_from_path(path)


async def deadline_passed(node: RunningNode, document_id: int, due_on: date) -> None:
    """Move the document's deadline, and its open parts', to ``due_on``: as if the days had
    gone by since it was directed."""
    async with node.sessions() as session, session.begin():
        await session.execute(
            update(Document).where(Document.id == document_id).values(due_on=due_on)
        )
        await session.execute(
            update(Assignment)
            .where(Assignment.document_id == document_id, Assignment.state == "open")
            .values(due_on=due_on)
        )


def snapshot(
    unit: str,
    made_at: datetime,
    *,
    oldest_overdue: date | None = None,
    history: tuple[tuple[int, int, int], ...] = (),
    **figures: int,
) -> UnitSnapshot:
    """A unit's snapshot as its node would have counted it at ``made_at``: ``figures`` by their
    names in :class:`IncomingWork` (``overdue=3``), ``OutgoingWork`` (``out_issued=2``) and
    ``ExchangeHealth`` (``ex_stuck=1``); ``history`` the last months' (received, done, overdue),
    oldest first, ending with ``made_at``'s month."""
    months = last_months(made_at.astimezone(VIETNAM).date())[-len(history) :] if history else ()
    return UnitSnapshot(
        unit=unit,
        made_at=made_at,
        incoming=IncomingWork(
            **{k: v for k, v in figures.items() if not k.startswith(("out_", "ex_"))}
        ),
        oldest_overdue=oldest_overdue,
        outgoing=OutgoingWork(**{k[4:]: v for k, v in figures.items() if k.startswith("out_")}),
        exchange=ExchangeHealth(**{k[3:]: v for k, v in figures.items() if k.startswith("ex_")}),
        months=tuple(
            MonthWork(month, received, done, overdue)
            for month, (received, done, overdue) in zip(months, history, strict=True)
        ),
    )


async def received(node: RunningNode, figures: UnitSnapshot, received_at: datetime) -> None:
    """Keep ``figures`` as the province keeps a ``figures`` dispatch that arrived then."""
    async with node.sessions() as session, session.begin():
        await keep_snapshot(
            session,
            figures,
            dispatch_id=str(uuid.uuid4()),
            received_at=received_at,
        )


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def ago(**delta: float) -> datetime:
    return now() - timedelta(**delta)


def rows(html: str) -> list[str]:
    """The units' codes in the order the table shows them."""
    return [code for code, _row in ROW.findall(html)]


def row(html: str, unit: str) -> str:
    """The HTML of the unit's row."""
    found = dict(ROW.findall(html))
    assert unit in found, f"no row for {unit}"
    return found[unit]


def cells(html: str, unit: str) -> dict[str, str]:
    """The unit's figures as the table shows them, by column (``overdue`` -> ``"2"``)."""
    return {
        column: " ".join(TAG.sub(" ", text).split())
        for column, text in CELL.findall(row(html, unit))
    }


# -- a year of work, for the screenshots ------------------------------------------------------


def _at(day: date, hour: int) -> datetime:
    """``hour`` o'clock on ``day`` in Vietnam, as stored (UTC)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=VIETNAM).astimezone(UTC)


def _event(document: Document, action: str, at: datetime) -> DocumentEvent:
    return DocumentEvent(document_id=document.id, action=action, at=at)


async def seed_year(
    node: RunningNode,
    unit: str,
    people: list[int],
    leader: int,
    today: date,
    rng: random.Random,
) -> None:
    """A year of ``unit``'s incoming and outgoing work in its registers, as it would be after
    twelve months of use: most documents done (some late), this month's in every state, a few
    older ones still overdue, this month's outgoing documents with their recipients' answers
    (one refused, one stuck). Written straight into the node's tables: the dashboard counts
    them as it counts any."""
    summaries = (
        "Kế hoạch tổ chức hội nghị sơ kết",
        "Báo cáo kết quả công tác tháng",
        "Hướng dẫn thực hiện nghị quyết",
        "Công văn đề nghị cung cấp số liệu",
        "Thông báo kết luận của Thường trực",
        "Chương trình kiểm tra, giám sát",
    )
    async with node.sessions() as session, session.begin():
        for back, key in zip(range(11, -1, -1), last_months(today), strict=True):
            month = date(int(key[:4]), int(key[5:]), 1)
            last_day = today.day if back == 0 else 28
            for number in range(rng.randint(14, 30) if back else rng.randint(10, 16)):
                received_on = month + timedelta(days=rng.randint(0, last_day - 1))
                due_on = received_on + timedelta(days=rng.choice((7, 10, 15)))
                document = Document(
                    unit_code=unit,
                    direction=INCOMING,
                    state="done",
                    doc_type="CV",
                    number_symbol=f"{rng.randint(10, 990)}-CV/{unit}",
                    summary=f"{rng.choice(summaries)} ({number + 1})",
                    sender_name="Huyện uỷ Cam Lộ",
                    received_at=_at(received_on, 8),
                    register_year=received_on.year,
                    registered_at=_at(received_on, 9),
                    due_on=due_on,
                )
                session.add(document)
                await session.flush()
                session.add(_event(document, "received", _at(received_on, 8)))
                session.add(_event(document, "registered", _at(received_on, 9)))
                fate = rng.random()
                handler = rng.choice(people)
                if back == 0 and fate < 0.15:
                    document.state, document.due_on = "received", None
                    continue
                if back == 0 and fate < 0.3:
                    document.state, document.due_on, document.presented_to = (
                        "registered",
                        None,
                        leader,
                    )
                    continue
                still_open = (back == 0 and fate < 0.7) or (back in (1, 2) and fate < 0.12)
                part = Assignment(
                    document_id=document.id,
                    user_id=handler,
                    part="lead",
                    due_on=due_on,
                    assigned_by=leader,
                    assigned_at=_at(received_on, 10),
                )
                session.add(part)
                if still_open:
                    document.state = "assigned"
                    continue
                took = rng.randint(2, (due_on - received_on).days + (6 if fate > 0.85 else 0))
                done_on = min(received_on + timedelta(days=took), today)
                part.state, part.done_at = "done", _at(done_on, 16)
                session.add(_event(document, "done", _at(done_on, 16)))
        await _seed_outgoing(session, unit, today, rng)


async def _seed_outgoing(session: AsyncSession, unit: str, today: date, rng: random.Random) -> None:
    """This month's outgoing documents, each to two or three units: delivered, but one refused
    and one that has waited for two days."""
    for number in range(rng.randint(6, 10)):
        issued_on = today.replace(day=rng.randint(1, today.day))
        dispatch_id = str(uuid.uuid4())
        session.add(
            Document(
                unit_code=unit,
                direction=OUTGOING,
                state="sent",
                doc_type="CV",
                number_symbol=f"{number + 1}-CV/{unit}",
                summary="Công văn gửi các huyện uỷ",
                registered_at=_at(issued_on, 14),
                dispatch_id=dispatch_id,
            )
        )
        state = {0: REFUSED, 1: QUEUED}.get(number, DELIVERED)
        created = _at(issued_on, 14) if state != QUEUED else datetime.now(UTC) - timedelta(days=2)
        session.add(
            OutboundDispatch(
                id=dispatch_id,
                sender=unit,
                recipients=json.dumps(["HU-CAMLO", "TX-DONGHA"]),
                kind="document",
                urgency=0,
                size=120_000,
                payload_sha256="0" * 64,
                created_at=created,
            )
        )
        await session.flush()
        session.add(
            Delivery(
                dispatch_id=dispatch_id,
                node="HU-CAMLO",
                units=json.dumps(["HU-CAMLO", "TX-DONGHA"][: rng.randint(1, 2)]),
                urgency=0,
                state=state,
                # Not the outbox's to send: it only stands for what happened.
                next_attempt_at=datetime.now(UTC) + timedelta(days=30),
                created_at=created,
            )
        )


def district_figures(unit: str, made_at: datetime, rng: random.Random) -> UnitSnapshot:
    """A district's figures as its node would send them: a working unit's this month and its
    last twelve months."""
    today = made_at.astimezone(VIETNAM).date()
    received_now = rng.randint(15, 60)
    overdue = rng.choice((0, 0, 1, 2, 3, 5, 8))
    earlier = [rng.randint(20, 70) for _ in range(11)]
    history = (
        *((r, max(r - rng.randint(0, 6), 0), rng.choice((0, 0, 0, 1, 2))) for r in earlier),
        (received_now, received_now // 2, overdue),
    )
    return snapshot(
        unit,
        made_at,
        oldest_overdue=today - timedelta(days=rng.randint(3, 40)) if overdue else None,
        history=history,
        received=received_now,
        to_register=rng.randint(0, 4),
        registered=received_now - rng.randint(0, 4),
        waiting_direction=rng.randint(0, 6),
        in_progress=rng.randint(5, 30) + overdue,
        overdue=overdue,
        done=received_now // 2,
        done_late=rng.choice((0, 0, 1, 2)),
        out_issued=(issued := rng.randint(4, 25)),
        out_recipients=issued * 2,
        out_delivered=issued * 2 - (refused := rng.choice((0, 0, 1))),
        out_refused=refused,
        out_done=issued,
        ex_stuck=rng.choice((0, 0, 0, 1)),
    )
