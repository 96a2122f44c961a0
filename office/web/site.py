"""What every staff page handler reaches through its request: the site and who is signed in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import WebSettings
from exchange.ledger import UsageLedger
from keys.sealing import SecretBox
from keys.signin import StaffMember
from keys.throttle import ThrottlePolicy, throttle_policy
from mailgw.gateway import MailGateway
from office.web.feature import Section
from office.web.messages import DEFAULT_LANGUAGE, Translator
from office.web.sessions import ActiveSession, SessionPolicy


@dataclass(frozen=True)
class StaffSite:
    """The staff web listener's parts, made once by :func:`office.web.app.create_web_app`."""

    node_name: str
    sessions: async_sessionmaker[AsyncSession]
    #: For pages and lookups that only read (:func:`config.database.reading_sessions`): no
    #: transaction on PostgreSQL, so write nothing through them.
    reads: async_sessionmaker[AsyncSession]
    ledger: UsageLedger
    settings: WebSettings
    #: Opens the sealed TOTP secrets.
    box: SecretBox = field(repr=False)
    #: The HMAC key of form (CSRF) tokens.
    form_key: bytes = field(repr=False)
    #: One translator per language: the shared messages and every feature's.
    translators: Mapping[str, Translator] = field(repr=False)
    #: The units this node hosts: the administrator manages their accounts only.
    hosted_units: tuple[str, ...] = ()
    #: The mail gateway the web mailbox submits through and reads from.
    mail: MailGateway | None = field(default=None, repr=False)
    #: The provincial CA's certificate (PEM), offered for download to mail clients.
    ca_pem: bytes = field(default=b"", repr=False)
    #: The features' entries on the home page, in their order.
    sections: tuple[Section, ...] = ()
    #: Requests the features answer without a signed-in user.
    public: tuple[Callable[[web.Request], bool], ...] = ()

    @property
    def translate(self) -> Translator:
        """The default language's translator (Vietnamese)."""
        return self.translators[DEFAULT_LANGUAGE]

    @property
    def lockout(self) -> ThrottlePolicy:
        return throttle_policy(self.settings)

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            idle=timedelta(minutes=self.settings.session_minutes),
            lifetime=timedelta(hours=self.settings.session_hours),
        )


SITE = web.AppKey("site", StaffSite)
#: Set on a request once its session cookie is checked.
STAFF = web.RequestKey("staff", StaffMember)
ACTIVE_SESSION = web.RequestKey("active_session", ActiveSession)
#: The catalogue this request's pages speak (see :mod:`office.web.language`).
TRANSLATOR = web.RequestKey("translator", Translator)
#: The token this request's forms carry.
FORM_TOKEN = web.RequestKey("form_token", str)
#: The signed-in user's unread mail, for the menu (set when the node has a mailbox).
UNREAD_MAIL = web.RequestKey("unread_mail", int)


def translator(request: web.Request) -> Translator:
    """The request's language, or the site's default when no middleware chose one."""
    return request.get(TRANSLATOR) or request.app[SITE].translate
