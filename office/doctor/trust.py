"""Certificates and trust data: what the node shows its peers, and what it judges them by.

A certificate past its end, a CRL or signed directory past its next update, or one the CA did
not sign, stops the exchange (every node fails closed); the doctor reads them with the same
:class:`~keys.revocation.RevocationChecker` and :class:`~keys.signed_directory.SignedDirectory`
the node uses, and warns while there is still time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509

from config.errors import PeerRefused
from config.settings import Settings
from keys.ca import CA_CERT_FILE
from keys.certificates import node_tls_paths, unit_key_paths
from keys.revocation import RevocationChecker
from keys.signed_directory import SignedDirectory
from office.doctor.findings import Finding, first_line, ok, problem, warning
from office.doctor.local import shown

#: A CRL or directory this close to its next update is about to stop the node.
TRUST_EXPIRING = timedelta(days=1)


@dataclass(frozen=True)
class HeldCertificate:
    check: str
    path: Path
    #: The command that issues it anew, and the one that replaces it before it runs out.
    issue: str
    renew: str


def _from_the_ca(settings: Settings, command: str, owner: str) -> str:
    """Where a command runs: here on the hub, else on the hub and the keys brought over (a
    renewed bundle, or the files issued with this node's passphrase)."""
    if settings.node.hub:
        return f"`congvan {command} --dir {settings.node_dir}`"
    return (
        f"on the provincial node `congvan keys onboard {owner} … --renew`, then `congvan keys "
        f"install BUNDLE --dir {settings.node_dir}` here; or there `congvan {command} "
        f"--key-passphrase-file <this node's passphrase file>`, then copy ca/issued/{owner}/* "
        f"into {settings.pki_dir} (docs/deploy.md, Revocation and recovery)"
    )


def held_certificates(settings: Settings) -> list[HeldCertificate]:
    """The CA certificate, the node's TLS certificate and each hosted unit's two."""
    name = settings.node.name
    cert_path, _key_path = node_tls_paths(settings.pki_dir)
    held = [
        HeldCertificate(
            "certificate CA",
            settings.pki_dir / CA_CERT_FILE,
            "copy ca.pem from the provincial node's ca/ folder into " + str(settings.pki_dir),
            "a new CA must be made and every certificate issued again (docs/pki.md)",
        ),
        HeldCertificate(
            f"certificate {name} tls",
            cert_path,
            _from_the_ca(settings, f"keys issue-node {name} --host <host>", name),
            _from_the_ca(settings, f"keys rotate {name} --use tls", name),
        ),
    ]
    for code in settings.node.units:
        for use in ("signing", "encryption"):
            held.append(
                HeldCertificate(
                    f"certificate {code} {use}",
                    unit_key_paths(settings.pki_dir, code, use)[0],
                    _from_the_ca(settings, f"keys issue-unit {code}", name),
                    _from_the_ca(settings, f"keys rotate {code} --use {use}", name),
                )
            )
    return held


def check_certificate(
    settings: Settings,
    held: HeldCertificate,
    now: datetime,
    revoked: Callable[[int], bool] = lambda _serial: False,
) -> Finding:
    """Present, in force, not revoked, and not within ``[keys] expiry_warning_days`` of its
    end. A revoked unit certificate stops every dispatch its unit sends or answers for, as a
    revoked TLS certificate stops the node."""
    try:
        certificate = x509.load_pem_x509_certificate(held.path.read_bytes())
    except FileNotFoundError:
        return problem(held.check, f"{shown(settings, held.path)} is missing", held.issue)
    except (OSError, ValueError) as error:
        return problem(
            held.check,
            f"{shown(settings, held.path)} is unreadable: {first_line(error)}",
            held.issue,
        )
    not_after = certificate.not_valid_after_utc
    if certificate.not_valid_before_utc > now:
        return problem(
            held.check,
            f"not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC: "
            "is this machine's clock right?",
            "set the clock (NTP), or have it issued again",
        )
    if not_after <= now:
        return problem(held.check, f"expired on {not_after:%Y-%m-%d}", held.renew)
    if revoked(certificate.serial_number):
        return problem(
            held.check,
            f"revoked ({certificate.serial_number:X}): peers refuse what it signs",
            held.renew,
        )
    days_left = (not_after - now).days
    if not_after - now <= timedelta(days=settings.keys.expiry_warning_days):
        return warning(
            held.check, f"expires in {days_left} days ({not_after:%Y-%m-%d})", held.renew
        )
    return ok(held.check, f"valid until {not_after:%Y-%m-%d}")


def check_certificates(
    settings: Settings, ca: x509.Certificate | None, now: datetime
) -> list[Finding]:
    revocation = RevocationChecker(ca, settings.crl_file) if ca is not None else None

    def revoked(serial: int) -> bool:
        """On the CRL; a CRL that cannot be read is :func:`check_crl`'s finding."""
        if revocation is None:
            return False
        try:
            return revocation.is_revoked(serial)
        except (OSError, ValueError, PeerRefused):
            return False

    return [check_certificate(settings, held, now, revoked) for held in held_certificates(settings)]


def ca_certificate(settings: Settings) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate((settings.pki_dir / CA_CERT_FILE).read_bytes())
    except (OSError, ValueError):
        return None  # reported by the certificate checks


def _refresh_remedy(settings: Settings, command: str, published: str) -> str:
    if settings.node.hub:
        return f"`congvan keys {command} --dir {settings.node_dir}` (the running hub re-signs it)"
    if settings.exchange.hub_url:
        return (
            "start the node: it fetches a fresh copy from the hub every "
            "[exchange] refresh_minutes (is the hub reachable?)"
        )
    return (
        f"copy {published} from the provincial node, or set [exchange] hub_url so the node "
        "fetches it by itself"
    )


def check_crl(settings: Settings, ca: x509.Certificate | None, now: datetime) -> Finding:
    """The CRL is there, signed by our CA and before its next update."""
    path = settings.crl_file
    remedy = _refresh_remedy(settings, "crl", "ca/crl.pem")
    if ca is None:
        return problem("CRL", "not checked: no CA certificate to check it with", remedy)
    if not path.exists():
        return problem("CRL", f"{shown(settings, path)} is missing: peers are refused", remedy)
    try:
        crl = x509.load_pem_x509_crl(path.read_bytes())
        # Serial 0 is never issued (keys.ca.new_serial): this checks the CRL itself. What it
        # revokes of ours is each certificate's own finding (check_certificate).
        RevocationChecker(ca, path).is_revoked(0)
    except ValueError as error:
        return problem("CRL", f"{shown(settings, path)} is unreadable: {first_line(error)}", remedy)
    except PeerRefused:
        next_update = crl.next_update_utc
        if next_update is not None and next_update < now:
            reason = f"past its next update ({next_update:%Y-%m-%d %H:%M} UTC)"
        else:
            reason = "not signed by our CA"
        return problem("CRL", f"{shown(settings, path)} is {reason}: peers are refused", remedy)
    next_update = crl.next_update_utc
    assert next_update is not None  # RevocationChecker refuses a CRL without one
    if next_update - now < TRUST_EXPIRING:
        return warning(
            "CRL", f"next update {next_update:%Y-%m-%d %H:%M} UTC, in less than a day", remedy
        )
    return ok("CRL", f"signed by the CA, next update {next_update:%Y-%m-%d %H:%M} UTC")


def check_directory(settings: Settings, ca: x509.Certificate | None, now: datetime) -> Finding:
    """The signed directory is there, signed by our CA and before its next update."""
    path = settings.directory_file
    remedy = _refresh_remedy(settings, "directory", "ca/directory.json and its .sig")
    if ca is None:
        return problem("directory", "not checked: no CA certificate to check it with", remedy)
    if not path.exists():
        return problem("directory", f"{shown(settings, path)} is missing", remedy)
    try:
        next_update = datetime.fromisoformat(json.loads(path.read_bytes())["next_update"])
        SignedDirectory(ca, path).hub_name()
    except PeerRefused:
        reason = "past its next update" if next_update < now else "not signed by our CA"
        return problem("directory", f"{shown(settings, path)} is {reason}", remedy)
    except (OSError, ValueError, KeyError, TypeError) as error:
        return problem(
            "directory", f"{shown(settings, path)} is unreadable: {first_line(error)}", remedy
        )
    if next_update - now < TRUST_EXPIRING:
        return warning(
            "directory",
            f"next update {next_update:%Y-%m-%d %H:%M} UTC, in less than a day",
            remedy,
        )
    return ok("directory", f"signed by the CA, next update {next_update:%Y-%m-%d %H:%M} UTC")
