"""The provincial CA at work: issue (nodes, units, signing persons), rotate, revoke, publish the
CRL, list.

Functions take an open session; the caller owns the transaction (``async with
session.begin()``). Files are written atomically, keys before certificates, inside that
transaction, so a failure leaves either everything or an unused file that the next run replaces.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from config.files import write_atomic
from config.settings import Settings
from keys import ca as ca_builder
from keys.accounts import USERNAME
from keys.ca import CA_CERT_FILE, CertificateAuthority, PersonName, load_ca, pem, serial_hex
from keys.keystore import PrivateKey
from keys.models import OWNER_LENGTH, SUBJECT_LENGTH, Certificate, Node, Unit
from keys.revocation import CRL_FILE, REASONS, RevokedEntry, build_crl, crl_pem

NODE_CERT_FILE = "node.pem"
NODE_KEY_FILE = "node.key"
UNIT_USES = ("signing", "encryption")
#: How the CA's records tell a person's certificate from a node's or a unit's.
PERSON = "person"
#: X.509's upper bound for a common name and a title (RFC 5280 appendix A).
NAME_LIMIT = 64


@dataclass(frozen=True)
class CertificateInfo:
    owner_kind: str
    owner: str
    use: str
    serial: str
    not_after: datetime
    status: str
    revocation_reason: str | None

    def expires_within(self, days: int, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return self.status == "active" and self.not_after - now <= timedelta(days=days)


def node_tls_paths(pki_dir: Path) -> tuple[Path, Path]:
    return pki_dir / NODE_CERT_FILE, pki_dir / NODE_KEY_FILE


def unit_key_paths(pki_dir: Path, unit_code: str, use: str) -> tuple[Path, Path]:
    folder = pki_dir / "units" / unit_code
    return folder / f"{use}.pem", folder / f"{use}.key"


def issued_dir(settings: Settings, node_name: str) -> Path:
    """Where the CA writes keys for a node other than itself, laid out like its ``pki/``."""
    if node_name == settings.node.name:
        return settings.pki_dir
    return settings.ca_dir / "issued" / node_name


def _record(certificate: x509.Certificate, owner_kind: str, owner: str, use: str) -> Certificate:
    return Certificate(
        serial=serial_hex(certificate),
        owner_kind=owner_kind,
        owner=owner,
        use=use,
        subject=certificate.subject.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        status="active",
        pem=pem(certificate).decode("ascii"),
    )


async def init_ca(
    session: AsyncSession, settings: Settings, common_name: str, passphrase: bytes
) -> CertificateAuthority:
    """Create the CA, trust it locally and publish its first (empty) CRL."""
    authority = ca_builder.create_ca(common_name, settings.ca_dir, passphrase)
    session.add(_record(authority.certificate, "ca", "CA", "ca"))
    write_atomic(settings.pki_dir / CA_CERT_FILE, pem(authority.certificate))
    await session.flush()
    await publish_crl(session, settings, authority)
    return authority


async def _active(session: AsyncSession, owner: str, use: str) -> Certificate | None:
    return await session.scalar(
        select(Certificate).where(
            Certificate.owner == owner, Certificate.use == use, Certificate.status == "active"
        )
    )


async def issue_node(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    passphrase: bytes,
    node_name: str,
    hosts: list[str],
    peer_url: str,
    out_dir: Path | None = None,
) -> CertificateInfo:
    """Issue a node's TLS certificate and record the node's address in the directory."""
    if not hosts:
        raise Invalid("give at least one --host for the node's certificate", code="no-host")
    if await _active(session, node_name, "tls") is not None:
        raise Conflict(
            f"node {node_name} already has a TLS certificate: use `congvan keys rotate {node_name}`"
        )
    node = await session.get(Node, node_name)
    if node is None:
        session.add(Node(name=node_name, host=hosts[0], peer_url=peer_url))
    else:
        node.host, node.peer_url = hosts[0], peer_url or node.peer_url
    return await _issue_tls(session, settings, authority, passphrase, node_name, hosts, out_dir)


async def _issue_tls(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    passphrase: bytes,
    node_name: str,
    hosts: list[str],
    out_dir: Path | None,
) -> CertificateInfo:
    certificate, key = ca_builder.issue_tls(authority, node_name, hosts, settings.keys.cert_days)
    target = out_dir or issued_dir(settings, node_name)
    cert_path, key_path = node_tls_paths(target)
    ca_builder.write_certificate_and_key(cert_path, key_path, certificate, key, passphrase)
    write_atomic(target / CA_CERT_FILE, pem(authority.certificate))
    record = _record(certificate, "node", node_name, "tls")
    session.add(record)
    await session.flush()
    return _info(record)


async def _unit(session: AsyncSession, unit_code: str) -> Unit:
    unit = await session.get(Unit, unit_code)
    if unit is None:
        raise NotFound(f"unknown unit {unit_code}: import it with `congvan units import`")
    return unit


async def issue_unit(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    passphrase: bytes,
    unit_code: str,
    out_dir: Path | None = None,
) -> list[CertificateInfo]:
    """Issue a unit's signing (P-256) and encryption (X25519) certificates."""
    unit = await _unit(session, unit_code)
    for use in UNIT_USES:
        if await _active(session, unit_code, use) is not None:
            raise Conflict(
                f"unit {unit_code} already has a {use} certificate: "
                f"use `congvan keys rotate {unit_code}`"
            )
    target = out_dir or issued_dir(settings, unit.node_name)
    return [
        await _issue_unit_key(session, settings, authority, passphrase, unit, use, target)
        for use in UNIT_USES
    ]


