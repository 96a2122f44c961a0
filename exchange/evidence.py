"""The evidence log: every dispatch sent and received, every receipt and status, hash-chained.

Each entry's hash covers its content and the previous entry's hash, so an edited or deleted
record breaks the chain from that point; :func:`verify_chain` finds the first broken link.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from config.database import utcnow
from exchange.models import EvidenceEntry, EvidenceHead
from keys.directory import canonical_json

GENESIS = "0" * 64
HEAD_ID = 1

# Core statements on the tables, not ORM units of work: an append is three statements and no
# flush, and nothing of the head is kept in the caller's session to go stale.
_HEAD = cast(Table, EvidenceHead.__table__)
_ENTRIES = cast(Table, EvidenceEntry.__table__)
_TAKE_NEXT = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values(seq=_HEAD.c.seq + bindparam("count"))
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(hash=bindparam("digest"))
_ADD_ENTRY = insert(_ENTRIES)


def entry_hash(
    seq: int, at: datetime, event: str, dispatch_id: str | None, detail: str, previous: str
) -> str:
    content = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "event": event,
        "dispatch_id": dispatch_id,
        "detail": detail,
        "previous": previous,
    }
    return hashlib.sha256(canonical_json(content)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """An entry to append: what happened, to which dispatch, and its details."""

    event: str
    dispatch_id: str | None
    detail: dict[str, Any]


async def append(
    session: AsyncSession | AsyncConnection,
    event: str,
    dispatch_id: str | None,
    detail: dict[str, Any],
) -> int:
    """Add one entry inside the caller's transaction; returns its sequence number."""
    return (await append_all(session, [Entry(event, dispatch_id, detail)]))[0]


async def append_all(session: AsyncSession | AsyncConnection, entries: list[Entry]) -> list[int]:
    """Add ``entries``, in order, inside the caller's transaction (a session's, or a
    connection's on a path with no ORM work); their sequence numbers.

    The first statement takes the numbers and the previous hash from the head row in one
    ``UPDATE … RETURNING``; the row lock it takes (PostgreSQL) or the write lock (SQLite) is
    held until the caller commits, so appends from every process are serialised and a
    rolled-back transaction gives its numbers back: the sequence has no gaps. Several entries
    cost the three statements one does (a received dispatch's ``offered`` and ``received``).
    """
    taken = (await session.execute(_TAKE_NEXT, {"count": len(entries)})).one_or_none()
    if taken is None:
        raise RuntimeError("evidence_head row missing: run `congvan db upgrade`")
    last, previous = int(taken.seq), str(taken.hash)
    at = utcnow()
    rows: list[dict[str, Any]] = []
    for seq, entry in enumerate(entries, start=last - len(entries) + 1):
        text = canonical_json(entry.detail).decode("utf-8")
        digest = entry_hash(seq, at, entry.event, entry.dispatch_id, text, previous)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "event": entry.event,
                "dispatch_id": entry.dispatch_id,
                "detail": text,
                "previous_hash": previous,
                "hash": digest,
            }
        )
        previous = digest
    await session.execute(_ADD_ENTRY, rows)
    await session.execute(_MOVE_HEAD, {"digest": previous})
    return [int(row["seq"]) for row in rows]


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_broken: int | None
    problem: str | None

    @property
    def intact(self) -> bool:
        return self.first_broken is None


async def verify_chain(session: AsyncSession) -> ChainReport:
    previous, expected_seq, count = GENESIS, 1, 0
    rows = await session.stream_scalars(select(EvidenceEntry).order_by(EvidenceEntry.seq))
    async for entry in rows:
        count += 1
        if entry.seq != expected_seq:
            return ChainReport(count, expected_seq, f"entry {expected_seq} is missing")
        if entry.previous_hash != previous:
            return ChainReport(
                count, entry.seq, f"entry {entry.seq} does not follow its predecessor"
            )
        recomputed = entry_hash(
            entry.seq, entry.at, entry.event, entry.dispatch_id, entry.detail, entry.previous_hash
        )
        if recomputed != entry.hash:
            return ChainReport(count, entry.seq, f"entry {entry.seq} was altered")
        previous, expected_seq = entry.hash, expected_seq + 1
    head = await session.get(EvidenceHead, HEAD_ID)
    if head is None or head.seq != expected_seq - 1 or head.hash != previous:
        return ChainReport(count, expected_seq, "entries were removed from the end of the log")
    return ChainReport(count, None, None)
