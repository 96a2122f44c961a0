"""Register numbers: gap-free per sequence, and the number and symbol of outgoing documents.

The incoming book runs one sequence per unit, series and year. The outgoing book follows the
unit's style:

- Party style (HD 36-HD/VPTW point 1.3.1 a): "the number runs from 01 for each document type
  within one committee term". One sequence per type and term (nhiệm kỳ), the term being the
  latest start set with ``congvan documents term`` on or before the day of issue. Until a
  unit's first term is set, its counters run from its first document, as if a term had begun on
  :data:`NO_TERM_SET`: they never restart on their own, so no symbol repeats within the real
  term; once the term is set, its sequences continue above what the unit issued on and after
  its first day (see :func:`set_term`).
- A congress (đại hội, HD 36): "documents of a congress share one sequence for all types, from
  its opening to its close". A document issued on a day of a congress set with ``congvan
  documents congress`` takes that sequence, whatever the unit's style (only a Party committee
  holds one).
- State style (Decree 30/2020/NĐ-CP Art. 15 and Appendix I): one sequence per calendar year
  for all types.

Secret documents (độ mật) are numbered in a series of their own within each of these, as the
registers keep them apart (Decree 30 Art. 20-22).

The counter row is updated in the caller's transaction, before anything else is written: the
update's row lock (PostgreSQL) or the write lock (SQLite) queues concurrent clerks, and a
registration that rolls back gives its number back, so a sequence never has a gap. What decides
the sequence (the style, the terms, the congresses) is read before that update.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from config.refusals import Message
from office.documents import refusals
from office.documents.fields import day
from office.documents.models import (
    NORMAL_SERIES,
    OUTGOING,
    SECRET_SERIES,
    Document,
    NumberingPeriod,
    NumberingStyle,
    RegisterCounter,
)

STATE_STYLE, PARTY_STYLE = "state", "party"
TERM, CONGRESS = "term", "congress"
#: The document type of a sequence that covers every type.
ALL_TYPES = ""
#: The start of the implicit term of a Party-style unit whose term was never set.
NO_TERM_SET = date(1970, 1, 1)


def series_for(secrecy: int) -> str:
    """Secret documents (độ mật) are numbered in a book of their own."""
    return SECRET_SERIES if secrecy > 0 else NORMAL_SERIES


def year_period(year: int) -> str:
    return f"year:{year}"


def term_period(starts_on: date) -> str:
    return f"{TERM}:{starts_on.isoformat()}"


def congress_period(opens_on: date) -> str:
    return f"{CONGRESS}:{opens_on.isoformat()}"


def _counter(
    unit_code: str, book: str, series: str, doc_type: str, period: str
) -> tuple[ColumnElement[bool], ...]:
    return (
        RegisterCounter.unit_code == unit_code,
        RegisterCounter.book == book,
        RegisterCounter.series == series,
        RegisterCounter.doc_type == doc_type,
        RegisterCounter.period == period,
    )


async def _open_counter(
    session: AsyncSession, unit_code: str, book: str, series: str, doc_type: str, period: str
) -> None:
    """Make the counter at 0 unless it exists; a concurrent clerk making it too is no error."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(RegisterCounter)
        .values(
            unit_code=unit_code,
            book=book,
            series=series,
            doc_type=doc_type,
            period=period,
            last_number=0,
        )
        .on_conflict_do_nothing()
    )


async def _take(
    session: AsyncSession, unit_code: str, book: str, series: str, doc_type: str, period: str
) -> int:
    bump = (
        update(RegisterCounter)
        .where(*_counter(unit_code, book, series, doc_type, period))
        .values(last_number=RegisterCounter.last_number + 1)
        .returning(RegisterCounter.last_number)
    )
    number = (await session.execute(bump)).scalar_one_or_none()
    if number is not None:
        return number
    await _open_counter(session, unit_code, book, series, doc_type, period)
    return (await session.execute(bump)).scalar_one()


async def next_number(
    session: AsyncSession, unit_code: str, book: str, series: str, year: int
) -> int:
    """Take the next number of a book's yearly sequence for every type (the incoming book),
    inside the caller's transaction."""
    return await _take(session, unit_code, book, series, ALL_TYPES, year_period(year))


