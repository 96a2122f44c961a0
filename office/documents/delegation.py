"""Giao ký thay: a signer away on mission lets another leader of the unit sign their drafts for
a period; the delegate then signs ``K/T`` (Party style) or ``KT.`` (state style), Decree 30
Art. 13 and HD 36 point 1.3.1. The delegation only widens who may sign: the signer keeps their
own authority, and the drafts stay submitted to them.

Functions take an open session in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Forbidden, Invalid, NotFound
from keys.models import User
from keys.signin import StaffMember
from office.documents import refusals
from office.documents import review_refusals as said
from office.documents.models import SigningDelegation


@dataclass(frozen=True)
class Delegation:
    id: int
    to_name: str
    from_name: str
    starts_on: date
    ends_on: date


async def _signer(session: AsyncSession, staff: StaffMember) -> User:
    user = await session.get(User, staff.id)
    if user is None or not user.may_sign:
        raise Forbidden(refusals.NOT_ALLOWED(action=said.TO_DELEGATE), code="forbidden")
    return user


async def delegate(
    session: AsyncSession,
    staff: StaffMember,
    to_user_id: int,
    starts_on: date,
    ends_on: date,
    now: datetime,
    today: date,
) -> SigningDelegation:
    """Give ``to_user_id`` (a leader of the unit with signing authority) the right to sign
    ``staff``'s drafts from ``starts_on`` to ``ends_on``."""
    await _signer(session, staff)
    delegate_user = await session.get(User, to_user_id)
    if (
        delegate_user is None
        or delegate_user.id == staff.id
        or delegate_user.unit_code != staff.unit
        or delegate_user.role != "leader"
        or not delegate_user.may_sign
        or delegate_user.disabled
    ):
        raise Invalid(said.BAD_DELEGATION(), code="bad-delegation")
    if ends_on < starts_on or ends_on < today:
        raise Invalid(said.BAD_PERIOD(), code="bad-period")
    row = SigningDelegation(
        unit_code=staff.unit,
        from_user_id=staff.id,
        to_user_id=to_user_id,
        starts_on=starts_on,
        ends_on=ends_on,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def cancel(
    session: AsyncSession, staff: StaffMember, delegation_id: int, now: datetime
) -> None:
    """End a delegation early: only the signer who gave it may."""
    result = await session.execute(
        update(SigningDelegation)
        .where(
            SigningDelegation.id == delegation_id,
            SigningDelegation.from_user_id == staff.id,
            SigningDelegation.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(said.BAD_DELEGATION(), code="not-found")


async def current(session: AsyncSession, staff: StaffMember, today: date) -> list[Delegation]:
    """The delegations given or received by ``staff`` that have not ended."""
    giver, taker = User.__table__.alias("giver"), User.__table__.alias("taker")
    rows = await session.execute(
        select(
            SigningDelegation.id,
            taker.c.full_name,
            giver.c.full_name,
            SigningDelegation.starts_on,
            SigningDelegation.ends_on,
        )
        .join(giver, giver.c.id == SigningDelegation.from_user_id)
        .join(taker, taker.c.id == SigningDelegation.to_user_id)
        .where(
            (SigningDelegation.from_user_id == staff.id)
            | (SigningDelegation.to_user_id == staff.id),
            SigningDelegation.cancelled_at.is_(None),
            SigningDelegation.ends_on >= today,
        )
        .order_by(SigningDelegation.starts_on)
    )
    return [Delegation(*row) for row in rows]
