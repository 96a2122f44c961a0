"""Signing in and out, and who a request's session cookie belongs to.

The rules (password, code, throttling) are the keys layer's (:mod:`keys.signin`); this module
runs them in their transactions and ties a successful sign-in to a new web session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from keys import signin, throttle
from keys.signin import SignInOutcome, StaffMember
from office.web import sessions as web_sessions
from office.web.sessions import ActiveSession
from office.web.site import StaffSite


@dataclass(frozen=True)
class SignedIn:
    staff: StaffMember
    session: ActiveSession


@dataclass(frozen=True)
class Visitor:
    """Who sent a request: signed in, or not (``expired`` when their session timed out)."""

    signed_in: SignedIn | None
    expired: bool = False


async def sign_in(
    site: StaffSite,
    username: str,
    password: str,
    code: str,
    address: str | None,
    now: datetime,
    replacing: ActiveSession | None = None,
) -> tuple[SignInOutcome, str | None]:
    """Check a sign-in from the client ``address``; on success open a session (closing
    ``replacing``, the browser's earlier one) and return its token for the cookie.

    Three short transactions (see :mod:`keys.signin`): no lock is held while argon2 works.
    """
    async with site.sessions() as session, session.begin():
        attempt = await signin.begin_attempt(
            session, username, throttle.address_key(address), site.lockout, now
        )
    checked = await signin.check_credentials(attempt, password, code, site.box, now)
    async with site.sessions() as session, session.begin():
        outcome = await signin.finish_attempt(session, attempt, checked, site.lockout, now)
        if outcome.staff is None:
            return outcome, None
        await web_sessions.forget_expired(session, site.session_policy, now)
        if replacing is not None:
            await web_sessions.close_session(session, replacing.token_hash)
        token = await web_sessions.open_session(session, outcome.staff.id, now)
    return outcome, token


async def visitor(site: StaffSite, token: str | None, now: datetime) -> Visitor:
    """The staff member a cookie's session belongs to, if the session and the account hold.

    Read without a transaction (every request asks, and on PostgreSQL a transaction is two
    more round trips): what it may write is one statement at a time, each whole by itself and
    harmless twice (the session's last request moved on, an expired session or a disabled
    account's session deleted)."""
    if token is None:
        return Visitor(None)
    async with site.reads() as session, session.begin():
        lookup = await web_sessions.find_session(session, token, site.session_policy, now)
        if lookup.session is None:
            return Visitor(None, expired=lookup.expired)
        staff = lookup.staff
        if staff is None:  # disabled (or deleted) since: the session ends with the account
            await web_sessions.close_session(session, lookup.session.token_hash)
            return Visitor(None, expired=True)
    return Visitor(SignedIn(staff, lookup.session))


async def sign_out(site: StaffSite, active: ActiveSession) -> None:
    async with site.sessions() as session, session.begin():
        await web_sessions.close_session(session, active.token_hash)