async def _issue_unit_key(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    passphrase: bytes,
    unit: Unit,
    use: str,
    target: Path,
) -> CertificateInfo:
    days = settings.keys.cert_days
    key: PrivateKey
    if use == "signing":
        certificate, key = ca_builder.issue_signing(authority, unit.code, unit.name, days)
    else:
        certificate, key = ca_builder.issue_encryption(authority, unit.code, unit.name, days)
    cert_path, key_path = unit_key_paths(target, unit.code, use)
    archive_key(cert_path, key_path)
    ca_builder.write_certificate_and_key(cert_path, key_path, certificate, key, passphrase)
    record = _record(certificate, "unit", unit.code, use)
    session.add(record)
    await session.flush()
    return _info(record)


async def issue_person(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    key: ec.EllipticCurvePrivateKey,
    username: str,
    unit_code: str,
    full_name: str,
    title: str,
) -> tuple[x509.Certificate, CertificateInfo]:
    """Issue a signing person's certificate for ``key`` and record it. The person's previous
    certificate becomes ``superseded``: still good for what they signed with it, and the CA
    issues a new one the same way after a revocation."""
    if not USERNAME.fullmatch(username):
        raise Invalid(f"bad username {username!r}", code="bad-username")
    full_name, title = full_name.strip(), title.strip()
    for option, value in (("--name", full_name), ("--title", title)):
        if not 0 < len(value) <= NAME_LIMIT:
            raise Invalid(f"{option}: 1 to {NAME_LIMIT} characters", code="bad-person-name")
    unit = await _unit(session, unit_code)
    person = PersonName(username, unit.code, unit.name, full_name, title)
    if len(person.owner) > OWNER_LENGTH or len(person.subject().rfc4514_string()) > SUBJECT_LENGTH:
        raise Invalid(f"{person.owner}: the names are too long together for the CA's records")
    previous = await _active(session, person.owner, "signing")
    if previous is not None:
        previous.status = "superseded"
        await session.flush()
    certificate = ca_builder.issue_person(authority, person, key, settings.keys.cert_days)
    record = _record(certificate, PERSON, person.owner, "signing")
    session.add(record)
    await session.flush()
    return certificate, _info(record)


def archive_key(cert_path: Path, key_path: Path) -> None:
    """Keep a replaced key under ``archive/<serial>``: old dispatches stay readable."""
    if not cert_path.exists():
        return
    old = x509.load_pem_x509_certificate(cert_path.read_bytes())
    archive = cert_path.parent / "archive"
    archive.mkdir(mode=0o700, exist_ok=True)
    stem = f"{cert_path.stem}-{serial_hex(old)}"
    shutil.copy2(cert_path, archive / f"{stem}.pem")
    if key_path.exists():
        shutil.copy2(key_path, archive / f"{stem}.key")


async def rotate(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    passphrase: bytes,
    owner: str,
    uses: list[str] | None = None,
    out_dir: Path | None = None,
) -> list[CertificateInfo]:
    """Give an owner new keys for ``uses``: the active certificate of each becomes
    ``superseded``; a use whose last certificate was revoked (or ran out) gets a new one, which
    is how a unit recovers after a revocation. Without ``uses``: every use the owner has
    (``tls`` for a node, signing and encryption for a unit), which must be unambiguous: a
    district's node and its unit usually share a name."""
    issued_before = (
        await session.scalars(
            select(Certificate)
            .where(Certificate.owner == owner, Certificate.owner_kind != "ca")
            .order_by(Certificate.not_before.desc())
        )
    ).all()
    kinds = {record.owner_kind for record in issued_before}
    if PERSON in kinds:
        raise Invalid(
            f"{owner} is a signing person: issue them a new key with `congvan keys issue-person`",
            code="person-owner",
        )
    if not uses and len(kinds) > 1:
        raise Invalid(
            f"{owner} is both a node and a unit: say which keys with --use tls (the node's), "
            "--use signing or --use encryption (the unit's)",
            code="ambiguous-owner",
        )
    wanted = uses or [record.use for record in issued_before if record.status == "active"]
    if not wanted and kinds:
        wanted = ["tls"] if kinds == {"node"} else list(UNIT_USES)
    if not wanted:
        command = "issue-unit" if await session.get(Unit, owner) else "issue-node"
        raise NotFound(
            f"{owner} has no active certificate to rotate: issue its first with "
            f"`congvan keys {command} {owner}`"
        )
    issued: list[CertificateInfo] = []
    for use in dict.fromkeys(wanted):
        last = next((record for record in issued_before if record.use == use), None)
        if last is None:
            raise NotFound(f"{owner} never had a {use} certificate: there is nothing to rotate")
        if last.status == "active":
            last.status = "superseded"
            await session.flush()
        issued.append(await _reissue(session, settings, authority, passphrase, last, out_dir))
    return issued


