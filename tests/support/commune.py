"""A commune node under a district of the demo network, onboarded as docs/onboarding.md says a
new commune is: its ``[[node]]`` and ``[[unit]]`` imported on the province, ``keys onboard``
there, ``init --from-bundle`` on the new node; all through the real ``congvan`` command.

The commune is ``XA-CAMTHANH`` (Đảng uỷ xã Cam Thành), whose parent in the unit directory is
``HU-CAMLO``; the districts of the demo read the province's published directory, so Cam Lộ sees
its new commune as soon as it is onboarded.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from config.settings import Settings, load_settings
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.network import QUIET_REPORTS, DemoNetwork
from tests.support.nodes import FAST
from tests.support.ports import free_port_block

COMMUNE = "XA-CAMTHANH"
COMMUNE_NAME = "Đảng uỷ xã Cam Thành"
PARENT = "HU-CAMLO"

UNITS_FILE = f"""
[[node]]
name = "{COMMUNE}"
host = "127.0.0.1"

[[unit]]
code = "{COMMUNE}"
name = "{COMMUNE_NAME}"
kind = "commune"
parent = "{PARENT}"
node = "{COMMUNE}"
mail_domain = "camthanh.camlo.quangtri.dcs.vn"
"""


def add_commune(
    cli: Cli, databases: DatabasePool, network: DemoNetwork, secrets_seen: SecretsSeen
) -> Path:
    """Onboard the commune's node beside the network's nodes; the answer is its folder."""
    province = network.node_dir("TU")
    node_dir = network.root / COMMUNE
    work = network.root / ".commune"
    work.mkdir()
    units = work / "units.toml"
    units.write_text(UNITS_FILE, encoding="utf-8")
    passphrase = work / "bundle-passphrase"
    secret = secrets.token_urlsafe(24)
    secrets_seen.add(secret)
    passphrase.write_text(secret, encoding="utf-8")
    passphrase.chmod(0o600)
    bundle = work / f"{COMMUNE}.bundle"
    web_port = free_port_block(2)
    cli("units", "import", "--dir", province, units)
    cli(
        "keys", "onboard", COMMUNE, "--unit", COMMUNE, "--host", "127.0.0.1",
        "--peer-url", f"https://127.0.0.1:{web_port + 1}", "--out", bundle,
        "--bundle-passphrase-file", passphrase, "--dir", province,
    )  # fmt: skip
    args: list[str | Path] = ["init", "--dir", node_dir, "--from-bundle", bundle]
    args += ["--bundle-passphrase-file", passphrase, "--host", "127.0.0.1"]
    args += ["--web-port", str(web_port), "--peer-port", str(web_port + 1)]
    url = databases.new_url("xa")
    if url:
        args += ["--database-url", url]
    cli(*args)
    bundle.unlink()
    # As for the demo's nodes: no report or figures of its own going up at its first start.
    with (node_dir / "node.toml").open("a", encoding="utf-8") as settings_file:
        settings_file.write(QUIET_REPORTS)
    secrets_seen.add((node_dir / "secret").read_text().strip())
    return node_dir


def commune_settings(node_dir: Path) -> Settings:
    """The commune's settings with the tests' fast retries."""
    return load_settings(node_dir, dict(FAST))
