"""The submission listener (aiosmtpd) for staff mail clients.

Port ``[smtp] port`` speaks plain SMTP until STARTTLS, which must come before AUTH and before
any mail; ``[smtp] tls_port`` (when set) is TLS from the first byte, as port 465. Either way a
client authenticates (PLAIN or LOGIN with an app password) before MAIL, so nothing is relayed
for anyone unknown. Every rule about senders, recipients and sizes is the gateway's
(:mod:`mailgw.gateway`); this module turns its refusals into SMTP replies.
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import math
import ssl
import uuid
import weakref
from base64 import b64decode
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, Session
from sqlalchemy.exc import SQLAlchemyError

from config.errors import DiskFull
from config.logging import bind_request_id, get_logger
from config.settings import SmtpSettings
from mailgw.addresses import Mailbox, split
from mailgw.gateway import MAX_RECIPIENTS, MailGateway, MailRefused
from mailgw.parsing import addresses_in, authors

log = get_logger("congvan.mailgw.smtp")

#: Failed AUTH attempts one connection may make before it is closed.
MAX_AUTH_FAILURES = 3
#: A failed AUTH is answered after this pause, to slow down guessing.
AUTH_FAILURE_DELAY = 1.0
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure: try again later"
#: RFC 3463's "mail system full": nothing was kept, the client sends it again later.
INSUFFICIENT_STORAGE = "452 4.3.1 Insufficient system storage: try again later"
#: Headers that name who wrote, sent or resent a message (RFC 5322 3.6.2 and 3.6.6): each of
#: their addresses must be the authenticated sender's own.
AUTHOR_HEADERS = ("From", "Sender", "Resent-From", "Resent-Sender")
#: How many MAIL FROM and RCPT TO arguments' readings are kept (:func:`_parsed_path`).
ADDRESSES_KEPT = 1024
#: aiosmtpd's own replies for an oversized message, which do not say the limit.
TOO_BIG_REPLIES = ("552 Error: Too much mail data", "552 Error: message size exceeds")


def server_context(cert: Path, key: Path, passphrase: bytes) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key, passphrase)
    return context


@functools.lru_cache(maxsize=ADDRESSES_KEPT)
def _parsed_path(arg: str) -> tuple[str | None, str | None]:
    """The address of a MAIL FROM or RCPT TO argument and what follows it, as aiosmtpd's
    ``_getaddr`` reads it (None, None: malformed). A client sends the same few addresses
    with every message."""
    if not arg:
        return "", ""
    try:
        if arg.lstrip().startswith("<"):
            angle, rest = get_angle_addr(arg)
            return angle.addr_spec, rest
        spec, rest = get_addr_spec(arg)
        return spec.addr_spec, rest
    except HeaderParseError:
        return None, None


class SubmissionServer(SMTP):
    """aiosmtpd's protocol, saying the size limit in its 552 as RFC 1870 suggests."""

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status.startswith(TOO_BIG_REPLIES):
            status = f"552 5.3.4 Message too big: the limit is {self.data_size_limit} bytes"
        await super().push(status)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's reading, without the class its own defines on every call (a typing
        ``Protocol``: most of what MAIL and RCPT cost in Python)."""
        address, rest = _parsed_path(arg)
        if address and self.local_part_limit:
            local, _at, _domain = address.rpartition("@")
            if len(local) > self.local_part_limit:
                return None, None
        return address, rest


def _client_address(server: SMTP) -> str | None:
    peer = server.session.peer if server.session is not None else None
    return peer[0] if isinstance(peer, tuple) and peer else None


def _waiting_reply(until: datetime) -> str:
    """Nothing was checked: the same answer for any user name and for the right password."""
    seconds = max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))
    return (
        "454 4.7.0 Too many failed authentications from your address: "
        f"try again in {seconds} seconds"
    )


#: The most header a message may carry, all its header lines together (sendmail's
#: MaxHeadersLength is half of it): a larger block is refused, never parsed. Parsing grows
#: with it, and a block of short lines costs about 2 ms a KiB.
HEADER_LIMIT = 64 * 1024
#: A header block up to this size (a mail client's is 1-4 KiB) is read on the event loop; a
#: larger one in a thread, so a crafted one holds up nobody.
HEADER_ON_LOOP = 4 * 1024
HEADER_TOO_BIG = f"552 5.3.4 Message header too big: the limit is {HEADER_LIMIT} bytes"


def _header_block(content: bytes) -> bytes | None:
    """The message's header lines with the blank line after them; ``None`` when they are more
    than ``HEADER_LIMIT`` bytes."""
    end = content.find(b"\r\n\r\n", 0, HEADER_LIMIT + 2)
    if end < 0:
        end = content.find(b"\n\n", 0, HEADER_LIMIT)
    block = content if end < 0 else content[: end + 2]
    return block if len(block) <= HEADER_LIMIT else None


def _parse_headers(block: bytes) -> Message:
    return BytesHeaderParser(policy=policy.compat32).parsebytes(block)


class SubmissionHandler:
    """aiosmtpd's handler: AUTH against app passwords, then the gateway's checks."""

    def __init__(self, gateway: MailGateway, hostname: str) -> None:
        self.gateway = gateway
        self.hostname = hostname
        self._failures: weakref.WeakKeyDictionary[SMTP, int] = weakref.WeakKeyDictionary()

    # -- AUTH ----------------------------------------------------------------------------------

    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 1:
            answer = await server.challenge_auth("")
            if answer is MISSING:
                return AuthResult(success=False)
        else:
            try:
                answer = b64decode(args[1].encode(), validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Cannot decode base64")
                return AuthResult(success=False, handled=True)
        assert isinstance(answer, bytes)
        parts = answer.split(b"\x00")
        if len(parts) != 3:
            await server.push("501 5.5.2 Cannot split the AUTH PLAIN value")
            return AuthResult(success=False, handled=True)
        return await self._check(server, parts[1], parts[2])

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 1:
            login = await server.challenge_auth(server.AuthLoginUsernameChallenge)
        else:
            try:
                login = b64decode(args[1].encode(), validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Cannot decode base64")
                return AuthResult(success=False, handled=True)
        if login is MISSING:
            return AuthResult(success=False)
        password = await server.challenge_auth(server.AuthLoginPasswordChallenge)
        if password is MISSING:
            return AuthResult(success=False)
        assert isinstance(login, bytes) and isinstance(password, bytes)
        return await self._check(server, login, password)

    def _username(self, login: str) -> str:
        """Mail clients send the address or the bare username; both name the account."""
        local, domain = split(login)
        if not domain:
            return login.strip().lower()
        unit = self.gateway.book.unit_of(login)
        return local if unit is not None and self.gateway.book.is_local(unit) else ""

    async def _check(self, server: SMTP, login: bytes, password: bytes) -> AuthResult:
        try:
            username = self._username(login.decode("utf-8"))
            secret = password.decode("utf-8")
        except UnicodeDecodeError:
            username, secret = "", ""
        address = _client_address(server)
        try:
            result = await self.gateway.authenticate(username, secret, address)
        except SQLAlchemyError as error:
            log.error("smtp.auth_unavailable", error=type(error).__name__)
            await server.push("454 4.7.0 Temporary authentication failure")
            return AuthResult(success=False, handled=True)
        if result.account is not None:
            log.info("smtp.authenticated", user=result.account.username)
            return AuthResult(success=True, auth_data=result.account)
        self._failures[server] = failures = self._failures.get(server, 0) + 1
        log.warning(
            "smtp.auth_failed",
            user=username or "?",
            address=address,
            failures=failures,
            waiting=result.waiting_until is not None,
        )
        await asyncio.sleep(AUTH_FAILURE_DELAY)
        if failures >= MAX_AUTH_FAILURES:
            await server.push("421 4.7.0 Too many failed authentications: closing")
            if server.transport is not None:
                server.transport.close()
            return AuthResult(success=False, handled=True)
        if result.waiting_until is not None:
            await server.push(_waiting_reply(result.waiting_until))
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535

    # -- the envelope --------------------------------------------------------------------------

    @staticmethod
    def _mailbox(session: Session) -> Mailbox:
        mailbox = session.auth_data
        assert isinstance(mailbox, Mailbox)  # auth_required: MAIL comes after AUTH only
        return mailbox

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        mailbox = self._mailbox(session)
        try:
            self.gateway.check_sender(mailbox, address)
            self.gateway.check_rate(mailbox)
        except MailRefused as refusal:
            log.warning("smtp.sender_refused", user=mailbox.username, reason=refusal.code)
            return refusal.reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 At most {MAX_RECIPIENTS} recipients a message"
        try:
            await self.gateway.check_recipient(address)
        except MailRefused as refusal:
            log.warning("smtp.recipient_refused", reason=refusal.code)
            return refusal.reply
        except SQLAlchemyError as error:
            log.error("smtp.recipient_check_failed", error=type(error).__name__)
            return TEMPORARY_FAILURE
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Recipient OK"

    # -- the message ---------------------------------------------------------------------------

    def _check_author_headers(self, mailbox: Mailbox, headers: Message) -> None:
        """The headers that say who sent (or resent) a message name the sender only, and
        replies go to the sender's own unit; else readers would be told, and would answer,
        someone else."""
        if not authors(headers):
            raise MailRefused(
                "Thư không có dòng From.",
                code="no-from",
                reply="550 5.7.1 The message has no From: header",
            )
        for name in AUTHOR_HEADERS:
            for address in addresses_in(headers, name):
                if not mailbox.may_send_as(address):
                    raise MailRefused(
                        f"{name}: {address} không phải địa chỉ của {mailbox.username}.",
                        code="not-your-address",
                        reply=f"550 5.7.1 {name}: <{address}> is not an address of "
                        f"{mailbox.username}",
                    )
        for address in addresses_in(headers, "Reply-To"):
            unit = self.gateway.book.unit_of(address)
            if not mailbox.may_send_as(address) and (unit is None or unit.code != mailbox.unit):
                raise MailRefused(
                    f"Reply-To: {address} không thuộc đơn vị {mailbox.unit}.",
                    code="reply-to-elsewhere",
                    reply=f"550 5.7.1 Reply-To: <{address}> is not an address of "
                    f"{mailbox.username}'s unit {mailbox.unit}",
                )

    def _trace(self, session: Session, headers: Any, queue_hint: str) -> bytes:
        """A Received: line, and the Date: and Message-ID: a client left out (RFC 6409 8.2)."""
        peer = session.peer[0] if isinstance(session.peer, tuple) else "unknown"
        now = format_datetime(datetime.now(UTC))
        lines = [
            f"Received: from {session.host_name or 'unknown'} ([{peer}])\r\n"
            f"\tby {self.hostname} (congvan) with ESMTPSA id {queue_hint};\r\n\t{now}\r\n"
        ]
        if headers.get("Date") is None:
            lines.append(f"Date: {now}\r\n")
        if headers.get("Message-ID") is None:
            lines.append(f"Message-ID: <{queue_hint}@{self.hostname}>\r\n")
        return "".join(lines).encode("utf-8")

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mailbox = self._mailbox(session)
        content = envelope.original_content or b""
        block = _header_block(content)
        if block is None:
            log.warning("smtp.message_refused", user=mailbox.username, reason="header-too-big")
            return HEADER_TOO_BIG
        if len(block) <= HEADER_ON_LOOP:
            headers = _parse_headers(block)
        else:
            headers = await asyncio.to_thread(_parse_headers, block)
        hint = uuid.uuid4().hex
        try:
            self._check_author_headers(mailbox, headers)
            queue_id = await self.gateway.submit(
                mailbox,
                envelope.mail_from or "",
                envelope.rcpt_tos,
                content,
                origin="smtp",
                trace=self._trace(session, headers, hint),
                recipients_checked=True,
            )
        except MailRefused as refusal:
            log.warning("smtp.message_refused", user=mailbox.username, reason=refusal.code)
            return refusal.reply
        except DiskFull:
            log.warning("smtp.disk_full", user=mailbox.username)
            return INSUFFICIENT_STORAGE
        except (SQLAlchemyError, OSError) as error:
            log.error("smtp.queue_failed", user=mailbox.username, error=type(error).__name__)
            return TEMPORARY_FAILURE
        return f"250 2.0.0 Ok: queued as {queue_id}"


class SubmissionListener:
    """The running listeners of one node; :meth:`stop` closes them."""

    def __init__(self, servers: list[asyncio.Server]) -> None:
        self.servers = servers

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()


async def start_submission(
    gateway: MailGateway,
    settings: SmtpSettings,
    tls: ssl.SSLContext,
    hostname: str,
    on_session: Callable[[], None] | None = None,
) -> SubmissionListener:
    """Listen on ``settings.port`` (STARTTLS) and, if set, ``settings.tls_port`` (implicit).
    ``on_session`` is called for every connection a client opens (the node's metrics)."""
    loop = asyncio.get_running_loop()
    handler = SubmissionHandler(gateway, hostname)

    def protocol(implicit: bool) -> SubmissionServer:
        bind_request_id()
        if on_session is not None:
            on_session()
        server = SubmissionServer(
            handler,
            data_size_limit=settings.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident="congvan ESMTP",
            tls_context=None if implicit else tls,
            require_starttls=not implicit,
            auth_required=True,
            auth_require_tls=True,
            loop=loop,
        )
        if implicit:
            # The whole connection is TLS already: aiosmtpd only knows STARTTLS as TLS, so
            # it is told here that AUTH needs nothing more (its constructor would warn).
            server._auth_require_tls = False
        return server

    # SO_REUSEPORT: several processes of one node (sharing its database) take connections on
    # the same port, and the kernel spreads them.
    servers = [
        await loop.create_server(
            lambda: protocol(False), settings.host, settings.port, reuse_port=True
        )
    ]
    if settings.tls_port:
        servers.append(
            await loop.create_server(
                lambda: protocol(True), settings.host, settings.tls_port, ssl=tls, reuse_port=True
            )
        )
    log.info("smtp.listening", port=settings.port, tls_port=settings.tls_port or None)
    return SubmissionListener(servers)