async def _reissue(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    passphrase: bytes,
    last: Certificate,
    out_dir: Path | None,
) -> CertificateInfo:
    """A new certificate and key for the owner and use of ``last``, its hosts kept."""
    if last.use == "tls":
        node = await session.get(Node, last.owner)
        if node is None:
            raise NotFound(f"unknown node {last.owner}")
        old = x509.load_pem_x509_certificate(last.pem.encode("ascii"))
        hosts = _san_hosts(old) or [node.host]
        return await _issue_tls(
            session, settings, authority, passphrase, last.owner, hosts, out_dir
        )
    unit = await _unit(session, last.owner)
    target = out_dir or issued_dir(settings, unit.node_name)
    return await _issue_unit_key(session, settings, authority, passphrase, unit, last.use, target)


def _san_hosts(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in san]


async def revoke(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    serial: str,
    reason: str,
) -> CertificateInfo:
    """Revoke a certificate by serial and publish a new CRL at once."""
    if reason not in REASONS:
        raise Invalid(f"unknown reason {reason!r}; use one of: {', '.join(REASONS)}")
    # ``openssl x509 -serial`` pads to whole bytes; the serial we store has no leading zeros.
    record = await session.get(Certificate, serial.upper().removeprefix("0X").lstrip("0"))
    if record is None:
        raise NotFound(f"no certificate with serial {serial}", code="unknown-serial")
    if record.owner_kind == "ca":
        raise Invalid("the CA certificate cannot revoke itself; create a new CA")
    if record.status == "revoked":
        raise Conflict(f"certificate {record.serial} is already revoked")
    record.status = "revoked"
    record.revoked_at = datetime.now(UTC)
    record.revocation_reason = reason
    await session.flush()
    await publish_crl(session, settings, authority)
    return _info(record)


async def publish_crl(
    session: AsyncSession, settings: Settings, authority: CertificateAuthority
) -> x509.CertificateRevocationList:
    """Sign a fresh CRL and write it where the CA publishes it and where this node reads it."""
    rows = (await session.scalars(select(Certificate).where(Certificate.status == "revoked"))).all()
    entries = [
        RevokedEntry(row.serial, row.revoked_at or datetime.now(UTC), row.revocation_reason or "")
        for row in rows
    ]
    crl = build_crl(authority, entries, settings.keys.crl_days)
    data = crl_pem(crl)
    write_atomic(settings.ca_dir / CRL_FILE, data)
    write_atomic(settings.pki_dir / CRL_FILE, data)
    return crl


def _info(record: Certificate) -> CertificateInfo:
    return CertificateInfo(
        owner_kind=record.owner_kind,
        owner=record.owner,
        use=record.use,
        serial=record.serial,
        not_after=record.not_after,
        status=record.status,
        revocation_reason=record.revocation_reason,
    )


async def list_certificates(session: AsyncSession) -> list[CertificateInfo]:
    """The CA's, the nodes' and the units' certificates (the persons' are
    :func:`list_person_certificates`)."""
    rows = await session.scalars(
        select(Certificate)
        .where(Certificate.owner_kind != PERSON)
        .order_by(Certificate.owner, Certificate.use, Certificate.not_after)
    )
    return [_info(row) for row in rows]


@dataclass(frozen=True)
class PersonCertificateInfo:
    person: PersonName
    serial: str
    not_after: datetime
    status: str


async def list_person_certificates(session: AsyncSession) -> list[PersonCertificateInfo]:
    """Every signing person's certificate the CA issued, with the name and title it carries."""
    rows = await session.scalars(
        select(Certificate)
        .where(Certificate.owner_kind == PERSON)
        .order_by(Certificate.owner, Certificate.not_after)
    )
    return [
        PersonCertificateInfo(
            PersonName.of(x509.load_pem_x509_certificate(row.pem.encode("ascii"))),
            row.serial,
            row.not_after,
            row.status,
        )
        for row in rows
    ]


def open_ca(settings: Settings, passphrase: bytes) -> CertificateAuthority:
    return load_ca(settings.ca_dir, passphrase)
