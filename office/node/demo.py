"""``congvan demo``: a working three-node network on loopback, built from nothing.

The province ``TU`` (hub and CA, hosting the unit ``TU`` and the board ``BTC``) and two
districts, ``HU-CAMLO`` and ``TX-DONGHA``, each with one account per role. Everything is built
in a staging folder and moved into place at the end, so an interrupted build leaves nothing
half made; a second run on the same folder reuses what is there.

``demo.json`` is the contract with tools and tests: keep its field names.
"""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from config.database import open_database
from config.errors import Conflict
from config.files import write_secret
from config.settings import Settings, load_settings
from keys import accounts, certificates, directory, organisation
from keys.ca import CA_CERT_FILE
from keys.keystore import node_passphrase
from keys.models import Unit
from keys.sealing import SecretBox
from office.formats import local_time
from office.node.demo_signers import give_leaders_signing_keys
from office.node.setup import NodePlan, init_node
from office.reports.demo_history import seed_demo_history
from office.schedules import feeds
from office.schedules.demo_week import DemoPeople, seed_demo_week
from office.schedules.models import PERSON_FEED

DEMO_FILE = "demo.json"
STAGING = ".staging"


@dataclass(frozen=True)
class DemoNode:
    name: str
    units: tuple[str, ...]
    short: str
    port_offset: int
    #: Units whose last monthly report form was in on time (Đông Hà's is missing, as in the
    #: seed report).
    forms_on_time: tuple[str, ...] = ()


DEMO_NODES = (
    DemoNode("TU", ("TU", "BTC"), "tu", 0, forms_on_time=("BTC",)),
    DemoNode("HU-CAMLO", ("HU-CAMLO",), "camlo", 10, forms_on_time=("HU-CAMLO",)),
    DemoNode("TX-DONGHA", ("TX-DONGHA",), "dongha", 20),
)

#: role -> (username prefix, clearance, full name)
DEMO_ROLES = {
    "admin": ("quantri", 0, "Quản trị hệ thống"),
    "clerk": ("vanthu", 2, "Văn thư"),
    "leader": ("lanhdao", 3, "Lãnh đạo"),
    "staff": ("chuyenvien", 1, "Chuyên viên"),
}

DEMO_LEADER_TITLE = "Phó Bí thư"


def demo_file(root: Path) -> Path:
    return root / DEMO_FILE


def read_demo(root: Path) -> dict[str, Any] | None:
    path = demo_file(root)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


async def build_demo(root: Path, base_port: int, database_urls: dict[str, str]) -> dict[str, Any]:
    """Build the network in ``root`` unless ``demo.json`` says it is built already."""
    existing = read_demo(root)
    if existing is not None:
        return existing
    leftovers = [node.name for node in DEMO_NODES if (root / node.name).exists()]
    if leftovers:
        raise Conflict(
            f"{root} holds node folders but no {DEMO_FILE}: not a demo this command made; "
            "choose an empty folder"
        )
    root.mkdir(parents=True, exist_ok=True)
    staging = root / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    accounts_out = await _build(staging, base_port, database_urls)
    for node in DEMO_NODES:
        (staging / node.name).replace(root / node.name)
    staging.rmdir()
    document = _demo_document(root.resolve(), base_port, accounts_out)
    write_secret(demo_file(root), json.dumps(document, ensure_ascii=False, indent=2).encode())
    return document


async def _build(
    staging: Path, base_port: int, database_urls: dict[str, str]
) -> list[dict[str, Any]]:
    settings_by_node: dict[str, Settings] = {}
    for node in DEMO_NODES:
        plan = NodePlan(
            node_name=node.name,
            units=node.units,
            hub=node.name == "TU",
            web_port=base_port + node.port_offset,
            peer_port=base_port + node.port_offset + 1,
            smtp_port=base_port + node.port_offset + 2,
            database_url=database_urls.get(node.name, ""),
            # The districts read the province's published CRL and directory, as if fetched
            # from the hub (relative paths, so the folder can move).
            crl_file="" if node.name == "TU" else "../TU/ca/crl.pem",
            directory_file="ca/directory.json" if node.name == "TU" else "../TU/ca/directory.json",
        )
        settings_by_node[node.name] = await init_node(staging / node.name, plan, {})
    await _build_pki(settings_by_node)
    created = [
        account
        for node in DEMO_NODES
        for account in await _create_accounts(settings_by_node[node.name], node)
    ]
    await give_leaders_signing_keys(settings_by_node["TU"], settings_by_node, created)
    return created


