"""Signing persons on their node: install the key the CA issued, activate it, change the PIN,
and unlock it at the moment of signing.

Decree 30 Art. 13: the competent person signs with their own digital signature, then the clerk
adds the agency's. Each signing person therefore has a key of their own, sealed under a secret
only they hold (:mod:`keys.pinbox`): the CA's one-time activation code until they activate it,
then the signing PIN they choose. Their account's password is not that secret: a PIN asked at
the moment of signing is what says the person meant to sign.

Sealing and opening are argon2id: CPU- and memory-heavy on purpose. They run in a thread, and
no transaction is held open meanwhile, so these functions take the session factory and open
the short transactions they need. A wrong PIN is counted before it is checked (parallel guesses
cannot slip past the count); the fifth in a row locks the person's signing for 15 minutes. A
wrong PIN changes nothing but that count.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import UTCDateTime
from config.errors import Conflict, Forbidden, Invalid, NotFound, PeerRefused
from config.logging import get_logger
from keys import refusals
from keys.ca import PersonName, pem, serial_hex
from keys.models import PersonKey, User
from keys.pinbox import normal_code, open_sealed, seal_key
from keys.revocation import RevocationChecker
from keys.trust import TrustStore

log = get_logger("congvan.keys.signers")

MIN_PIN_LENGTH = 6
PIN_FAILURES = 5
PIN_LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class PersonIdentity:
    """A signing person's key, unlocked for one signature: keep it no longer than that."""

    username: str
    full_name: str
    title: str
    unit_code: str
    unit_name: str
    certificate: x509.Certificate
    #: From the person's certificate up to the CA, the CA included.
    chain: tuple[x509.Certificate, ...]
    key: ec.EllipticCurvePrivateKey = field(repr=False)


@dataclass(frozen=True)
class PersonKeyInfo:
    username: str
    full_name: str
    title: str
    unit_code: str
    serial: str
    not_after: datetime
    state: str


def check_pin(pin: str) -> None:
    if len(pin) < MIN_PIN_LENGTH:
        raise Invalid(refusals.PIN_TOO_SHORT(minimum=MIN_PIN_LENGTH), code="weak-pin")


def _info(row: PersonKey, username: str) -> PersonKeyInfo:
    person = PersonName.of(x509.load_pem_x509_certificate(row.certificate.encode("ascii")))
    return PersonKeyInfo(
        username, person.full_name, row.title, row.unit_code, row.serial, row.not_after, row.state
    )


async def install_person_key(
    session: AsyncSession,
    certificate: x509.Certificate,
    sealed_key: bytes,
    ca_certificate: x509.Certificate,
    hosted_units: tuple[str, ...],
) -> PersonKeyInfo:
    """Store a person's certificate and still-sealed key, ``pending`` until they activate it.

    The certificate must come from this node's CA and name a user of a unit hosted here. A key
    installed earlier and never activated is ``replaced``: only the newest code activates.
    """
    try:
        certificate.verify_directly_issued_by(ca_certificate)
    except (ValueError, TypeError, InvalidSignature) as error:
        raise Invalid(
            "the certificate was not issued by this node's CA (pki/ca.pem)", code="other-ca"
        ) from error
    person = PersonName.of(certificate)
    if person.unit_code not in hosted_units:
        raise Invalid(
            f"{person.owner}: unit {person.unit_code} is not hosted by this node", code="other-node"
        )
    user_id = await session.scalar(
        select(User.id).where(User.username == person.username, User.unit_code == person.unit_code)
    )
    if user_id is None:
        raise NotFound(
            f"no user {person.username} in unit {person.unit_code}: add the account first "
            "(`congvan users add`)",
            code="unknown-user",
        )
    serial = serial_hex(certificate)
    if await session.scalar(select(PersonKey.id).where(PersonKey.serial == serial)) is not None:
        raise Conflict(f"the key of certificate {serial} is installed already")
    await session.execute(
        update(PersonKey)
        .where(PersonKey.user_id == user_id, PersonKey.state == "pending")
        .values(state="replaced")
    )
    row = PersonKey(
        user_id=user_id,
        unit_code=person.unit_code,
        serial=serial,
        certificate=pem(certificate).decode("ascii"),
        sealed_key=sealed_key,
        state="pending",
        title=person.title,
        not_after=certificate.not_valid_after_utc,
        pin_failures=0,
    )
    session.add(row)
    await session.flush()
    log.info("person_key.installed", user=person.username, unit=person.unit_code, serial=serial)
    return _info(row, person.username)


