"""Mail clients sign in with an app password: SMTP AUTH on the submission port, and IMAP through
checkpassword. Both come through :func:`sign_in_with_app_password`, so both are throttled as
one (:mod:`keys.throttle`, service ``mail``: their failures count together) and cost the same
for a user name that does not exist as for one that does.

The cost is one argon2 verification per unrevoked app password of the account, at least one:
a wrong password for an account with several devices takes a little longer. That tells an
account with several app passwords from one with one, not whether a name exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from keys import passwords, throttle
from keys.models import AppPassword, User
from keys.throttle import ThrottlePolicy

T = TypeVar("T")

#: Looks an account up in the caller's transaction: it and its app passwords' hashes, or None.
Finder = Callable[[AsyncSession], Awaitable[tuple[T, Sequence[str]] | None]]


@dataclass(frozen=True)
class AppSignIn(Generic[T]):
    #: Who signed in; None if nobody did.
    account: T | None = None
    #: Set when the client's address must wait until then: nothing was checked.
    waiting_until: datetime | None = None


async def app_password_hashes(session: AsyncSession, username: str) -> list[str]:
    """The hashes of an active user's unrevoked app passwords (none for a disabled user), for
    a caller that verifies them off the event loop."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or user.disabled:
        return []
    hashes = await session.scalars(
        select(AppPassword.password_hash).where(
            AppPassword.user_id == user.id, AppPassword.revoked_at.is_(None)
        )
    )
    return list(hashes)


def _holds(hashes: Sequence[str], secret: str) -> bool:
    if not hashes:
        passwords.verify_password(passwords.stand_in_hash(), secret)
        return False
    return any(passwords.verify_password(value, secret) for value in hashes)


async def sign_in_with_app_password(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    secret: str,
    address: str | None,
    policy: ThrottlePolicy,
    find: Finder[T],
    now: datetime,
) -> AppSignIn[T]:
    """Check ``secret`` for user name ``name`` from the client's IP ``address`` (None: a
    local caller). Two short transactions; argon2 runs in a thread between them."""
    async with sessions() as session, session.begin():
        admission = await throttle.admit(
            session, throttle.MAIL, throttle.address_key(address), name, policy, now
        )
        found = await find(session) if admission.admitted else None
    if not admission.admitted:
        return AppSignIn(waiting_until=admission.waiting_until)
    account, hashes = found if found is not None else (None, ())
    await asyncio.sleep(admission.hold.total_seconds())
    matched = await asyncio.to_thread(_holds, hashes, secret)
    async with sessions() as session, session.begin():
        if matched:
            await throttle.record_success(session, admission, policy, now)
        else:
            await throttle.record_failure(session, admission, now)
    return AppSignIn(account=account) if matched else AppSignIn()
