"""Sign-in throttling: how often a client address, and a user name, may have a password checked.

One rule for the web sign-in (password and code) and for mail clients (SMTP AUTH and IMAP
through checkpassword, with app passwords). Each service keeps its own counts, in the database so
that every process of a node shares them: a phone retrying a revoked app password does not hold
back its office's web sign-ins. The rule is by address first and by account second:

- **Address.** Every failure from a client address counts against it, whatever user name it
  gave, existing or not. From the ``failures``-th (``[web] lockout_failures``, 5) on, each
  failure makes the address wait before its next attempt is checked: 1 s after the fifth, 2 s
  after the sixth, then 4 s, 8 s… up to ``longest_wait`` (``[web] lockout_minutes``, 15). An
  attempt made while its address waits is refused without checking anything and is not
  counted; the answer names no account, so it is the same for any user name and for the right
  password too.
- **Account.** Every failure for a user name counts against it, from any address. An account
  is never locked: once twice ``failures`` are held against it, each attempt at it is held
  before it is checked, 1 s, 2 s, 4 s… up to ``LONGEST_HOLD`` (16 s), and then checked as
  usual. Strangers can slow the owner's sign-in by those seconds, never refuse it: nobody can
  lock an account for its owner at another address, an administrator's included. A name that
  does not exist is counted and held the same, so holds tell nothing either.
- An attempt is counted before it is checked, each count one statement on one row, so parallel
  guesses over many connections (and processes) cannot get past a wait; a process that dies
  mid-check leaves its attempt counted. A success takes back its own count at the address but
  nothing more (else an attacker with an account of their own would wipe the address's
  failures between guesses), and clears the account's.
- A count is forgotten once four times ``longest_wait`` (an hour) passed since its last failure.
- An administrator's unlock (:func:`forget_user`) clears a user's count and lifts the waits of
  the addresses whose latest attempt gave that user's name.

An address is the client's IP address, or for IPv6 its /64 network, which one host holds whole.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from config.logging import get_logger
from config.settings import WebSettings
from keys.models import SignInFailures

log = get_logger("congvan.keys.throttle")

#: The services, which keep counts of their own.
WEB = "web"
MAIL = "mail"
#: What a count is against: a client address, or a user name.
ADDRESS = "address"
ACCOUNT = "account"
FIRST_WAIT = timedelta(seconds=1)
LONGEST_HOLD = timedelta(seconds=16)
#: A user name's attempts are held once more than this many times ``failures`` are held
#: against it: failures from more than one address, or from one for a long time.
HOLD_FACTOR = 2
#: A count is forgotten this many times ``longest_wait`` after its last failure.
FORGET_FACTOR = 4
#: The longest key stored (a user name; an IPv6 address is at most 45 characters).
KEY_LENGTH = 64
IPV6_NETWORK_BITS = 64


@dataclass(frozen=True)
class ThrottlePolicy:
    #: The failure from one address that starts its first wait.
    failures: int = 5
    longest_wait: timedelta = timedelta(minutes=15)

    def wait_after(self, failures: int) -> timedelta:
        """How long an address waits after its ``failures``-th failure."""
        return _doubling(failures - self.failures, self.longest_wait)

    def hold_at(self, failures: int) -> timedelta:
        """How long an attempt at a user name is held, ``failures`` (itself included) counted."""
        return _doubling(failures - HOLD_FACTOR * self.failures - 1, LONGEST_HOLD)

    def forgotten_before(self, now: datetime) -> datetime:
        return now - FORGET_FACTOR * self.longest_wait


def _doubling(step: int, longest: timedelta) -> timedelta:
    """Nothing before step 0, then 1 s doubling at each step, up to ``longest``."""
    if step < 0:
        return timedelta(0)
    doubled: timedelta = FIRST_WAIT * 2 ** min(step, 32)
    return min(doubled, longest)


def throttle_policy(web: WebSettings) -> ThrottlePolicy:
    return ThrottlePolicy(web.lockout_failures, timedelta(minutes=web.lockout_minutes))


def address_key(ip: str | None) -> str | None:
    """What a client address is counted as: the IP address, an IPv6 one's /64 network, or None
    when there is no address (a local caller), which is then counted by user name only."""
    if not ip:
        return None
    try:
        parsed = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip[:KEY_LENGTH]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_NETWORK_BITS), strict=False))
    return str(parsed)


@dataclass(frozen=True)
class Admission:
    """What :func:`admit` decided about one attempt."""

    service: str
    address: str | None
    name: str
    #: Set: the address waits until then; the attempt is refused and nothing is checked.
    waiting_until: datetime | None = None
    #: How long the attempt is held before it is checked.
    hold: timedelta = timedelta(0)
    #: The wait this attempt started at its address (it was counted before being checked): the
    #: answer if the check fails, taken back if it succeeds.
    started_wait: datetime | None = None

    @property
    def admitted(self) -> bool:
        return self.waiting_until is None


def _insert(session: AsyncSession) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that can say what to do ON CONFLICT (both databases spell it alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(SignInFailures)
    return sqlite.insert(SignInFailures)


def _row(service: str, scope: str, key: str) -> ColumnElement[bool]:
    return and_(
        SignInFailures.service == service,
        SignInFailures.scope == scope,
        SignInFailures.key == key,
    )


async def _count(
    session: AsyncSession,
    service: str,
    scope: str,
    key: str,
    policy: ThrottlePolicy,
    now: datetime,
    last_user: str = "",
) -> int | None:
    """Count one attempt on a row, unless it waits; the count, or None when it waits."""
    stale = SignInFailures.last_failure_at < policy.forgotten_before(now)
    insert = _insert(session).values(
        service=service, scope=scope, key=key, failures=1, last_failure_at=now, last_user=last_user
    )
    counted = insert.on_conflict_do_update(
        index_elements=["service", "scope", "key"],
        set_={
            "failures": case((stale, 1), else_=SignInFailures.failures + 1),
            "last_failure_at": case((stale, now), else_=SignInFailures.last_failure_at),
            "last_user": last_user,
        },
        where=(SignInFailures.wait_until.is_(None)) | (SignInFailures.wait_until <= now),
    ).returning(SignInFailures.failures)
    return await session.scalar(counted)


async def admit(
    session: AsyncSession,
    service: str,
    address: str | None,
    name: str,
    policy: ThrottlePolicy,
    now: datetime,
) -> Admission:
    """Count an attempt from ``address`` at user name ``name`` before it is checked, in the
    caller's transaction; or refuse it, uncounted, while the address waits."""
    name = name[:KEY_LENGTH]
    started_wait = None
    if address is not None:
        failures = await _count(session, service, ADDRESS, address, policy, now, last_user=name)
        if failures is None:
            waiting_until = await session.scalar(
                select(SignInFailures.wait_until).where(_row(service, ADDRESS, address))
            )
            return Admission(service, address, name, waiting_until=waiting_until or now)
        wait = policy.wait_after(failures)
        if wait:
            started_wait = now + wait
            await session.execute(
                update(SignInFailures)
                .where(_row(service, ADDRESS, address))
                .values(wait_until=started_wait)
                .execution_options(synchronize_session=False)
            )
            log.warning(
                "signin.address_waits",
                service=service,
                address=address,
                failures=failures,
                seconds=int(wait.total_seconds()),
            )
    held = await _count(session, service, ACCOUNT, name, policy, now)
    assert held is not None  # an account row never waits
    return Admission(service, address, name, hold=policy.hold_at(held), started_wait=started_wait)


