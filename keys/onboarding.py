"""Onboarding on the CA: a node's keys, its units' keys and the trust data, in one bundle.

The node and its units must already be in the unit directory (the province's units file,
imported with ``congvan units import``): the bundle is where the CA vouches for them, not where
they are made up. The caller owns the transaction; the bundle is sealed after it commits
(:func:`keys.bundle.seal_bundle`), so the CA's database is not held while scrypt runs.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from config.settings import Settings
from keys import certificates, directory
from keys.bundle import GENERATED_BYTES, Bundle, certificate_paths, key_paths
from keys.ca import CA_CERT_FILE, CertificateAuthority
from keys.certificates import UNIT_USES, CertificateInfo
from keys.keystore import load_private_key
from keys.models import Certificate, Node, Unit
from keys.revocation import CRL_FILE


def new_bundle_passphrase() -> bytes:
    return secrets.token_urlsafe(GENERATED_BYTES).encode("ascii")


async def onboard(
    session: AsyncSession,
    settings: Settings,
    authority: CertificateAuthority,
    node_name: str,
    unit_codes: tuple[str, ...],
    hosts: list[str],
    peer_url: str,
    renew: bool = False,
) -> tuple[Bundle, list[CertificateInfo]]:
    """Issue ``node_name``'s TLS certificate and each unit's signing and encryption ones,
    publish a fresh CRL and directory naming them, and gather all of it into a bundle.

    A node or unit that already has keys is refused unless ``renew``: then its certificates
    are superseded by the new ones (a revoked one is simply replaced), which is how a node
    onboarded with a bundle gets new keys after a revocation.
    """
    hub_url = await _checked(session, settings, node_name, unit_codes, peer_url)
    owners = [(node_name, "tls")] + [(code, use) for code in unit_codes for use in UNIT_USES]
    active = [
        record
        for owner, use in owners
        if (record := await _active(session, owner, use)) is not None
    ]
    if active and not renew:
        held = ", ".join(f"{record.owner} {record.use}" for record in active)
        raise Conflict(
            f"{node_name} already has keys ({held}): to give it new ones, run this again with "
            "--renew (its certificates are superseded), then `congvan keys install` on the node",
            code="already-onboarded",
        )
    for record in active:
        record.status = "superseded"
    await session.flush()
    transit = secrets.token_urlsafe(GENERATED_BYTES).encode("ascii")
    with tempfile.TemporaryDirectory(dir=settings.ca_dir, prefix=".onboard-") as folder:
        issued_dir = Path(folder)
        issued = [
            await certificates.issue_node(
                session, settings, authority, transit, node_name, hosts, peer_url, issued_dir
            )
        ]
        for code in unit_codes:
            issued += await certificates.issue_unit(
                session, settings, authority, transit, code, issued_dir
            )
        keys = {
            name: load_private_key(issued_dir / name, transit) for name in key_paths(unit_codes)
        }
        files = {name: (issued_dir / name).read_bytes() for name in certificate_paths(unit_codes)}
    await certificates.publish_crl(session, settings, authority)
    published = await directory.publish_directory(
        session,
        authority,
        settings.ca_dir / directory.DIRECTORY_FILE,
        settings.keys.crl_days,
        settings.node.name,
    )
    files[CA_CERT_FILE] = (settings.ca_dir / CA_CERT_FILE).read_bytes()
    files[CRL_FILE] = (settings.ca_dir / CRL_FILE).read_bytes()
    files[directory.DIRECTORY_FILE] = published.read_bytes()
    signature = directory.DIRECTORY_FILE + directory.SIGNATURE_SUFFIX
    files[signature] = published.with_name(signature).read_bytes()
    bundle = Bundle(
        node=node_name,
        units=unit_codes,
        peer_url=peer_url,
        hub=settings.node.name,
        hub_url=hub_url,
        files=files,
        keys=keys,
    )
    return bundle, issued


async def _checked(
    session: AsyncSession,
    settings: Settings,
    node_name: str,
    unit_codes: tuple[str, ...],
    peer_url: str,
) -> str:
    """Refuse what the unit directory does not vouch for; return the hub's peer URL."""
    if not settings.node.hub:
        raise Invalid(
            "keys onboard runs on the provincial node (the hub and CA)", code="not-the-hub"
        )
    if node_name == settings.node.name:
        raise Invalid(
            f"{node_name} is this node: issue its own keys with `congvan keys issue-node` and "
            "`keys issue-unit`",
            code="own-node",
        )
    if not peer_url.startswith("https://"):
        raise Invalid(
            f"--peer-url {peer_url!r}: give the node's peer URL as the others reach it, "
            "e.g. https://camlo.quangtri.dcs.vn:8443",
            code="bad-peer-url",
        )
    if await session.get(Node, node_name) is None:
        raise NotFound(
            f"node {node_name} is not in the unit directory: add a [[node]] for it to the "
            "units file and run `congvan units import FILE`",
            code="unknown-node",
        )
    if not unit_codes:
        raise Invalid(f"name the units {node_name} hosts with --unit", code="no-unit")
    for code in unit_codes:
        unit = await session.get(Unit, code)
        if unit is None:
            raise NotFound(
                f"unit {code} is not in the unit directory: add a [[unit]] for it (node = "
                f'"{node_name}") to the units file and run `congvan units import FILE`',
                code="unknown-unit",
            )
        if unit.node_name != node_name:
            raise Invalid(
                f"unit {code} is hosted by node {unit.node_name} in the unit directory, "
                f"not by {node_name}",
                code="other-node",
            )
    hub = await session.get(Node, settings.node.name)
    hub_url = settings.peer.public_url or (hub.peer_url if hub is not None else "")
    if not hub_url:
        raise Invalid(
            f"the hub's peer URL is not known: issue this node's certificate with "
            f"`congvan keys issue-node {settings.node.name} --peer-url https://…`, or set "
            "[peer] public_url",
            code="no-hub-url",
        )
    return hub_url


async def _active(session: AsyncSession, owner: str, use: str) -> Certificate | None:
    return await session.scalar(
        select(Certificate).where(
            Certificate.owner == owner, Certificate.use == use, Certificate.status == "active"
        )
    )
