"""``congvan restore``: a backup back into a new node directory (and database).

Nothing is used before the whole archive has been decrypted (every age chunk authenticated) and
every file matches the manifest: it is unpacked into a staging folder inside the new
directory, and only then moved into place. A refused backup leaves the directory as it was
(absent or empty); a failed PostgreSQL load leaves the database empty (one transaction).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from config.errors import Conflict, Invalid
from config.files import write_atomic, write_secret
from config.logging import get_logger
from config.settings import SETTINGS_FILE, Settings, parse_settings, render_settings
from office.backup.archive import NODE, Contents, check_manifest, read_archive
from office.backup.contents import LOCATIONS
from office.backup.database_snapshot import (
    POSTGRESQL,
    SQLITE,
    database_kind,
    restore_postgresql,
    restore_sqlite,
)
from office.backup.sealed import unseal
from office.node.setup import PASSPHRASE_FILE

log = get_logger("congvan.office.backup")


@dataclass(frozen=True)
class RestorePlan:
    source: Path
    node_dir: Path
    passphrase: bytes
    #: Where the database goes; None: SQLite in the node directory, or the PostgreSQL URL the
    #: backup's settings name (which must then be an empty database).
    database_url: str | None = None
    #: Written into the new node directory as its passphrase file when given.
    secret: bytes | None = None
    #: Section ("web", "peer", "smtp", "admin") -> the port the copy listens on instead.
    ports: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RestoreSummary:
    node: str
    node_dir: Path
    database: str
    files: int
    created_at: str
    #: The passphrase file written, if any.
    secret_file: Path | None
    #: Section -> the port the restored node listens on.
    ports: dict[str, int]


async def restore_backup(plan: RestorePlan) -> RestoreSummary:
    target = plan.node_dir.absolute()
    created = _claim(target)
    staging = Path(tempfile.mkdtemp(prefix=".restoring-", dir=target))
    try:
        read = partial(read_archive, staging=staging)
        contents: Contents = await asyncio.to_thread(unseal, plan.source, plan.passphrase, read)
        check_manifest(contents, [f"{section}.{key}" for section, key, _ in LOCATIONS])
        summary = await _put_in_place(plan, target, staging, contents.manifest)
    except BaseException:
        await asyncio.to_thread(_undo, target, created)
        raise
    await asyncio.to_thread(shutil.rmtree, staging)
    log.info("backup.restored", node=summary.node, database=summary.database, files=summary.files)
    return summary


def _claim(target: Path) -> bool:
    """Refuse a directory that holds anything; create it if absent (True when created)."""
    if target.exists():
        if not target.is_dir() or any(target.iterdir()):
            raise Conflict(
                f"{target} is not empty: restore into a new or empty folder", code="not-empty"
            )
        return False
    target.mkdir(mode=0o700, parents=True)
    return True


def _undo(target: Path, created: bool) -> None:
    """Leave ``target`` as it was: absent, or empty (it was checked empty before)."""
    if created:
        shutil.rmtree(target, ignore_errors=True)
        return
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


async def _put_in_place(
    plan: RestorePlan, target: Path, staging: Path, manifest: dict[str, Any]
) -> RestoreSummary:
    files = staging / NODE
    settings_path = files / SETTINGS_FILE
    try:
        document = tomllib.loads(settings_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise Invalid(f"the backup's {SETTINGS_FILE} cannot be read: {error}") from error
    for key in manifest.get("relocated", []):
        section, name = key.split(".", 1)
        document.get(section, {}).pop(name, None)
    kind = manifest["database"]["kind"]
    url = _database_url(kind, plan.database_url, document)
    secret_file = _place_secret(plan.secret, files, document) if plan.secret else None
    for section, port in plan.ports.items():
        document.setdefault(section, {})["port"] = port
    document = {section: body for section, body in document.items() if body}
    # The settings the node will start with are valid (a port out of range, say).
    restored = parse_settings(document, target, {})
    write_atomic(settings_path, render_settings(document).encode("utf-8"), mode=0o600)
    snapshot = staging / manifest["database"]["file"]
    if kind == SQLITE:
        database = Path(url.split(":///", 1)[1]) if url else files / "congvan.db"
        await restore_sqlite(snapshot, database)
    else:
        await restore_postgresql(snapshot, url)
    for child in sorted(files.iterdir()):
        child.replace(target / child.name)
    return RestoreSummary(
        node=str(manifest["node"]),
        node_dir=target,
        database=kind,
        files=len(manifest["files"]),
        created_at=str(manifest["created_at"]),
        secret_file=target / secret_file.relative_to(files) if secret_file else None,
        ports=_listening(restored),
    )


def _listening(settings: Settings) -> dict[str, int]:
    """The ports the restored node will listen on, for the operator to check."""
    ports = {"web": settings.web.port, "peer": settings.peer.port}
    if settings.smtp.enabled:
        ports["smtp"] = settings.smtp.port
    if settings.admin.enabled:
        ports["admin"] = settings.admin.port
    return ports


def _database_url(kind: str, given: str | None, document: dict[str, Any]) -> str:
    """The database to restore into, written into the settings; "" for SQLite in the node
    directory."""
    section = document.setdefault("database", {})
    if kind == SQLITE:
        if given and database_kind(given) != SQLITE:
            raise Invalid(
                "this backup holds a SQLite database: it restores into SQLite "
                "(leave out --database-url, or give sqlite:///…)",
                code="wrong-database",
            )
        section.pop("url", None)
        if given:
            section["url"] = given
        return given or ""
    url = given or str(section.get("url", ""))
    if database_kind(url) != POSTGRESQL:
        raise Invalid(
            "this backup holds a PostgreSQL database: give an empty one with "
            "--database-url postgresql://…",
            code="wrong-database",
        )
    section["url"] = url
    return url


def _place_secret(secret: bytes, files: Path, document: dict[str, Any]) -> Path:
    """Write the passphrase where the settings look for it (``secret`` unless they name a
    file inside the node directory)."""
    keys = document.setdefault("keys", {})
    named = str(keys.get("passphrase_file", ""))
    inside = named and not Path(named).is_absolute() and ".." not in Path(named).parts
    if not inside:
        named = PASSPHRASE_FILE
        keys["passphrase_file"] = named
    path = files / named
    write_secret(path, secret)
    return path
