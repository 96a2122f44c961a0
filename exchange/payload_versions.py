"""Which payload version to seal a dispatch with: binary parts (2) only for nodes that said
they read them, base64 parts (1) for any other (``docs/dispatch-format.md``).

A node says what it reads in every answer to an offer (``payload_versions``); the outbox keeps
the newest it heard from each peer here. A node never heard from, an older one, or one only
reached through the hub (which forwards ciphertext it cannot read, and answers for itself, not
for the addressee) gets version 1, which every node reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import utcnow
from exchange.mime import BASE64_PARTS, READABLE_VERSIONS
from exchange.models import PeerPayloadVersion


async def sealing_version(session: AsyncSession, nodes: Iterable[str]) -> int:
    """The newest version every one of ``nodes`` reads (and this node writes)."""
    wanted = set(nodes)
    if not wanted:
        return max(READABLE_VERSIONS)  # for this node's own units only
    rows = await session.execute(
        select(PeerPayloadVersion.node, PeerPayloadVersion.version).where(
            PeerPayloadVersion.node.in_(sorted(wanted))
        )
    )
    known: dict[str, int] = {node: version for node, version in rows}
    if known.keys() != wanted:
        return BASE64_PARTS
    return min(max(READABLE_VERSIONS), *known.values())


class AnnouncedVersions:
    """What peers said they read, written to the database only when it changes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._known: dict[str, int] = {}

    async def heard(self, node: str, version: int) -> None:
        if self._known.get(node) == version:
            return
        try:
            async with self.sessions() as session, session.begin():
                changed = await session.execute(
                    update(PeerPayloadVersion)
                    .where(PeerPayloadVersion.node == node)
                    .values(version=version, announced_at=utcnow())
                )
                if changed.rowcount == 0:  # type: ignore[attr-defined]
                    session.add(PeerPayloadVersion(node=node, version=version))
        except IntegrityError:
            return  # another process of this node recorded it at the same moment
        self._known[node] = version
