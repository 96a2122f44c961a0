"""Typed node settings: ``node.toml`` in the node directory, overridden by the environment.

Every section is a frozen dataclass; each field's ``metadata["check"]`` validates its value and
returns what is wrong with it. A bad file stops the program with one line such as
``config error: [peer] port = 70000: must be 1-65535``. No other module reads settings from the
environment or from files: they receive a :class:`Settings`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from config.errors import ConfigError

SETTINGS_FILE = "node.toml"
ENV_PREFIX = "CONGVAN_"

Check = Callable[[Any], str | None]

NODE_NAME = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")


def port_number(value: int) -> str | None:
    return None if 1 <= value <= 65535 else "must be 1-65535"


def at_least(minimum: int) -> Check:
    def check(value: int) -> str | None:
        return None if value >= minimum else f"must be >= {minimum}"

    return check


def between(low: int, high: int) -> Check:
    def check(value: int) -> str | None:
        return None if low <= value <= high else f"must be {low}-{high}"

    return check


def one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in choices else "must be one of " + ", ".join(choices)

    return check


def matches(pattern: re.Pattern[str], meaning: str) -> Check:
    def check(value: str) -> str | None:
        return None if pattern.fullmatch(value) else f"must be {meaning}"

    return check


def unit_codes(value: tuple[str, ...]) -> str | None:
    if not value:
        return "must name at least one unit"
    bad = [code for code in value if not UNIT_CODE.fullmatch(code)]
    return f"bad unit code {bad[0]!r}: use A-Z, 0-9 and -" if bad else None


def database_url(value: str) -> str | None:
    if value == "" or value.startswith(("sqlite", "postgresql")):
        return None
    return "must be empty (SQLite in the node directory), sqlite:///… or postgresql://…"


def setting(default: Any = dataclasses.MISSING, check: Check | None = None, **kw: Any) -> Any:
    """A settings field: its default and the check its value must pass."""
    return field(default=default, metadata={"check": check}, **kw)


@dataclass(frozen=True)
class NodeSettings:
    name: str = setting(check=matches(NODE_NAME, "A-Z, 0-9 and -, at most 32 characters"))
    units: tuple[str, ...] = setting(check=unit_codes)
    hub: bool = setting(False)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = setting("", check=database_url, repr=False)
    echo: bool = setting(False)
    pool_size: int = setting(5, check=between(1, 100))
    busy_timeout_ms: int = setting(10_000, check=at_least(0))


def ip_networks(value: tuple[str, ...]) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f"{item!r} is not an IP address or network (such as 10.0.0.5 or 10.0.0.0/24)"
    return None


@dataclass(frozen=True)
class WebSettings:
    host: str = setting("127.0.0.1")
    port: int = setting(8080, check=port_number)
    public_url: str = setting("")
    tls_cert: str = setting("")
    tls_key: str = setting("")
    #: A staff session ends after this long without a request (idle timeout)...
    session_minutes: int = setting(30, check=between(1, 24 * 60))
    #: ...and this long after sign-in, however busy (absolute lifetime).
    session_hours: int = setting(12, check=between(1, 7 * 24))
    #: Sign-in throttling (keys.throttle), on the web and for mail clients: the failure from
    #: one address that makes it wait (1 s, doubling with each further one), the longest wait.
    lockout_failures: int = setting(5, check=between(1, 100))
    lockout_minutes: int = setting(15, check=between(1, 24 * 60))
    #: Reverse proxies in front of this listener (addresses or networks): for a request from
    #: one, the client is the last address its X-Forwarded-For names that is not a proxy.
    trusted_proxies: tuple[str, ...] = setting((), check=ip_networks)
    #: Processes serving the staff web on the port (SO_REUSEPORT): ``congvan serve`` and, past
    #: one, ``congvan serve-web`` processes it starts (office.node.children).
    processes: int = setting(1, check=between(1, 64))

    @property
    def https(self) -> bool:
        """Staff reach this listener over HTTPS: its own certificate, or a TLS proxy in front."""
        return bool(self.tls_cert) or self.public_url.startswith("https://")


@dataclass(frozen=True)
class PeerSettings:
    host: str = setting("127.0.0.1")
    port: int = setting(8443, check=port_number)
    public_url: str = setting("")


@dataclass(frozen=True)
class SmtpSettings:
    enabled: bool = setting(False)
    host: str = setting("127.0.0.1")
    #: Submission with STARTTLS, which must come before AUTH.
    port: int = setting(8587, check=port_number)
    #: Submission over implicit TLS (as port 465); 0 leaves it off.
    tls_port: int = setting(0, check=between(0, 65535))
    #: The name the listener greets with; empty: the node's host name.
    hostname: str = setting("")
    #: The listener's certificate and key; empty: the node's TLS certificate from our CA.
    tls_cert: str = setting("")
    tls_key: str = setting("")
    max_message_bytes: int = setting(25 * 1024 * 1024, check=at_least(1024))
    #: Messages one user may send in any minute.
    rate_per_minute: int = setting(60, check=between(1, 100_000))
    #: Local deliveries are also written here in Maildir layout, one folder per user, for IMAP.
    maildir: str = setting("maildir")
    #: How often the delivery worker looks for due mail (it is also woken by each submission).
    poll_seconds: int = setting(5, check=between(1, 3600))
    #: Attempts before a message that cannot be delivered is bounced to its sender.
    retry_max: int = setting(10, check=at_least(0))
    #: How long a worker holds a message it took; one that dies frees it after this.
    lease_seconds: int = setting(300, check=between(10, 24 * 3600))
    #: Processes taking mail on the port (SO_REUSEPORT): ``congvan serve`` and, past one,
    #: ``congvan serve-smtp`` processes it starts, each with its own delivery worker.
    processes: int = setting(1, check=between(1, 64))


@dataclass(frozen=True)
class KeysSettings:
    passphrase_file: str = setting("")
    passphrase: str = setting("", repr=False)
    pki_dir: str = setting("pki")
    ca_dir: str = setting("ca")
    crl_file: str = setting("pki/crl.pem")
    directory_file: str = setting("pki/directory.json")
    cert_days: int = setting(730, check=between(1, 3650))
    crl_days: int = setting(7, check=between(1, 90))
    expiry_warning_days: int = setting(30, check=between(0, 365))


@dataclass(frozen=True)
class ExchangeSettings:
    hub_url: str = setting("")
    refresh_minutes: int = setting(15, check=between(1, 24 * 60))
    rollup_minutes: int = setting(10, check=between(1, 24 * 60))
    retry_max: int = setting(12, check=at_least(0))
    retry_base_seconds: int = setting(5, check=between(1, 3600))
    retry_cap_seconds: int = setting(3600, check=between(1, 7 * 24 * 3600))
    poll_seconds: int = setting(2, check=between(1, 3600))
    lease_seconds: int = setting(300, check=between(10, 24 * 3600))
    #: Deliveries to one node in flight at once: on a WAN link each waits a round trip and
    #: the receiver's durable commit, which several in flight share (its group fsync).
    window: int = setting(8, check=between(1, 64))
    send_timeout_seconds: int = setting(600, check=between(5, 24 * 3600))
    relay_after_attempts: int = setting(2, check=between(0, 1000))
    receipt_poll_seconds: int = setting(30, check=between(1, 24 * 3600))
    pull_seconds: int = setting(60, check=between(1, 24 * 3600))
    #: A pull node's question to the hub is held open this long waiting for a dispatch
    #: (a long poll: a commune gets a dispatch as soon as the hub has it); 0 turns it off.
    #: Keep it below the idle timeout of any proxy between the communes and the hub (55:
    #: under nginx's default 60 s; an idle commune costs the hub a question every 55 s, not
    #: every 25 as before, which at 5,000 communes was 200 questions a second).
    pull_wait_seconds: int = setting(55, check=between(0, 600))
    max_dispatch_bytes: int = setting(100 * 1024 * 1024, check=at_least(1024))
    max_open_offers_per_peer: int = setting(50, check=between(1, 100_000))
    offer_expiry_seconds: int = setting(24 * 3600, check=between(1, 30 * 24 * 3600))
    sweep_seconds: int = setting(300, check=between(1, 24 * 3600))
    verify_lease_seconds: int = setting(600, check=between(10, 24 * 3600))


def iso_dates(value: tuple[str, ...]) -> str | None:
    for item in value:
        try:
            date.fromisoformat(item)
        except ValueError:
            return f"{item!r} is not a date: write YYYY-MM-DD"
    return None


@dataclass(frozen=True)
class OfficeSettings:
    #: Document files, stored once each under their SHA-256.
    blob_dir: str = setting("blobs")
    #: The largest file a form accepts (streamed: refused as soon as it is passed).
    max_upload_bytes: int = setting(50 * 1024 * 1024, check=at_least(1024))
    #: Hạn xử lý when the leader gives none, in working days.
    default_deadline_days: int = setting(7, check=between(1, 365))
    #: Remind the handler and the leader this many working days before a deadline.
    remind_days_before: int = setting(1, check=between(0, 30))
    reminder_minutes: int = setting(60, check=between(1, 24 * 60))
    #: A PDF's text is read for search after its step commits, in a child process that is
    #: killed past this many seconds (the document is then found by its fields only).
    text_seconds: int = setting(30, check=between(1, 3600))
    #: Pages of a PDF read for search; later pages are not searched.
    text_pages: int = setting(300, check=between(1, 100_000))
    #: The government's yearly decisions: bridging days off, and the Saturdays worked instead.
    extra_days_off: tuple[str, ...] = setting((), check=iso_dates)
    extra_working_days: tuple[str, ...] = setting((), check=iso_dates)
    #: The highest độ mật (0 Không mật, 1 Mật, 2 Tối mật, 3 Tuyệt mật) that may leave this node
    #: over the network, and that it accepts from another node. The 2018 Law on Protection of
    #: State Secrets lets secrets travel over telecommunication only under the cipher
    #: service's cryptography, which congvan's is not: 0 unless that is in place.
    max_secrecy_on_network: int = setting(0, check=between(0, 3))


def unit_kinds(value: tuple[str, ...]) -> str | None:
    known = ("province", "board", "district", "sector", "commune")
    bad = [kind for kind in value if kind not in known]
    return f"unknown unit kind {bad[0]!r}: use " + ", ".join(known) if bad else None


@dataclass(frozen=True)
class ReportSettings:
    """The periodic IT report (báo cáo định kỳ về CNTT) and the figures units send up."""

    #: The unit reports go to; "" sends each hosted unit's report to its parent unit.
    send_to: str = setting("", check=lambda value: unit_codes((value,)) if value else None)
    #: On this day of the month, the last month's report of each hosted unit goes up by itself
    #: (0: never by itself; only when someone sends it).
    send_day: int = setting(1, check=between(0, 28))
    #: A month's report is due by this day of the next month; later is "late" (chậm).
    due_day: int = setting(5, check=between(1, 28))
    #: Kinds of unit that must report; the others' figures are counted but never chased.
    reporting_kinds: tuple[str, ...] = setting(("board", "district", "sector"), check=unit_kinds)
    #: A unit registers fewer than this share of the documents it received electronically:
    #: it does not use the system for processing documents (xử lý công văn).
    min_processing_percent: int = setting(50, check=between(0, 100))
    #: Fewer sign-ins than this a month on average also counts as not using the system.
    min_accesses_per_month: int = setting(20, check=at_least(0))
    #: How often the node looks whether a report is due to be sent.
    check_minutes: int = setting(60, check=between(1, 24 * 60))
    #: How often each hosted unit's document-handling figures (:mod:`office.reports.live`) go
    #: up to where its reports go, as a ``figures`` dispatch (0: only when someone sends them).
    figures_minutes: int = setting(60, check=between(0, 24 * 60))
    #: Sent and received ``figures`` dispatches are removed once settled and this many days
    #: old (:mod:`exchange.retention`): only the newest counts, and hourly ones from every unit
    #: would fill the spool. At least a day, so this slot's dispatch is never one of them.
    figures_keep_days: int = setting(7, check=between(1, 3650))
    #: The report's signature block (HD 36): the authority (``T/M BAN THƯỜNG VỤ``), the
    #: signer's position and name; "" leaves the line blank for the signer to write in.
    signer_authority: str = setting("")
    signer_position: str = setting("")
    signer_name: str = setting("")


@dataclass(frozen=True)
class AdminSettings:
    """The admin listener: ``/metrics`` for Prometheus, ``/healthz`` and ``/readyz``.

    Bind it to loopback or the admin network only: it answers anyone who reaches it.
    """

    enabled: bool = setting(False)
    host: str = setting("127.0.0.1")
    port: int = setting(9180, check=port_number)


@dataclass(frozen=True)
class LogSettings:
    level: str = setting("info", check=one_of("debug", "info", "warning", "error"))
    format: str = setting("auto", check=one_of("auto", "json", "console"))
    file: str = setting("")


SECTIONS: dict[str, type[Any]] = {
    "node": NodeSettings,
    "database": DatabaseSettings,
    "web": WebSettings,
    "peer": PeerSettings,
    "smtp": SmtpSettings,
    "keys": KeysSettings,
    "exchange": ExchangeSettings,
    "office": OfficeSettings,
    "reports": ReportSettings,
    "admin": AdminSettings,
    "log": LogSettings,
}

#: Settings that must never be written into ``node.toml``: they come from the environment.
ENVIRONMENT_ONLY = {("keys", "passphrase")}


@dataclass(frozen=True)
class Settings:
    """All settings of one node, with relative paths resolved against its directory."""

    node_dir: Path
    node: NodeSettings
    database: DatabaseSettings
    web: WebSettings
    peer: PeerSettings
    smtp: SmtpSettings
    keys: KeysSettings
    exchange: ExchangeSettings
    office: OfficeSettings
    reports: ReportSettings
    admin: AdminSettings
    log: LogSettings

    def path(self, value: str) -> Path:
        """A path setting, relative to the node directory unless absolute."""
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else self.node_dir / candidate

    @property
    def pki_dir(self) -> Path:
        return self.path(self.keys.pki_dir)

    @property
    def ca_dir(self) -> Path:
        return self.path(self.keys.ca_dir)

    @property
    def directory_file(self) -> Path:
        """The signed directory this node routes and encrypts by (the hub's, fetched or shared)."""
        return self.path(self.keys.directory_file)

    @property
    def blob_dir(self) -> Path:
        return self.path(self.office.blob_dir)

    @property
    def crl_file(self) -> Path:
        """The CRL this node checks peers against (the hub's copy, fetched or shared)."""
        return self.path(self.keys.crl_file)


def _field_types(section: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(section)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _coerce(value: Any, wanted: Any) -> tuple[Any, str | None]:
    """Return ``value`` as ``wanted``, or what is wrong with it."""
    if wanted is bool:
        return value, None if isinstance(value, bool) else "must be true or false"
    if wanted is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return value, None if ok else "must be an integer"
    if wanted is str:
        return value, None if isinstance(value, str) else "must be a string"
    if typing.get_origin(wanted) is tuple:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value), None
        return value, "must be a list of strings"
    raise TypeError(f"unsupported setting type {wanted!r}")  # a programming error


def _from_environment(text: str, wanted: Any) -> tuple[Any, str | None]:
    """Parse an environment string into the field's type before the usual checks."""
    if wanted is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True, None
        if lowered in {"0", "false", "no", "off"}:
            return False, None
        return text, "must be true or false"
    if wanted is int:
        try:
            return int(text), None
        except ValueError:
            return text, "must be an integer"
    if typing.get_origin(wanted) is tuple:
        return tuple(part.strip() for part in text.split(",") if part.strip()), None
    return text, None


def _environment_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, tuple[str, str]]]:
    """``CONGVAN_<SECTION>_<KEY>`` variables, grouped by section: key -> (value, variable)."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        rest = variable[len(ENV_PREFIX) :].lower()
        for section in SECTIONS:
            if rest.startswith(section + "_"):
                found.setdefault(section, {})[rest[len(section) + 1 :]] = (value, variable)
    return found


def _build_section(
    section: str,
    from_file: Mapping[str, Any],
    from_env: Mapping[str, tuple[str, str]],
) -> Any:
    cls = SECTIONS[section]
    types_by_name = _field_types(cls)
    allowed = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {}
    for key, raw in from_file.items():
        if key not in types_by_name:
            # The value is not repeated: a misspelt key may hold a secret (a passphrase, a URL
            # with a password in it).
            raise ConfigError(
                f"config error: [{section}] {key}: unknown key; allowed: {', '.join(allowed)}"
            )
        if (section, key) in ENVIRONMENT_ONLY:
            raise ConfigError(
                f"config error: [{section}] {key}: must not be written in {SETTINGS_FILE}; "
                f"use {ENV_PREFIX}{section.upper()}_{key.upper()} or {key}_file"
            )
        value, problem = _coerce(raw, types_by_name[key])
        if problem:
            raise ConfigError(f"config error: [{section}] {key} = {_describe(raw)}: {problem}")
        values[key] = value
    for key, (text, variable) in from_env.items():
        if key not in types_by_name:
            raise ConfigError(
                f"config error: {variable}: unknown key [{section}] {key}; "
                f"allowed: {', '.join(allowed)}"
            )
        value, problem = _from_environment(text, types_by_name[key])
        shown = "****" if (section, key) in ENVIRONMENT_ONLY else _describe(text)
        if problem:
            raise ConfigError(
                f"config error: [{section}] {key} = {shown} (from {variable}): {problem}"
            )
        values[key] = value
    for spec in dataclasses.fields(cls):
        if spec.name not in values:
            if spec.default is dataclasses.MISSING:
                raise ConfigError(f"config error: [{section}] {spec.name}: missing; it is required")
            continue
        check = spec.metadata.get("check")
        problem = check(values[spec.name]) if check else None
        if problem:
            shown = "****" if not spec.repr else _describe(values[spec.name])
            raise ConfigError(f"config error: [{section}] {spec.name} = {shown}: {problem}")
    return cls(**values)


def parse_settings(
    document: Mapping[str, Any], node_dir: Path, environ: Mapping[str, str]
) -> Settings:
    """Validate a parsed TOML document plus environment overrides into :class:`Settings`."""
    for section, body in document.items():
        if section not in SECTIONS:
            raise ConfigError(
                f"config error: [{section}]: unknown section; allowed: {', '.join(SECTIONS)}"
            )
        if not isinstance(body, dict):
            raise ConfigError(f"config error: {section} = {_describe(body)}: must be a [section]")
    overrides = _environment_overrides(environ)
    built = {
        section: _build_section(section, document.get(section, {}), overrides.get(section, {}))
        for section in SECTIONS
    }
    return Settings(node_dir=node_dir.resolve(), **built)


def load_settings(node_dir: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``node.toml`` from ``node_dir`` and apply ``CONGVAN_*`` overrides."""
    path = node_dir / SETTINGS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"config error: {path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"config error: {path}: not UTF-8 text") from error
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config error: {path}: not valid TOML: {error}") from error
    return parse_settings(document, node_dir, os.environ if environ is None else environ)


def render_settings(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """Write settings as TOML (the few value types settings use), for ``congvan init``."""
    lines: list[str] = []
    for section, body in sections.items():
        lines.append(f"[{section}]")
        for key, value in body.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a setting")


__all__ = [
    "SECTIONS",
    "SETTINGS_FILE",
    "ConfigError",
    "Settings",
    "load_settings",
    "parse_settings",
    "render_settings",
]
