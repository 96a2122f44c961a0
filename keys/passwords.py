"""Password rules and hashing: argon2id, a minimum length, no guessable passwords.

Guessability is judged by zxcvbn (dictionaries of common passwords, names, keyboard walks),
plus a small list of Vietnamese favourites it does not know.
"""

from __future__ import annotations

import base64
import functools
import os
import secrets
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION

from config.errors import Invalid
from config.logging import get_logger
from keys import refusals

MIN_LENGTH = 10
MIN_ZXCVBN_SCORE = 3
APP_PASSWORD_BYTES = 18

#: Set (to "1") by the test suite only, which hashes thousands of passwords: argon2id at its
#: cheapest. A hash records its own parameters, so either kind verifies either way. Never set
#: it on a node: the node logs a warning when it is.
TEST_HASHING_VARIABLE = "CONGVAN_INSECURE_TEST_HASHING"


@functools.cache
def _hasher() -> PasswordHasher:
    if os.environ.get(TEST_HASHING_VARIABLE) == "1":
        get_logger("congvan.keys").warning("passwords.insecure_test_hashing")
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()  # argon2id with the library's current recommended parameters


def _local_common_passwords() -> frozenset[str]:
    text = files("keys").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_password_strength(password: str, *, user_inputs: list[str] | None = None) -> None:
    """Raise :class:`Invalid` with the reason when ``password`` is too weak."""
    if len(password) < MIN_LENGTH:
        raise Invalid(refusals.PASSWORD_TOO_SHORT(minimum=MIN_LENGTH), code="weak-password")
    if password.lower() in _local_common_passwords():
        raise Invalid(refusals.PASSWORD_TOO_COMMON(), code="weak-password")
    # Imported here: zxcvbn's dictionaries are 12 MiB of a node's memory, and a node needs
    # them only when someone sets a password.
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=user_inputs or [])
    if result["score"] < MIN_ZXCVBN_SCORE:
        raise Invalid(refusals.PASSWORD_GUESSABLE(), code="weak-password")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def stand_in_hash() -> str:
    """A hash written as this process's hasher writes one (its parameters, a random salt) but
    of a random digest, which no password gives: checking a password against it costs what
    checking one against a real hash costs, so a user name that does not exist is answered as
    slowly as one that does. Making it costs nothing, even in a process that checks a single
    password (checkpassword)."""
    hasher = _hasher()

    def random_b64(size: int) -> str:
        return base64.b64encode(secrets.token_bytes(size)).decode("ascii").rstrip("=")

    return (
        f"$argon2id$v={ARGON2_VERSION}"
        f"$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
        f"${random_b64(hasher.salt_len)}${random_b64(hasher.hash_len)}"
    )


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def new_app_password() -> str:
    """A random app password, grouped for typing on a phone: ``xxxx-xxxx-…``."""
    raw = secrets.token_urlsafe(APP_PASSWORD_BYTES).replace("-", "x").replace("_", "y")
    return "-".join(raw[i : i + 6] for i in range(0, len(raw), 6))
