"""What one check found: ok, a warning (the node works, but watch it) or a problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "warning", "problem"]

OK: Status = "ok"
WARNING: Status = "warning"
PROBLEM: Status = "problem"


@dataclass(frozen=True)
class Finding:
    #: What was checked, e.g. ``database``, ``certificate HU-CAMLO signing``, ``peer TU``.
    check: str
    status: Status
    message: str
    #: How to fix it: a command to run or a file to change; empty when nothing is to be done.
    remedy: str = ""


def ok(check: str, message: str) -> Finding:
    return Finding(check, OK, message)


def warning(check: str, message: str, remedy: str = "") -> Finding:
    return Finding(check, WARNING, message, remedy)


def problem(check: str, message: str, remedy: str) -> Finding:
    return Finding(check, PROBLEM, message, remedy)


def first_line(error: BaseException) -> str:
    """An exception as one short line: its class and the first line of what it says."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__
