"""The lock in requirements/ matches pyproject.toml, and a stale one stops the set-up.

``scripts/deps.py check`` is what ``scripts/bootstrap.sh`` (so CI, the demo and the tests) runs
before installing anything; it is run here as the set-up runs it, on copies of the two files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("test.txt", "run.txt")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """pyproject.toml and requirements/ as they are committed, to be changed by a test."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "requirements").mkdir()
    for name in LOCKS:
        shutil.copy(ROOT / "requirements" / name, tmp_path / "requirements" / name)
    return tmp_path


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, ROOT / "scripts" / "deps.py", "check",
         "--lock-dir", folder / "requirements", "--pyproject", folder / "pyproject.toml"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_committed_lock_was_made_from_the_committed_pyproject(checkout: Path) -> None:
    result = check(checkout)
    assert result.returncode == 0, result.stderr


def test_a_new_dependency_without_a_refreshed_lock_is_refused_with_the_fix(
    checkout: Path,
) -> None:
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"zxcvbn>=4.4",', '"zxcvbn>=4.4",\n    "requests>=2.32",')
    )
    result = check(checkout)
    assert result.returncode == 1
    assert "dependencies in pyproject.toml changed since" in result.stderr
    assert "scripts/lock-deps.sh" in result.stderr
    assert "scripts/upgrade-deps.sh" in result.stderr


def test_a_narrowed_range_is_a_change_too(checkout: Path) -> None:
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"pytest>=8.2"', '"pytest>=8.2,<9"'))
    assert check(checkout).returncode == 1


def test_a_change_outside_the_dependencies_needs_no_new_lock(checkout: Path) -> None:
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("line-length = 100", "line-length = 99")
        + "\n# a comment at the end\n"
    )
    result = check(checkout)
    assert result.returncode == 0, result.stderr


def test_a_hand_edited_lock_missing_a_declared_project_is_refused(checkout: Path) -> None:
    lock = checkout / "requirements" / "run.txt"
    lines = lock.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("pyotp=="))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(" "))
    lock.write_text("".join(lines[:start] + lines[end:]))
    result = check(checkout)
    assert result.returncode == 1
    assert "pins no version of pyotp" in result.stderr


def test_every_pin_carries_hashes_so_pip_installs_in_hash_checking_mode() -> None:
    for name in LOCKS:
        text = (ROOT / "requirements" / name).read_text()
        pinned = [line for line in text.splitlines() if "==" in line and not line.startswith("#")]
        assert pinned, name
        for line in pinned:
            assert line.rstrip().endswith("\\"), f"{name}: {line} has no --hash"
