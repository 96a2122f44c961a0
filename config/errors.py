"""One error hierarchy for the whole product.

Each error carries a stable ``code`` (for scripts, logs and JSON answers) and a message a
Vietnamese operator can read; raised with a :class:`config.refusals.Said`, it can also be read in
English (:meth:`CongvanError.text`). The web middleware and the CLI render them; nothing else
catches broad exceptions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from config.refusals import Said


class CongvanError(Exception):
    """Base of every error congvan raises on purpose."""

    code = "error"
    http_status = 500

    def __init__(self, message: str | Said, *, code: str | None = None) -> None:
        super().__init__(str(message))
        #: Vietnamese: for logs, JSON answers and the command line.
        self.message = str(message)
        self.said = message if isinstance(message, Said) else None
        if code is not None:
            self.code = code

    def text(self, language: str) -> str:
        """The message in ``language`` (a message given as plain text has only its own)."""
        return self.said.in_language(language) if self.said is not None else self.message


class ConfigError(CongvanError):
    """A setting is missing, unknown, of the wrong type or out of range."""

    code = "config"
    http_status = 500


class NotFound(CongvanError):
    code = "not-found"
    http_status = 404


class Forbidden(CongvanError):
    code = "forbidden"
    http_status = 403


class Invalid(CongvanError):
    code = "invalid"
    http_status = 400


class Conflict(CongvanError):
    code = "conflict"
    http_status = 409


class Busy(CongvanError):
    """Not now: the node could not do it in time (its database locked, or out of connections).
    Its transaction was rolled back; the caller asks again after ``retry_after_seconds``."""

    code = "busy"
    http_status = 503
    retry_after_seconds = 5


class DiskFull(Busy):
    """Not now: the node's disk (or its quota) is full. What was being written is not kept;
    the caller asks again once an operator, or the node's own upkeep, made room."""

    code = "disk-full"
    retry_after_seconds = 60


class PeerRefused(CongvanError):
    """A peer node refused what we offered, or we refused a peer; ``code`` says why.

    ``answer`` carries what the refusing side signed for the record (a refusal receipt), to be
    sent back with the error.
    """

    code = "peer-refused"
    http_status = 403
    #: Codes whose HTTP status is not 403.
    STATUS_BY_CODE: ClassVar[dict[str, int]] = {
        "malformed": 400,
        "too-large": 413,
        "too-many-offers": 429,
        "stale-crl": 503,
    }

    def __init__(self, message: str | Said, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.http_status = self.STATUS_BY_CODE.get(self.code, 403)
        self.answer: dict[str, Any] | None = None
