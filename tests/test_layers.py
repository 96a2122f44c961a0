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
        (1, "config.office.app"),
    ]


# The e-office's feature folders (docs/architecture.md): ``office.web`` is the shared web app,
# ``office.node`` the composition root, every other package under ``office`` a feature whose
# pages live in its ``web/`` package.
SHARED_WEB = "office.web"
COMPOSITION_ROOT = "office.node"


def feature_of(module: str) -> str | None:
    """The feature a module of ``office`` belongs to (``office.documents.desk`` ->
    ``documents``); None for the shared web app, the composition root and the root modules."""
    parts = module.split(".")
    if (
        parts[0] != "office"
        or len(parts) < 3
        or ".".join(parts[:2])
        in (
            SHARED_WEB,
            COMPOSITION_ROOT,
        )
    ):
        return None
    return parts[1]


def is_pages(module: str) -> bool:
    """A feature's ``web/`` package or a module in it."""
    parts = module.split(".")
    return feature_of(module) is not None and len(parts) >= 3 and parts[2] == "web"


def feature_violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Imports in ``source`` that break the feature folders' rules: a service imports no
    pages (its own or another's) and not the shared web app; the shared web app imports no
    feature; one feature's pages import no other feature's pages. The composition root may
    import anything."""
    if module == COMPOSITION_ROOT or module.startswith(COMPOSITION_ROOT + "."):
        return []
    found = []
    for line, target in imported_modules(source, module, is_package):
        if not target.startswith("office."):
            continue
        target_is_web = target == SHARED_WEB or target.startswith(SHARED_WEB + ".")
        if module == SHARED_WEB or module.startswith(SHARED_WEB + "."):
            if feature_of(target) is not None or target.startswith(COMPOSITION_ROOT):
                found.append(f"line {line}: the shared web app imports {target}")
        elif not is_pages(module) and feature_of(module) is not None:
            if is_pages(target) or target_is_web:
                found.append(f"line {line}: a service imports the pages {target}")
        elif is_pages(module) and is_pages(target) and feature_of(target) != feature_of(module):
            found.append(f"line {line}: {feature_of(module)}'s pages import {target}")
    return found


def product_modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the product: dotted name -> (file, is a package)."""
    modules = {}
    for layer in LAYERS:
        for path in layer_files(layer):
            name, is_package = module_name(path)
            modules[name] = (path, is_package)
    return modules


def runtime_imports(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The product modules ``source`` imports when it runs (in a function too, not under
    ``if TYPE_CHECKING:``, which only the type checker reads): ``from p import m`` counts as
    ``p.m`` when ``m`` is a module, else as ``p``."""
    tree = ast.parse(source)
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(
                inner.lineno for inner in ast.walk(node) if isinstance(inner, ast.stmt)
            )
    found = set()
    for line, target in imported_modules(source, module, is_package):
        if line in type_only:
            continue
        if target in known:
            found.add(target)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.lineno not in type_only:
            found.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in known
            )
    return found - {module}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of ``graph`` (module -> modules it imports): its strongly connected
    components of more than one module, by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_the_feature_folders_keep_their_rules() -> None:
    problems = []
    for path in layer_files("office"):
        module, is_package = module_name(path)
        source = path.read_text(encoding="utf-8")
        relative = path.relative_to(ROOT)
        problems.extend(
            f"{relative} {found}" for found in feature_violations(source, module, is_package)
        )
    assert not problems, "\n".join(problems)


def test_office_s_root_holds_a_handful_of_entries_and_every_page_lives_in_a_feature() -> None:
    root = sorted(path.name for path in (ROOT / "office").iterdir() if path.name != "__pycache__")
    assert len(root) <= 14, root
    assert [name for name in root if name.endswith(".py")] == ["__init__.py", "formats.py"]
    assert not (ROOT / "office" / "templates").exists()


def test_the_product_has_no_import_cycle() -> None:
    """Run alone: ``python -m pytest tests/test_layers.py -k cycle``."""
    modules = product_modules()
    known = set(modules)
    graph = {
        name: runtime_imports(path.read_text(encoding="utf-8"), name, is_package, known)
        for name, (path, is_package) in modules.items()
    }
    assert import_cycles(graph) == []


def test_the_feature_checker_catches_each_kind_of_violation() -> None:
    assert feature_violations(
        "from office.documents.web import incoming\n", "office.documents.desk"
    ) == ["line 1: a service imports the pages office.documents.web"]
    assert feature_violations("from office.web.site import SITE\n", "office.schedules.notices") == [
        "line 1: a service imports the pages office.web.site"
    ]
    assert feature_violations("import office.documents.desk\n", "office.web.app") == [
        "line 1: the shared web app imports office.documents.desk"
    ]
    assert feature_violations(
        "from office.documents.web.choices import document_choices\n", "office.mail.web.compose"
    ) == ["line 1: mail's pages import office.documents.web.choices"]
    allowed = (
        "from office.documents.desk import DESK\nfrom office.web.rendering import render\n"
        "from office.mail.web import mailbox\n"
    )
    assert feature_violations(allowed, "office.mail.web.compose") == []
    assert feature_violations("from office.mail.web import compose\n", "office.node.features") == []


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function_but_not_one_for_types_only() -> None:
    known = {"office.a", "office.b", "office.c"}
    hidden = runtime_imports("def f():\n    from office.b import x\n", "office.a", False, known)
    assert hidden == {"office.b"}
    typed = runtime_imports(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from office.b import x\n",
        "office.a",
        False,
        known,
    )
    assert typed == set()
    graph = {"office.a": {"office.b"}, "office.b": {"office.c"}, "office.c": {"office.a"}}
    assert import_cycles(graph) == [["office.a", "office.b", "office.c"]]
    assert import_cycles({"office.a": {"office.b"}, "office.b": set()}) == []
