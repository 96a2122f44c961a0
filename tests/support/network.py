"""Node folders made through the real ``congvan`` command, for tests to work on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from config.settings import Settings, load_settings
from keys.keystore import node_passphrase
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.ports import free_port_block

SAMPLE_UNITS = Path(str(files("keys").joinpath("data/quangtri-units.toml")))
DEMO_NODE_NAMES = ["TU", "HU-CAMLO", "TX-DONGHA"]
#: Appended to a test node's settings: neither the monthly report nor the live figures go up by
#: themselves at a district's first start, adding dispatches to tests that count them; the
#: report tests turn them back on.
QUIET_REPORTS = "\n[reports]\nsend_day = 0\nfigures_minutes = 0\n"


@dataclass
class DemoNetwork:
    """A demo network built by ``congvan demo --setup-only`` (not running)."""

    root: Path
    document: dict[str, Any]

    def node_dir(self, name: str) -> Path:
        return self.root / name

    def settings(self, name: str) -> Settings:
        return load_settings(self.node_dir(name), {})

    def passphrase(self, name: str) -> bytes:
        return node_passphrase(self.settings(name))

    def account(self, node: str, role: str) -> dict[str, Any]:
        return next(
            account
            for account in self.document["accounts"]
            if account["node"] == node and account["role"] == role
        )


def build_demo_network(cli: Cli, databases: DatabasePool, root: Path) -> DemoNetwork:
    args: list[str | Path] = ["demo", "--dir", root, "--setup-only"]
    args += ["--base-port", str(free_port_block(23))]
    template = databases.new_template(DEMO_NODE_NAMES)
    if template:
        args += ["--database-url", template]
    cli(*args)
    for name in DEMO_NODE_NAMES:
        with (root / name / "node.toml").open("a", encoding="utf-8") as settings_file:
            settings_file.write(QUIET_REPORTS)
    document = json.loads((root / "demo.json").read_text(encoding="utf-8"))
    return DemoNetwork(root=root, document=document)


def init_province(cli: Cli, databases: DatabasePool, node_dir: Path) -> Settings:
    """A provincial node with its CA and the sample unit directory imported."""
    base = free_port_block(2)
    args: list[str | Path] = ["init", "--dir", node_dir, "--node", "TU", "--unit", "TU"]
    args += ["--unit", "BTC", "--hub", "--web-port", str(base), "--peer-port", str(base + 1)]
    url = databases.new_url("tu")
    if url:
        args += ["--database-url", url]
    cli(*args)
    cli("keys", "ca-init", "--dir", node_dir)
    cli("units", "import", "--dir", node_dir, SAMPLE_UNITS)
    return load_settings(node_dir, {})