async def _build_pki(settings_by_node: dict[str, Settings]) -> None:
    province = settings_by_node["TU"]
    ca_passphrase = node_passphrase(province)
    with directory.sample_units_file("quangtri") as units_path:
        nodes, units = directory.read_units_file(units_path)
    async with open_database(province) as sessions, sessions() as session, session.begin():
        authority = await certificates.init_ca(
            session, province, "Tỉnh uỷ Quảng Trị - CA (demo)", ca_passphrase
        )
        await directory.import_units(session, nodes, units)
        for node in DEMO_NODES:
            target = settings_by_node[node.name]
            passphrase = node_passphrase(target)
            await certificates.issue_node(
                session,
                province,
                authority,
                passphrase,
                node.name,
                ["127.0.0.1", "localhost"],
                f"https://127.0.0.1:{target.peer.port}",
                out_dir=target.pki_dir,
            )
            for unit in node.units:
                await certificates.issue_unit(
                    session, province, authority, passphrase, unit, out_dir=target.pki_dir
                )
        await directory.publish_directory(
            session,
            authority,
            province.ca_dir / directory.DIRECTORY_FILE,
            province.keys.crl_days,
            province.node.name,
        )
    for node in DEMO_NODES[1:]:
        district = settings_by_node[node.name]
        shutil.copy2(province.pki_dir / CA_CERT_FILE, district.pki_dir / CA_CERT_FILE)
        async with open_database(district) as sessions, sessions() as session, session.begin():
            await directory.import_units(session, nodes, units)


async def _create_accounts(settings: Settings, node: DemoNode) -> list[dict[str, Any]]:
    created: list[dict[str, Any]] = []
    box = SecretBox(node_passphrase(settings), settings.node.name)
    async with open_database(settings) as sessions, sessions() as session, session.begin():
        for role, (prefix, clearance, full_name) in DEMO_ROLES.items():
            username = f"{prefix}.{node.short}"
            password = secrets.token_urlsafe(12)
            await accounts.add_user(
                session,
                username,
                password,
                node.units[0],
                role,
                clearance,
                settings.node.units,
                f"{full_name} {node.units[0]}",
            )
            if role == "leader":
                # The demo's leader signs the drafts submitted to them (demo_signers gives them
                # their key).
                await accounts.set_duties(session, username, title=DEMO_LEADER_TITLE, may_sign=True)
                # ... and is the unit's head, whom incoming documents are presented to.
                await organisation.set_unit_head(
                    session, node.units[0], username, settings.node.units
                )
            enrolment = await accounts.enrol_totp(session, username, box)
            app_password = await accounts.add_app_password(session, username, "demo")
            unit = await session.get(Unit, node.units[0])
            assert unit is not None  # imported with the directory above
            created.append(
                {
                    "username": username,
                    "password": password,
                    "totp_secret": enrolment.secret,
                    "email": f"{username}@{unit.mail_domain}",
                    "app_password": app_password,
                    "unit": node.units[0],
                    "role": role,
                    "full_name": f"{full_name} {node.units[0]}",
                    "title": DEMO_LEADER_TITLE if role == "leader" else "",
                    "clearance": clearance,
                    "node": node.name,
                }
            )
        await _seed_schedule(session, settings, node, created)
        await seed_demo_history(
            session,
            list(node.units),
            [account["username"] for account in created],
            settings.reports,
            datetime.now(UTC),
            forms_for=node.forms_on_time,
        )
    return created


async def _seed_schedule(
    session: AsyncSession, settings: Settings, node: DemoNode, created: list[dict[str, Any]]
) -> None:
    """This week's published schedule of the node's first unit, and every account's own
    calendar feed: ``ics_url`` in ``demo.json``."""
    ids: dict[str, int] = {}
    for account in created:
        user_id = await accounts.hosted_user_id(session, account["username"], settings.node.units)
        assert user_id is not None  # just created above
        ids[account["role"]] = user_id
    now = datetime.now(UTC)
    people = DemoPeople(leader=ids["leader"], clerk=ids["clerk"], staff=ids["staff"])
    await seed_demo_week(session, node.units[0], people, local_time(now).date(), now)
    web_url = f"http://{settings.web.host}:{settings.web.port}"
    for account in created:
        token = await feeds.issue_feed(session, ids[account["role"]], PERSON_FEED, now)
        account["ics_url"] = feeds.feed_url(web_url, token)


def _demo_document(
    root: Path, base_port: int, accounts_out: list[dict[str, Any]]
) -> dict[str, Any]:
    nodes = []
    for node in DEMO_NODES:
        settings = load_settings(root / node.name, {})
        nodes.append(
            {
                "name": node.name,
                "dir": str(settings.node_dir),
                "units": list(node.units),
                "web_url": f"http://{settings.web.host}:{settings.web.port}",
                "peer_url": f"https://{settings.peer.host}:{settings.peer.port}",
                "smtp_host": settings.smtp.host,
                "smtp_port": settings.smtp.port,
            }
        )
    return {
        "ca": str(root / "TU" / "ca" / CA_CERT_FILE),
        "base_port": base_port,
        "nodes": nodes,
        "accounts": accounts_out,
    }


def demo_settings(root: Path) -> list[Settings]:
    return [load_settings(root / node.name) for node in DEMO_NODES]
