"""Which files of a node go into its backup.

The node directory, less what must not or need not travel: the passphrase file (a backup opens
only with the passphrase, so it never holds it), the live database files (the backup holds a
snapshot instead), the log, and half-written blobs. A location the settings keep outside the
node directory (blobs on another disk, a CRL shared with the hub) comes along under its default
name inside the directory; the restore drops that setting, so the restored node finds it there.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from config.errors import Conflict
from config.settings import SECTIONS, Settings
from keys.directory import SIGNATURE_SUFFIX

#: Settings that name a place whose files a node needs: (section, key, sibling suffixes).
LOCATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("office", "blob_dir", ()),
    ("keys", "pki_dir", ()),
    ("keys", "ca_dir", ()),
    ("keys", "crl_file", ()),
    ("keys", "directory_file", (SIGNATURE_SUFFIX,)),
    ("smtp", "maildir", ()),
)

#: Half-written blobs: never referenced by a row (see config.blobs).
BLOB_STAGING = "staging"


@dataclass(frozen=True)
class Member:
    """A file or folder of the node directory: ``name`` inside it, ``path`` where it is now."""

    name: str
    path: Path
    is_dir: bool


@dataclass(frozen=True)
class NodeContents:
    members: list[Member]
    #: Settings (``section.key``) whose place outside the node directory was taken in under the
    #: setting's default name: the restore removes them from ``node.toml``.
    relocated: list[str]


def normal(path: Path) -> Path:
    """``path`` with ``..`` and ``.`` folded, without touching the disk."""
    return Path(os.path.normpath(path))


def passphrase_files(settings: Settings) -> list[Path]:
    """Where this node's passphrase may be: never in a backup."""
    found = [settings.node_dir / "secret"]
    if settings.keys.passphrase_file:
        found.append(settings.path(settings.keys.passphrase_file))
    return [normal(path) for path in found]


def node_contents(settings: Settings, leave_out: Collection[Path]) -> NodeContents:
    """The members of a backup of ``settings``' node, less ``leave_out`` (and its secrets)."""
    root = normal(settings.node_dir)
    skipped = {normal(path) for path in leave_out}
    skipped.update(passphrase_files(settings))
    skipped.add(normal(settings.blob_dir / BLOB_STAGING))
    if settings.log.file:
        skipped.add(normal(settings.path(settings.log.file)))
    members = list(_walk(root, "", skipped))
    taken = {member.name for member in members}
    relocated: list[str] = []
    for section, key, siblings in LOCATIONS:
        place = normal(settings.path(getattr(getattr(settings, section), key)))
        if place.is_relative_to(root) or not place.exists():
            continue
        default = _default(section, key)
        if default in taken or (root / default).exists():
            raise Conflict(
                f"cannot back up [{section}] {key} = {place}: it is outside the node directory "
                f"and the node directory also has {default}"
            )
        if place.is_dir():
            members.append(Member(default, place, is_dir=True))
            members.extend(_walk(place, default + "/", skipped))
        else:
            members.append(Member(default, place, is_dir=False))
            for suffix in siblings:
                sibling = place.with_name(place.name + suffix)
                if sibling.is_file():
                    members.append(Member(default + suffix, sibling, is_dir=False))
        taken.update(member.name for member in members)
        relocated.append(f"{section}.{key}")
    return NodeContents(members, relocated)


def _default(section: str, key: str) -> str:
    spec = next(spec for spec in dataclasses.fields(SECTIONS[section]) if spec.name == key)
    return str(spec.default)


def _walk(folder: Path, prefix: str, skipped: set[Path]) -> Iterator[Member]:
    """Files and folders under ``folder``, following symbolic links (blobs on another disk are
    often linked in) but entering each real folder once."""
    seen: set[tuple[int, int]] = set()

    def visit(current: Path, prefix: str) -> Iterator[Member]:
        status = current.stat()
        if (status.st_dev, status.st_ino) in seen:
            return
        seen.add((status.st_dev, status.st_ino))
        for entry in sorted(os.scandir(current), key=lambda entry: entry.name):
            path = current / entry.name
            if path in skipped:
                continue
            name = prefix + entry.name
            if entry.is_dir():
                yield Member(name, path, is_dir=True)
                yield from visit(path, name + "/")
            elif entry.is_file():
                yield Member(name, path, is_dir=False)

    yield from visit(folder, prefix)
