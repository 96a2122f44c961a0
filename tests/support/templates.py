"""Copies of node folders built once a session, for tests that each need their own.

Building a node through ``congvan init`` or ``congvan demo`` costs seconds (processes started,
keys made, migrations run); a copy of one built earlier costs a folder copy and, on PostgreSQL,
a ``CREATE DATABASE … TEMPLATE``. A copy keeps the original's ports, keys and secrets: a
worker's tests run one after another, and no two copies of one original run at once.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from config.settings import Settings, load_settings
from tests.support.databases import DatabasePool
from tests.support.network import DemoNetwork


def _own_database(node_dir: Path, databases: DatabasePool) -> None:
    """Point a copied node folder at a copy of its original's database (SQLite's file was
    copied with the folder)."""
    settings_file = node_dir / "node.toml"
    text = settings_file.read_text(encoding="utf-8")
    url = tomllib.loads(text).get("database", {}).get("url", "")
    if url:
        settings_file.write_text(text.replace(url, databases.copy_of(url)), encoding="utf-8")


def copy_node(original: Settings, node_dir: Path, databases: DatabasePool) -> Settings:
    """A copy of the node ``original`` (not running) at ``node_dir``, and its settings."""
    shutil.copytree(original.node_dir, node_dir, symlinks=True)
    _own_database(node_dir, databases)
    return load_settings(node_dir, {})


def copy_network(original: DemoNetwork, root: Path, databases: DatabasePool) -> DemoNetwork:
    """A copy of the demo network ``original`` (not running) at ``root``; demo.json's paths
    point into the copy."""
    shutil.copytree(original.root, root, symlinks=True)
    for node in original.document["nodes"]:
        _own_database(root / node["name"], databases)
    demo_file = root / "demo.json"
    text = demo_file.read_text(encoding="utf-8").replace(str(original.root), str(root))
    demo_file.write_text(text, encoding="utf-8")
    return DemoNetwork(root=root, document=json.loads(text))