@dataclass(frozen=True)
class OutgoingNumber:
    """What issuing writes in the outgoing register."""

    number: int
    symbol: str
    series: str
    #: The sequence's period (``term:…``, ``congress:…``, ``year:…``).
    period: str

    def register_entry(self, now: datetime, today: date) -> dict[str, Any]:
        """The document's columns this number fills in the outgoing register, issued ``today``:
        one list for issuing over the network and on paper, so the two books never differ."""
        return {
            "number_symbol": self.symbol,
            "register_year": today.year,
            "register_series": self.series,
            "register_number": self.number,
            "register_period": self.period,
            "registered_at": now,
            "issued_on": today,
        }


async def next_outgoing_number(
    session: AsyncSession, unit_code: str, doc_type: str, secrecy: int, issued_on: date
) -> OutgoingNumber:
    """Take the next number of the sequence a document issued on ``issued_on`` belongs to (see
    the module's docstring), inside the caller's transaction, and write its symbol."""
    style, issuer = await numbering_style(session, unit_code)
    congress = await session.scalar(
        select(NumberingPeriod.starts_on).where(
            NumberingPeriod.unit_code == unit_code,
            NumberingPeriod.kind == CONGRESS,
            NumberingPeriod.starts_on <= issued_on,
            NumberingPeriod.ends_on >= issued_on,
        )
    )
    if congress is not None:
        sequence_type, period = ALL_TYPES, congress_period(congress)
    elif style == STATE_STYLE:
        sequence_type, period = ALL_TYPES, year_period(issued_on.year)
    else:
        term = await session.scalar(
            select(NumberingPeriod.starts_on)
            .where(
                NumberingPeriod.unit_code == unit_code,
                NumberingPeriod.kind == TERM,
                NumberingPeriod.starts_on <= issued_on,
            )
            .order_by(NumberingPeriod.starts_on.desc())
            .limit(1)
        )
        sequence_type, period = doc_type, term_period(term or NO_TERM_SET)
    series = series_for(secrecy)
    number = await _take(session, unit_code, OUTGOING, series, sequence_type, period)
    return OutgoingNumber(number, number_symbol(number, doc_type, style, issuer), series, period)


def default_issuer(unit_code: str) -> str:
    """``HU-CAMLO`` -> ``HU``: the committee's abbreviation, until the admin sets another."""
    return unit_code.split("-", 1)[0]


async def numbering_style(session: AsyncSession, unit_code: str) -> tuple[str, str]:
    """(style, issuer) of a unit: Party style unless its admin chose otherwise."""
    row = await session.scalar(select(NumberingStyle).where(NumberingStyle.unit_code == unit_code))
    if row is None:
        return PARTY_STYLE, default_issuer(unit_code)
    return row.style, row.issuer


def number_symbol(number: int, doc_type: str, style: str, issuer: str) -> str:
    """``05-NQ/TU`` (Party style, two digits at least) or ``15/QĐ-TU`` (state style).

    A letter (công văn, ``CV``) carries no type in its symbol: ``12-CV/TU`` is Party usage,
    ``12/TU`` the state one.
    """
    if style == PARTY_STYLE:
        return f"{number:02d}-{doc_type}/{issuer}"
    if doc_type == "CV":
        return f"{number}/{issuer}"
    return f"{number}/{doc_type}-{issuer}"


ISSUER = re.compile(r"^[A-ZĐ0-9][A-ZĐa-zđ0-9.-]{0,31}$")


def _require_hosted(unit_code: str, hosted: tuple[str, ...]) -> None:
    if unit_code not in hosted:
        raise NotFound(refusals.UNIT_NOT_HOSTED(unit=unit_code), code="unknown-unit")


def _date(value: str, label: Message) -> date:
    parsed = day(value, label)
    if parsed is None:
        raise Invalid(refusals.MISSING_FIELD(label=label), code="missing-field")
    return parsed


async def set_style(
    session: AsyncSession, unit_code: str, style: str, issuer: str, hosted: tuple[str, ...]
) -> None:
    """Choose a hosted unit's numbering style and issuer abbreviation (from its next number)."""
    _require_hosted(unit_code, hosted)
    if style not in (PARTY_STYLE, STATE_STYLE):
        raise Invalid(
            refusals.BAD_NUMBERING_STYLE(style=style, party=PARTY_STYLE, state=STATE_STYLE)
        )
    if not ISSUER.fullmatch(issuer):
        raise Invalid(refusals.BAD_ISSUER(issuer=issuer))
    row = await session.get(NumberingStyle, unit_code)
    if row is None:
        session.add(NumberingStyle(unit_code=unit_code, style=style, issuer=issuer))
    else:
        row.style, row.issuer = style, issuer


