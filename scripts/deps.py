"""The dependency lock: make it from pyproject.toml, check it still matches, compare two.

``requirements/test.txt`` pins, with hashes, everything the product and its tests install;
``requirements/run.txt`` pins what a node installs, at the versions the tests ran with;
``requirements/tools.txt`` pins pip-tools, which makes the other two. Each lock made here
carries the digest of the dependency declaration it was made from, so a changed
``pyproject.toml`` whose lock was not refreshed is refused before anything is installed.

Standard library only: ``check`` runs before any virtual environment exists.

    python3 scripts/deps.py check [--lock-dir DIR]
    python3 scripts/deps.py lock [--upgrade] [--lock-dir DIR]
    python3 scripts/deps.py diff OLD_DIR NEW_DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK_DIR = ROOT / "requirements"
#: Made in this order: the run lock is constrained to the test lock's versions.
LOCKS = ("test.txt", "run.txt")
DIGEST_PREFIX = "# pyproject-digest: sha256:"
REFRESH_HINT = (
    "refresh it with scripts/lock-deps.sh (keeps every other pin), or move every pin to the "
    "newest releases, tested, with scripts/upgrade-deps.sh; then commit requirements/"
)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
CONSTRAINT_NOTE = re.compile(r"-c \S*test\.txt")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class LockError(Exception):
    """The lock does not match pyproject.toml, or could not be made."""


def normalized(name: str) -> str:
    """PEP 503: ``PyYAML``, ``pyyaml`` and ``py_yaml`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declaration(pyproject: Path) -> dict[str, object]:
    """What the lock is resolved from: nothing else in pyproject.toml changes it."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data["project"]
    return {
        "build-system": sorted(data.get("build-system", {}).get("requires", [])),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {
            extra: sorted(requirements)
            for extra, requirements in project.get("optional-dependencies", {}).items()
        },
        "requires-python": project.get("requires-python", ""),
    }


def digest(pyproject: Path) -> str:
    canonical = json.dumps(declaration(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def pins(lock: Path) -> dict[str, str]:
    """Project name (normalized) -> pinned version."""
    return {normalized(name): version for name, version in PIN.findall(lock.read_text())}


def declared_names(pyproject: Path, lock_name: str) -> set[str]:
    """The projects pyproject.toml names directly for this lock (with its extras for tests)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    requirements = [
        *data["project"].get("dependencies", []),
        *data.get("build-system", {}).get("requires", []),
    ]
    if lock_name == "test.txt":
        for extra in data["project"].get("optional-dependencies", {}).values():
            requirements += extra
    return {normalized(match.group(1)) for r in requirements if (match := NAME.match(r))}


def check(lock_dir: Path, pyproject: Path = PYPROJECT) -> None:
    """Raise :class:`LockError` unless every lock was made from this pyproject.toml."""
    expected = digest(pyproject)
    for lock_name in LOCKS:
        lock = lock_dir / lock_name
        if not lock.exists():
            raise LockError(f"{lock} is missing: {REFRESH_HINT}")
        recorded = next(
            (
                line.removeprefix(DIGEST_PREFIX).strip()
                for line in lock.read_text().splitlines()
                if line.startswith(DIGEST_PREFIX)
            ),
            None,
        )
        if recorded != expected:
            raise LockError(
                f"the dependencies in {pyproject.name} changed since {lock} was made: "
                + REFRESH_HINT
            )
        missing = sorted(declared_names(pyproject, lock_name) - set(pins(lock)))
        if missing:
            raise LockError(f"{lock} pins no version of {', '.join(missing)}: {REFRESH_HINT}")


def _stamp(lock: Path, pyproject: Path) -> None:
    """Write the declaration's digest under pip-compile's header; name the constraint file as
    it stands in the repository, wherever this lock was made."""
    text = CONSTRAINT_NOTE.sub("-c requirements/test.txt", lock.read_text())
    lines = [line for line in text.splitlines() if not line.startswith(DIGEST_PREFIX)]
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("#")), 0)
    lines.insert(header_end, f"{DIGEST_PREFIX}{digest(pyproject)}")
    lock.write_text("\n".join(lines) + "\n")


def _tools_python() -> Path:
    """A virtual environment of its own holding the locked pip-tools (made once)."""
    home = Path(os.environ.get("CONGVAN_TOOLS_VENV", ROOT / ".venv-tools"))
    python = home / "bin" / "python"
    if not python.exists():
        venv.create(home, with_pip=True)
    install = [python, "-m", "pip", "install", "-q", "--require-hashes", "--no-deps", "-r"]
    subprocess.run([*install, LOCK_DIR / "tools.txt"], check=True)
    return python


def lock(lock_dir: Path, *, upgrade: bool) -> None:
    """Resolve pyproject.toml into ``lock_dir``; without ``upgrade``, existing pins stay."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    python = _tools_python()
    # Only PyPI: a machine's own extra indexes or wheel folders must not end up in the lock.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    environment |= {
        "PIP_CONFIG_FILE": os.devnull,
        "CUSTOM_COMPILE_COMMAND": "scripts/lock-deps.sh (or scripts/upgrade-deps.sh)",
    }
    common = [
        python, "-m", "piptools", "compile", "--quiet", "--generate-hashes", "--allow-unsafe",
        "--strip-extras", "--no-emit-index-url", "--no-emit-find-links",
        *(["--upgrade"] if upgrade else []),
    ]  # fmt: skip
    # The project's own build backend (setuptools) is locked too: installed from the lock, the
    # project builds without fetching one (pip's --no-build-isolation).
    from_pyproject = [*common, "--all-build-deps"]
    test_lock, run_lock = (lock_dir / name for name in LOCKS)
    steps = [
        [*from_pyproject, "--extra", "test", "--output-file", test_lock, PYPROJECT.name],
        # The node's lock takes the versions the tests ran with.
        [*from_pyproject, "--constraint", test_lock, "--output-file", run_lock, PYPROJECT.name],
    ]
    if upgrade:  # pip-tools itself, for the next lock
        steps.append([*common, "--output-file", lock_dir / "tools.txt", "requirements/tools.in"])
    for step in steps:
        result = subprocess.run(step, cwd=ROOT, env=environment, check=False)
        if result.returncode != 0:
            raise LockError(f"pip-compile failed ({result.returncode}): {' '.join(map(str, step))}")
    for made in (test_lock, run_lock):
        _stamp(made, PYPROJECT)
    check(lock_dir)


def diff(old_dir: Path, new_dir: Path) -> list[str]:
    """One line per project whose pin differs between two lock folders."""
    old, new = pins(old_dir / "test.txt"), pins(new_dir / "test.txt")
    return [
        f"{name}: {old.get(name, '-')} -> {new.get(name, '-')}"
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/deps.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check_command = commands.add_parser("check", help="refuse a lock pyproject.toml outgrew")
    check_command.add_argument("--lock-dir", type=Path, default=LOCK_DIR)
    check_command.add_argument("--pyproject", type=Path, default=PYPROJECT)
    lock_command = commands.add_parser("lock", help="resolve pyproject.toml into the lock")
    lock_command.add_argument("--lock-dir", type=Path, default=LOCK_DIR)
    lock_command.add_argument("--upgrade", action="store_true", help="newest releases")
    diff_command = commands.add_parser("diff", help="the pins that differ")
    diff_command.add_argument("old", type=Path)
    diff_command.add_argument("new", type=Path)
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "check":
            check(arguments.lock_dir, arguments.pyproject)
        elif arguments.command == "lock":
            lock(arguments.lock_dir.resolve(), upgrade=arguments.upgrade)
        else:
            print("\n".join(diff(arguments.old, arguments.new)) or "no pin changed")
    except LockError as error:
        print(f"dependency lock: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
