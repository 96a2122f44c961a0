"""Structured logging: console lines on a terminal, JSON lines otherwise.

Log events, not sentences. A request or job binds its id with :func:`bind_request_id`; every
line logged while it runs carries it. Fields whose names say they hold a secret are masked, so a
careless ``log.info(..., password=…)`` still leaks nothing.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

from config.settings import LogSettings

SECRET_FIELD_WORDS = ("password", "passphrase", "secret", "token", "private", "totp", "otp")
MASK = "****"


def mask_secrets(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """Replace the value of every field whose name names a secret."""
    for key in list(event):
        lowered = key.lower()
        if any(word in lowered for word in SECRET_FIELD_WORDS):
            event[key] = MASK
    return event


def _handler(
    settings: LogSettings, stream: TextIO | None, base_dir: Path | None
) -> logging.StreamHandler[Any]:
    """A handler that owns the file it opens, so replacing it closes that file."""
    if settings.file:
        path = Path(settings.file)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        return logging.FileHandler(path, encoding="utf-8")
    return logging.StreamHandler(stream or sys.stderr)


def configure_logging(
    settings: LogSettings, stream: TextIO | None = None, base_dir: Path | None = None
) -> None:
    """Set up structlog and the standard library's root logger for the whole process.

    A relative ``[log] file`` is taken relative to ``base_dir``, the node directory.
    """
    level = getattr(logging, settings.level.upper())
    handler = _handler(settings, stream, base_dir)
    target: TextIO = handler.stream
    use_json = settings.format == "json" or (settings.format == "auto" and not target.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=target.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # JSON lines carry the traceback as a field; the console renderer prints it itself.
            *([structlog.processors.format_exc_info] if use_json else []),
            renderer,
        ],
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "congvan", False):
            root.removeHandler(old)
            old.close()
    handler.congvan = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic tells of every plugin and step at INFO: `init` and `db upgrade` print our lines only.
    for noisy in ("aiosqlite", "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # aiosmtpd logs every SMTP command at INFO, and at every AUTH a deprecation warning about
    # its own code; the gateway logs its own events (smtp.*, mail.*) instead.
    logging.getLogger("mail.log").setLevel(max(level, logging.ERROR))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # An event below the level is dropped by the method call itself, before any processor
        # runs (it used to be time-stamped and masked, then dropped by the standard library).
        # Loggers are not cached, so configuring again sets a new level everywhere.
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,
    )


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def bind_request_id(request_id: str | None = None) -> str:
    """Bind a request or job id to every line logged in the current context."""
    request_id = request_id or new_request_id()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
