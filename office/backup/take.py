"""``congvan backup``: a snapshot of a running node in one encrypted file.

Order makes it consistent without stopping the node: the database is copied first (in one
transaction), then the files. Blobs are immutable and named by their SHA-256, so every blob a
row of the snapshot names is already on disk when they are copied; a blob stored since is only
extra. The passphrase is never in the file: the backup opens only with it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path

from config.errors import Conflict, Invalid
from config.logging import get_logger
from config.settings import Settings
from keys.keystore import node_passphrase
from office.backup.archive import DATABASE, NODE, Entry, write_archive
from office.backup.contents import node_contents
from office.backup.database_snapshot import snapshot_database
from office.backup.sealed import seal

log = get_logger("congvan.office.backup")


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    node: str
    database: str
    files: int
    #: The files' size before encryption, and the backup file's size.
    content_bytes: int
    size: int
    seconds: float


async def take_backup(settings: Settings, out: Path) -> BackupSummary:
    passphrase = node_passphrase(settings)
    out = out.absolute()
    if out.exists():
        raise Conflict(f"{out} exists: choose a new file name", code="backup-exists")
    if not out.parent.is_dir():
        raise Invalid(f"no folder {out.parent} for the backup", code="no-folder")
    started = time.monotonic()
    # The snapshot lies in clear for a moment: inside the node directory, as private as the
    # database it copies.
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=settings.node_dir))
    partial_out = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        snapshot = await snapshot_database(settings, work)
        contents = node_contents(settings, [work, partial_out, out, *snapshot.live_files])
        entries = [Entry(f"{NODE}/{m.name}", m.path, m.is_dir) for m in contents.members]
        entries.append(Entry(f"{DATABASE}/{snapshot.path.name}", snapshot.path, is_dir=False))
        fields = {
            "node": settings.node.name,
            "units": list(settings.node.units),
            "hub": settings.node.hub,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "congvan_version": version("congvan"),
            "database": {"kind": snapshot.kind, "file": entries[-1].name},
            "relocated": contents.relocated,
        }
        write = partial(write_archive, entries, fields)
        manifest = await asyncio.to_thread(seal, partial_out, passphrase, write)
        partial_out.replace(out)
    except BaseException:
        partial_out.unlink(missing_ok=True)
        raise
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    files = manifest["files"]
    summary = BackupSummary(
        path=out,
        node=settings.node.name,
        database=snapshot.kind,
        files=len(files),
        content_bytes=sum(item["size"] for item in files),
        size=out.stat().st_size,
        seconds=time.monotonic() - started,
    )
    log.info(
        "backup.written",
        node=summary.node,
        database=summary.database,
        files=summary.files,
        bytes=summary.size,
    )
    return summary
