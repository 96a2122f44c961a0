"""Every check, in the order an operator would fix things: settings and keys first (nothing
works without them), then the database, certificates and trust data, peers, disk."""

from __future__ import annotations

from datetime import UTC, datetime

from config.settings import Settings
from office.doctor.database import check_database
from office.doctor.findings import Finding
from office.doctor.local import check_disk, check_key_files, check_passphrase, settings_loaded
from office.doctor.peers import check_reachability
from office.doctor.trust import ca_certificate, check_certificates, check_crl, check_directory


async def run_checks(settings: Settings) -> list[Finding]:
    now = datetime.now(UTC)
    ca = ca_certificate(settings)
    return [
        settings_loaded(settings),
        check_passphrase(settings),
        check_key_files(settings),
        *await check_database(settings),
        *check_certificates(settings, ca, now),
        check_crl(settings, ca, now),
        check_directory(settings, ca, now),
        *await check_reachability(settings, ca),
        *check_disk(settings),
    ]
