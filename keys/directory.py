"""The unit directory: import and list units, and publish the CA-signed directory.

The signed directory (``directory.json`` + ``directory.json.sig``) is what other nodes trust
about who hosts which unit, where a node listens and which certificates are current. Its
signature is plain DER ECDSA-SHA256 over the file's bytes, so anyone can check it with
``openssl dgst -sha256 -verify ca-public.pem -signature directory.json.sig directory.json``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from config.files import write_atomic
from config.settings import NODE_NAME, UNIT_CODE
from keys.ca import CertificateAuthority, pem
from keys.models import UNIT_KINDS, Certificate, Node, Unit
from keys.signatures import sign

DIRECTORY_FILE = "directory.json"
#: Units files that ship with congvan (package data), by the name `units import --sample` takes.
SAMPLE_UNITS = {"quangtri": "quangtri-units.toml"}
SIGNATURE_SUFFIX = ".sig"


@dataclass(frozen=True)
class UnitEntry:
    code: str
    name: str
    kind: str
    parent: str | None
    node: str
    mail_domain: str


@dataclass(frozen=True)
class NodeEntry:
    name: str
    host: str
    peer_url: str
    pull: bool = False


@contextmanager
def sample_units_file(name: str) -> Iterator[Path]:
    """A sample units file by name, wherever congvan is installed (not only a source tree)."""
    if name not in SAMPLE_UNITS:
        raise NotFound(
            f"no sample units file {name!r}: the samples are {', '.join(sorted(SAMPLE_UNITS))}",
            code="unknown-sample",
        )
    with as_file(files("keys").joinpath("data", SAMPLE_UNITS[name])) as path:
        yield path


def read_units_file(path: Path) -> tuple[list[NodeEntry], list[UnitEntry]]:
    """Parse and check a units file (``[[node]]`` and ``[[unit]]`` tables) before any write."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise Invalid(f"{path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise Invalid(f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8") from error
    except tomllib.TOMLDecodeError as error:
        raise Invalid(f"{path}: not valid TOML: {error}") from error
    nodes = [_node_entry(path, raw) for raw in _tables(path, document, "node")]
    units = [_unit_entry(path, raw) for raw in _tables(path, document, "unit")]
    _no_duplicates(path, "node", [node.name for node in nodes])
    _no_duplicates(path, "unit", [unit.code for unit in units])
    _no_duplicates(path, "mail_domain", [unit.mail_domain for unit in units])
    return nodes, units


def _tables(path: Path, document: dict[str, Any], table: str) -> list[dict[str, Any]]:
    entries = document.get(table, [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise Invalid(f"{path}: write each {table} as a [[{table}]] table")
    return entries


def _field(path: Path, table: str, raw: dict[str, Any], key: str, required: bool = True) -> Any:
    value = raw.get(key)
    if value is None and required:
        raise Invalid(f"{path}: a [[{table}]] entry has no {key}")
    if value is not None and not isinstance(value, str):
        raise Invalid(f"{path}: [[{table}]] {key} = {value!r}: must be a string")
    return value


def _node_entry(path: Path, raw: dict[str, Any]) -> NodeEntry:
    name = _field(path, "node", raw, "name")
    if not NODE_NAME.fullmatch(name):
        raise Invalid(f"{path}: node {name!r}: use A-Z, 0-9 and -")
    pull = raw.get("pull", False)
    if not isinstance(pull, bool):
        raise Invalid(f"{path}: node {name}: pull = {pull!r}: must be true or false")
    return NodeEntry(name, _field(path, "node", raw, "host"), raw.get("peer_url", ""), pull)


def _unit_entry(path: Path, raw: dict[str, Any]) -> UnitEntry:
    code = _field(path, "unit", raw, "code")
    if not UNIT_CODE.fullmatch(code):
        raise Invalid(f"{path}: unit {code!r}: use A-Z, 0-9 and -")
    kind = _field(path, "unit", raw, "kind")
    if kind not in UNIT_KINDS:
        raise Invalid(f"{path}: unit {code}: kind {kind!r} must be one of {', '.join(UNIT_KINDS)}")
    return UnitEntry(
        code=code,
        name=_field(path, "unit", raw, "name"),
        kind=kind,
        parent=_field(path, "unit", raw, "parent", required=False),
        node=_field(path, "unit", raw, "node"),
        mail_domain=_field(path, "unit", raw, "mail_domain").lower(),
    )


def _no_duplicates(path: Path, what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise Conflict(f"{path}: duplicate {what} {value}")
        seen.add(value)


async def import_units(
    session: AsyncSession, nodes: list[NodeEntry], units: list[UnitEntry]
) -> int:
    """Add nodes and units; a unit code already in the directory is refused, not overwritten."""
    existing_units = set((await session.scalars(select(Unit.code))).all())
    clashes = [unit.code for unit in units if unit.code in existing_units]
    if clashes:
        raise Conflict(f"duplicate unit code {clashes[0]}: it is already in the directory")
    domain_owners = dict(
        (await session.execute(select(Unit.mail_domain, Unit.code))).tuples().all()
    )
    for unit in units:
        owner = domain_owners.get(unit.mail_domain)
        if owner is not None:
            raise Conflict(
                f"unit {unit.code}: mail domain {unit.mail_domain} is already used by unit {owner}"
            )
    known_nodes = set((await session.scalars(select(Node.name))).all())
    for node in nodes:
        if node.name not in known_nodes:
            session.add(
                Node(name=node.name, host=node.host, peer_url=node.peer_url, pull=node.pull)
            )
            known_nodes.add(node.name)
    codes = existing_units | {unit.code for unit in units}
    for unit in units:
        if unit.node not in known_nodes:
            raise Invalid(f"unit {unit.code}: unknown node {unit.node}; declare it in [[node]]")
        if unit.parent is not None and unit.parent not in codes:
            raise Invalid(f"unit {unit.code}: unknown parent unit {unit.parent}")
    await session.flush()
    # Parents first, so the foreign key holds at every insert on both databases.
    for unit in _parents_first(units):
        session.add(
            Unit(
                code=unit.code,
                name=unit.name,
                kind=unit.kind,
                parent_code=unit.parent,
                node_name=unit.node,
                mail_domain=unit.mail_domain,
            )
        )
        await session.flush()
    return len(units)


def _parents_first(units: list[UnitEntry]) -> list[UnitEntry]:
    by_code = {unit.code: unit for unit in units}
    ordered: list[UnitEntry] = []
    placed: set[str] = set()

    def place(unit: UnitEntry, trail: tuple[str, ...]) -> None:
        if unit.code in placed:
            return
        if unit.code in trail:
            raise Invalid(f"unit {unit.code}: its parents form a cycle")
        parent = by_code.get(unit.parent or "")
        if parent is not None:
            place(parent, (*trail, unit.code))
        ordered.append(unit)
        placed.add(unit.code)

    for unit in units:
        place(unit, ())
    return ordered


async def refresh_units(session: AsyncSession, document: dict[str, Any]) -> int:
    """Make this node's nodes and units those of a signed directory (``document``, its
    signature checked by the caller): a district never imports units by hand.

    New nodes and units are added, changed ones updated; one the directory no longer lists is
    kept, since accounts and documents refer to it. Returns how many units were added or
    changed.
    """
    for entry in document.get("nodes", []):
        node = await session.get(Node, entry["name"])
        if node is None:
            node = Node(name=entry["name"])
            session.add(node)
        node.host, node.peer_url = entry.get("host", ""), entry.get("peer_url", "")
        node.pull = bool(entry.get("pull", False))
    await session.flush()
    listed = [
        UnitEntry(
            code=entry["code"],
            name=entry["name"],
            kind=entry.get("kind", ""),
            parent=entry.get("parent"),
            node=entry["node"],
            mail_domain=entry["mail_domain"],
        )
        for entry in document.get("units", [])
    ]
    held = {entry.code: entry for entry in await list_units(session)}
    changed = 0
    # Parents first, so the foreign key holds at every write on both databases.
    for entry in _parents_first(listed):
        if held.get(entry.code) == entry:
            continue
        unit = await session.get(Unit, entry.code)
        if unit is None:
            unit = Unit(code=entry.code)
            session.add(unit)
        unit.name, unit.kind, unit.parent_code = entry.name, entry.kind, entry.parent
        unit.node_name, unit.mail_domain = entry.node, entry.mail_domain
        await session.flush()
        changed += 1
    return changed


async def list_units(session: AsyncSession) -> list[UnitEntry]:
    rows = await session.scalars(select(Unit).order_by(Unit.code))
    return [
        UnitEntry(row.code, row.name, row.kind, row.parent_code, row.node_name, row.mail_domain)
        for row in rows
    ]


async def list_nodes(session: AsyncSession) -> list[NodeEntry]:
    rows = await session.scalars(select(Node).order_by(Node.name))
    return [NodeEntry(row.name, row.host, row.peer_url, row.pull) for row in rows]


async def set_pull(session: AsyncSession, node_name: str, pull: bool) -> None:
    """Mark a node as often offline (it fetches from the hub) or reachable (it is sent to)."""
    node = await session.get(Node, node_name)
    if node is None:
        raise NotFound(f"unknown node {node_name}", code="unknown-node")
    node.pull = pull


def canonical_json(document: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes for the same content, everywhere."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


async def build_directory(session: AsyncSession, valid_days: int, hub: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    active = (
        await session.scalars(
            select(Certificate)
            .where(Certificate.status == "active", Certificate.owner_kind != "ca")
            .order_by(Certificate.serial)
        )
    ).all()
    # A district's node and its party committee share a name (HU-CAMLO): key by kind too.
    certificates: dict[tuple[str, str], dict[str, str]] = {}
    for record in active:
        certificates.setdefault((record.owner_kind, record.owner), {})[record.use] = record.pem
    return {
        "version": 1,
        "issued_at": now.isoformat(timespec="seconds"),
        "next_update": (now + timedelta(days=valid_days)).isoformat(timespec="seconds"),
        "hub": hub,
        "nodes": [
            {**asdict(node), "certificates": certificates.get(("node", node.name), {})}
            for node in await list_nodes(session)
        ],
        "units": [
            {**asdict(unit), "certificates": certificates.get(("unit", unit.code), {})}
            for unit in await list_units(session)
        ],
    }


async def publish_directory(
    session: AsyncSession, authority: CertificateAuthority, out: Path, valid_days: int, hub: str
) -> Path:
    """``hub``: the node that publishes (it runs the CA), stores and forwards for the others."""
    document = await build_directory(session, valid_days, hub)
    document["ca"] = pem(authority.certificate).decode("ascii")
    data = canonical_json(document)
    write_atomic(out, data)
    write_atomic(out.with_name(out.name + SIGNATURE_SUFFIX), sign(authority.key, data))
    return out