async def record_failure(session: AsyncSession, admission: Admission, now: datetime) -> None:
    """The checked attempt failed: it stays counted, and its counts are fresh from now."""
    keys = [(ACCOUNT, admission.name)]
    if admission.address is not None:
        keys.insert(0, (ADDRESS, admission.address))  # rows are locked address first, always
    for scope, key in keys:
        await session.execute(
            update(SignInFailures)
            .where(_row(admission.service, scope, key))
            .values(last_failure_at=now)
            .execution_options(synchronize_session=False)
        )


async def record_success(
    session: AsyncSession, admission: Admission, policy: ThrottlePolicy, now: datetime
) -> None:
    """The checked attempt succeeded: the address takes back its count (and the wait it started),
    the account's count is cleared, and the counts forgotten by now are dropped."""
    if admission.address is not None:
        undone = SignInFailures.wait_until == admission.started_wait
        await session.execute(
            update(SignInFailures)
            .where(_row(admission.service, ADDRESS, admission.address))
            .values(
                failures=case((SignInFailures.failures > 0, SignInFailures.failures - 1), else_=0),
                wait_until=case((undone, None), else_=SignInFailures.wait_until),
            )
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(SignInFailures)
        .where(_row(admission.service, ACCOUNT, admission.name))
        .values(failures=0)
        .execution_options(synchronize_session=False)
    )
    await _forget_stale(session, policy, now)


async def forget_user(session: AsyncSession, username: str) -> None:
    """An administrator's unlock: the user's counts in every service are cleared, and the
    addresses whose latest attempt gave that name stop waiting and start afresh."""
    await session.execute(
        update(SignInFailures)
        .where(SignInFailures.scope == ADDRESS, SignInFailures.last_user == username)
        .values(failures=0, wait_until=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(SignInFailures)
        .where(SignInFailures.scope == ACCOUNT, SignInFailures.key == username)
        .values(failures=0)
        .execution_options(synchronize_session=False)
    )


async def waits_by_user(session: AsyncSession, now: datetime) -> dict[str, datetime]:
    """For each user name, the end of the longest wait now of an address whose latest attempt
    gave it (in any service): until then that user cannot sign in from there."""
    rows = await session.execute(
        select(SignInFailures.last_user, func.max(SignInFailures.wait_until))
        .where(SignInFailures.scope == ADDRESS, SignInFailures.wait_until > now)
        .group_by(SignInFailures.last_user)
    )
    return {user: until for user, until in rows if until is not None}


async def _forget_stale(session: AsyncSession, policy: ThrottlePolicy, now: datetime) -> None:
    """Drop the counts that are forgotten and make nobody wait. Rows other attempts hold are
    skipped (PostgreSQL; SQLite has one writer), so this waits for no one: taken after the
    caller's own rows, it cannot make two transactions wait for each other."""
    stale = (
        select(SignInFailures.service, SignInFailures.scope, SignInFailures.key)
        .where(
            SignInFailures.last_failure_at < policy.forgotten_before(now),
            (SignInFailures.wait_until.is_(None)) | (SignInFailures.wait_until <= now),
        )
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(SignInFailures)
        .where(tuple_(SignInFailures.service, SignInFailures.scope, SignInFailures.key).in_(stale))
        .execution_options(synchronize_session=False)
    )
