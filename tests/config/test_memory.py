"""The serving process's allocator setting (``config.memory``), each in a fresh process:
mallopt changes the process that calls it, and glibc reads its environment at start."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

PROBE = "from config.memory import tune_allocator; print(tune_allocator())"


def _applied(**environment: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_a_serving_process_limits_glibc_to_two_arenas() -> None:
    assert _applied() == "True"


def test_an_arena_limit_the_operator_set_in_the_environment_is_left_as_set() -> None:
    assert _applied(MALLOC_ARENA_MAX="4") == "False"
