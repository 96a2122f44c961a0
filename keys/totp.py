"""TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s), one step of drift, no replays.

The step a code was accepted for is stored, and a code for that step or an earlier one is
refused: a code seen over a shoulder or in a proxy log cannot be used again.
"""

from __future__ import annotations

import io
import time

import pyotp

ISSUER = "congvan"
STEP_SECONDS = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def terminal_qr(uri: str) -> str:
    """The otpauth URI as a QR code drawn with block characters, for a terminal."""
    import segno  # for enrolment only: not held by every node process

    buffer = io.StringIO()
    segno.make(uri, error="m").terminal(out=buffer, compact=True)
    return buffer.getvalue()


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step ``code`` is valid for (now, one before or one after), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def accept_code(
    secret: str, code: str, last_step: int | None, now: float | None = None
) -> int | None:
    """The step to store if ``code`` is valid and newer than ``last_step``; None to refuse."""
    step = matching_step(secret, code, now)
    if step is None or (last_step is not None and step <= last_step):
        return None
    return step
