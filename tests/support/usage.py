"""Usage events with known totals, written with their own times through the ledger's backfill
(the ledger's ``record`` stamps the current time; a report about 2005 needs 2005's)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange.ledger import PastEvent, backfill, roll_up


@dataclass
class Events:
    rows: list[PastEvent] = field(default_factory=list)

    def add(self, at: datetime, unit: str, kind: str, *, user: str = "", size: int = 0) -> None:
        self.rows.append(PastEvent(at, unit, kind, user, size))

    async def write_and_roll_up(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session, session.begin():
            await backfill(session, self.rows)
        async with sessions() as session, session.begin():
            await roll_up(session)


def spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` cut into ``parts`` uneven whole pieces that add up to it exactly."""
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def seed_year(
    events: Events,
    year: int,
    *,
    units: dict[str, list[str]],
    accesses: int,
    volume: int,
    rng: random.Random,
) -> None:
    """A year of sign-ins and transfers: exactly ``accesses`` sign-ins, by every user of
    ``units`` at least once, and exactly ``volume`` bytes exchanged."""
    people = [(unit, user) for unit, users in units.items() for user in users]
    monthly = spread(accesses - len(people), 12, rng)
    monthly[0] += len(people)
    for month, count in enumerate(monthly, start=1):
        at = datetime(year, month, 15, 3, 0, tzinfo=UTC)
        signers = people if month == 1 else []
        for unit, user in signers:
            events.add(at, unit, "login", user=user)
        for _ in range(count - len(signers)):
            unit, user = rng.choice(people)
            events.add(at, unit, "login", user=user)
    kinds = ("dispatch-in", "dispatch-out", "mail-in", "mail-out")
    for month, size in enumerate(spread(volume, 12, rng), start=1):
        for kind, piece in zip(kinds, spread(size, len(kinds), rng), strict=True):
            unit = rng.choice(list(units))
            events.add(datetime(year, month, 20, 2, 0, tzinfo=UTC), unit, kind, size=piece)
