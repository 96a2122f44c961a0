"""The checkpassword interface (D. J. Bernstein's, as qmail and Dovecot use it), so that an IMAP
server signs staff in with the same per-device app passwords as the submission port.

The caller writes ``login NUL password NUL timestamp NUL`` (at most 512 bytes) on descriptor 3.
The login is the username, or an address in the mail domain of a unit this node hosts whose
part before the ``@`` is the username: the same logins the submission port takes. When an
unrevoked app password of an active account matches, the program named on the command line is
run with ``USER`` (the username) and ``HOME`` (the account's Maildir) set; Dovecot's
``checkpassword-reply`` returns them as the ``user`` field (the name Dovecot then uses, so a
static userdb's ``%u`` is the username even after an address login) and ``userdb_home``. Exit 1
for a wrong login or password, 111 when the answer cannot be had (the database is unreachable),
2 when misused, as the interface says.

Dovecot's extension for lookups without a password (a static userdb checking that a user
exists, ``doveadm user``): with ``AUTHORIZED=1`` in the environment the password is not checked;
the program is run with ``AUTHORIZED=2`` when the account exists and is active, and the exit is
3 when it does not. No credentials are ever handed out (there are only argon2id hashes), so a
``CREDENTIALS_LOOKUP`` is answered the same way and only plain-text mechanisms can succeed.

Failed checks count together with the submission port's (:mod:`keys.app_signin`): against the
client's address, ``TCPREMOTEIP`` as Dovecot sets it, and the user name. While the address must
wait, the exit is 1 and nothing is checked. Each check is counted in the usage ledger, like the
submission port's and the web's sign-ins: one ``login`` (an access) when it holds, one
``login-failed`` when it does not; a lookup without a password is no sign-in and counts nothing.

Dovecot starts this program for every IMAP sign-in, so it imports only what the check needs
(see :mod:`mailgw.cli`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from config.database import open_database
from config.errors import ConfigError
from config.logging import configure_logging, get_logger
from config.settings import Settings, load_settings
from exchange.ledger import ACCESS_KIND, FAILED_SIGN_IN_KIND, UsageLedger
from keys.app_signin import AppSignIn, app_password_hashes, sign_in_with_app_password
from keys.models import Unit, User
from keys.throttle import throttle_policy
from mailgw.maildir import user_folder

log = get_logger("congvan.mailgw.checkpassword")

#: The descriptor the caller writes the request on.
REQUEST_FD = 3
#: The interface's limit on the request.
REQUEST_LIMIT = 512

ACCEPTED = 0
REFUSED = 1
MISUSED = 2
#: Dovecot's code for "no such user" in a lookup without a password.
UNKNOWN_USER = 3
TEMPORARY_FAILURE = 111


@dataclass(frozen=True)
class Request:
    login: str
    password: str = field(repr=False)


def read_request(fd: int = REQUEST_FD) -> bytes:
    """Everything the caller wrote on ``fd``, up to one byte past the limit."""
    chunks: list[bytes] = []
    size = 0
    while size <= REQUEST_LIMIT:
        chunk = os.read(fd, REQUEST_LIMIT + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def parse_request(data: bytes) -> Request | None:
    """The login and password of a request; None when it is not one (too long, or not
    NUL-terminated fields). A login or password that is not UTF-8 matches no account."""
    if len(data) > REQUEST_LIMIT or data.count(b"\0") < 2:
        return None
    login, password, _timestamp = data.split(b"\0", 2)
    try:
        return Request(login.decode("utf-8"), password.decode("utf-8"))
    except UnicodeDecodeError:
        return Request("", "")


@dataclass(frozen=True)
class Account:
    username: str
    unit: str
    #: The hashes of the account's unrevoked app passwords.
    hashes: tuple[str, ...] = field(default=(), repr=False)


async def _find(session: AsyncSession, login: str, hosted_units: Sequence[str]) -> Account | None:
    """The active account of this node a login names; None if there is none. An address names
    it when its domain is the mail domain of a unit this node hosts, as on the submission port.
    """
    local, at, domain = login.strip().lower().rpartition("@")
    username = local if at else domain
    if not username or not hosted_units:
        return None
    query = select(User.username, User.unit_code).where(
        User.username == username,
        User.unit_code.in_(tuple(hosted_units)),
        User.disabled.is_(False),
    )
    if at:
        hosted = select(Unit.code).where(
            Unit.code.in_(tuple(hosted_units)), func.lower(Unit.mail_domain) == domain
        )
        query = query.where(hosted.exists())
    found = (await session.execute(query)).one_or_none()
    if found is None:
        return None
    hashes = await app_password_hashes(session, found.username)
    return Account(found.username, found.unit_code, tuple(hashes))


def _counted_name(login: str) -> str:
    """The user name a login's failures count against, as the submission port counts them."""
    return login.strip().lower().rpartition("@")[0] or login.strip().lower()


