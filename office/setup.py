"""``congvan init``: lay out a node directory, its settings, its passphrase and its database."""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import migrate
from config.database import create_engine
from config.errors import Conflict
from config.files import write_atomic, write_secret
from config.settings import (
    SETTINGS_FILE,
    Settings,
    load_settings,
    parse_settings,
    render_settings,
)
from keys.keystore import node_passphrase

PASSPHRASE_FILE = "secret"  # noqa: S105 - the file name, not a secret
PASSPHRASE_VARIABLE = "CONGVAN_KEYS_PASSPHRASE"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class NodePlan:
    """What ``congvan init`` needs to know about a new node."""

    node_name: str
    units: tuple[str, ...]
    hub: bool = False
    host: str = "127.0.0.1"
    web_port: int = 8080
    peer_port: int = 8443
    #: The mail submission listener's port; 0 leaves it off.
    smtp_port: int = 0
    database_url: str = ""
    passphrase_file: str = ""
    crl_file: str = ""
    directory_file: str = ""


def settings_document(plan: NodePlan, passphrase_file: str) -> dict[str, dict[str, Any]]:
    keys: dict[str, Any] = {}
    if passphrase_file:
        keys["passphrase_file"] = passphrase_file
    if plan.crl_file:
        keys["crl_file"] = plan.crl_file
    # The hub reads the directory it publishes; the others a copy fetched from it.
    directory_file = plan.directory_file or ("ca/directory.json" if plan.hub else "")
    if directory_file:
        keys["directory_file"] = directory_file
    document: dict[str, dict[str, Any]] = {
        "node": {"name": plan.node_name, "units": list(plan.units), "hub": plan.hub},
        "database": {"url": plan.database_url} if plan.database_url else {},
        "web": {"host": plan.host, "port": plan.web_port},
        "peer": {"host": plan.host, "port": plan.peer_port},
        "smtp": (
            {"enabled": True, "host": plan.host, "port": plan.smtp_port} if plan.smtp_port else {}
        ),
        "keys": keys,
    }
    return {section: body for section, body in document.items() if body}


async def init_node(node_dir: Path, plan: NodePlan, environ: Mapping[str, str]) -> Settings:
    """Create the node directory; refuse to touch one that already has settings.

    The settings are validated before anything is written, so a bad option leaves nothing
    behind.
    """
    if (node_dir / SETTINGS_FILE).exists():
        raise Conflict(f"{node_dir} is already a node directory ({SETTINGS_FILE} exists)")
    generate_passphrase = not plan.passphrase_file and not environ.get(PASSPHRASE_VARIABLE)
    passphrase_file = PASSPHRASE_FILE if generate_passphrase else plan.passphrase_file
    text = render_settings(settings_document(plan, passphrase_file))
    planned = parse_settings(tomllib.loads(text), node_dir, environ)
    if not generate_passphrase:
        node_passphrase(planned)  # readable and long enough, before anything is written
    node_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if generate_passphrase:
        write_secret(node_dir / PASSPHRASE_FILE, secrets.token_urlsafe(32).encode() + b"\n")
    write_atomic(node_dir / SETTINGS_FILE, text.encode("utf-8"), mode=0o600)
    settings = load_settings(node_dir, environ)
    settings.pki_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_engine(settings)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    return settings
