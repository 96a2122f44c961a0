"""``congvan keys``, ``congvan units`` and ``congvan users``: the CA and the directory.

Thin commands over :mod:`keys.certificates`, :mod:`keys.directory` and :mod:`keys.accounts`;
each runs in one transaction, so a refused command writes nothing to the database.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from sqlalchemy.ext.asyncio import AsyncSession

from config.cli import dir_option, fail, load, or_fail, run_in
from config.database import transaction
from config.errors import ConfigError, Conflict, Forbidden, Invalid
from config.files import write_secret
from config.settings import Settings
from keys import (
    accounts,
    bundle,
    certificates,
    directory,
    onboarding,
    organisation,
    organisation_cli,
    person_bundle,
    pinbox,
    signers,
    totp,
)
from keys.age import identity_of
from keys.ca import CA_CERT_FILE
from keys.keystore import load_private_key, node_passphrase
from keys.models import CLEARANCES, ROLES
from keys.revocation import REASONS, RevocationChecker
from keys.sealing import SecretBox


def _passphrase(settings: Settings) -> bytes:
    return or_fail(node_passphrase, settings)


def _key_passphrase(settings: Settings, key_passphrase_file: Path | None) -> bytes:
    """The passphrase for keys issued to another node: that node's own, when given."""
    if key_passphrase_file is None:
        return _passphrase(settings)
    try:
        return key_passphrase_file.read_bytes().strip()
    except OSError as error:
        fail(ConfigError(f"cannot read {key_passphrase_file}: {error.strerror}"))


key_passphrase_option = click.option(
    "--key-passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Encrypt the new private keys with the receiving node's passphrase from this file.",
)


@click.group()
def keys() -> None:
    """The provincial CA: certificates, rotation, revocation, the signed directory."""


@keys.command("ca-init")
@dir_option
@click.option("--name", default="Tỉnh uỷ Quảng Trị - CA", show_default=True, help="CA name.")
def ca_init(node_dir: Path, name: str) -> None:
    """Create the provincial CA (ECDSA P-256) on this node."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    authority = run_in(
        transaction(settings),
        lambda session: certificates.init_ca(session, settings, name, passphrase),
    )
    click.echo(f"CA created: {settings.ca_dir / 'ca.pem'}")
    click.echo(f"serial {authority.certificate.serial_number:X}")


@keys.command("issue-node")
@dir_option
@click.argument("node")
@click.option("--host", "hosts", multiple=True, required=True, help="Host name or IP (repeat).")
@click.option("--peer-url", default="", help="The node's peer URL, e.g. https://h:8443.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@key_passphrase_option
def issue_node(
    node_dir: Path,
    node: str,
    hosts: tuple[str, ...],
    peer_url: str,
    out: Path | None,
    key_passphrase_file: Path | None,
) -> None:
    """Issue NODE's TLS certificate (serverAuth + clientAuth, hosts in the SAN)."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    key_passphrase = _key_passphrase(settings, key_passphrase_file)
    url = peer_url or f"https://{hosts[0]}:{settings.peer.port}"
    authority = or_fail(certificates.open_ca, settings, passphrase)
    info = run_in(
        transaction(settings),
        lambda session: certificates.issue_node(
            session, settings, authority, key_passphrase, node, list(hosts), url, out
        ),
    )
    target = out or certificates.issued_dir(settings, node)
    click.echo(f"{node} tls {info.serial} until {info.not_after:%Y-%m-%d} -> {target}")


