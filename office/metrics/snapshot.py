"""The node's figures at one moment, read from the database at scrape time.

Several processes of one node share its database, so the figures are the database's: any
process answers for the whole node, and nothing is lost when one dies. Each query is bounded by
an index or a small ``GROUP BY``; all run in one short read transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.errors import PeerRefused
from config.logging import get_logger
from exchange import figures
from exchange.figures import DeliveryTimes, OpenDeliveries, RollupLag
from exchange.ledger import ACCESS_KIND, FAILED_SIGN_IN_KIND
from keys.revocation import RevocationChecker
from keys.signin import SignInTrouble, sign_in_trouble
from mailgw.figures import MailQueueFigures, mail_queue_figures
from office.metrics.counters import ProcessCounters

log = get_logger("congvan.metrics")

#: Usage kinds counted for today: sign-ins (web and SMTP) that succeeded and that were
#: refused, mail accepted, mail delivered here.
SIGN_IN, SIGN_IN_FAILED = ACCESS_KIND, FAILED_SIGN_IN_KIND
MAIL_ACCEPTED, MAIL_DELIVERED = "mail-out", "mail-in"


@dataclass(frozen=True)
class DatabaseFigures:
    open_deliveries: list[OpenDeliveries]
    oldest_due_deliveries: dict[str, datetime]
    delivery_times: DeliveryTimes
    refusals: dict[str, int]
    mail_queue: MailQueueFigures
    events_today: dict[str, int]
    sign_in_trouble: SignInTrouble
    rollup: RollupLag


@dataclass(frozen=True)
class NodeSnapshot:
    taken_at: datetime
    #: None when the database did not answer.
    database: DatabaseFigures | None
    #: None when the CRL is missing or not signed by our CA.
    crl_next_update: datetime | None
    smtp_sessions: int


async def read_database(session: AsyncSession, now: datetime) -> DatabaseFigures:
    return DatabaseFigures(
        open_deliveries=await figures.open_deliveries(session),
        oldest_due_deliveries=await figures.oldest_due_deliveries(session, now),
        delivery_times=await figures.delivery_times(session, now),
        refusals=await figures.refusals_by_code(session),
        mail_queue=await mail_queue_figures(session, now),
        events_today=await figures.events_today(
            session, (SIGN_IN, SIGN_IN_FAILED, MAIL_ACCEPTED, MAIL_DELIVERED), now
        ),
        sign_in_trouble=await sign_in_trouble(session, now),
        rollup=await figures.rollup_lag(session),
    )


def crl_next_update(revocation: RevocationChecker) -> datetime | None:
    try:
        return revocation.next_update()
    except (PeerRefused, ValueError):  # missing, forged, or not a CRL at all
        return None


async def take_snapshot(
    sessions: async_sessionmaker[AsyncSession],
    revocation: RevocationChecker,
    counters: ProcessCounters,
    now: datetime | None = None,
) -> NodeSnapshot:
    now = now or datetime.now(UTC)
    database: DatabaseFigures | None
    try:
        async with sessions() as session, session.begin():
            database = await read_database(session, now)
    except (SQLAlchemyError, OSError) as error:
        log.warning("metrics.database_unavailable", error=type(error).__name__)
        database = None
    return NodeSnapshot(
        taken_at=now,
        database=database,
        crl_next_update=crl_next_update(revocation),
        smtp_sessions=counters.smtp_sessions,
    )
