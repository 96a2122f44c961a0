"""The database: reachable, its schema at the code's migration head, and what waits in it for
an admin (deliveries that gave up, certificates of the network about to run out)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from config import migrate
from config.database import DATABASE_FILE, create_engine, create_session_factory, database_url
from config.settings import Settings
from exchange.models import Delivery
from exchange.outbox import FAILED
from keys.certificates import list_certificates
from office.doctor.findings import Finding, first_line, ok, problem, warning

#: A database that has not answered in this long is as good as down.
CONNECT_SECONDS = 10
#: Dispatch ids named in a finding; more are counted.
NAMED_DISPATCHES = 5


def _describe(settings: Settings) -> str:
    """Which database, never with its password."""
    if not settings.database.url:
        return str(settings.node_dir / DATABASE_FILE)
    return make_url(database_url(settings)).render_as_string(hide_password=True)


async def check_database(settings: Settings) -> list[Finding]:
    """Open the database, compare its revision with the code's; on a current schema, look at
    what waits in it for an admin."""
    if not settings.database.url and not (settings.node_dir / DATABASE_FILE).exists():
        # SQLite would make an empty file and call that a database.
        return [
            problem(
                "database",
                f"{settings.node_dir / DATABASE_FILE} does not exist",
                "restore it from the backup, or run `congvan init` for a new node",
            )
        ]
    engine = create_engine(settings)
    try:
        try:
            current = await asyncio.wait_for(migrate.current_revision(engine), CONNECT_SECONDS)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            return [
                problem(
                    "database",
                    f"cannot open {_describe(settings)}: {first_line(error)}",
                    "check [database] url, that the database server runs and lets this node in",
                )
            ]
        findings = [ok("database", f"{_describe(settings)} answers"), _schema(settings, current)]
        if findings[-1].status == "ok":
            findings += await _waiting_for_admin(settings, engine)
        return findings
    finally:
        await engine.dispose()


def _schema(settings: Settings, current: str | None) -> Finding:
    head = migrate.head_revision()
    if current == head:
        return ok("migrations", f"at the head revision {head}")
    upgrade = f"`congvan db upgrade --dir {settings.node_dir}`"
    if current is None:
        return problem("migrations", "the database has no schema", upgrade)
    if current in migrate.all_revisions():
        return problem(
            "migrations", f"the database is at revision {current}, the code needs {head}", upgrade
        )
    return problem(
        "migrations",
        f"the database is at revision {current}, which this congvan does not know "
        f"(its head is {head}): a newer congvan migrated it",
        "run the congvan version that migrated it (or restore the database from before)",
    )


async def _waiting_for_admin(settings: Settings, engine: AsyncEngine) -> list[Finding]:
    async with create_session_factory(engine)() as session:
        findings = [await check_dead_letters(settings, session)]
        if settings.node.hub:
            findings.append(await check_network_certificates(settings, session))
    return findings


async def check_dead_letters(settings: Settings, session: AsyncSession) -> Finding:
    """Deliveries that used up their retries (``failed``): nothing moves them but an admin."""
    rows = (
        await session.execute(
            select(Delivery.dispatch_id, Delivery.node)
            .where(Delivery.state == FAILED)
            .order_by(Delivery.decided_at, Delivery.dispatch_id)
        )
    ).all()
    if not rows:
        return ok("outbox", "no delivery has given up")
    dispatches = list(dict.fromkeys(dispatch_id for dispatch_id, _node in rows))
    nodes = sorted({node for _dispatch, node in rows})
    named = ", ".join(dispatches[:NAMED_DISPATCHES])
    more = (
        f" and {len(dispatches) - NAMED_DISPATCHES} more"
        if len(dispatches) > NAMED_DISPATCHES
        else ""
    )
    return warning(
        "outbox",
        f"{len(dispatches)} dispatches failed after every retry (to {', '.join(nodes)}): "
        f"{named}{more}",
        f"see why with `congvan exchange show ID`, fix it, then "
        f"`congvan exchange retry ID --dir {settings.node_dir}` for each "
        f"(e.g. `congvan exchange retry {dispatches[0]} --dir {settings.node_dir}`)",
    )


async def check_network_certificates(settings: Settings, session: AsyncSession) -> Finding:
    """On the hub: certificates the CA issued to the other nodes and units, near their end.

    Its own are checked from their files; these only from the CA's records.
    """
    own = {settings.node.name, *settings.node.units}
    days = settings.keys.expiry_warning_days
    now = datetime.now(UTC)
    expiring = [
        info
        for info in await list_certificates(session)
        if info.owner_kind != "ca" and info.owner not in own and info.expires_within(days, now)
    ]
    if not expiring:
        return ok("network certificates", f"none of the others expires within {days} days")
    listed = ", ".join(
        f"{info.owner} {info.use} ({info.not_after:%Y-%m-%d})"
        for info in expiring[:NAMED_DISPATCHES]
    )
    more = (
        f" and {len(expiring) - NAMED_DISPATCHES} more" if len(expiring) > NAMED_DISPATCHES else ""
    )
    return warning(
        "network certificates",
        f"{len(expiring)} expire within {days} days: {listed}{more}",
        f"`congvan keys rotate OWNER --dir {settings.node_dir} --key-passphrase-file <its "
        "node's passphrase file>`, then send it the new keys (docs/pki.md)",
    )
