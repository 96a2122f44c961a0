"""Keep the hub's signed directory and CRL fresh on a node that does not run the CA.

Every ``[exchange] refresh_minutes`` the node fetches both from the hub over mutual TLS,
checks the CA's signature on each, and replaces its copies atomically; the readers
(:class:`~keys.signed_directory.SignedDirectory`, :class:`~keys.revocation.RevocationChecker`)
pick them up by themselves. A fetch that fails leaves the old copies, which fail closed once
past their next update: the node then logs ``trust.stale`` at error level every round (and
``trust.expiring`` as a warning in the last day), so the admin hears of it before the users do.

A new directory also refreshes the node's units table (:func:`keys.directory.refresh_units`),
so a unit the province adds or renames is known here without ``congvan units import``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from cryptography import x509
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.errors import Invalid, PeerRefused
from config.files import write_atomic
from config.logging import bind_request_id, get_logger
from keys.directory import SIGNATURE_SUFFIX, refresh_units
from keys.signatures import signature_holds

log = get_logger("congvan.exchange.refresh")

DIRECTORY_PATH = "/exchange/v1/directory"
EXPIRING = timedelta(days=1)


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        return -1


class TrustRefresher:
    def __init__(
        self,
        *,
        ca_certificate: x509.Certificate,
        hub_url: str,
        client_context: ssl.SSLContext,
        directory_file: Path,
        crl_file: Path,
        interval_seconds: float,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.ca_certificate = ca_certificate
        self.url = hub_url.rstrip("/") + DIRECTORY_PATH
        self.client_context = client_context
        self.directory_file = directory_file
        self.crl_file = crl_file
        self.interval_seconds = interval_seconds
        #: The node's database, whose units follow the directory (None: files only).
        self.sessions = sessions
        #: The directory whose units are in the database (None: not yet in this process).
        self._units_from: bytes | None = None

    async def refresh_once(self) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(self.url, ssl=self.client_context) as response,
        ):
            response.raise_for_status()
            body = await response.json()
        directory = base64.b64decode(body["directory"])
        signature = base64.b64decode(body["signature"])
        crl_pem = body["crl"].encode("ascii")
        if not signature_holds(self.ca_certificate, signature, directory):
            raise PeerRefused(
                "danh bạ từ nút trung tâm không có chữ ký của CA", code="bad-signature"
            )
        crl = x509.load_pem_x509_crl(crl_pem)
        if crl.issuer != self.ca_certificate.subject or not crl.is_signature_valid(
            self.ca_certificate.public_key()  # type: ignore[arg-type]
        ):
            raise PeerRefused("CRL từ nút trung tâm không do CA ký", code="bad-signature")
        self._not_older(crl, directory)
        write_atomic(self.crl_file, crl_pem)
        write_atomic(
            self.directory_file.with_name(self.directory_file.name + SIGNATURE_SUFFIX), signature
        )
        write_atomic(self.directory_file, directory)
        log.info("trust.refreshed", crl_next_update=str(crl.next_update_utc))
        await self._refresh_units(directory)

    async def _refresh_units(self, directory: bytes) -> None:
        """The units of a directory not yet taken (or of the first one since the start): a
        database that fails now is tried again at the next round."""
        if self.sessions is None or directory == self._units_from:
            return
        try:
            async with self.sessions() as session, session.begin():
                changed = await refresh_units(session, json.loads(directory))
        except (SQLAlchemyError, Invalid) as error:
            log.warning("units.refresh_failed", error=f"{type(error).__name__}: {error}")
            return
        self._units_from = directory
        if changed:
            log.info("units.refreshed", changed=changed)

    def _not_older(self, crl: x509.CertificateRevocationList, directory: bytes) -> None:
        """Refuse a CRL or directory older than the one held: a replayed old CRL would
        un-revoke a certificate."""
        if self.crl_file.exists():
            held = x509.load_pem_x509_crl(self.crl_file.read_bytes())
            if _crl_number(crl) < _crl_number(held):
                raise PeerRefused("CRL từ nút trung tâm cũ hơn CRL đang giữ", code="stale-crl")
        if self.directory_file.exists():
            held_issued = json.loads(self.directory_file.read_bytes()).get("issued_at", "")
            if json.loads(directory).get("issued_at", "") < held_issued:
                raise PeerRefused(
                    "danh bạ từ nút trung tâm cũ hơn danh bạ đang giữ", code="stale-directory"
                )

    def held_state(self, now: datetime) -> dict[str, str]:
        """``fresh``, ``expiring`` (within a day), ``stale`` or ``missing``, for the CRL and the
        directory this node holds."""
        state = {}
        for what, next_update in (("crl", self._crl_next()), ("directory", self._directory_next())):
            if next_update is None:
                state[what] = "missing"
            elif next_update < now:
                state[what] = "stale"
            elif next_update - now < EXPIRING:
                state[what] = "expiring"
            else:
                state[what] = "fresh"
        return state

    def _crl_next(self) -> datetime | None:
        if not self.crl_file.exists():
            return None
        return x509.load_pem_x509_crl(self.crl_file.read_bytes()).next_update_utc

    def _directory_next(self) -> datetime | None:
        if not self.directory_file.exists():
            return None
        return datetime.fromisoformat(json.loads(self.directory_file.read_bytes())["next_update"])

    def _alert(self) -> None:
        for what, state in self.held_state(datetime.now(UTC)).items():
            if state in {"stale", "missing"}:
                log.error("trust.stale", what=what, state=state, hub=self.url)
            elif state == "expiring":
                log.warning("trust.expiring", what=what, hub=self.url)

    async def run(self, stop: asyncio.Event) -> None:
        bind_request_id()
        while not stop.is_set():
            try:
                await self.refresh_once()
            except (
                aiohttp.ClientError,
                TimeoutError,
                OSError,
                ValueError,
                KeyError,
                TypeError,
            ) as error:
                log.warning("trust.refresh_failed", error=f"{type(error).__name__}: {error}")
            except PeerRefused as refusal:
                log.error("trust.refresh_refused", code=refusal.code, reason=refusal.message)
            self._alert()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval_seconds)
            except TimeoutError:
                continue
