"""One error hierarchy for the whole product.

Each error carries a stable ``code`` (for scripts, logs and JSON answers) and a message a
Vietnamese operator can read. The web middleware and the CLI render them; nothing else catches
broad exceptions.
"""

from __future__ import annotations


class CongvanError(Exception):
    """Base of every error congvan raises on purpose."""

    code = "error"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


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


class PeerRefused(CongvanError):
    """A peer node refused what we offered, or we refused a peer; ``code`` says why."""

    code = "peer-refused"
    http_status = 403
