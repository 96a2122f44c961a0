"""Server-side staff sessions and the anti-forgery (CSRF) tokens bound to them.

The browser holds a random token; the database holds its SHA-256 only. A session ends after
``[web] session_minutes`` without a request, or ``session_hours`` after sign-in, whichever
comes first, and at sign-out. Every POST form carries a token derived (HMAC) from the session
and a key of the node's, so a page of another site cannot post as the signed-in user; the
sign-in form, which has no session yet, is bound the same way to a random cookie of its own.

Functions take an open session; the caller owns the transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keys.signin import StaffMember, staff_member_of, with_staff_member
from office.web.models import WebSession

TOKEN_BYTES = 32
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: ``last_seen_at`` is written at most this often per session (one write per page would
#: make every page view a write).
TOUCH_EVERY = timedelta(seconds=60)
FORM_KEY_INFO = b"congvan-web-forms"


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta

    def expired(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        return now - last_seen_at >= self.idle or now - created_at >= self.lifetime


@dataclass(frozen=True)
class ActiveSession:
    token_hash: str
    user_id: int
    created_at: datetime


@dataclass(frozen=True)
class Lookup:
    """What a session cookie led to: an active session and its account (None when the account
    is gone or disabled since), or whether the session had expired."""

    session: ActiveSession | None
    expired: bool = False
    staff: StaffMember | None = None


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str) -> bool:
    return TOKEN.fullmatch(token) is not None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


async def open_session(session: AsyncSession, user_id: int, now: datetime) -> str:
    """Start a session for a user who just signed in; returns the token for the cookie."""
    token = new_token()
    session.add(
        WebSession(token_hash=token_hash(token), user_id=user_id, created_at=now, last_seen_at=now)
    )
    await session.flush()
    return token


async def find_session(
    session: AsyncSession, token: str | None, policy: SessionPolicy, now: datetime
) -> Lookup:
    """The session a cookie names, kept alive, and its account, read in the same statement
    (every page asks both: one trip to the database, not two); an expired one is deleted."""
    if token is None or not well_formed(token):
        return Lookup(None)
    digest = token_hash(token)
    row = (
        await session.execute(
            with_staff_member(
                select(WebSession.user_id, WebSession.created_at, WebSession.last_seen_at),
                WebSession.user_id,
            ).where(WebSession.token_hash == digest)
        )
    ).first()
    if row is None:
        return Lookup(None)
    user_id, created_at, last_seen_at = row[:3]
    if policy.expired(created_at, last_seen_at, now):
        await session.execute(delete(WebSession).where(WebSession.token_hash == digest))
        return Lookup(None, expired=True)
    if now - last_seen_at >= TOUCH_EVERY:
        await session.execute(
            update(WebSession)
            .where(WebSession.token_hash == digest, WebSession.last_seen_at < now)
            .values(last_seen_at=now)
        )
    return Lookup(ActiveSession(digest, user_id, created_at), staff=staff_member_of(row))


async def close_session(session: AsyncSession, digest: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == digest))


async def close_sessions_of(session: AsyncSession, user_id: int) -> int:
    """End every session of a user (their second factor was reset, or they were disabled):
    each browser they were signed in on is sent to the sign-in page."""
    result = await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_expired(session: AsyncSession, policy: SessionPolicy, now: datetime) -> int:
    """Delete sessions nobody can use any more (browsers closed without signing out)."""
    result = await session.execute(
        delete(WebSession).where(
            or_(
                WebSession.last_seen_at <= now - policy.idle,
                WebSession.created_at <= now - policy.lifetime,
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def form_key(passphrase: bytes, node_name: str) -> bytes:
    """The node's key for form tokens: every process of the node derives the same one."""
    return hmac.new(passphrase, FORM_KEY_INFO + b":" + node_name.encode(), "sha256").digest()


def form_token(key: bytes, purpose: str, bound_to: str) -> str:
    """The token a form carries: HMAC of what it is bound to (a session, a sign-in cookie)."""
    mac = hmac.new(key, f"{purpose}\0{bound_to}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def form_token_valid(key: bytes, purpose: str, bound_to: str, presented: str | None) -> bool:
    if not presented:
        return False
    expected = form_token(key, purpose, bound_to).encode("ascii")
    return hmac.compare_digest(expected, presented.encode("utf-8", "replace"))
