"""Staff accounts: creation, second factor enrolment, app passwords, disabling.

Functions take an open session; the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Forbidden, Invalid, NotFound
from keys import app_signin, passwords, throttle, totp
from keys.models import CLEARANCES, ROLES, AppPassword, Unit, User
from keys.sealing import SecretBox

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LABEL = re.compile(r"^[\w .@-]{1,64}$")
TOTP_PURPOSE = "totp"


@dataclass(frozen=True)
class Account:
    username: str
    full_name: str
    unit: str
    role: str
    clearance: int
    has_totp: bool
    disabled: bool
    app_passwords: tuple[str, ...]
    #: Set while an address where this user name failed last must wait: the user cannot sign
    #: in from there before then.
    locked_until: datetime | None = None
    title: str = ""
    may_review: bool = False
    may_sign: bool = False
    #: The department (phòng, ban) of their unit they belong to: its id, or None.
    department_id: int | None = None


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str


async def _user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"unknown user {username}", code="unknown-user")
    return user


async def add_user(
    session: AsyncSession,
    username: str,
    password: str,
    unit_code: str,
    role: str,
    clearance: int,
    hosted_units: tuple[str, ...],
    full_name: str = "",
) -> None:
    """Create an account in one of the units this node hosts."""
    if not USERNAME.fullmatch(username):
        raise Invalid(
            f"bad username {username!r}: 2-64 of a-z, 0-9, '.', '_' and '-'", code="bad-username"
        )
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if clearance not in CLEARANCES:
        raise Invalid(f"clearance {clearance} must be 0-3")
    if await session.get(Unit, unit_code) is None:
        raise NotFound(f"unknown unit {unit_code}", code="unknown-unit")
    if unit_code not in hosted_units:
        raise Forbidden(f"unit {unit_code} is not hosted by this node; add the user on its node")
    passwords.check_password_strength(password, user_inputs=[username, full_name])
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username} already exists")
    session.add(
        User(
            username=username,
            full_name=full_name,
            unit_code=unit_code,
            role=role,
            clearance=clearance,
            password_hash=passwords.hash_password(password),
            failed_logins=0,
            disabled=False,
        )
    )
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent add of the same name
        raise Conflict(f"user {username} already exists") from error


async def enrol_totp(session: AsyncSession, username: str, box: SecretBox) -> TotpEnrolment:
    """Give the user a new TOTP secret (stored sealed); any earlier authenticator stops working."""
    user = await _user(session, username)
    secret = totp.new_secret()
    user.totp_secret = box.seal(secret, TOTP_PURPOSE)
    user.totp_last_step = None
    await session.flush()
    return TotpEnrolment(secret=secret, uri=totp.provisioning_uri(secret, username))


async def accept_totp(
    session: AsyncSession, username: str, code: str, box: SecretBox, now: float | None = None
) -> bool:
    """Check a second-factor code and burn its time step, so it is never accepted twice."""
    user = await _user(session, username)
    if user.totp_secret is None:
        return False
    secret = box.open(user.totp_secret, TOTP_PURPOSE)
    step = totp.accept_code(secret, code, user.totp_last_step, now)
    if step is None:
        return False
    user.totp_last_step = step
    await session.flush()
    return True


async def set_password(session: AsyncSession, username: str, password: str) -> None:
    user = await _user(session, username)
    passwords.check_password_strength(password, user_inputs=[username, user.full_name])
    user.password_hash = passwords.hash_password(password)
    await session.flush()
    await throttle.forget_user(session, username)


async def add_app_password(session: AsyncSession, username: str, label: str) -> str:
    """Create an app password for one device and return it: it is never shown again."""
    if not LABEL.fullmatch(label):
        raise Invalid(f"bad label {label!r}: 1-64 letters, digits, spaces, '.', '@' or '-'")
    user = await _user(session, username)
    taken = await session.scalar(
        select(AppPassword.id).where(
            AppPassword.user_id == user.id,
            AppPassword.label == label,
            AppPassword.revoked_at.is_(None),
        )
    )
    if taken is not None:
        raise Conflict(f"{username} already has an app password labelled {label!r}")
    secret = passwords.new_app_password()
    session.add(
        AppPassword(user_id=user.id, label=label, password_hash=passwords.hash_password(secret))
    )
    await session.flush()
    return secret


async def revoke_app_password(session: AsyncSession, username: str, label: str) -> None:
    user = await _user(session, username)
    record = await session.scalar(
        select(AppPassword).where(
            AppPassword.user_id == user.id,
            AppPassword.label == label,
            AppPassword.revoked_at.is_(None),
        )
    )
    if record is None:
        raise NotFound(f"{username} has no active app password labelled {label!r}")
    record.revoked_at = datetime.now(UTC)
    await session.flush()


async def check_app_password(session: AsyncSession, username: str, secret: str) -> bool:
    """True if ``secret`` is one of the user's unrevoked app passwords and the user is active."""
    hashes = await app_signin.app_password_hashes(session, username)
    return any(passwords.verify_password(value, secret) for value in hashes)


