"""``congvan backup`` and ``congvan restore``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from config.cli import dir_option, fail, load, run
from config.errors import ConfigError
from config.logging import configure_logging
from config.settings import LogSettings

# As office.node.setup names it; not imported from there, which would load Alembic for every
# command.
PASSPHRASE_VARIABLE = "CONGVAN_KEYS_PASSPHRASE"  # noqa: S105 - a variable name


@click.command()
@dir_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The backup file to write (must not exist).",
)
def backup(node_dir: Path, out: Path) -> None:
    """Write a consistent, encrypted backup of the node: database, files, keys."""
    from office.backup.take import take_backup

    settings = load(node_dir)
    summary = run(take_backup, settings, out)
    click.echo(
        f"backup of node {summary.node} written to {summary.path}: {summary.files} files, "
        f"{summary.content_bytes:,} bytes, database {summary.database}; "
        f"{summary.size:,} bytes encrypted in {summary.seconds:.1f} s"
    )
    click.echo(
        "The node's passphrase is not in the backup, and the backup opens only with it: "
        "keep a copy of the passphrase apart from the backup."
    )


@click.command()
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The backup file.",
)
@click.option(
    "--dir",
    "node_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The new node directory: absent or empty.",
)
@click.option(
    "--database-url",
    default=None,
    help="PostgreSQL: the empty database to load (default: the backup's own URL).",
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help=f"The node's passphrase, copied into the new directory (default: ${PASSPHRASE_VARIABLE}).",
)
@click.option("--web-port", type=int, default=None, help="Listen here, not on the original's.")
@click.option("--peer-port", type=int, default=None, help="Listen here, not on the original's.")
@click.option("--smtp-port", type=int, default=None, help="Listen here, not on the original's.")
@click.option("--admin-port", type=int, default=None, help="Listen here, not on the original's.")
def restore(
    source: Path,
    node_dir: Path,
    database_url: str | None,
    secret_file: Path | None,
    web_port: int | None,
    peer_port: int | None,
    smtp_port: int | None,
    admin_port: int | None,
) -> None:
    """Restore a backup into a new node directory, checking every file first.

    The copy listens on the original's ports unless told otherwise: a copy made beside a
    running original (to check a backup, say) needs ports of its own, or its SMTP listener
    would share the original's (both bind it with SO_REUSEPORT).
    """
    from office.backup.restore import RestorePlan, restore_backup

    configure_logging(LogSettings())
    secret = secret_file.read_bytes() if secret_file else None
    passphrase = secret.strip() if secret else os.environ.get(PASSPHRASE_VARIABLE, "").encode()
    if not passphrase:
        fail(
            ConfigError(
                f"config error: the backup opens with the node's passphrase: give --secret-file "
                f"or set {PASSPHRASE_VARIABLE}"
            )
        )
    ports = {
        section: port
        for section, port in (
            ("web", web_port),
            ("peer", peer_port),
            ("smtp", smtp_port),
            ("admin", admin_port),
        )
        if port is not None
    }
    plan = RestorePlan(source, node_dir, passphrase, database_url, secret, ports)
    summary = run(restore_backup, plan)
    click.echo(
        f"node {summary.node} restored into {summary.node_dir} (backup of {summary.created_at}, "
        f"{summary.files} files, database {summary.database})"
    )
    if summary.secret_file:
        click.echo(f"passphrase written to {summary.secret_file} (mode 0600)")
    else:
        click.echo(
            f"the passphrase is not in the backup: set {PASSPHRASE_VARIABLE} for the node, "
            f"or write it into the passphrase file its node.toml names (mode 0600)"
        )
    click.echo(
        "listening on: "
        + ", ".join(f"{section} {port}" for section, port in summary.ports.items())
        + ("" if ports else "  (the original's ports: give --web-port etc. beside a running one)")
    )
    click.echo("next:")
    click.echo(f"  congvan db upgrade --dir {summary.node_dir}   (if this congvan is newer)")
    click.echo(f"  congvan doctor --dir {summary.node_dir}")
    click.echo(f"  congvan audit verify --dir {summary.node_dir}")
    click.echo(f"  congvan serve --dir {summary.node_dir}")