async def set_term(
    session: AsyncSession, unit_code: str, starts: str, hosted: tuple[str, ...]
) -> date:
    """Nhiệm kỳ: from ``starts`` (dd/mm/yyyy) every type of the unit's Party-style documents
    runs from 01 again (HD 36 point 1.3.1 a: a term runs from the day after the congress closes,
    or from the committee's first meeting if held during it).

    The term set is the current one: a term set before to start later is dropped, so a date set
    wrongly is corrected by setting the right one. Documents already numbered in a term on or
    after ``starts`` keep their numbers, and the term's sequences continue above them: no symbol
    repeats within the term.
    """
    _require_hosted(unit_code, hosted)
    starts_on = _date(starts, refusals.TERM_STARTS)
    await session.execute(
        delete(NumberingPeriod).where(
            NumberingPeriod.unit_code == unit_code,
            NumberingPeriod.kind == TERM,
            NumberingPeriod.starts_on > starts_on,
        )
    )
    if await session.get(NumberingPeriod, (unit_code, TERM, starts_on)) is None:
        session.add(NumberingPeriod(unit_code=unit_code, kind=TERM, starts_on=starts_on))
    await _continue_above(
        session,
        unit_code,
        term_period(starts_on),
        Document.issued_on >= starts_on,
        Document.register_period.startswith(f"{TERM}:"),
        per_type=True,
    )
    return starts_on


async def set_congress(
    session: AsyncSession, unit_code: str, opens: str, closes: str, hosted: tuple[str, ...]
) -> tuple[date, date]:
    """Đại hội: documents issued from ``opens`` to ``closes`` (both days in, dd/mm/yyyy) share one
    sequence for every type (HD 36 point 1.3.1 a). Setting the same opening day again moves the
    close; a congress may not overlap another one. Documents already numbered on its days keep
    their numbers, and its sequence continues above them."""
    _require_hosted(unit_code, hosted)
    opens_on = _date(opens, refusals.CONGRESS_OPENS)
    closes_on = _date(closes, refusals.CONGRESS_CLOSES)
    if closes_on < opens_on:
        raise Invalid(
            refusals.CONGRESS_CLOSES_BEFORE_OPENING(
                opens=f"{opens_on:%d/%m/%Y}", closes=f"{closes_on:%d/%m/%Y}"
            ),
            code="bad-date",
        )
    other = await session.scalar(
        select(NumberingPeriod).where(
            NumberingPeriod.unit_code == unit_code,
            NumberingPeriod.kind == CONGRESS,
            NumberingPeriod.starts_on != opens_on,
            NumberingPeriod.starts_on <= closes_on,
            NumberingPeriod.ends_on >= opens_on,
        )
    )
    if other is not None:
        assert other.ends_on is not None
        raise Conflict(
            refusals.CONGRESSES_OVERLAP(
                opens=f"{other.starts_on:%d/%m/%Y}", closes=f"{other.ends_on:%d/%m/%Y}"
            ),
            code="overlap",
        )
    row = await session.get(NumberingPeriod, (unit_code, CONGRESS, opens_on))
    if row is None:
        session.add(
            NumberingPeriod(
                unit_code=unit_code, kind=CONGRESS, starts_on=opens_on, ends_on=closes_on
            )
        )
    else:
        row.ends_on = closes_on
    await _continue_above(
        session,
        unit_code,
        congress_period(opens_on),
        Document.issued_on >= opens_on,
        Document.issued_on <= closes_on,
        per_type=False,
    )
    return opens_on, closes_on


async def _continue_above(
    session: AsyncSession,
    unit_code: str,
    period: str,
    *issued: ColumnElement[bool],
    per_type: bool,
) -> None:
    """Raise the period's counters to the highest number the ``issued`` outgoing documents
    carry (per type if ``per_type``), so a period set after some of its days were numbered
    never gives a number twice."""
    keys = (
        (Document.register_series, Document.doc_type) if per_type else (Document.register_series,)
    )
    highest = await session.execute(
        select(*keys, func.max(Document.register_number))
        .where(
            Document.unit_code == unit_code,
            Document.direction == OUTGOING,
            Document.register_number.is_not(None),
            *issued,
        )
        .group_by(*keys)
    )
    for *key, number in highest:
        series, doc_type = key[0], key[1] if per_type else ALL_TYPES
        await _open_counter(session, unit_code, OUTGOING, series, doc_type, period)
        await session.execute(
            update(RegisterCounter)
            .where(
                *_counter(unit_code, OUTGOING, series, doc_type, period),
                RegisterCounter.last_number < number,
            )
            .values(last_number=number)
        )
