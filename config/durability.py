"""Promises follow commits that are on disk: a group-committed sync of the database.

A signed "accepted" receipt, an SMTP 250 or a status answered to a peer is a promise: the other
party stops retrying. SQLite runs in WAL mode with ``synchronous=NORMAL``, so a commit is in the
WAL in the page cache, not on disk, until a checkpoint; a power cut can take it away after the
promise was made. ``synchronous=FULL`` would sync every commit, a session's last-seen time as
much as a receipt. Instead a promise waits for :meth:`DurableCommits.sync`, which ``fsync``\\ s
the WAL file once for every promise waiting at that moment (group commit, as Postfix and
PostgreSQL do it): a frame SQLite has written is on disk when the sync returns, and frames a
checkpoint already moved into the database file were synced by the checkpoint itself.

PostgreSQL needs nothing here: with ``synchronous_commit = on`` (its default, never changed by
congvan) COMMIT returns only once the commit record is flushed.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from pathlib import Path

from sqlalchemy.engine import make_url

from config.database import database_url
from config.files import sync_folder
from config.settings import Settings


class DurableCommits:
    """Wait until everything committed before the call is on disk; one fsync serves all the
    callers that arrive while the previous one runs."""

    def __init__(self, wal_file: Path | None) -> None:
        #: None: the database makes each commit durable itself (PostgreSQL).
        self.wal_file = wal_file
        self._started = 0
        self._finished = 0
        self._running: asyncio.Future[None] | None = None
        #: The WAL file whose name was synced last (:meth:`_sync_wal`).
        self._held: _Held | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> DurableCommits:
        """The node's database: its WAL file on SQLite, nothing to do on PostgreSQL."""
        url = make_url(database_url(settings))
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return cls(None)
        return cls(Path(f"{url.database}-wal"))

    async def sync(self) -> None:
        """Return once every commit made before this call is on disk."""
        if self.wal_file is None:
            return
        # A sync that starts after this moment covers our commit; one already running may not.
        needed = self._started + 1
        while self._finished < needed:
            if self._running is None:
                self._started += 1
                self._running = asyncio.ensure_future(self._run_sync())
            await asyncio.shield(self._running)

    async def _run_sync(self) -> None:
        """One fsync in a thread, counted as finished before the task itself is done. Counted
        in a done callback instead, it left a window (the task done, its callbacks not run yet)
        in which a caller found the finished task still ``_running``: awaiting a done task does
        not yield, so that caller spun in this loop for good and held the node's event loop
        (the fault campaign's nodes stopped answering and ignored SIGTERM)."""
        try:
            await asyncio.to_thread(self._sync_wal)
        finally:
            self._finished += 1
            self._running = None

    def _sync_wal(self) -> None:
        """fsync the WAL, and its folder when the file is new to this process, so the file
        itself survives. Its name needs syncing once per file, not per commit (a second fsync
        on every promise, as long as the first under a loaded disk): the file synced last is
        held open, so while it is, no other file can have its inode, and a WAL found with that
        inode is that file, its name already on disk."""
        assert self.wal_file is not None
        try:
            descriptor = os.open(self.wal_file, os.O_RDONLY)
        except FileNotFoundError:
            # No WAL: the last connection checkpointed and removed it, syncing the database.
            return
        try:
            os.fsync(descriptor)
            if self._held is not None and _same_file(descriptor, self._held.descriptor):
                return
            sync_folder(self.wal_file.parent)
            if self._held is not None:
                self._held.close()
            self._held, descriptor = _Held(descriptor), -1
        finally:
            if descriptor >= 0:
                os.close(descriptor)


def _same_file(one: int, other: int) -> bool:
    first, second = os.fstat(one), os.fstat(other)
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


class _Held:
    """A descriptor kept open, closed when closed or forgotten."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self._finalizer = weakref.finalize(self, os.close, descriptor)

    def close(self) -> None:
        self._finalizer()