def _matching(key: ec.EllipticCurvePrivateKey, certificate_pem: str) -> ec.EllipticCurvePrivateKey:
    """The key opened belongs to the certificate beside it (a row's parts were not swapped)."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    own = key.public_key().public_bytes(serialization.Encoding.DER, spki)
    if own != certificate.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise Invalid("a signing key does not match its certificate", code="bad-seal")
    return key


async def activate_person_key(
    sessions: async_sessionmaker[AsyncSession],
    user_id: int,
    activation_code: str,
    new_pin: str,
    now: datetime,
) -> PersonKeyInfo:
    """Open the pending key with the CA's activation code and seal it under the person's new
    signing PIN: it becomes the key they sign with, and the one it takes over from is
    ``replaced`` (rotation is a new certificate from the CA, installed and activated). A wrong
    code changes nothing; a code has 100 bits, so it needs no lockout."""
    check_pin(new_pin)
    async with sessions() as session, session.begin():
        pending = await session.scalar(
            select(PersonKey).where(PersonKey.user_id == user_id, PersonKey.state == "pending")
        )
        if pending is None:
            raise NotFound(refusals.NO_PENDING_KEY(), code="no-pending-key")
        key_id, serial, certificate = pending.id, pending.serial, pending.certificate
        sealed = pending.sealed_key
    key = await asyncio.to_thread(open_sealed, sealed, normal_code(activation_code))
    if key is None:
        log.info("person_key.activation_refused", user_id=user_id, serial=serial)
        raise Invalid(refusals.BAD_ACTIVATION_CODE(), code="bad-activation-code")
    resealed = await asyncio.to_thread(seal_key, _matching(key, certificate), new_pin)
    async with sessions() as session, session.begin():
        replaced = await session.scalar(
            update(PersonKey)
            .where(PersonKey.user_id == user_id, PersonKey.state == "active")
            .values(state="replaced")
            .returning(PersonKey.serial)
        )
        row = await session.scalar(
            update(PersonKey)
            .where(PersonKey.id == key_id, PersonKey.state == "pending")
            .values(state="active", sealed_key=resealed, activated_at=now, pin_failures=0)
            .returning(PersonKey)
        )
        if row is None:
            raise Conflict(refusals.KEY_CHANGED_MEANWHILE(), code="not-pending")
        username = await session.scalar(select(User.username).where(User.id == user_id))
        log.info("person_key.activated", user_id=user_id, serial=serial, replaced=replaced)
        return _info(row, username or "")


@dataclass(frozen=True)
class _Attempt:
    key_id: int
    sealed_key: bytes
    certificate: str
    failures: int


async def _admit(
    sessions: async_sessionmaker[AsyncSession],
    user_id: int,
    now: datetime,
    trust: TrustStore | None = None,
) -> _Attempt:
    """Count one PIN attempt at the person's active key before it is checked, and commit the
    count; the fifth counted in a row locks signing until a right PIN lifts it or the lockout
    ends. With ``trust``, the certificate is checked first: a revoked one is refused before any
    PIN is asked for or counted."""
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(PersonKey).where(PersonKey.user_id == user_id, PersonKey.state == "active")
        )
        if row is None:
            raise Forbidden(refusals.NO_SIGNING_KEY(), code="no-signing-key")
        if trust is not None:
            _check_certificate(row.certificate, trust, now)
        lock_over = PersonKey.locked_until.is_not(None) & (PersonKey.locked_until <= now)
        failures = case((lock_over, 1), else_=PersonKey.pin_failures + 1)
        lock_from_now = literal(now + PIN_LOCKOUT, UTCDateTime())
        counted = await session.scalar(
            update(PersonKey)
            .where(
                PersonKey.id == row.id,
                PersonKey.locked_until.is_(None) | (PersonKey.locked_until <= now),
            )
            .values(
                pin_failures=failures,
                locked_until=case((failures >= PIN_FAILURES, lock_from_now), else_=None),
            )
            .returning(PersonKey.pin_failures)
            .execution_options(synchronize_session=False)
        )
        if counted is None:
            raise _locked(row.locked_until or now + PIN_LOCKOUT, now)
        return _Attempt(row.id, row.sealed_key, row.certificate, counted)


def _locked(until: datetime, now: datetime) -> Forbidden:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return Forbidden(refusals.SIGNING_LOCKED(minutes=minutes), code="signing-locked")


async def _open_with_pin(
    sessions: async_sessionmaker[AsyncSession],
    user_id: int,
    pin: str,
    now: datetime,
    trust: TrustStore | None = None,
) -> tuple[_Attempt, ec.EllipticCurvePrivateKey]:
    attempt = await _admit(sessions, user_id, now, trust)
    key = await asyncio.to_thread(open_sealed, attempt.sealed_key, pin)
    if key is None:
        log.warning("person_key.bad_pin", user_id=user_id, failures=attempt.failures)
        if attempt.failures >= PIN_FAILURES:
            raise _locked(now + PIN_LOCKOUT, now)
        left = PIN_FAILURES - attempt.failures
        raise Forbidden(refusals.BAD_PIN(left=left), code="bad-pin")
    return attempt, _matching(key, attempt.certificate)


async def change_pin(
    sessions: async_sessionmaker[AsyncSession],
    user_id: int,
    old_pin: str,
    new_pin: str,
    now: datetime,
) -> None:
    """Seal the person's active key under a new PIN. The old one is counted like a PIN given to
    sign, so this is no way around the lockout."""
    check_pin(new_pin)
    attempt, key = await _open_with_pin(sessions, user_id, old_pin, now)
    resealed = await asyncio.to_thread(seal_key, key, new_pin)
    async with sessions() as session, session.begin():
        changed = await session.scalar(
            update(PersonKey)
            .where(PersonKey.id == attempt.key_id, PersonKey.state == "active")
            .values(sealed_key=resealed, pin_failures=0, locked_until=None)
            .returning(PersonKey.id)
        )
    if changed is None:
        raise Conflict(refusals.KEY_CHANGED_MEANWHILE(), code="not-active")
    log.info("person_key.pin_changed", user_id=user_id)


async def unlock_signing_identity(
    sessions: async_sessionmaker[AsyncSession],
    user_id: int,
    pin: str,
    trust: TrustStore,
    now: datetime,
) -> PersonIdentity:
    """The person's key and certificate for signing now, with their PIN.

    Refused, each with its code: ``no-signing-key`` (none installed, or not activated: no
    signing authority), ``certificate-expired`` / ``certificate-not-yet-valid``,
    ``certificate-revoked`` (on the node's CRL), ``revocation-unknown`` (the CRL missing or out
    of date: fail closed), ``certificate-untrusted`` (not from this node's CA), ``bad-pin``,
    ``signing-locked``.
    """
    attempt, key = await _open_with_pin(sessions, user_id, pin, now, trust)
    async with sessions() as session, session.begin():
        await session.execute(
            update(PersonKey)
            .where(PersonKey.id == attempt.key_id)
            .values(pin_failures=0, locked_until=None)
        )
        username = await session.scalar(select(User.username).where(User.id == user_id))
    certificate = x509.load_pem_x509_certificate(attempt.certificate.encode("ascii"))
    person = PersonName.of(certificate)
    log.info("person_key.unlocked", user_id=user_id, serial=serial_hex(certificate))
    return PersonIdentity(
        username=username or person.username,
        full_name=person.full_name,
        title=person.title,
        unit_code=person.unit_code,
        unit_name=person.unit_name,
        certificate=certificate,
        chain=(certificate, trust.ca_certificate),
        key=key,
    )


def _check_certificate(certificate_pem: str, trust: TrustStore, now: datetime) -> None:
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    if now > certificate.not_valid_after_utc:
        raise Forbidden(refusals.CERTIFICATE_EXPIRED(), code="certificate-expired")
    if now < certificate.not_valid_before_utc:
        raise Forbidden(refusals.CERTIFICATE_NOT_YET_VALID(), code="certificate-not-yet-valid")
    try:
        certificate.verify_directly_issued_by(trust.ca_certificate)
    except (ValueError, TypeError, InvalidSignature) as error:
        raise Forbidden(refusals.CERTIFICATE_UNTRUSTED(), code="certificate-untrusted") from error
    if is_revoked(trust.revocation, certificate.serial_number):
        raise Forbidden(refusals.CERTIFICATE_REVOKED(), code="certificate-revoked")


def is_revoked(revocation: RevocationChecker, serial: int) -> bool:
    """Whether the node's CRL lists ``serial``; a CRL that cannot say refuses (fail closed)."""
    try:
        return revocation.is_revoked(serial)
    except PeerRefused as error:
        raise Forbidden(refusals.REVOCATION_UNKNOWN(), code="revocation-unknown") from error


async def list_person_keys(session: AsyncSession) -> list[PersonKeyInfo]:
    """The signing keys installed on this node, of every state."""
    rows = await session.execute(
        select(PersonKey, User.username)
        .join(User, User.id == PersonKey.user_id)
        .order_by(User.username, PersonKey.created_at)
    )
    return [_info(row, username) for row, username in rows]


async def keys_of(session: AsyncSession, user_id: int) -> list[PersonKeyInfo]:
    """One person's current keys: the one waiting for activation and the one they sign with."""
    rows = await session.execute(
        select(PersonKey, User.username)
        .join(User, User.id == PersonKey.user_id)
        .where(PersonKey.user_id == user_id, PersonKey.state != "replaced")
        .order_by(PersonKey.created_at)
    )
    return [_info(row, username) for row, username in rows]
