"""``congvan mail``: aliases, and the password check an IMAP server (Dovecot) runs.

Alias commands are thin, one transaction each, so a refused command writes nothing;
``checkpassword`` speaks the checkpassword interface (:mod:`mailgw.checkpassword`) and exits
with its codes, not the usual ones. Each command imports what it needs in its body: Dovecot
starts ``checkpassword`` for every IMAP sign-in, which must not pay for the alias commands'
imports (the unit directory, the CA's certificates, TOTP).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from config.cli import dir_option, load, run_in
from config.database import transaction


@click.group()
def mail() -> None:
    """Mail: aliases, and the app-password check for an IMAP server (Dovecot)."""


@mail.group()
def alias() -> None:
    """Extra addresses (bí danh) a user sends as and receives mail at."""


@alias.command("add")
@dir_option
@click.argument("address")
@click.argument("username")
def add_alias(node_dir: Path, address: str, username: str) -> None:
    """Give USERNAME the extra address ADDRESS (in the mail domain of a unit hosted here)."""
    from mailgw import aliases

    settings = load(node_dir)
    added = run_in(
        transaction(settings),
        lambda session: aliases.add_alias(session, address, username, settings.node.units),
    )
    click.echo(f"alias {added.address} -> {added.username} ({added.unit})")


@alias.command("remove")
@dir_option
@click.argument("address")
def remove_alias(node_dir: Path, address: str) -> None:
    """Take the alias ADDRESS away; mail to it is refused from then on."""
    from mailgw import aliases

    settings = load(node_dir)
    owner = run_in(transaction(settings), lambda session: aliases.remove_alias(session, address))
    click.echo(f"alias {address.strip().lower()} of {owner} removed")


@alias.command("list")
@dir_option
def list_aliases(node_dir: Path) -> None:
    """Every alias with its user and the user's unit."""
    from mailgw import aliases

    settings = load(node_dir)
    rows = run_in(transaction(settings), aliases.list_aliases)
    click.echo(f"{'ADDRESS':<40} {'USER':<20} {'UNIT':<12} ADDED")
    for row in rows:
        click.echo(f"{row.address:<40} {row.username:<20} {row.unit:<12} {row.created_at:%Y-%m-%d}")


@mail.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@dir_option
@click.argument("program", nargs=-1, type=click.UNPROCESSED)
def checkpassword(node_dir: Path, program: tuple[str, ...]) -> None:
    """Check a login and app password given on descriptor 3 (djb checkpassword, as Dovecot's
    passdb driver = checkpassword calls it); then run PROGRAM with USER and HOME set.

    Exit 0 (no PROGRAM) or PROGRAM's code when it holds, 1 when it does not, 111 when the
    database cannot be reached, 2 when misused.
    """
    from mailgw import checkpassword as checkpassword_protocol

    sys.exit(checkpassword_protocol.check(node_dir, program, os.environ))
