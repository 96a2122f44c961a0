"""The periodic form (biểu mẫu báo cáo định kỳ): what a unit states each period because the
system cannot count it: its staff, who of them can use a computer, its machines, the state of
its network, incidents and proposals.

One form per unit and period. Entered on the unit's own node, it travels up in the unit's
``report`` dispatch; a newer one replaces an older one, and the province judges timeliness by
when it first had one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid
from office.reports import refusals
from office.reports.models import UnitFormRecord
from office.reports.periods import YEAR, Period, period_from_key
from office.reports.summary import UnitForm

NUMBERS = {
    "staff_total": refusals.STAFF_TOTAL,
    "staff_computer_literate": refusals.STAFF_COMPUTER_LITERATE,
    "computers": refusals.COMPUTERS,
    "servers": refusals.SERVERS,
}
TEXTS = {
    "lan_state": refusals.LAN_STATE,
    "connection_state": refusals.CONNECTION_STATE,
    "incidents": refusals.INCIDENTS,
    "proposals": refusals.PROPOSALS,
}
MAX_NUMBER = 1_000_000
MAX_TEXT = 4000


def check_form(raw: Mapping[str, object]) -> UnitForm:
    """A form from what was typed or received; refuses, naming the field, anything that is not
    a whole number in range, and figures that contradict each other."""
    numbers: dict[str, int] = {}
    for name, label in NUMBERS.items():
        value = raw.get(name, "")
        if isinstance(value, str):
            value = value.strip()
            if not value.lstrip("-").isdigit():
                raise Invalid(refusals.NOT_A_NUMBER(label=label), code="form-not-a-number")
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid(refusals.NOT_A_NUMBER(label=label), code="form-not-a-number")
        if value < 0:
            raise Invalid(refusals.NEGATIVE(label=label, value=value), code="form-negative")
        if value > MAX_NUMBER:
            raise Invalid(refusals.TOO_LARGE(label=label, value=value), code="form-too-large")
        numbers[name] = value
    if numbers["staff_computer_literate"] > numbers["staff_total"]:
        raise Invalid(
            refusals.MORE_LITERATE_THAN_STAFF(
                literate=numbers["staff_computer_literate"], total=numbers["staff_total"]
            ),
            code="form-inconsistent",
        )
    texts: dict[str, str] = {}
    for name, label in TEXTS.items():
        text = str(raw.get(name) or "").strip()
        if len(text) > MAX_TEXT:
            raise Invalid(refusals.TOO_LONG(label=label, limit=MAX_TEXT), code="form-too-long")
        texts[name] = text
    return UnitForm(
        staff_total=numbers["staff_total"],
        staff_computer_literate=numbers["staff_computer_literate"],
        computers=numbers["computers"],
        servers=numbers["servers"],
        **texts,
    )


def form_of(record: UnitFormRecord) -> UnitForm:
    return UnitForm(**{name: getattr(record, name) for name in (*NUMBERS, *TEXTS)})


def form_payload(form: UnitForm) -> dict[str, object]:
    return {name: getattr(form, name) for name in (*NUMBERS, *TEXTS)}


async def save_form(
    session: AsyncSession,
    unit: str,
    period: Period,
    form: UnitForm,
    *,
    made_at: datetime,
    source: str = "",
    entered_by: str = "",
    revision: int | None = None,
    first_at: datetime | None = None,
) -> bool:
    """Keep ``form`` as the unit's form for ``period``; False when a newer one is kept already
    (a report that arrived late and out of order). ``revision`` is the web form's: a save over
    someone else's newer save is refused. ``first_at`` is when this node first had a form for
    the period (default ``made_at``): timeliness is judged by it."""
    record = await session.get(UnitFormRecord, (unit, period.key))
    if record is None:
        record = UnitFormRecord(
            unit_code=unit, period=period.key, first_at=first_at or made_at, revision=0
        )
        session.add(record)
    elif revision is not None and revision != record.revision:
        raise Conflict(refusals.FORM_STALE(), code="form-stale")
    elif source and record.made_at > made_at:
        return False
    for name, value in form_payload(form).items():
        setattr(record, name, value)
    record.source, record.entered_by, record.made_at = source, entered_by, made_at
    record.revision += 1
    await session.flush()
    return True


async def forms_within(
    session: AsyncSession, units: list[str], period: Period
) -> dict[str, list[tuple[Period, UnitFormRecord]]]:
    """Each unit's forms for ``period`` and for the shorter periods inside it."""
    wanted = {period.key, *period.months}
    if period.kind == YEAR:
        wanted |= {f"{period.year:04d}-Q{quarter}" for quarter in range(1, 5)}
    rows = await session.scalars(
        select(UnitFormRecord).where(
            UnitFormRecord.unit_code.in_(units), UnitFormRecord.period.in_(wanted)
        )
    )
    found: dict[str, list[tuple[Period, UnitFormRecord]]] = {unit: [] for unit in units}
    for row in rows:
        found[row.unit_code].append((period_from_key(row.period), row))
    return found


def latest_form(forms: list[tuple[Period, UnitFormRecord]]) -> UnitForm | None:
    """The form that states the unit at the end of the period: the one whose period ends last
    (the longer one when two end together), the newest of equals."""
    if not forms:
        return None
    _period, record = max(
        forms, key=lambda item: (item[0].end, len(item[0].months), item[1].made_at)
    )
    return form_of(record)
