"""A unit's organisation as the routing of incoming documents needs it: its head (the leader
documents are presented to by default, Decree 30/2020 Art. 23) and its departments (phòng,
ban), each with its members and a head who shares out the work given to it.

Functions take an open session; the caller owns the transaction. A unit is managed on the node
that hosts it; what is refused names the unit, the code or the account it was given.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Forbidden, Invalid, NotFound
from keys import refusals
from keys.models import Department, UnitHead, User

DEPARTMENT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")
MAX_NAME = 255


@dataclass(frozen=True)
class DepartmentView:
    id: int
    unit: str
    code: str
    name: str
    head_id: int | None
    head_name: str
    head_username: str
    members: int


def _hosted(unit: str, hosted_units: Collection[str]) -> None:
    if unit not in hosted_units:
        raise Forbidden(refusals.UNIT_NOT_HOSTED(unit=unit), code="unit-not-hosted")


def _code(code: str) -> str:
    normal = code.strip().upper()
    if not DEPARTMENT_CODE.fullmatch(normal):
        raise Invalid(refusals.BAD_DEPARTMENT_CODE(code=code[:32]), code="bad-department")
    return normal


async def department(session: AsyncSession, unit: str, code: str) -> Department:
    found = await session.scalar(
        select(Department).where(Department.unit_code == unit, Department.code == _code(code))
    )
    if found is None:
        raise NotFound(refusals.NO_DEPARTMENT(unit=unit, code=code[:32]), code="no-department")
    return found


async def _member(session: AsyncSession, unit: str, username: str) -> User:
    """An active account of ``unit`` that may read documents (not an administrator)."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or user.unit_code != unit or user.disabled:
        raise NotFound(refusals.NOT_OF_UNIT(user=username[:64], unit=unit), code="unknown-user")
    if user.role == "admin":
        raise Forbidden(refusals.ADMIN_NO_DEPARTMENT(), code="admin-no-department")
    return user


async def add_department(
    session: AsyncSession, unit: str, code: str, name: str, hosted_units: Collection[str]
) -> Department:
    _hosted(unit, hosted_units)
    code = _code(code)
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(refusals.BAD_DEPARTMENT_NAME(limit=MAX_NAME), code="bad-department")
    taken = await session.scalar(
        select(Department.id).where(Department.unit_code == unit, Department.code == code)
    )
    if taken is not None:
        raise Conflict(refusals.DEPARTMENT_EXISTS(unit=unit, code=code), code="department-exists")
    added = Department(unit_code=unit, code=code, name=name)
    session.add(added)
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent add of the same code
        raise Conflict(
            refusals.DEPARTMENT_EXISTS(unit=unit, code=code), code="department-exists"
        ) from error
    return added


async def remove_department(
    session: AsyncSession, unit: str, code: str, hosted_units: Collection[str]
) -> None:
    """Remove a department nobody belongs to and no document was ever assigned to: one that
    was keeps its name for the register's history."""
    _hosted(unit, hosted_units)
    found = await department(session, unit, code)
    members = await session.scalar(
        select(func.count(User.id)).where(User.department_id == found.id)
    )
    if members:
        raise Conflict(
            refusals.DEPARTMENT_HAS_MEMBERS(code=found.code, count=members), code="department-used"
        )
    try:
        async with session.begin_nested():
            await session.delete(found)
            await session.flush()
    except IntegrityError as error:  # its assignments refer to it (ON DELETE RESTRICT)
        raise Conflict(
            refusals.DEPARTMENT_IN_USE(code=found.code), code="department-used"
        ) from error


async def set_department_head(
    session: AsyncSession,
    unit: str,
    code: str,
    username: str | None,
    hosted_units: Collection[str],
) -> Department:
    """Name the department's head (None: no head), who becomes one of its members."""
    _hosted(unit, hosted_units)
    found = await department(session, unit, code)
    if username is None:
        found.head_user_id = None
    else:
        user = await _member(session, unit, username)
        await _leave_headship(session, user, keep=found.id)
        user.department_id = found.id
        found.head_user_id = user.id
    await session.flush()
    return found


async def _leave_headship(session: AsyncSession, user: User, keep: int | None) -> None:
    """Someone who moves to another department no longer heads the one they leave."""
    for headed in await session.scalars(
        select(Department).where(Department.head_user_id == user.id, Department.id != keep)
    ):
        headed.head_user_id = None


async def set_member(
    session: AsyncSession, username: str, code: str | None, hosted_units: Collection[str]
) -> User:
    """Put an account in a department of its unit (None: in none)."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or user.unit_code not in hosted_units:
        raise NotFound(refusals.NOT_HOSTED_ACCOUNT(user=username[:64]), code="unknown-user")
    if code is None:
        await _leave_headship(session, user, keep=None)
        user.department_id = None
    else:
        if user.role == "admin":
            raise Forbidden(refusals.ADMIN_NO_DEPARTMENT(), code="admin-no-department")
        found = await department(session, user.unit_code, code)
        await _leave_headship(session, user, keep=found.id)
        user.department_id = found.id
    await session.flush()
    return user


async def set_unit_head(
    session: AsyncSession, unit: str, username: str | None, hosted_units: Collection[str]
) -> int | None:
    """Name the unit's head: a leader of the unit, to whom documents are presented unless the
    clerk chooses another leader (None: no default; the clerk always chooses)."""
    _hosted(unit, hosted_units)
    current = await session.get(UnitHead, unit)
    if username is None:
        if current is not None:
            await session.delete(current)
        await session.flush()
        return None
    user = await _member(session, unit, username)
    if user.role != "leader":
        raise Invalid(refusals.HEAD_NOT_LEADER(user=username[:64]), code="head-not-leader")
    if current is None:
        session.add(UnitHead(unit_code=unit, user_id=user.id))
    else:
        current.user_id = user.id
    await session.flush()
    return user.id


async def unit_head_id(session: AsyncSession, unit: str) -> int | None:
    head = await session.get(UnitHead, unit)
    return head.user_id if head is not None else None


async def unit_head_username(session: AsyncSession, unit: str) -> str | None:
    return await session.scalar(
        select(User.username)
        .join(UnitHead, UnitHead.user_id == User.id)
        .where(UnitHead.unit_code == unit)
    )


async def list_departments(session: AsyncSession, unit: str) -> list[DepartmentView]:
    members = (
        select(func.count(User.id))
        .where(User.department_id == Department.id, User.disabled.is_(False))
        .correlate(Department)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Department, User.full_name, User.username, members.label("members"))
        .outerjoin(User, User.id == Department.head_user_id)
        .where(Department.unit_code == unit)
        .order_by(Department.code)
    )
    return [
        DepartmentView(
            d.id,
            d.unit_code,
            d.code,
            d.name,
            d.head_user_id,
            full_name or username or "",
            username or "",
            count or 0,
        )
        for d, full_name, username, count in rows
    ]
