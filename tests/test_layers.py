"""The layers import only to their left: ``config <- keys <- exchange <- mailgw <- office``.

Every ``import`` and ``from … import`` counts, wherever it stands: at the top, inside a function,
under ``if TYPE_CHECKING:``. Relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYERS = ["config", "keys", "exchange", "mailgw", "office"]
ROOT = Path(__file__).resolve().parent.parent


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module ``source`` imports, as (line, dotted name), relative ones made absolute."""
    found: list[tuple[int, str]] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if node.module is None or node.level:
                # ``from . import x`` may name a submodule: count ``package.x`` too.
                found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Imports in ``source`` (module ``module``) of a layer to the right of its own."""
    own = LAYERS.index(module.split(".")[0])
    forbidden = set(LAYERS[own + 1 :])
    return [
        f"line {line}: imports {target}"
        for line, target in imported_modules(source, module, is_package)
        if target.split(".")[0] in forbidden
    ]


def layer_files(layer: str) -> list[Path]:
    return sorted(path for path in (ROOT / layer).rglob("*.py") if ".venv" not in path.parts)


def module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_folder_is_a_package_with_python_files(layer: str) -> None:
    assert (ROOT / layer / "__init__.py").is_file(), f"{layer}/ is not a package"
    assert layer_files(layer), f"{layer}/ holds no Python files"


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_imports_a_layer_to_its_right(layer: str) -> None:
    problems = []
    for path in layer_files(layer):
        module, is_package = module_name(path)
        source = path.read_text(encoding="utf-8")
        relative = path.relative_to(ROOT)
        problems.extend(f"{relative} {found}" for found in violations(source, module, is_package))
    assert not problems, f"{layer} must import only {LAYERS[: LAYERS.index(layer)]}:\n" + (
        "\n".join(problems)
    )


def test_the_checker_catches_imports_to_the_right_wherever_they_stand() -> None:
    source = """
from __future__ import annotations
from typing import TYPE_CHECKING
import os
from config.settings import Settings

if TYPE_CHECKING:
    from office.node.app import RunningNode

def later():
    import exchange.peer_api
    from mailgw import smtp
    return smtp

class Hidden:
    def method(self):
        from keys.models import User
        return User
"""
    found = violations(source, "config.something")
    assert sorted(found) == [
        "line 11: imports exchange.peer_api",
        "line 12: imports mailgw",
        "line 17: imports keys.models",
        "line 8: imports office.node.app",
    ]


def test_the_checker_allows_imports_of_the_own_layer_and_those_to_its_left() -> None:
    source = "import config.settings\nfrom keys import ca\nfrom exchange.tls import x\nimport os\n"
    assert violations(source, "exchange.peer_api") == []
    assert violations(source, "keys.ca") == ["line 3: imports exchange.tls"]


def test_the_checker_resolves_relative_imports() -> None:
    assert violations("from . import models\nfrom .ca import x\n", "keys.cli") == []
    # A relative import stays inside its own top-level package, whatever its name says.
    assert violations("from .. import office\n", "keys.sub.cli") == []
    assert imported_modules("from ..office import app\n", "config.migrations.env") == [
        (1, "config.office"),
        (1, "config.office.node.app"),
    ]
