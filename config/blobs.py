"""Document files, mail bodies and envelopes, each stored once under its SHA-256.

Content addressing makes storing idempotent: a handler that runs again after a crash, two
documents with the same scan, or two node processes storing the same file at once, write the
same blob. The database row that names a blob is written after the blob; an orphaned blob
costs disk, never a document.

Callers depend on :class:`BlobStorage`; :class:`BlobStore`, on a directory that every process
of the node shares, is the one the node builds.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from config.errors import Invalid
from config.files import refused_when_full

BLOCK = 1024 * 1024
#: A blob's name: its SHA-256 in lower-case hex (checked by one C scan, not a Python step a
#: character: a blob's path is asked for several times for every message accepted).
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


@dataclass(frozen=True)
class StagedBlob:
    """An upload written whole (and flushed to disk) under ``root / "staging"``, not yet a
    blob: its caller checks ``path``, then keeps it (:meth:`BlobStorage.keep`) or lets it go
    (:meth:`BlobStorage.discard`), so a refused upload leaves nothing behind."""

    path: Path
    sha256: str
    size: int


def _sync(writer: IO[bytes]) -> None:
    writer.flush()
    os.fsync(writer.fileno())


class UploadTooLarge(Invalid):
    """An upload passed the limit: refused before the rest of it is read."""

    http_status = 413


class BlobStorage(Protocol):
    """What the office and the mail gateway use of a blob store.

    An implementation on an object store (S3 and the like) must keep the same guarantees as
    the file-system one, on which several node processes, on one machine or several, rely:

    - **Content-addressed**: a blob's name is the SHA-256 (lowercase hex) of its bytes; storing
      the same bytes again, from any process, answers the same :class:`StoredBlob` and changes
      nothing. Blobs are never overwritten nor changed in place.
    - **Atomic put**: a blob is visible under its name whole or not at all, once the ``put_*``
      call returns (staged under another name and moved, or a single-part upload checked
      against its digest): a process that dies mid-put leaves at most an orphan in staging.
    - **Streaming**: nothing holds a whole blob in memory; ``stage_stream`` refuses an upload
      past its limit before reading the rest of it; ``path`` gives a local file that callers
      read block by block. An object store downloads the blob into a local read cache under
      ``root`` (streamed, checked against its name) and answers the cached file.
    - **Staged uploads**: ``stage_stream`` writes an upload to a local file that is not a
      blob yet; ``keep`` makes it one (quick: the caller may be in a transaction), and
      ``discard`` removes it, so an upload its form refuses leaves nothing behind.

    ``put_file`` and ``put_bytes`` block: callers run them in an executor.
    """

    @property
    def root(self) -> Path:
        """A local directory of this store: scratch files beside it (``root / "staging"``),
        never in ``/tmp``, since they may be secret documents."""
        ...

    def path(self, sha256: str) -> Path:
        """The blob as a local file, to read (never to write); :class:`ValueError` for a
        name that is not a SHA-256."""
        ...

    def put_file(self, source: Path, sha256: str | None = None) -> StoredBlob: ...

    def put_bytes(self, content: bytes) -> StoredBlob: ...

    async def stage_stream(self, chunks: AsyncIterator[bytes], limit: int) -> StagedBlob: ...

    def keep(self, staged: StagedBlob) -> StoredBlob: ...

    def discard(self, staged: StagedBlob) -> None: ...


class BlobStore:
    """Blobs as files under ``root``, fanned out by the digest's first two bytes. A file is
    written to a temporary name in ``root/staging``, fsynced, and renamed into place, so a
    crash never leaves half a file under a real name, and two processes storing the same
    blob both end with the one file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if SHA256_HEX.fullmatch(sha256) is None:
            raise ValueError("not a SHA-256 in hex")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _staging(self) -> tempfile._TemporaryFileWrapper[bytes]:
        staging = self.root / "staging"
        staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        return tempfile.NamedTemporaryFile(dir=staging, delete=False)

    def _settle(self, temporary: Path, digest: str) -> Path:
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if target.exists():
            temporary.unlink(missing_ok=True)
        else:
            temporary.chmod(0o600)
            temporary.replace(target)
        return target

    @contextmanager
    def _put(self) -> Iterator[tempfile._TemporaryFileWrapper[bytes]]:
        """A staging file for a put, removed if the put fails: a failed put (a full disk is
        :class:`~config.errors.DiskFull`) leaves nothing behind in staging."""
        with refused_when_full():
            writer = self._staging()
            try:
                with writer:
                    yield writer
            except BaseException:
                Path(writer.name).unlink(missing_ok=True)
                raise

    def put_file(self, source: Path, sha256: str | None = None) -> StoredBlob:
        """Copy ``source`` in (blocking: run it in an executor for big files).

        ``sha256``: the file's digest, already checked by the caller (a received dispatch's
        file, hashed as it was written and checked against the signed manifest), for a file
        that stays as it is: then it is linked in rather than read, hashed and copied again
        (a 1 GiB scan: two passes and a second gigabyte on disk). The caller has synced it.
        Across file systems it is copied.
        """
        if sha256 is not None:
            stored = self._link(source, sha256)
            if stored is not None:
                return stored
        digest, size = hashlib.sha256(), 0
        with source.open("rb") as reader, self._put() as writer:
            while block := reader.read(BLOCK):
                digest.update(block)
                size += len(block)
                writer.write(block)
            _sync(writer)
            self._settle(Path(writer.name), digest.hexdigest())
        return StoredBlob(digest.hexdigest(), size)

    def _link(self, source: Path, sha256: str) -> StoredBlob | None:
        """``source`` linked in under ``sha256``; None when it cannot be (another file system)."""
        target = self.path(sha256)
        size = source.stat().st_size
        if target.exists():
            return StoredBlob(sha256, size)
        staging = self.root / "staging"
        with refused_when_full():
            staging.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = staging / f"{sha256}.{os.getpid()}.{uuid.uuid4().hex}.link"
            try:
                os.link(source, temporary)
            except OSError as error:
                if error.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                    return None
                raise
            try:
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                temporary.chmod(0o600)
                temporary.replace(target)
            finally:
                temporary.unlink(missing_ok=True)
        return StoredBlob(sha256, size)

    def put_bytes(self, content: bytes) -> StoredBlob:
        """Store ``content`` (blocking: run it in an executor when it may be big)."""
        digest = hashlib.sha256(content).hexdigest()
        with self._put() as writer:
            writer.write(content)
            _sync(writer)
            self._settle(Path(writer.name), digest)
        return StoredBlob(digest, len(content))

    async def stage_stream(self, chunks: AsyncIterator[bytes], limit: int) -> StagedBlob:
        """Write an upload to staging as it arrives; refuse it the moment it passes ``limit``
        bytes, leaving nothing behind."""
        digest, size = hashlib.sha256(), 0
        with self._put() as writer:
            async for block in chunks:
                size += len(block)
                if size > limit:
                    raise UploadTooLarge(
                        f"tệp lớn quá giới hạn {limit:,} byte".replace(",", "."),
                        code="too-large",
                    )
                digest.update(block)
                writer.write(block)  # into the page cache: quick
            # The flush to disk is what takes time (a big file, a slow disk): not on the loop.
            await asyncio.get_running_loop().run_in_executor(None, _sync, writer)
        return StagedBlob(Path(writer.name), digest.hexdigest(), size)

    def keep(self, staged: StagedBlob) -> StoredBlob:
        """Make a staged upload a blob: a rename, already on disk."""
        with refused_when_full():
            self._settle(staged.path, staged.sha256)
        return StoredBlob(staged.sha256, staged.size)

    def discard(self, staged: StagedBlob) -> None:
        """Remove a staged upload (nothing happens to one already kept)."""
        staged.path.unlink(missing_ok=True)

    def copy_out(self, sha256: str, target: Path) -> None:
        shutil.copyfile(self.path(sha256), target)
