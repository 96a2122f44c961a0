"""SQLite through aiosqlite with one trip to the connection's thread per statement.

aiosqlite runs every call on a sqlite3 connection in a thread of its own, and SQLAlchemy's
adapter makes four calls of a statement that returns rows (open a cursor, execute, fetch,
close) and three of one that does not: four hand-overs to that thread and back, each a wake-up
of the thread, a wake-up of the event loop and a turn of it. Measured on a node receiving
10 KB dispatches (issue 23) they took a fifth of the event loop's time, and on a loaded
machine the loop waited for the thread at each of them. Here a cursor is opened, executed,
read and closed in one trip; only a result of more than :data:`PREFETCH` rows (a stream) goes
back for the rest, so a streamed read still holds a bounded number of rows at a time.

It relies on two things of aiosqlite's ``Connection`` beyond its public surface: ``_execute``
(run a function on the connection's thread) and ``_conn`` (the sqlite3 connection there).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

import aiosqlite

_T = TypeVar("_T")
#: Rows read in the trip that executes a statement; a longer result is read on demand.
PREFETCH = 256


class OneTripCursor:
    """The part of aiosqlite's ``Cursor`` that SQLAlchemy's adapter uses, with the statement
    executed, read and closed in one trip; the rows wait here."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        #: The sqlite3 cursor, kept open only while rows beyond the first trip's remain.
        self._open: sqlite3.Cursor | None = None
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _run(self, sql: str, parameters: Any, many: bool) -> None:
        """On the connection's thread: execute, read up to PREFETCH rows, close if read all."""
        cursor = self._connection._conn.cursor()
        try:
            if many:
                cursor.executemany(sql, parameters)
            else:
                cursor.execute(sql, parameters)
            rows = cursor.fetchmany(PREFETCH) if cursor.description else []
        except BaseException:
            cursor.close()
            raise
        self.description = cursor.description
        self.rowcount, self.lastrowid = cursor.rowcount, cursor.lastrowid
        self._rows = deque(rows)
        if len(rows) < PREFETCH:
            cursor.close()
        else:
            self._open = cursor

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        await self.close()
        await self._connection.on_thread(self._run, sql, parameters or (), False)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        await self.close()
        await self._connection.on_thread(self._run, sql, parameters, True)
        return self

    def _read(self, size: int | None) -> list[Any]:
        """On the connection's thread: up to ``size`` more rows (all for None), the cursor
        closed once it has no more."""
        assert self._open is not None
        rows = self._open.fetchall() if size is None else self._open.fetchmany(size)
        if size is None or len(rows) < size:
            self._open.close()
            self._open = None
        return rows

    async def _more(self, size: int | None) -> None:
        if self._open is not None:
            self._rows.extend(await self._connection.on_thread(self._read, size))

    async def fetchone(self) -> Any:
        if not self._rows:
            await self._more(PREFETCH)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        wanted = self.arraysize if size is None else size
        if len(self._rows) < wanted:
            await self._more(max(wanted - len(self._rows), PREFETCH))
        return [self._rows.popleft() for _ in range(min(wanted, len(self._rows)))]

    async def fetchall(self) -> Sequence[Any]:
        await self._more(None)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()
        if self._open is not None:
            cursor, self._open = self._open, None
            await self._connection.on_thread(cursor.close)


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one trip per statement."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # As SQLAlchemy sets it on the connections it opens: a node that exits does not
        # wait for a pooled connection's thread.
        self._thread.daemon = True

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def on_thread(self, function: Callable[..., _T], *args: Any) -> _T:
        """``function(*args)`` on the connection's thread."""
        return cast(_T, await self._execute(function, *args))  # type: ignore[no-untyped-call]
