"""Checks that need nothing but the node's folder: the passphrase, key file modes, free disk."""

from __future__ import annotations

import shlex
import shutil
import stat
from pathlib import Path

from config.errors import ConfigError, Invalid
from config.settings import SETTINGS_FILE, Settings
from exchange.assembly import SPOOL_DIR
from keys.certificates import node_tls_paths
from keys.keystore import load_private_key, node_passphrase
from office.doctor.findings import Finding, ok, problem, warning

GIB = 1024**3
#: Less free space than this, or than ``PROBLEM_PERCENT``, stops the node soon: a dispatch,
#: an upload or a database write fails half way.
PROBLEM_BYTES = GIB
PROBLEM_PERCENT = 5
WARNING_PERCENT = 15
#: Key files named in one remedy line; more are counted.
NAMED_FILES = 10


def shown(settings: Settings, path: Path) -> str:
    """A path as the operator knows it: relative to the node folder when inside it."""
    try:
        relative = path.relative_to(settings.node_dir)
    except ValueError:
        return str(path)
    return str(relative) if relative.parts else str(path)


def settings_loaded(settings: Settings) -> Finding:
    return ok("settings", f"{settings.node_dir / SETTINGS_FILE} is valid")


def settings_unusable(node_dir: Path, error: ConfigError) -> Finding:
    """The finding for settings that do not load: the node cannot start at all."""
    return problem(
        "settings",
        error.message,
        f"correct {node_dir / SETTINGS_FILE} or the CONGVAN_* variable it names "
        "(docs/settings.md lists every key)",
    )


def check_passphrase(settings: Settings) -> Finding:
    """The passphrase is set and opens the node's own private key."""
    try:
        passphrase = node_passphrase(settings)
    except ConfigError as error:
        return problem(
            "passphrase",
            error.message,
            "set CONGVAN_KEYS_PASSPHRASE, or [keys] passphrase_file naming the file that holds "
            "it (`congvan init` writes one called `secret` in the node folder)",
        )
    _cert_path, key_path = node_tls_paths(settings.pki_dir)
    if not key_path.exists():
        return ok("passphrase", "set (no node key yet to open with it)")
    try:
        load_private_key(key_path, passphrase)
    except Invalid as error:
        return problem(
            "passphrase",
            error.message,
            "give the passphrase this node's keys were issued with (the CA's "
            "--key-passphrase-file), or have the keys issued again for this one",
        )
    return ok("passphrase", f"set, and opens {shown(settings, key_path)}")


def _secret_files(settings: Settings) -> list[Path]:
    """Private keys under ``pki/`` (and the CA's ``ca/``), and the passphrase file."""
    folders = [folder for folder in (settings.pki_dir, settings.ca_dir) if folder.is_dir()]
    found = {path for folder in folders for path in folder.rglob("*.key") if path.is_file()}
    if settings.keys.passphrase_file:
        passphrase_file = settings.path(settings.keys.passphrase_file)
        if passphrase_file.is_file():
            found.add(passphrase_file)
    return sorted(found)


def check_key_files(settings: Settings) -> Finding:
    """Private keys and the passphrase file are readable by their owner only (mode 0600)."""
    files = _secret_files(settings)
    exposed = [
        (path, mode)
        for path in files
        if (mode := stat.S_IMODE(path.stat().st_mode)) & (stat.S_IRWXG | stat.S_IRWXO)
    ]
    if not exposed:
        return ok("key files", f"{len(files)} private key and secret files, owner-only (0600)")
    described = ", ".join(f"{shown(settings, path)} ({mode:04o})" for path, mode in exposed[:3])
    more = f" and {len(exposed) - 3} more" if len(exposed) > 3 else ""
    named = " ".join(shlex.quote(str(path)) for path, _mode in exposed[:NAMED_FILES])
    return problem(
        "key files",
        f"others may read {described}{more}",
        f"chmod 600 {named}" + (" …" if len(exposed) > NAMED_FILES else ""),
    )


def _existing(path: Path) -> Path:
    """``path``, or the nearest folder above it that exists (a spool not made yet)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _watched_folders(settings: Settings) -> list[tuple[str, Path]]:
    folders = [
        ("node folder", settings.node_dir),
        ("blobs", settings.blob_dir),
        ("spool", settings.node_dir / SPOOL_DIR),
    ]
    if settings.smtp.enabled:
        folders.append(("maildir", settings.path(settings.smtp.maildir)))
    return folders


def check_disk(settings: Settings) -> list[Finding]:
    """Free space on each file system the node writes to (one finding per file system)."""
    findings: list[Finding] = []
    seen: dict[int, str] = {}
    for label, folder in _watched_folders(settings):
        path = _existing(folder)
        device = path.stat().st_dev
        if device in seen:
            continue
        seen[device] = label
        usage = shutil.disk_usage(path)
        percent = 100 * usage.free / usage.total if usage.total else 0.0
        message = (
            f"{shown(settings, folder)}: {usage.free / GIB:.1f} GiB free of "
            f"{usage.total / GIB:.1f} GiB ({percent:.0f} %)"
        )
        check = f"disk ({label})"
        remedy = (
            f"free space on the file system of {folder} (old logs, backups), or move "
            "[office] blob_dir to a larger disk"
        )
        if usage.free < PROBLEM_BYTES or percent < PROBLEM_PERCENT:
            findings.append(problem(check, message, remedy))
        elif percent < WARNING_PERCENT:
            findings.append(warning(check, message, remedy))
        else:
            findings.append(ok(check, message))
    return findings
