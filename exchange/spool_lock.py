"""Exclusive, non-blocking locks on a received dispatch's payload file in the spool.

Several node processes share one spool. An upload, a commit, the start-up recovery and the
expiry sweep each hold the lock on the dispatch's payload file while they write it or change
the dispatch's state, so the first to come works and the others are told ``busy`` (the sweep
skips the dispatch). ``flock`` locks belong to an open file: two processes, or two requests in
one process, exclude each other, and the kernel drops the locks of a process that dies.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from config.errors import Conflict, PeerRefused
from config.files import refused_when_full, sync_folder
from exchange.upload_digests import RunningDigest


def busy() -> Conflict:
    """Another connection or process holds the lock: the sender asks again a little later."""
    return Conflict("công văn đang được nhận hoặc kiểm tra ở một kết nối khác", code="busy")


def try_lock(*candidates: Path) -> BinaryIO | None:
    """The first of ``candidates`` that exists, opened for update under an exclusive lock;
    ``None`` if another holds that lock; :class:`FileNotFoundError` if none exists.

    The previous holder may have renamed or removed the file before letting go: then the lock
    is on a file no longer at that path, and the candidates are looked up again.
    """
    while True:
        handle = _open_first(candidates)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        except BaseException:
            handle.close()
            raise
        if _still_at(handle):
            return handle
        handle.close()


def write_at(handle: BinaryIO, data: bytes, offset: int) -> None:
    """Write all of ``data`` at ``offset``, whatever the file position."""
    view = memoryview(data)
    while view:
        written = os.pwrite(handle.fileno(), view, offset)
        view, offset = view[written:], offset + written


def keep(handle: BinaryIO, part: Path, final: Path) -> None:
    """The checked payload under its final name, on disk before anyone is told it is kept:
    an accepted receipt or a relay's "held" ends the sender's retries. Blocking (the fsync
    of a large payload takes time): run it in an executor."""
    with refused_when_full():
        os.fsync(handle.fileno())
    part.replace(final)
    sync_folder(final.parent)


def size_of(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size


def held_bytes(path: Path) -> int:
    """How many bytes of a payload are held, for an answer that need not take the lock."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


async def write_from(
    handle: BinaryIO,
    offset: int,
    limit: int,
    chunks: AsyncIterator[bytes],
    digest: RunningDigest | None = None,
) -> int:
    """Write ``chunks`` from ``offset`` on, in a thread (disk writes block); the answer is
    how many bytes are now held. Past ``limit`` (the size the signed header declares) nothing
    more is written and the upload is refused ``too-large``; on a full disk it stops
    ``disk-full``, and the sender resumes from what the file holds. ``digest``, if given,
    hashes each chunk in that thread once it is written."""
    loop = asyncio.get_running_loop()
    held = offset
    async for chunk in chunks:
        if held + len(chunk) > limit:
            raise PeerRefused("nhiều byte hơn tiêu đề khai báo", code="too-large")
        with refused_when_full():
            await loop.run_in_executor(None, _write_and_hash, handle, chunk, held, digest)
        held += len(chunk)
    return held


def _write_and_hash(
    handle: BinaryIO, data: bytes, offset: int, digest: RunningDigest | None
) -> None:
    write_at(handle, data, offset)
    if digest is not None:
        digest.written(data)


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    """``data`` as the chunks :func:`write_from` takes: a payload that came whole in a request."""
    yield data


def _open_first(candidates: tuple[Path, ...]) -> BinaryIO:
    for path in candidates:
        try:
            return path.open("r+b")
        except FileNotFoundError:
            continue
    raise FileNotFoundError(str(candidates[0]))


def _still_at(handle: BinaryIO) -> bool:
    try:
        named = Path(handle.name).stat()
    except FileNotFoundError:
        return False
    held = os.fstat(handle.fileno())
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)
