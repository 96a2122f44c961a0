"""The hub keeps the network's trust data fresh by itself.

Every node refuses to send or accept once the CRL or the signed directory it holds is past its
next update (fail closed). Leaving the re-signing to an operator's calendar would stop the whole
province the week somebody forgets, so the hub re-signs both when half their validity
(``[keys] crl_days``) has gone, and says so loudly when it cannot. ``congvan keys crl`` and
``keys directory`` still publish at once (after a revocation, a new unit).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.logging import get_logger
from config.loops import every
from config.settings import Settings
from keys import certificates, directory
from keys.revocation import CRL_FILE

log = get_logger("congvan.keys.publisher")


class TrustPublisher:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        passphrase: bytes,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.passphrase = passphrase

    def next_updates(self) -> tuple[datetime | None, datetime | None]:
        """When the published CRL and directory run out (None: not published yet)."""
        ca_dir = self.settings.ca_dir
        crl_next = None
        if (ca_dir / CRL_FILE).exists():
            crl = x509.load_pem_x509_crl((ca_dir / CRL_FILE).read_bytes())
            crl_next = crl.next_update_utc
        directory_next = None
        if (ca_dir / directory.DIRECTORY_FILE).exists():
            document = json.loads((ca_dir / directory.DIRECTORY_FILE).read_bytes())
            directory_next = datetime.fromisoformat(document["next_update"])
        return crl_next, directory_next

    def due(self, now: datetime) -> bool:
        """Half the validity gone on either (or either missing) means both are re-signed."""
        half = timedelta(days=self.settings.keys.crl_days) / 2
        return any(
            next_update is None or next_update - now < half for next_update in self.next_updates()
        )

    async def publish_if_due(self, now: datetime | None = None) -> bool:
        if not self.due(now or datetime.now(UTC)):
            return False
        authority = certificates.open_ca(self.settings, self.passphrase)
        async with self.sessions() as session, session.begin():
            crl = await certificates.publish_crl(session, self.settings, authority)
            await directory.publish_directory(
                session,
                authority,
                self.settings.ca_dir / directory.DIRECTORY_FILE,
                self.settings.keys.crl_days,
                self.settings.node.name,
            )
        log.info("trust.republished", next_update=str(crl.next_update_utc))
        return True

    async def run(self, stop: asyncio.Event, interval_seconds: float) -> None:
        await every(stop, interval_seconds, self.publish_if_due, event="trust.republish_failed")
