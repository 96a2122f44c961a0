"""The backup's inner archive: a tar of the node's files and its database snapshot, with a
manifest (the SHA-256 of every file) written last, as the files are read.

The tar is written and read as a stream (``w|``/``r|``): it goes straight into age and comes
straight out of it, so a backup never lies on disk in clear. Reading trusts no name in it: only
plain files and folders under ``node/`` and ``database/`` are written, each inside the staging
folder, and every file's digest must match the manifest before anything is used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from config.errors import Invalid
from config.logging import get_logger

log = get_logger("congvan.office.backup")

FORMAT = "congvan-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
NODE = "node"
DATABASE = "database"
BLOCK = 1024 * 1024
#: The manifest is read into memory: about 200 bytes a file.
MANIFEST_LIMIT = 512 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """What goes into the archive: ``name`` in it, ``path`` on disk."""

    name: str
    path: Path
    is_dir: bool


@dataclass(frozen=True)
class Contents:
    """What a read archive held: its manifest, and what was actually in it."""

    manifest: dict[str, Any]
    #: name -> (size, SHA-256) of every file found.
    found: dict[str, tuple[int, str]]


class _Hashing(io.RawIOBase):
    """A file read through, up to ``size`` bytes, hashing what passes."""

    def __init__(self, source: IO[bytes], size: int) -> None:
        self.source, self.left = source, size
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        wanted = self.left if size < 0 else min(size, self.left)
        data = self.source.read(wanted)
        self.left -= len(data)
        self.digest.update(data)
        return data


def write_archive(
    entries: Iterable[Entry], fields: dict[str, Any], out: IO[bytes]
) -> dict[str, Any]:
    """Write ``entries`` and the manifest (``fields`` plus the file list) as a tar stream.

    A file is taken as long as it was when opened: one that grows meanwhile (a spool upload)
    is cut there; one removed before it is opened is left out. Returns the manifest.
    """
    files: list[dict[str, Any]] = []
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            if entry.is_dir:
                folder = tarfile.TarInfo(entry.name)
                folder.type, folder.mode = tarfile.DIRTYPE, 0o700
                folder.mtime = int(time.time())
                tar.addfile(folder)
                continue
            try:
                reader = entry.path.open("rb")
            except FileNotFoundError:
                log.info("backup.file_gone", name=entry.name)
                continue
            with reader:
                status = os.fstat(reader.fileno())
                info = tarfile.TarInfo(entry.name)
                info.size, info.mode = status.st_size, status.st_mode & 0o777
                info.mtime = int(status.st_mtime)
                hashing = _Hashing(reader, status.st_size)
                tar.addfile(info, hashing)
            files.append(
                {"name": entry.name, "size": info.size, "sha256": hashing.digest.hexdigest()}
            )
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, **fields, "files": files}
        data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return manifest


def read_archive(source: IO[bytes], staging: Path) -> Contents:
    """Unpack a tar stream into ``staging`` (which must exist), file by file, hashing each."""
    manifest: dict[str, Any] | None = None
    found: dict[str, tuple[int, str]] = {}
    with tarfile.open(fileobj=source, mode="r|") as tar:
        for member in tar:
            name = _checked_name(member)
            if name == MANIFEST:
                if manifest is not None or member.size > MANIFEST_LIMIT:
                    raise _damaged("a second or oversized manifest")
                manifest = _manifest(_read_all(tar, member))
            elif member.isdir():
                (staging / name).mkdir(mode=0o700, parents=True, exist_ok=True)
            else:
                if name in found:
                    raise _damaged(f"{name} twice")
                found[name] = _unpack(tar, member, staging / name)
    if manifest is None:
        raise _damaged("no manifest")
    return Contents(manifest, found)


def check_manifest(contents: Contents, settings_names: Collection[str]) -> None:
    """Every file the manifest lists is there with its digest, and nothing else is; and the
    manifest says what the restore needs (``settings_names``: the settings it may drop)."""
    manifest = contents.manifest
    try:
        listed = {item["name"]: (item["size"], item["sha256"]) for item in manifest["files"]}
        database, relocated = manifest["database"], manifest["relocated"]
        described = (
            isinstance(manifest["node"], str)
            and isinstance(manifest["created_at"], str)
            and database["kind"] in {"sqlite", "postgresql"}
            and database["file"] in listed
            and str(database["file"]).startswith(DATABASE + "/")
            and f"{NODE}/node.toml" in listed
            and all(name in settings_names for name in relocated)
        )
    except (KeyError, TypeError) as error:
        raise _damaged("the manifest lacks a field") from error
    if not described:
        raise _damaged("the manifest does not describe a node")
    for name, expected in listed.items():
        got = contents.found.get(name)
        if got is None:
            raise _damaged(f"{name} is missing")
        if got != expected:
            raise _damaged(f"{name} does not match its SHA-256 in the manifest")
    extra = sorted(set(contents.found) - set(listed))
    if extra:
        raise _damaged(f"{extra[0]} is not in the manifest")


def _checked_name(member: tarfile.TarInfo) -> str:
    path = PurePosixPath(member.name)
    if (
        path.is_absolute()
        or not path.parts
        or any(part in {"", ".", ".."} for part in path.parts)
        or (path.parts[0] not in {NODE, DATABASE} and member.name != MANIFEST)
        or not (member.isfile() or member.isdir())
    ):
        raise _damaged(f"unexpected member {member.name!r}")
    return str(path)


def _read_all(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    reader = tar.extractfile(member)
    if reader is None:
        raise _damaged(f"unreadable member {member.name!r}")
    return reader.read()


def _manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except ValueError as error:
        raise _damaged("the manifest is not JSON") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged("not a congvan backup manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise Invalid(
            f"backup format version {manifest.get('version')!r}: this congvan reads version "
            f"{FORMAT_VERSION}",
            code="backup-version",
        )
    return manifest


def _unpack(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> tuple[int, str]:
    reader = tar.extractfile(member)
    if reader is None:
        raise _damaged(f"unreadable member {member.name!r}")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, member.mode & 0o700)
    with os.fdopen(descriptor, "wb") as writer:
        while block := reader.read(BLOCK):
            digest.update(block)
            size += len(block)
            writer.write(block)
    target.chmod(member.mode & 0o777)
    return size, digest.hexdigest()


def _damaged(what: str) -> Invalid:
    return Invalid(f"the backup is damaged or was altered: {what}", code="damaged-backup")
