"""Atomic file writes: a crash never leaves a half-written key, certificate or setting; a
full disk is a refusal to come back later, not a failure."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from config.errors import DiskFull

#: A write failed for want of room: the disk is full, or the node's quota is used up.
OUT_OF_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def out_of_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in OUT_OF_SPACE


@contextlib.contextmanager
def refused_when_full() -> Iterator[None]:
    """Around writes a node makes for a request (a dispatch, a mail, an upload): a full disk
    is answered :class:`DiskFull` (``disk-full``, 503 with Retry-After, SMTP 452), which the
    other side tries again later, instead of an error of ours."""
    try:
        yield
    except OSError as error:
        if out_of_space(error):
            raise DiskFull("ổ đĩa của nút đã đầy; xin gửi lại sau") from error
        raise


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The temporary file is created with ``mode`` from the start, so a private key is never
    readable by others, not even for a moment.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    sync_folder(path.parent)


def sync_file(path: Path) -> None:
    """fsync a file's content (blocking: a big file's data goes to the disk here)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the names created or renamed in it survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_secret(path: Path, data: bytes) -> None:
    """Write a file only its owner may read (mode 0600)."""
    write_atomic(path, data, mode=0o600)
