"""Who may do what to a unit's weekly schedule, and which week a request means.

Clerks (văn thư) and leaders draft and edit the week; the clerk submits it; a leader approves
it, and approval publishes it to the unit's staff at once (there is no separate publish step).
A leader may also send a submitted week back to draft. After publishing, a clerk or leader
changes the week directly (the office re-issues it after the leader agreed): each saved change
is a new version, the entries it touches are marked điều chỉnh, and the people concerned are
told. A schedule received from another unit is read-only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from config.errors import Forbidden
from config.refusals import Said
from keys.signin import StaffMember
from office.documents.fields import day
from office.schedules import refusals

EDITOR_ROLES = frozenset({"clerk", "leader"})
#: Roles that see the schedules received from the unit above beside their own.
RECEIVED_ROLES = frozenset({"clerk", "leader"})
WEEK = timedelta(days=7)


class Reader(Protocol):
    """Whoever reads the schedules: a signed-in member of staff, or a calendar feed's owner."""

    @property
    def unit(self) -> str: ...

    @property
    def role(self) -> str: ...


def may_edit(staff: Reader) -> bool:
    return staff.role in EDITOR_ROLES


def may_submit(staff: StaffMember) -> bool:
    return staff.role == "clerk"


def may_approve(staff: StaffMember) -> bool:
    return staff.role == "leader"


def may_see(staff: Reader) -> bool:
    """Everyone of the unit but the administrator, who reads no schedules."""
    return staff.role != "admin"


def sees_received(staff: Reader) -> bool:
    return staff.role in RECEIVED_ROLES


def require(allowed: bool, message: Said) -> None:
    if not allowed:
        raise Forbidden(message, code="forbidden")


def monday_of(moment: date) -> date:
    return moment - timedelta(days=moment.weekday())


def week_of(value: object, today: date) -> date:
    """The Monday of the week ``value`` (a date in it, ``yyyy-mm-dd`` or ``dd/mm/yyyy``)
    names; this week when none."""
    chosen = day(value, refusals.WEEK) if value else None
    return monday_of(chosen or today)


def week_days(week_start: date) -> list[date]:
    return [week_start + timedelta(days=offset) for offset in range(7)]