@keys.command("issue-unit")
@dir_option
@click.argument("unit")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@key_passphrase_option
def issue_unit(
    node_dir: Path, unit: str, out: Path | None, key_passphrase_file: Path | None
) -> None:
    """Issue UNIT's signing (P-256) and encryption (X25519) certificates."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    key_passphrase = _key_passphrase(settings, key_passphrase_file)
    authority = or_fail(certificates.open_ca, settings, passphrase)
    issued = run_in(
        transaction(settings),
        lambda session: certificates.issue_unit(
            session, settings, authority, key_passphrase, unit, out
        ),
    )
    for info in issued:
        click.echo(f"{unit} {info.use} {info.serial} until {info.not_after:%Y-%m-%d}")


@keys.command("issue-person")
@dir_option
@click.argument("username")
@click.option("--unit", required=True, help="The unit the person signs for (its code).")
@click.option("--name", "full_name", required=True, help="Full name, as documents show it.")
@click.option("--title", required=True, help="Position, e.g. 'Phó Bí thư'.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the person bundle here (needed unless this node hosts UNIT).",
)
def issue_person(
    node_dir: Path, username: str, unit: str, full_name: str, title: str, out: Path | None
) -> None:
    """Issue USERNAME of UNIT their own signing key and certificate (P-256, nonRepudiation).

    The key is sealed under an activation code printed once: it goes to the person apart from
    the bundle, and only they turn it into their signing PIN. Installed here at once when this
    node hosts UNIT; else `congvan keys install-person FILE` on their node. Issuing again is
    how a person's key is rotated: their previous certificate is superseded.
    """
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    hosted = unit in settings.node.units
    if out is None and not hosted:
        fail(Invalid(f"{unit} is hosted by another node: give --out FILE for its person bundle"))
    if out is not None and out.exists():
        fail(Conflict(f"{out} exists: choose another --out, or remove it first"))
    authority = or_fail(certificates.open_ca, settings, passphrase)
    key = ec.generate_private_key(ec.SECP256R1())
    code = pinbox.new_activation_code()
    # Sealed before the transaction: argon2 takes a while, and the CA's database is not held.
    sealed = pinbox.seal_key(key, pinbox.normal_code(code))

    async def work(session: AsyncSession) -> tuple[x509.Certificate, certificates.CertificateInfo]:
        issued = await certificates.issue_person(
            session, settings, authority, key, username, unit, full_name, title
        )
        if hosted:
            await signers.install_person_key(
                session, issued[0], sealed, authority.certificate, settings.node.units
            )
        return issued

    certificate, info = run_in(transaction(settings), work)
    click.echo(f"{info.owner} person {info.serial} until {info.not_after:%Y-%m-%d}")
    if hosted:
        click.echo(f"installed on this node, waiting for {username} to activate it")
    if out is not None:
        made = person_bundle.PersonBundle(certificate, authority.certificate, sealed)
        try:
            person_bundle.write_person_bundle(out, made)
        except OSError as error:
            fail(
                ConfigError(
                    f"the certificate was issued, but {out} could not be written "
                    f"({error.strerror}): run this again with another --out"
                )
            )
        click.echo(f"person bundle written to {out}: `congvan keys install-person` on their node")
    click.echo(
        f"activation code (shown once; give it to {full_name} in person, apart from the "
        f"bundle): {code}"
    )


@keys.command("install-person")
@dir_option
@click.argument("bundle_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
def install_person(node_dir: Path, bundle_file: Path) -> None:
    """Store the signing key in FILE (`keys issue-person` on the CA) for its person on this
    node, still sealed: they activate it with the CA's activation code and a signing PIN."""
    settings = load(node_dir)
    made = or_fail(person_bundle.read_person_bundle, bundle_file)
    ca_certificate = or_fail(_node_ca, settings)
    info = run_in(
        transaction(settings),
        lambda session: signers.install_person_key(
            session, made.certificate, made.sealed_key, ca_certificate, settings.node.units
        ),
    )
    click.echo(
        f"{info.username}@{info.unit_code} {info.serial} until {info.not_after:%Y-%m-%d} "
        "installed: it waits for its activation code and a signing PIN"
    )


def _node_ca(settings: Settings) -> x509.Certificate:
    path = settings.pki_dir / CA_CERT_FILE
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as error:
        raise ConfigError(f"config error: cannot read {path}: {error.strerror}") from error


bundle_passphrase_option = click.option(
    "--bundle-passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The bundle's passphrase, from this file (default: make one up and print it).",
)


def read_bundle_passphrase(path: Path) -> bytes:
    try:
        return bundle.check_passphrase(path.read_bytes().strip())
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error


