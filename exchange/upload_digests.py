"""The SHA-256 of a payload being uploaded, taken as its bytes are written to the spool.

The check of a big dispatch used to read its ciphertext back from the spool and hash it while
decrypting it: of a 1 GiB dispatch's 2.8 s of checking, some 0.7 s was that hash, after the
upload and before the receipt. The upload's writing thread hashes each chunk as it writes it
instead, while the event loop reads the next from the network; the check then only compares.

A digest is kept in memory, by the process that took the upload, only while it is known to
cover the file's every byte in order: each chunk is hashed after it is written, a resumed
upload continues a digest only when it starts where that digest stops, and the check uses it
only for the same file (device and inode) at exactly the size the digest covers. Anything else
(an upload taken by another process, a restart, a failed write, a digest pushed out by newer
ones) leaves no digest, and the check hashes the file as it reads it, as before.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, BinaryIO

#: Uploads whose digests are kept at once: a node takes a few big uploads at a time, and a
#: digest pushed out only costs its dispatch's check a pass over the file.
KEPT = 64


@dataclass
class RunningDigest:
    """SHA-256 of a payload file's first ``position`` bytes, for the file ``identity`` names."""

    identity: tuple[int, int]
    position: int = 0
    sha256: Any = field(default_factory=hashlib.sha256)

    def written(self, chunk: bytes) -> None:
        """``chunk`` was written at ``position`` (call it only after the write succeeded)."""
        self.sha256.update(chunk)
        self.position += len(chunk)


def _identity(handle: BinaryIO) -> tuple[int, int]:
    status = os.fstat(handle.fileno())
    return status.st_dev, status.st_ino


class UploadDigests:
    """The running digests of this process's uploads, by dispatch id (the newest ``KEPT``)."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._digests: OrderedDict[str, RunningDigest] = OrderedDict()

    def resume(self, dispatch_id: str, handle: BinaryIO, offset: int) -> RunningDigest | None:
        """The digest to carry on from ``offset`` in the file ``handle`` holds (locked by the
        caller): a new one at 0, the one kept if it stops exactly there, else None."""
        kept = self._digests.pop(dispatch_id, None)
        identity = _identity(handle)
        if offset == 0:
            return RunningDigest(identity)
        if kept is not None and kept.identity == identity and kept.position == offset:
            return kept
        return None

    def keep(self, dispatch_id: str, digest: RunningDigest | None, handle: BinaryIO) -> None:
        """After an upload, whole or cut: kept only if it covers every byte the file holds."""
        if digest is None or digest.position != os.fstat(handle.fileno()).st_size:
            return
        self._digests[dispatch_id] = digest
        while len(self._digests) > self._kept:
            self._digests.popitem(last=False)

    def take(self, dispatch_id: str, handle: BinaryIO) -> str | None:
        """The SHA-256 (hex) of the whole file ``handle`` holds, if this process took all of it
        as it was written; None otherwise. Forgotten either way: a check uses it once."""
        kept = self._digests.pop(dispatch_id, None)
        if kept is None or kept.identity != _identity(handle):
            return None
        if kept.position != os.fstat(handle.fileno()).st_size:
            return None
        return str(kept.sha256.hexdigest())
