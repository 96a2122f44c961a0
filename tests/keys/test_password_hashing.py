"""Passwords are hashed with argon2id at the library's recommended cost on a node; only the
test suite, through an explicit variable, hashes at the cheapest cost."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from keys import passwords
from keys.passwords import TEST_HASHING_VARIABLE

PRINT_A_HASH = "from keys.passwords import hash_password; print(hash_password('Mật khẩu dài 2026'))"


def _hash_in_a_process(environment: dict[str, str]) -> tuple[str, str]:
    """The hash (the last line printed) and all the process printed."""
    result = subprocess.run(
        [sys.executable, "-c", PRINT_A_HASH],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1], result.stdout + result.stderr


def test_a_node_hashes_at_the_recommended_cost() -> None:
    environment = {k: v for k, v in os.environ.items() if k != TEST_HASHING_VARIABLE}
    hashed, output = _hash_in_a_process(environment)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "insecure_test_hashing" not in output


def test_the_test_variable_makes_hashing_cheap_and_says_so() -> None:
    hashed, output = _hash_in_a_process({**os.environ, TEST_HASHING_VARIABLE: "1"})
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert "passwords.insecure_test_hashing" in output


def test_the_stand_in_hash_for_unknown_users_costs_what_a_real_one_does() -> None:
    """Written with the hasher's own parameters, so verifying against it runs argon2 at the cost
    of a real hash (a mismatch after the work, not an unreadable hash refused at once)."""
    stand_in = passwords.stand_in_hash()
    real = passwords.hash_password("Mật khẩu dài 2026")
    assert stand_in.split("$")[:4] == real.split("$")[:4]
    assert [len(part) for part in stand_in.split("$")[4:]] == [
        len(part) for part in real.split("$")[4:]
    ]
    assert passwords.stand_in_hash() == stand_in  # one per process
    with pytest.raises(VerifyMismatchError):
        PasswordHasher().verify(stand_in, "Mật khẩu dài 2026")