@keys.command()
@dir_option
@click.argument("node")
@click.option("--unit", "units", multiple=True, required=True, help="A unit it hosts (repeat).")
@click.option("--host", "hosts", multiple=True, required=True, help="Host name or IP (repeat).")
@click.option("--peer-url", required=True, help="How the others reach it: https://HOST:PORT.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@bundle_passphrase_option
@click.option("--renew", is_flag=True, help="New keys for a node that has some already.")
def onboard(
    node_dir: Path,
    node: str,
    units: tuple[str, ...],
    hosts: tuple[str, ...],
    peer_url: str,
    out: Path,
    bundle_passphrase_file: Path | None,
    renew: bool,
) -> None:
    """Write OUT: NODE's keys and its units', the CA certificate, the CRL, the signed
    directory and the hub's URL, encrypted to a passphrase, for `congvan init --from-bundle`."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    if out.exists():
        fail(Conflict(f"{out} exists: choose another --out, or remove it first"))
    if bundle_passphrase_file is not None:
        secret = or_fail(read_bundle_passphrase, bundle_passphrase_file)
    else:
        secret = onboarding.new_bundle_passphrase()
    authority = or_fail(certificates.open_ca, settings, passphrase)
    made, issued = run_in(
        transaction(settings),
        lambda session: onboarding.onboard(
            session, settings, authority, node, tuple(units), list(hosts), peer_url, renew
        ),
    )
    try:
        or_fail(bundle.seal_bundle, out, made, secret)
    except OSError as error:
        fail(
            ConfigError(
                f"the keys were issued, but {out} could not be written ({error.strerror}): "
                "run this again with --renew and another --out"
            )
        )
    for info in issued:
        click.echo(f"{info.owner} {info.use} {info.serial} until {info.not_after:%Y-%m-%d}")
    click.echo(f"bundle for {node} written to {out}; the directory is published")
    if bundle_passphrase_file is None:
        click.echo(
            "bundle passphrase (shown once; give it to the node's administrator apart "
            f"from the file): {secret.decode('ascii')}"
        )


@keys.command()
@dir_option
@click.argument("bundle_file", metavar="BUNDLE", type=click.Path(dir_okay=False, path_type=Path))
@bundle_passphrase_option
def install(node_dir: Path, bundle_file: Path, bundle_passphrase_file: Path | None) -> None:
    """Take new keys from BUNDLE (`keys onboard --renew` on the CA) into this node; the keys
    they replace are kept in archive/. Restart the node afterwards."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    secret = or_fail(bundle_passphrase, bundle_passphrase_file)
    made = or_fail(bundle.open_bundle, bundle_file, secret)
    if made.node != settings.node.name or not set(made.units) <= set(settings.node.units):
        fail(
            Invalid(
                f"the bundle is for node {made.node} with units {', '.join(made.units)}; this "
                f"is {settings.node.name} with {', '.join(settings.node.units)} ([node] units)",
                code="other-node",
            )
        )
    or_fail(
        bundle.install_bundle,
        made,
        settings.pki_dir,
        settings.crl_file,
        settings.directory_file,
        passphrase,
    )
    run_in(
        transaction(settings),
        lambda session: directory.refresh_units(session, made.directory_document()),
    )
    click.echo(f"keys of {made.node} installed in {settings.pki_dir}; restart the node")


def bundle_passphrase(path: Path | None, environ: Mapping[str, str] = os.environ) -> bytes:
    """The passphrase ``keys onboard`` printed: from ``path``, ``CONGVAN_BUNDLE_PASSPHRASE``,
    or asked; a line of standard input when that is not a terminal (``… <<< "$PASS"``)."""
    if path is not None:
        return read_bundle_passphrase(path)
    if environ.get(bundle.PASSPHRASE_VARIABLE):
        answer = environ[bundle.PASSPHRASE_VARIABLE]
    elif not sys.stdin.isatty():
        answer = sys.stdin.readline()
    else:
        answer = str(click.prompt("Bundle passphrase", hide_input=True, err=True))
    return bundle.check_passphrase(answer.strip().encode())


@keys.command()
@dir_option
@click.argument("owner")
@click.option("--use", "uses", multiple=True, type=click.Choice(["tls", "signing", "encryption"]))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@key_passphrase_option
def rotate(
    node_dir: Path,
    owner: str,
    uses: tuple[str, ...],
    out: Path | None,
    key_passphrase_file: Path | None,
) -> None:
    """Give OWNER (a node or a unit) new keys; old encryption keys are kept to read old mail.

    A certificate that was revoked is replaced the same way (`--use signing` after the
    unit's signing key was revoked). When a node and a unit share OWNER's name, --use says
    which keys: tls for the node's, signing or encryption for the unit's.
    """
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    key_passphrase = _key_passphrase(settings, key_passphrase_file)
    authority = or_fail(certificates.open_ca, settings, passphrase)
    issued = run_in(
        transaction(settings),
        lambda session: certificates.rotate(
            session, settings, authority, key_passphrase, owner, list(uses) or None, out
        ),
    )
    for info in issued:
        click.echo(f"{owner} {info.use} {info.serial} until {info.not_after:%Y-%m-%d}")


@keys.command()
@dir_option
@click.argument("serial")
@click.option("--reason", required=True, type=click.Choice(sorted(REASONS)))
def revoke(node_dir: Path, serial: str, reason: str) -> None:
    """Revoke the certificate SERIAL and publish a new CRL."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    authority = or_fail(certificates.open_ca, settings, passphrase)
    info = run_in(
        transaction(settings),
        lambda session: certificates.revoke(session, settings, authority, serial, reason),
    )
    click.echo(f"revoked {info.serial} ({info.owner} {info.use}): {reason}")


@keys.command()
@dir_option
def crl(node_dir: Path) -> None:
    """Sign and publish a fresh CRL (run it before the old one's nextUpdate)."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    authority = or_fail(certificates.open_ca, settings, passphrase)
    published = run_in(
        transaction(settings),
        lambda session: certificates.publish_crl(session, settings, authority),
    )
    click.echo(f"CRL {settings.ca_dir / 'crl.pem'} next update {published.next_update_utc}")


@keys.command("directory")
@dir_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def publish_directory(node_dir: Path, out: Path | None) -> None:
    """Write the CA-signed directory (units, nodes, addresses, certificates)."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    target = out or settings.ca_dir / directory.DIRECTORY_FILE
    authority = or_fail(certificates.open_ca, settings, passphrase)
    run_in(
        transaction(settings),
        lambda session: directory.publish_directory(
            session, authority, target, settings.keys.crl_days, settings.node.name
        ),
    )
    click.echo(f"directory {target} signature {target}{directory.SIGNATURE_SUFFIX}")


@keys.command("list")
@dir_option
def list_keys(node_dir: Path) -> None:
    """Every certificate: owner, use, serial, not-after, status; warns of near expiry. Then
    signing persons': issued by the CA (on the CA), and the keys installed on this node."""
    settings = load(node_dir)
    warning_days = settings.keys.expiry_warning_days
    rows = run_in(transaction(settings), certificates.list_certificates)
    click.echo(f"{'OWNER':<14} {'USE':<11} {'SERIAL':<41} {'NOT AFTER':<11} STATUS")
    now = datetime.now(UTC)
    for row in rows:
        click.echo(
            f"{row.owner:<14} {row.use:<11} {row.serial:<41} {row.not_after:%Y-%m-%d}  {row.status}"
        )
    _list_persons(settings)
    for row in rows:
        if row.expires_within(warning_days, now):
            days = (row.not_after - now).days
            click.echo(
                f"warning: {row.owner} {row.use} certificate {row.serial} expires in "
                f"{days} days ({row.not_after:%Y-%m-%d}): "
                f"run `congvan keys rotate {row.owner}`",
                err=True,
            )


def _list_persons(settings: Settings) -> None:
    """Signing persons' certificates: those the CA issued (on the CA), and the keys installed
    on this node with their state, revoked or not by this node's CRL."""

    async def work(
        session: AsyncSession,
    ) -> tuple[list[certificates.PersonCertificateInfo], list[signers.PersonKeyInfo]]:
        return (
            await certificates.list_person_certificates(session),
            await signers.list_person_keys(session),
        )

    issued, installed = run_in(transaction(settings), work)
    if issued:
        click.echo(f"\n{'PERSON':<24} {'SERIAL':<41} {'NOT AFTER':<11} {'STATUS':<11} NAME, TITLE")
    for row in issued:
        person = row.person
        click.echo(
            f"{person.owner:<24} {row.serial:<41} {row.not_after:%Y-%m-%d}  {row.status:<11} "
            f"{person.full_name}, {person.title}"
        )
    if installed:
        click.echo(
            f"\n{'SIGNING KEY HERE':<24} {'SERIAL':<41} {'NOT AFTER':<11} {'STATE':<11} NAME, TITLE"
        )
    ca_certificate = or_fail(_node_ca, settings) if installed else None
    revocation = RevocationChecker(ca_certificate, settings.crl_file) if ca_certificate else None
    for key in installed:
        state = key.state
        if revocation is not None:
            try:
                state += ",revoked" if signers.is_revoked(revocation, int(key.serial, 16)) else ""
            except Forbidden:
                state += ",crl?"
        click.echo(
            f"{key.username + '@' + key.unit_code:<24} {key.serial:<41} "
            f"{key.not_after:%Y-%m-%d}  {state:<11} {key.full_name}, {key.title}"
        )


@keys.command("age-identity")
@dir_option
@click.argument("unit")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def age_identity(node_dir: Path, unit: str, out: Path) -> None:
    """Write UNIT's current decryption key as an age identity file (mode 0600), so that
    `age -d -i FILE payload.age` can check a dispatch without congvan."""
    settings = load(node_dir)
    passphrase = _passphrase(settings)
    _cert_path, key_path = certificates.unit_key_paths(settings.pki_dir, unit, "encryption")
    key = or_fail(load_private_key, key_path, passphrase)
    if not isinstance(key, x25519.X25519PrivateKey):
        fail(ConfigError(f"{key_path} is not an X25519 key"))
    write_secret(out, f"# congvan unit {unit}\n{identity_of(key)}\n".encode())
    click.echo(f"age identity of {unit} written to {out} (keep it secret; delete it after use)")


@click.group()
def units() -> None:
    """The unit directory."""


@units.command("import")
@dir_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "--sample",
    type=click.Choice(sorted(directory.SAMPLE_UNITS)),
    help="A units file that ships with congvan, by name, instead of FILE.",
)
def import_units(node_dir: Path, file: Path | None, sample: str | None) -> None:
    """Add the nodes and units of a TOML file (`--sample quangtri` for the one shipped)."""
    if (file is None) == (sample is None):
        raise click.UsageError("give a units FILE or --sample NAME (one of them)")
    settings = load(node_dir)

    async def work(session: AsyncSession) -> int:
        if sample is not None:
            with directory.sample_units_file(sample) as path:
                nodes, entries = directory.read_units_file(path)
        else:
            assert file is not None
            nodes, entries = directory.read_units_file(file)
        return await directory.import_units(session, nodes, entries)

    click.echo(f"imported {run_in(transaction(settings), work)} units")


@units.command("set-pull")
@dir_option
@click.argument("node")
@click.option("--off", is_flag=True, help="The node is reachable again: send to it directly.")
def set_pull(node_dir: Path, node: str, off: bool) -> None:
    """Mark NODE as often offline: its dispatches wait at the hub until it fetches them.

    Publish the directory afterwards (`congvan keys directory`) so the other nodes learn it.
    """
    settings = load(node_dir)
    run_in(transaction(settings), lambda session: directory.set_pull(session, node, not off))
    click.echo(f"{node}: {'direct' if off else 'pull (fetches from the hub)'}")


@units.command("list")
@dir_option
def list_units(node_dir: Path) -> None:
    """Units with their kind, parent, hosting node and mail domain."""
    settings = load(node_dir)
    for row in run_in(transaction(settings), directory.list_units):
        click.echo(
            f"{row.code:<14} {row.kind:<9} {row.parent or '-':<10} {row.node:<12} "
            f"{row.mail_domain:<28} {row.name}"
        )


units.add_command(organisation_cli.unit_head)
units.add_command(organisation_cli.department)


@click.group()
def users() -> None:
    """Staff accounts and their second factors."""


def _read_password(password_file: Path | None) -> str:
    if password_file is None:
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    try:
        text = password_file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {password_file}: {error.strerror}") from error
    return text.rstrip("\n")


@users.command("add")
@dir_option
@click.argument("username")
@click.option("--unit", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--clearance", type=click.Choice([str(level) for level in CLEARANCES]), default="0")
@click.option("--full-name", default="")
@click.option("--department", default=None, help="The code of the unit's department they join.")
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the password from this file instead of asking.",
)
def add_user(
    node_dir: Path,
    username: str,
    unit: str,
    role: str,
    clearance: str,
    full_name: str,
    department: str | None,
    password_file: Path | None,
) -> None:
    """Create a staff account (password hashed with argon2id)."""
    settings = load(node_dir)
    password = or_fail(_read_password, password_file)

    async def work(session: AsyncSession) -> None:
        await accounts.add_user(
            session, username, password, unit, role, int(clearance), settings.node.units, full_name
        )
        if department is not None:
            await organisation.set_member(session, username, department, settings.node.units)

    run_in(transaction(settings), work)
    joined = f", department {department.upper()}" if department else ""
    click.echo(f"user {username} added to {unit} as {role}, clearance {clearance}{joined}")


@users.command("department")
@dir_option
@click.argument("username")
@click.argument("code", required=False)
@click.option("--none", "clear", is_flag=True, help="They belong to no department.")
def user_department(node_dir: Path, username: str, code: str | None, clear: bool) -> None:
    """Put USERNAME in department CODE of their unit (a head who leaves stops heading it)."""
    if (code is None) == (not clear):
        raise click.UsageError("give CODE or --none (one of them)")
    settings = load(node_dir)
    run_in(
        transaction(settings),
        lambda session: organisation.set_member(session, username, code, settings.node.units),
    )
    click.echo(f"{username}: department {code.upper() if code else '-'}")


@users.command("totp")
@dir_option
@click.argument("username")
def enrol_totp(node_dir: Path, username: str) -> None:
    """Enrol (or re-enrol) USERNAME's authenticator: prints the otpauth URI and a QR code."""
    settings = load(node_dir)
    box = SecretBox(_passphrase(settings), settings.node.name)
    enrolment = run_in(
        transaction(settings), lambda session: accounts.enrol_totp(session, username, box)
    )
    click.echo(enrolment.uri)
    click.echo(totp.terminal_qr(enrolment.uri))


@users.command("app-password")
@dir_option
@click.argument("username")
@click.option("--label", required=True, help="The device, e.g. 'Thunderbird office'.")
@click.option("--revoke", is_flag=True, help="Revoke the app password with this label.")
def app_password(node_dir: Path, username: str, label: str, revoke: bool) -> None:
    """Create a mail client password for one device (shown once), or revoke it."""
    settings = load(node_dir)

    async def work(session: AsyncSession) -> str:
        if revoke:
            await accounts.revoke_app_password(session, username, label)
            return f"revoked app password {label!r} of {username}"
        return await accounts.add_app_password(session, username, label)

    click.echo(run_in(transaction(settings), work))


@users.command("disable")
@dir_option
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the account again.")
def disable(node_dir: Path, username: str, enable: bool) -> None:
    """Disable USERNAME: no sign-in, no mail submission."""
    settings = load(node_dir)
    run_in(
        transaction(settings), lambda session: accounts.set_disabled(session, username, not enable)
    )
    click.echo(f"{username} {'enabled' if enable else 'disabled'}")


@users.command("duties")
@dir_option
@click.argument("username")
@click.option("--title", default=None, help="Chức vụ, as written under a signature.")
@click.option(
    "--reviewer/--no-reviewer",
    default=None,
    help="Drafts may be submitted to them for review (trình cho ý kiến).",
)
@click.option(
    "--signer/--no-signer",
    default=None,
    help="They have signing authority: drafts may be submitted to them to sign (trình ký).",
)
def duties(
    node_dir: Path,
    username: str,
    title: str | None,
    reviewer: bool | None,
    signer: bool | None,
) -> None:
    """USERNAME's title and duties in the review of outgoing drafts."""
    settings = load(node_dir)
    user = run_in(
        transaction(settings),
        lambda session: accounts.set_duties(
            session, username, title=title, may_review=reviewer, may_sign=signer
        ),
    )
    click.echo(
        f"{user.username}: title {user.title or '-'}, "
        f"reviewer {'yes' if user.may_review else 'no'}, "
        f"signer {'yes' if user.may_sign else 'no'}"
    )


@users.command("list")
@dir_option
def list_users(node_dir: Path) -> None:
    """Accounts with unit, role, clearance, second factor and app passwords."""
    settings = load(node_dir)
    rows = run_in(transaction(settings), accounts.list_accounts)
    click.echo(f"{'USER':<20} {'UNIT':<12} {'ROLE':<7} {'CLEARANCE':<10} TOTP STATE APP-PASSWORDS")
    for row in rows:
        click.echo(
            f"{row.username:<20} {row.unit:<12} {row.role:<7} "
            f"{CLEARANCES[row.clearance]:<10} {'yes' if row.has_totp else 'no ':<4} "
            f"{'disabled' if row.disabled else 'active  '} {', '.join(row.app_passwords)}"
        )