async def set_disabled(session: AsyncSession, username: str, disabled: bool) -> None:
    user = await _user(session, username)
    user.disabled = disabled
    await session.flush()


MAX_TITLE = 128


async def set_duties(
    session: AsyncSession,
    username: str,
    *,
    title: str | None = None,
    may_review: bool | None = None,
    may_sign: bool | None = None,
) -> User:
    """Chức vụ and the duties in the review chain of outgoing drafts: reviewing (the head of
    a department, the Chánh Văn phòng) and signing (the competent person, Decree 30 Art. 13).
    An administrator reads no documents, so cannot be given either."""
    user = await _user(session, username)
    if title is not None:
        title = " ".join(title.split())
        if len(title) > MAX_TITLE:
            raise Invalid(f"title longer than {MAX_TITLE} characters", code="bad-title")
        user.title = title
    if (may_review or may_sign) and user.role == "admin":
        raise Forbidden("an administrator reads no documents: no review or signing duty")
    if may_review is not None:
        user.may_review = may_review
    if may_sign is not None:
        user.may_sign = may_sign
    await session.flush()
    return user


async def unlock(session: AsyncSession, username: str) -> None:
    """Forget the user's failed sign-ins, and end the waits of the addresses they (or someone
    giving their name) last failed from; see :func:`keys.throttle.forget_user`."""
    await throttle.forget_user(session, username)


async def hosted_user_id(
    session: AsyncSession, username: str, units: Collection[str]
) -> int | None:
    """The id of the account named so in one of ``units``; None if there is none (an
    account of a unit another node hosts is managed on that node)."""
    if not units:
        return None
    return await session.scalar(
        select(User.id).where(User.username == username, User.unit_code.in_(tuple(units)))
    )


async def list_accounts(
    session: AsyncSession, units: Collection[str] | None = None
) -> list[Account]:
    """Every account, or those of ``units`` only."""
    query = select(User).order_by(User.unit_code, User.username)
    if units is not None:
        query = query.where(User.unit_code.in_(tuple(units)))
    users = (await session.scalars(query)).all()
    labels: dict[int, list[str]] = {}
    for user_id, label in await session.execute(
        select(AppPassword.user_id, AppPassword.label)
        .where(AppPassword.revoked_at.is_(None))
        .order_by(AppPassword.label)
    ):
        labels.setdefault(user_id, []).append(label)
    waits = await throttle.waits_by_user(session, datetime.now(UTC))
    return [
        Account(
            username=user.username,
            full_name=user.full_name,
            unit=user.unit_code,
            role=user.role,
            clearance=user.clearance,
            has_totp=user.totp_secret is not None,
            disabled=user.disabled,
            app_passwords=tuple(labels.get(user.id, ())),
            locked_until=waits.get(user.username),
            title=user.title,
            may_review=user.may_review,
            may_sign=user.may_sign,
            department_id=user.department_id,
        )
        for user in users
    ]
