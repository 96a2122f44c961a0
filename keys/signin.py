"""Staff sign-in: password (argon2id) and TOTP code, throttled by :mod:`keys.throttle`.

A sign-in is three steps so that no database lock is held while argon2 works (about half a
second on a busy node), each database step one short transaction of the caller's:

1. :func:`begin_attempt` counts the attempt against the client's address and the user name
   *before* anything is checked, so that parallel guesses cannot get past a wait; an attempt
   from an address that must wait is refused here, whatever the name.
2. :func:`check_credentials` holds the attempt as long as the user name's failures ask, then
   does the slow checks in a thread, outside any transaction.
3. :func:`finish_attempt` records the outcome: a success burns the TOTP step with a conditional
   UPDATE (the same code sent twice at once is accepted once, on SQLite and PostgreSQL alike)
   and takes its count back; a failure stays counted.

A process that dies between the steps leaves the attempt counted as a failure. An unknown user
name is counted, held and checked (against a stand-in hash) like a known one, and a refusal
because the address waits names no account: nothing tells whether a name exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnExpressionArgument, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keys import passwords, throttle, totp
from keys.accounts import TOTP_PURPOSE, USERNAME
from keys.models import SignInFailures, Unit, User
from keys.sealing import SecretBox
from keys.throttle import Admission, ThrottlePolicy

#: Why a sign-in was refused. Only ``locked`` (the address waits) is told for any user name;
#: ``disabled`` and ``no-totp`` only once the password and the code (for ``no-totp``: the
#: password) were right.
BAD_CREDENTIALS = "bad-credentials"
LOCKED = "locked"
DISABLED = "disabled"
NO_TOTP = "no-totp"


@dataclass(frozen=True)
class StaffMember:
    """A signed-in member of staff, as the pages need them."""

    id: int
    username: str
    full_name: str
    unit: str
    unit_name: str
    role: str
    clearance: int


@dataclass(frozen=True)
class Attempt:
    """A counted sign-in attempt, with what the slow checks need."""

    username: str
    admission: Admission
    user_id: int | None = None  # None: no such account
    unit: str = ""
    disabled: bool = False
    #: None: no such account; the password is checked against the stand-in hash.
    password_hash: str | None = field(default=None, repr=False)
    sealed_totp_secret: str | None = field(default=None, repr=False)
    totp_last_step: int | None = None


@dataclass(frozen=True)
class Checked:
    password_ok: bool
    #: The TOTP step the code matched, newer than the last one used; None if it did not.
    step: int | None
    #: A new hash when the stored one uses outdated parameters (and the password was right).
    rehashed: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SignInOutcome:
    staff: StaffMember | None = None
    refusal: str | None = None
    #: Set with ``locked``: when the address may try again.
    locked_until: datetime | None = None
    #: The account's name and unit when it exists (for the usage ledger and the log), else "".
    username: str = ""
    unit: str = ""


def normalise_username(typed: str) -> str:
    """Phones capitalise the first letter and keyboards add spaces; user names are lower case."""
    return typed.strip().lower()


async def begin_attempt(
    session: AsyncSession,
    typed_username: str,
    address: str | None,
    policy: ThrottlePolicy,
    now: datetime,
) -> Attempt:
    """Count one attempt from ``address`` (see :func:`keys.throttle.address_key`) and read
    what checking it needs; an attempt from an address that waits is refused unread."""
    username = normalise_username(typed_username)
    admission = await throttle.admit(session, throttle.WEB, address, username, policy, now)
    if not admission.admitted or not USERNAME.fullmatch(username):
        return Attempt(username, admission)
    row = (
        await session.execute(
            select(
                User.id,
                User.unit_code,
                User.disabled,
                User.password_hash,
                User.totp_secret,
                User.totp_last_step,
            ).where(User.username == username)
        )
    ).first()
    if row is None:
        return Attempt(username, admission)
    user_id, unit, disabled, password_hash, sealed, last_step = row
    return Attempt(
        username=username,
        admission=admission,
        user_id=user_id,
        unit=unit,
        disabled=disabled,
        password_hash=password_hash,
        sealed_totp_secret=sealed,
        totp_last_step=last_step,
    )


def _check(attempt: Attempt, password: str, code: str, box: SecretBox, now: float) -> Checked:
    stored = attempt.password_hash or passwords.stand_in_hash()
    password_ok = passwords.verify_password(stored, password)
    if not password_ok or attempt.user_id is None:
        return Checked(password_ok=False, step=None)
    step = None
    if attempt.sealed_totp_secret is not None:
        secret = box.open(attempt.sealed_totp_secret, TOTP_PURPOSE)
        step = totp.accept_code(secret, code, attempt.totp_last_step, now)
    rehashed = None
    if step is not None and passwords.needs_rehash(stored):
        rehashed = passwords.hash_password(password)
    return Checked(password_ok=True, step=step, rehashed=rehashed)


async def check_credentials(
    attempt: Attempt, password: str, code: str, box: SecretBox, now: datetime
) -> Checked:
    """The password and the code, checked in a thread (argon2 would stall every request),
    after the hold the user name's failures ask for; nothing is checked for a refused attempt."""
    if not attempt.admission.admitted:
        return Checked(password_ok=False, step=None)
    await asyncio.sleep(attempt.admission.hold.total_seconds())
    return await asyncio.to_thread(_check, attempt, password, code, box, now.timestamp())