async def find_account(settings: Settings, login: str) -> Account | None:
    """The active account a login names, for a lookup without a password."""
    async with open_database(settings) as sessions, sessions() as session:
        return await _find(session, login, settings.node.units)


async def sign_in(settings: Settings, request: Request, remote: str | None) -> AppSignIn[Account]:
    """Check the request's app password as the submission port does, throttled with it, and
    count the outcome in the usage ledger as the submission port counts its sign-ins."""

    async def find(session: AsyncSession) -> tuple[Account, tuple[str, ...]] | None:
        account = await _find(session, request.login, settings.node.units)
        return None if account is None else (account, account.hashes)

    async with open_database(settings) as sessions:
        result = await sign_in_with_app_password(
            sessions,
            _counted_name(request.login),
            request.password,
            remote,
            throttle_policy(settings.web),
            find,
            datetime.now(UTC),
        )
        await _count(UsageLedger(sessions), result.account)
    return result


async def _count(ledger: UsageLedger, account: Account | None) -> None:
    """A sign-in is one access (lượt truy cập) of the IT report, a refused one a
    ``login-failed`` event that is never an access (:mod:`exchange.ledger`). Counts are not
    evidence: a sign-in whose count cannot be written still holds."""
    if account is None:
        ledger.record(FAILED_SIGN_IN_KIND)
    else:
        ledger.record(ACCESS_KIND, unit=account.unit, user=account.username)
    try:
        await ledger.flush()
    except (SQLAlchemyError, OSError) as error:
        log.warning("mail.checkpassword_not_counted", error=type(error).__name__)


def child_environment(
    environ: Mapping[str, str], username: str, home: Path, lookup: bool
) -> dict[str, str]:
    environment = {**environ, "USER": username, "HOME": str(home)}
    if lookup:
        environment["AUTHORIZED"] = "2"
    return environment


def _say(line: str) -> None:
    print(f"congvan mail checkpassword: {line}", file=sys.stderr, flush=True)


def check(node_dir: Path, program: Sequence[str], environ: Mapping[str, str]) -> int:
    """Answer one request from descriptor 3: run ``program`` (which replaces this process)
    when it holds, or return the exit code."""
    try:
        data = read_request()
        os.close(REQUEST_FD)
    except OSError as error:
        _say(f"cannot read the request on descriptor {REQUEST_FD}: {error.strerror}")
        return MISUSED
    request = parse_request(data)
    if request is None:
        _say(f"the request on descriptor {REQUEST_FD} is not 'login\\0password\\0timestamp\\0'")
        return MISUSED
    lookup = environ.get("AUTHORIZED") == "1"
    try:
        settings = load_settings(node_dir, environ)
        configure_logging(settings.log, base_dir=settings.node_dir)
    except (ConfigError, OSError) as error:
        _say(error.message if isinstance(error, ConfigError) else str(error))
        return TEMPORARY_FAILURE
    service = environ.get("SERVICE", "")
    remote = environ.get("TCPREMOTEIP") or None
    waiting = False
    try:
        if lookup:
            account = asyncio.run(find_account(settings, request.login))
        else:
            result = asyncio.run(sign_in(settings, request, remote))
            account, waiting = result.account, result.waiting_until is not None
    except (SQLAlchemyError, OSError) as error:
        log.error("mail.checkpassword_unavailable", error=type(error).__name__, service=service)
        return TEMPORARY_FAILURE
    if account is None:
        if lookup:
            return UNKNOWN_USER
        log.warning(
            "mail.checkpassword_refused",
            user=request.login[:64],
            service=service,
            remote=remote,
            waiting=waiting,
        )
        return REFUSED
    if not lookup:
        log.info(
            "mail.checkpassword_accepted", user=account.username, service=service, remote=remote
        )
    if not program:
        return ACCEPTED
    home = user_folder(settings.path(settings.smtp.maildir), account.username)
    environment = child_environment(environ, account.username, home, lookup)
    sys.stdout.flush()
    try:
        # The program is the one the IMAP server names (its checkpassword-reply).
        os.execvpe(program[0], list(program), environment)  # noqa: S606
    except OSError as error:
        _say(f"cannot run {program[0]}: {error.strerror}")
        return TEMPORARY_FAILURE
