"""Who may be given an incoming document to handle: a person of the unit, or one of its
departments (phòng, ban), as the leader's direction names them (Decree 30/2020 Art. 23: the
competent person names the unit or person who leads, those who help, and the deadline).

A form names a person by their id and a department by ``d:`` and its id; anything else is
refused, and so is anyone outside the unit or below the document's secrecy level (nobody reads
above their clearance: Law 29/2018/QH14 on the Protection of State Secrets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid
from keys.models import Department, User
from office.documents import refusals, routing_refusals

PERSON, DEPARTMENT = "person", "department"
DEPARTMENT_PREFIX = "d:"


@dataclass(frozen=True)
class Handler:
    kind: str
    id: int

    @property
    def token(self) -> str:
        """How a form and the document's ``proposed_lead`` name it."""
        return f"{DEPARTMENT_PREFIX}{self.id}" if self.kind == DEPARTMENT else str(self.id)


def parse_handler(value: str) -> Handler:
    text = value.strip()
    kind = PERSON
    if text.startswith(DEPARTMENT_PREFIX):
        kind, text = DEPARTMENT, text[len(DEPARTMENT_PREFIX) :]
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise Invalid(refusals.BAD_HANDLER(), code="bad-handler")
    return Handler(kind, int(text))


#: The most handlers one direction names (a crafted form naming thousands would hold the
#: step's transaction while each is checked).
MAX_HANDLERS = 200


def parse_handlers(values: Sequence[object]) -> list[Handler]:
    if len(values) > MAX_HANDLERS:
        raise Invalid(refusals.BAD_HANDLER(), code="bad-handler")
    return [parse_handler(str(value)) for value in values if str(value).strip()]


def display_name(user: User) -> str:
    return user.full_name or user.username


async def person(session: AsyncSession, unit: str, user_id: int, secrecy: int) -> User:
    """An active member of ``unit`` (not an administrator) cleared for ``secrecy``."""
    user = await session.get(User, user_id)
    if user is None or user.unit_code != unit or user.disabled or user.role == "admin":
        raise Invalid(refusals.HANDLER_NOT_OF_UNIT(), code="bad-handler")
    if user.clearance < secrecy:
        raise Invalid(refusals.HANDLER_NOT_CLEARED(name=display_name(user)), code="bad-handler")
    return user


async def department(
    session: AsyncSession, unit: str, department_id: int, secrecy: int
) -> Department:
    """A department of ``unit`` whose head may see the document and share it out."""
    found = await session.get(Department, department_id)
    if found is None or found.unit_code != unit:
        raise Invalid(routing_refusals.BAD_DEPARTMENT(), code="bad-handler")
    head = await session.get(User, found.head_user_id) if found.head_user_id else None
    if head is None or head.disabled or head.unit_code != unit:
        raise Invalid(routing_refusals.DEPARTMENT_WITHOUT_HEAD(name=found.name), code="bad-handler")
    if head.clearance < secrecy:
        raise Invalid(
            routing_refusals.DEPARTMENT_HEAD_NOT_CLEARED(name=found.name), code="bad-handler"
        )
    return found


async def check(session: AsyncSession, unit: str, handler: Handler, secrecy: int) -> str:
    """The handler's name, once it is known to be one the document may go to."""
    if handler.kind == DEPARTMENT:
        return (await department(session, unit, handler.id, secrecy)).name
    return display_name(await person(session, unit, handler.id, secrecy))


@dataclass(frozen=True)
class Choices:
    """What a direction form offers: the people, then the departments, by their tokens."""

    people: list[tuple[str, str]]
    departments: list[tuple[str, str]]


async def choices(session: AsyncSession, unit: str, secrecy: int) -> Choices:
    """Active staff of the unit cleared for the level, and the departments whose head is."""
    people = await session.execute(
        select(User.id, User.full_name, User.username)
        .where(
            User.unit_code == unit,
            User.disabled.is_(False),
            User.role != "admin",
            User.clearance >= secrecy,
        )
        .order_by(User.full_name, User.username)
    )
    departments = await session.execute(
        select(Department.id, Department.name)
        .join(User, User.id == Department.head_user_id)
        .where(
            Department.unit_code == unit,
            User.disabled.is_(False),
            User.clearance >= secrecy,
        )
        .order_by(Department.name)
    )
    return Choices(
        [(str(row.id), row.full_name or row.username) for row in people],
        [(Handler(DEPARTMENT, row.id).token, row.name) for row in departments],
    )