async def finish_attempt(
    session: AsyncSession,
    attempt: Attempt,
    checked: Checked,
    policy: ThrottlePolicy,
    now: datetime,
) -> SignInOutcome:
    """Record the outcome of a checked attempt and say who signed in, or why not."""
    admission = attempt.admission
    if admission.waiting_until is not None:
        return SignInOutcome(refusal=LOCKED, locked_until=admission.waiting_until)
    if attempt.user_id is not None and checked.step is not None and not attempt.disabled:
        staff = await _accept(session, attempt, checked)
        if staff is not None:
            await throttle.record_success(session, admission, policy, now)
            return SignInOutcome(staff=staff, username=attempt.username, unit=attempt.unit)
        # Another request used this code first, or the account was disabled meanwhile.
    await throttle.record_failure(session, admission, now)
    if admission.started_wait is not None:
        return SignInOutcome(refusal=LOCKED, locked_until=admission.started_wait)
    if attempt.user_id is None:
        return SignInOutcome(refusal=BAD_CREDENTIALS)
    if attempt.disabled and checked.step is not None:
        refusal = DISABLED
    elif checked.password_ok and attempt.sealed_totp_secret is None:
        refusal = NO_TOTP
    else:
        refusal = BAD_CREDENTIALS
    return SignInOutcome(refusal=refusal, username=attempt.username, unit=attempt.unit)


async def _accept(session: AsyncSession, attempt: Attempt, checked: Checked) -> StaffMember | None:
    """Burn the code's step (and store a newer hash): the staff member, or None if another
    request used this code first or the account was disabled meanwhile."""
    assert attempt.user_id is not None and checked.step is not None
    values: dict[str, object] = {"totp_last_step": checked.step}
    if checked.rehashed is not None:
        values["password_hash"] = checked.rehashed
    burnt = await session.scalar(
        update(User)
        .where(
            User.id == attempt.user_id,
            User.disabled.is_(False),
            or_(User.totp_last_step.is_(None), User.totp_last_step < checked.step),
        )
        .values(**values)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    return None if burnt is None else await staff_member(session, attempt.user_id)


#: A :class:`StaffMember`'s columns in the order of its fields.
_STAFF_COLUMNS = (
    User.id,
    User.username,
    User.full_name,
    User.unit_code,
    Unit.name,
    User.role,
    User.clearance,
)


def with_staff_member(
    query: Select[*tuple[Any, ...]], user_id: ColumnExpressionArgument[int]
) -> Select[*tuple[Any, ...]]:
    """``query`` reading also who ``user_id`` is (its last columns, for
    :func:`staff_member_of`): a page asks who its visitor is together with their session, in
    one trip to the database rather than two."""
    return (
        query.add_columns(*_STAFF_COLUMNS)
        .outerjoin(User, and_(User.id == user_id, User.disabled.is_(False)))
        .outerjoin(Unit, Unit.code == User.unit_code)
    )


def staff_member_of(row: Sequence[Any]) -> StaffMember | None:
    """The active account a row of :func:`with_staff_member` read; None if gone or
    disabled."""
    member = row[-len(_STAFF_COLUMNS) :]
    return None if member[0] is None or member[4] is None else StaffMember(*member)


async def staff_member(session: AsyncSession, user_id: int) -> StaffMember | None:
    """The active account with this id, with its unit's name; None if gone or disabled."""
    row = (
        await session.execute(
            select(*_STAFF_COLUMNS)
            .join(Unit, Unit.code == User.unit_code)
            .where(User.id == user_id, User.disabled.is_(False))
        )
    ).first()
    return None if row is None else StaffMember(*row)


@dataclass(frozen=True)
class SignInTrouble:
    """Wrong web sign-ins held now, for monitoring.

    ``failures`` is the sum of the accounts' counts (each since its last success; a user name
    that does not exist counts nowhere); ``locked`` the accounts that cannot sign in now from
    some address, because that address waits after attempts that gave their name last.
    """

    failures: int
    locked: int


async def sign_in_trouble(session: AsyncSession, now: datetime) -> SignInTrouble:
    """Two small queries (a node has hundreds of staff, not millions)."""
    failures = await session.scalar(
        select(func.coalesce(func.sum(SignInFailures.failures), 0))
        .join(User, User.username == SignInFailures.key)
        .where(SignInFailures.service == throttle.WEB, SignInFailures.scope == throttle.ACCOUNT)
    )
    waiting = await throttle.waits_by_user(session, now)
    locked = await session.scalar(
        select(func.count()).select_from(User).where(User.username.in_(list(waiting)))
    )
    return SignInTrouble(failures=int(failures or 0), locked=int(locked or 0))
