"""``congvan init``: lay out a node directory, its settings, its passphrase and its database."""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from config import migrate
from config.database import create_engine, create_session_factory
from config.errors import Conflict
from config.files import write_atomic, write_secret
from config.settings import (
    SETTINGS_FILE,
    Settings,
    load_settings,
    parse_settings,
    render_settings,
)
from keys.bundle import Bundle, install_bundle
from keys.directory import refresh_units
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
    #: The hub's peer URL ([exchange] hub_url): where a node that is not the hub fetches the
    #: CRL and the signed directory.
    hub_url: str = ""
    #: How the other nodes reach this one ([peer] public_url).
    peer_url: str = ""


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
        "peer": {"host": plan.host, "port": plan.peer_port}
        | ({"public_url": plan.peer_url} if plan.peer_url else {}),
        "smtp": (
            {"enabled": True, "host": plan.host, "port": plan.smtp_port} if plan.smtp_port else {}
        ),
        "keys": keys,
        "exchange": {"hub_url": plan.hub_url} if plan.hub_url else {},
    }
    return {section: body for section, body in document.items() if body}


def plan_from_bundle(bundle: Bundle, plan: NodePlan) -> NodePlan:
    """``plan`` (listeners, database, passphrase) for the node and units the bundle is for."""
    return replace(
        plan,
        node_name=bundle.node,
        units=bundle.units,
        hub=False,
        hub_url=bundle.hub_url,
        peer_url=bundle.peer_url,
    )


async def init_node(
    node_dir: Path, plan: NodePlan, environ: Mapping[str, str], bundle: Bundle | None = None
) -> Settings:
    """Create the node directory; refuse to touch one that already has settings.

    The settings are validated before anything is written, so a bad option leaves nothing
    behind. With a ``bundle`` (opened, so its passphrase was right), the node is ready to
    serve: its keys re-encrypted with its own passphrase, the CA certificate, the CRL and the
    signed directory in place, and its units taken from that directory.
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
        if bundle is not None:
            install_bundle(
                bundle,
                settings.pki_dir,
                settings.crl_file,
                settings.directory_file,
                node_passphrase(settings),
            )
            async with create_session_factory(engine)() as session, session.begin():
                await refresh_units(session, bundle.directory_document())
    finally:
        await engine.dispose()
    return settings
