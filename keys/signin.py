"""Staff sign-in: password (argon2id) and TOTP code, with a lock-out after repeated failures.

A sign-in is three steps so that no database lock is held while argon2 works (about half a
second on a busy node), each database step one short transaction of the caller's:

1. :func:`begin_attempt` counts the attempt *before* anything is checked, in one UPDATE, so
   that parallel guesses cannot get past the limit; a locked account is refused here.
2. :func:`check_credentials` does the slow checks in a thread, outside any transaction.
3. :func:`finish_attempt` records the outcome: a success clears the count and burns the TOTP
   step with a conditional UPDATE (the same code sent twice at once is accepted once, on
   SQLite and PostgreSQL alike); a failure that reaches the limit locks the account.

A process that dies between the steps leaves the attempt counted as a failure. An unknown
user name is checked against a stand-in hash, so it takes as long as a known one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keys import passwords, totp
from keys.accounts import TOTP_PURPOSE, USERNAME
from keys.models import Unit, User
from keys.sealing import SecretBox

#: The hash of a random password nobody knows, with the hasher's parameters: an unknown user
#: name costs one argon2 verification, like a known one.
STAND_IN_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$5QLU9qfUroG00KGqqDtYhg$"
    "k6YsXo3y6N21XmWdEa6MAfNLIxfdE5jbH10UeNkz6yg"
)

#: Why a sign-in was refused. Only ``locked`` is told for any user name; ``disabled`` and
#: ``no-totp`` only once the password and the code (for ``no-totp``: the password) were right.
BAD_CREDENTIALS = "bad-credentials"
LOCKED = "locked"
DISABLED = "disabled"
NO_TOTP = "no-totp"


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int
    minutes: int

    def lock_until(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.minutes)


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
    user_id: int | None = None  # None: no such account
    unit: str = ""
    locked_until: datetime | None = None  # set: refused without checking anything
    disabled: bool = False
    password_hash: str = field(default=STAND_IN_HASH, repr=False)
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
    locked_until: datetime | None = None
    #: The account's name and unit when it exists (for the usage ledger and the log), else "".
    username: str = ""
    unit: str = ""


def normalise_username(typed: str) -> str:
    """Phones capitalise the first letter and keyboards add spaces; user names are lower case."""
    return typed.strip().lower()


async def begin_attempt(
    session: AsyncSession, typed_username: str, policy: LockoutPolicy, now: datetime
) -> Attempt:
    """Count one attempt for the account (unless it is locked) and read what checking needs.

    An account whose count is already past the limit (attempts in flight, or left by a
    process that died) is locked here, for the policy's time.
    """
    username = normalise_username(typed_username)
    if not USERNAME.fullmatch(username):
        return Attempt(username=username)
    over = User.failed_logins + 1 > policy.failures
    row = (
        await session.execute(
            update(User)
            .where(
                User.username == username,
                or_(User.locked_until.is_(None), User.locked_until <= now),
            )
            .values(
                failed_logins=case((over, 0), else_=User.failed_logins + 1),
                locked_until=case((over, policy.lock_until(now)), else_=User.locked_until),
            )
            .returning(
                User.id,
                User.unit_code,
                User.locked_until,
                User.disabled,
                User.password_hash,
                User.totp_secret,
                User.totp_last_step,
            )
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is None:
        locked = (
            await session.execute(
                select(User.id, User.unit_code, User.locked_until).where(User.username == username)
            )
        ).first()
        if locked is None:
            return Attempt(username=username)
        return Attempt(username, locked.id, locked.unit_code, locked_until=locked.locked_until)
    user_id, unit, locked_until, disabled, password_hash, sealed, last_step = row
    return Attempt(
        username=username,
        user_id=user_id,
        unit=unit,
        locked_until=locked_until if locked_until is not None and locked_until > now else None,
        disabled=disabled,
        password_hash=password_hash,
        sealed_totp_secret=sealed,
        totp_last_step=last_step,
    )


def _check(attempt: Attempt, password: str, code: str, box: SecretBox, now: float) -> Checked:
    if attempt.locked_until is not None:
        return Checked(password_ok=False, step=None)  # refused before any check
    password_ok = passwords.verify_password(attempt.password_hash, password)
    if not password_ok or attempt.user_id is None:
        return Checked(password_ok=False, step=None)
    step = None
    if attempt.sealed_totp_secret is not None:
        secret = box.open(attempt.sealed_totp_secret, TOTP_PURPOSE)
        step = totp.accept_code(secret, code, attempt.totp_last_step, now)
    rehashed = None
    if step is not None and passwords.needs_rehash(attempt.password_hash):
        rehashed = passwords.hash_password(password)
    return Checked(password_ok=True, step=step, rehashed=rehashed)


async def check_credentials(
    attempt: Attempt, password: str, code: str, box: SecretBox, now: datetime
) -> Checked:
    """The password and the code, checked in a thread (argon2 would stall every request)."""
    return await asyncio.to_thread(_check, attempt, password, code, box, now.timestamp())


async def finish_attempt(
    session: AsyncSession,
    attempt: Attempt,
    checked: Checked,
    policy: LockoutPolicy,
    now: datetime,
) -> SignInOutcome:
    """Record the outcome of a checked attempt and say who signed in, or why not."""
    if attempt.user_id is None:
        return SignInOutcome(refusal=BAD_CREDENTIALS)
    username, unit = attempt.username, attempt.unit
    if attempt.locked_until is not None:
        return SignInOutcome(
            refusal=LOCKED, locked_until=attempt.locked_until, username=username, unit=unit
        )
    if checked.step is not None and not attempt.disabled:
        values: dict[str, object] = {
            "failed_logins": 0,
            "locked_until": None,
            "totp_last_step": checked.step,
        }
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
        if burnt is not None:
            staff = await staff_member(session, attempt.user_id)
            if staff is not None:
                return SignInOutcome(staff=staff, username=username, unit=unit)
        # Another request used this code first, or the account was disabled meanwhile.
    locked_until = await _record_failure(session, attempt.user_id, policy, now)
    if locked_until is not None and locked_until > now:
        refusal = LOCKED
    elif attempt.disabled and checked.step is not None:
        refusal = DISABLED
    elif checked.password_ok and attempt.sealed_totp_secret is None:
        refusal = NO_TOTP
    else:
        refusal = BAD_CREDENTIALS
    return SignInOutcome(
        refusal=refusal,
        locked_until=locked_until if refusal == LOCKED else None,
        username=username,
        unit=unit,
    )


async def _record_failure(
    session: AsyncSession, user_id: int, policy: LockoutPolicy, now: datetime
) -> datetime | None:
    """The attempt stays counted; at the limit the account is locked and its count restarts."""
    reached = User.failed_logins >= policy.failures
    return await session.scalar(
        update(User)
        .where(User.id == user_id)
        .values(
            failed_logins=case((reached, 0), else_=User.failed_logins),
            locked_until=case((reached, policy.lock_until(now)), else_=User.locked_until),
        )
        .returning(User.locked_until)
        .execution_options(synchronize_session=False)
    )


async def staff_member(session: AsyncSession, user_id: int) -> StaffMember | None:
    """The active account with this id, with its unit's name; None if gone or disabled."""
    row = (
        await session.execute(
            select(
                User.id,
                User.username,
                User.full_name,
                User.unit_code,
                Unit.name,
                User.role,
                User.clearance,
            )
            .join(Unit, Unit.code == User.unit_code)
            .where(User.id == user_id, User.disabled.is_(False))
        )
    ).first()
    return None if row is None else StaffMember(*row)


@dataclass(frozen=True)
class SignInTrouble:
    """Wrong sign-ins the accounts hold now, for monitoring.

    Only the count towards a lock-out is kept, so ``failures`` is the wrong sign-ins since each
    account's last success or lock-out; a user name that does not exist counts nowhere.
    """

    failures: int
    locked: int


async def sign_in_trouble(session: AsyncSession, now: datetime) -> SignInTrouble:
    """One pass over the accounts (a node has hundreds of staff, not millions)."""
    failures, locked = (
        await session.execute(
            select(
                func.coalesce(func.sum(User.failed_logins), 0),
                func.count(User.locked_until).filter(User.locked_until > now),
            )
        )
    ).one()
    return SignInTrouble(failures=int(failures), locked=int(locked))
