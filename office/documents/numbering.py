"""Register numbers: gap-free per unit, book (incoming or outgoing), series and year, and the
number and symbol of outgoing documents.

The counter row is updated in the caller's transaction, before anything else is written: the
update's row lock (PostgreSQL) or the write lock (SQLite) queues concurrent clerks, and a
registration that rolls back gives its number back, so the book never has a gap.
"""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid, NotFound
from office.documents import refusals
from office.documents.models import (
    NORMAL_SERIES,
    SECRET_SERIES,
    NumberingStyle,
    RegisterCounter,
)

STATE_STYLE, PARTY_STYLE = "state", "party"


def series_for(secrecy: int) -> str:
    """Secret documents (độ mật) are numbered in a book of their own."""
    return SECRET_SERIES if secrecy > 0 else NORMAL_SERIES


async def next_number(
    session: AsyncSession, unit_code: str, book: str, series: str, year: int
) -> int:
    """Take the next number of a book, inside the caller's transaction."""
    key = (
        RegisterCounter.unit_code == unit_code,
        RegisterCounter.book == book,
        RegisterCounter.series == series,
        RegisterCounter.year == year,
    )
    bump = (
        update(RegisterCounter)
        .where(*key)
        .values(last_number=RegisterCounter.last_number + 1)
        .returning(RegisterCounter.last_number)
    )
    number = (await session.execute(bump)).scalar_one_or_none()
    if number is not None:
        return number
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(RegisterCounter)
        .values(unit_code=unit_code, book=book, series=series, year=year, last_number=0)
        .on_conflict_do_nothing()
    )
    return (await session.execute(bump)).scalar_one()


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


async def set_style(
    session: AsyncSession, unit_code: str, style: str, issuer: str, hosted: tuple[str, ...]
) -> None:
    """Choose a hosted unit's numbering style and issuer abbreviation (from its next number)."""
    if unit_code not in hosted:
        raise NotFound(refusals.UNIT_NOT_HOSTED(unit=unit_code), code="unknown-unit")
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
