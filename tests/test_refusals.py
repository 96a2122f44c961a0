"""Refusals the staff pages can show are raised by key, so the English pages show them in
English (config/refusals.py): no module whose errors reach a page raises a CongvanError with
Vietnamese text written in place.

A refusal that only a peer node, the command line or the logs ever see (the peer API's, the
CA's, a setting's) may stay plain Vietnamese: those modules are not in ``REACH_THE_PAGES``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Where the staff pages' refusals come from: packages (every module in them) and modules.
REACH_THE_PAGES = (
    "office/documents",
    "office/schedules",
    "office/reports",
    "office/mail",
    "office/admin",
    "office/home",
    "office/web",
    "mailgw/gateway.py",
    "mailgw/aliases.py",
    "mailgw/composing.py",
    "mailgw/mailbox.py",
    "mailgw/reading.py",
    "exchange/statuses.py",
    "keys/passwords.py",
    "keys/accounts.py",
    "keys/signers.py",
)
#: Command-line and demo modules inside those packages speak Vietnamese to operators.
OPERATORS_ONLY = re.compile(r"(^|/)(cli|demo_[a-z_]+)\.py$")
ERRORS = {"CongvanError", "Invalid", "Conflict", "NotFound", "Forbidden", "MailRefused"}
VIETNAMESE = re.compile(
    r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I
)


def modules() -> list[Path]:
    found: list[Path] = []
    for entry in REACH_THE_PAGES:
        path = ROOT / entry
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [path for path in found if not OPERATORS_ONLY.search(path.relative_to(ROOT).as_posix())]


def vietnamese_refusals(source: str) -> list[int]:
    """Lines raising one of our errors whose first argument is text with Vietnamese in it."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in ERRORS:
            continue
        text = " ".join(
            part.value
            for part in ast.walk(node.args[0])
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
        if VIETNAMESE.search(text):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", modules(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_the_module_refuses_by_key(path: Path) -> None:
    assert vietnamese_refusals(path.read_text(encoding="utf-8")) == []


def test_the_checker_finds_text_written_in_place_and_passes_a_key() -> None:
    source = (
        'raise Invalid(f"Chưa nhập {label}.", code="x")\n'
        'raise NotFound("không có công văn " + name)\n'
        "raise Invalid(refusals.MISSING_FIELD(label=label))\n"
        'raise Invalid("no Vietnamese here")\n'
    )
    assert vietnamese_refusals(source) == [1, 2]
