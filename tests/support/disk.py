"""A small disk of a node's own: a size-limited tmpfs holding its spool, blobs and Maildirs,
that a test fills to its last bytes with a ballast file for a while, as a disk that runs full.

The database stays on the real disk: this is the node's files running out of room, the case a
node must answer with "not now" and recover from by itself once space comes back. Mounting
needs root (``mount -t tmpfs``); :func:`can_mount` says whether this process may.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The node folders that move onto the small disk (the spool is fixed at ``<node>/spool``; the
#: blob store and the Maildirs are the default ``[office] blob_dir`` and ``[smtp] maildir``).
DATA_FOLDERS = ("spool", "blobs", "maildir")
BALLAST = "ballast"
#: The ballast grows until less than this (a page) is left above what it leaves free.
FILL_STEP = 4096
FILL_ATTEMPTS = 20


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


class SmallDisk:
    """A tmpfs of ``size_mib`` mounted at ``mount_point``."""

    def __init__(self, mount_point: Path, size_mib: int) -> None:
        self.mount_point = mount_point
        self.size_mib = size_mib

    @property
    def ballast(self) -> Path:
        return self.mount_point / BALLAST

    def free_bytes(self) -> int:
        stat = os.statvfs(self.mount_point)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave_bytes: int) -> int:
        """Take all but about ``leave_bytes`` of what is free with the ballast; its size. The
        node writes meanwhile: what it took between a look and the allocation is looked at
        again."""
        with self.ballast.open("ab") as ballast:
            for _ in range(FILL_ATTEMPTS):
                room = self.free_bytes() - leave_bytes
                if room < FILL_STEP:
                    break
                held = os.fstat(ballast.fileno()).st_size
                try:
                    os.posix_fallocate(ballast.fileno(), held, room)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
            return os.fstat(ballast.fileno()).st_size

    def empty(self) -> None:
        """Give the ballast's room back."""
        self.ballast.unlink(missing_ok=True)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@contextmanager
def small_disk(mount_point: Path, size_mib: int) -> Iterator[SmallDisk]:
    """A tmpfs of ``size_mib`` at ``mount_point``, unmounted at the end whatever happened."""
    mount_point.mkdir(parents=True, exist_ok=True)
    options = f"size={size_mib}m,mode=0700"
    mounted = _run("mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point))
    if mounted.returncode != 0:
        raise RuntimeError(f"cannot mount a tmpfs at {mount_point}: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(mount_point, size_mib)
    finally:
        if _run("umount", str(mount_point)).returncode != 0:
            _run("umount", "-l", str(mount_point))  # a process still holds a file there


@contextmanager
def node_on_small_disk(node_dir: Path, mount_point: Path, size_mib: int) -> Iterator[SmallDisk]:
    """The node's data folders on a small disk, linked from the node folder (their content,
    if any, moves along)."""
    with small_disk(mount_point, size_mib) as disk:
        for name in DATA_FOLDERS:
            folder, moved = node_dir / name, mount_point / name
            if folder.is_dir() and not folder.is_symlink():
                shutil.copytree(folder, moved)
                shutil.rmtree(folder)
            moved.mkdir(mode=0o700, exist_ok=True)
            folder.symlink_to(moved)
        yield disk
