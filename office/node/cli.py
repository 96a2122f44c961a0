"""The ``congvan`` command: a thin layer over the same functions the node uses."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import gc
import importlib
import os
import resource
import signal
from pathlib import Path

import click

from config.cli import dir_option, load, run
from config.library_warnings import ignore_known_library_warnings
from config.logging import configure_logging
from config.memory import tune_allocator
from config.settings import LogSettings
from config.tls_buffers import share_tls_read_buffers

ignore_known_library_warnings()

# Commands import the node, the demo and the migrations inside their bodies, and each layer's
# command group is imported only when it is the one run: `congvan users list` then starts
# without loading aiohttp, the exchange and Alembic (about a second of every command).

#: How often a ``serve-smtp`` looks whether the ``serve`` that started it is still there.
ORPHAN_CHECK_SECONDS = 1.0

#: Command name -> "module:attribute" of its click command.
LAYER_COMMANDS = {
    "audit": "exchange.cli:audit",
    "backup": "office.backup.cli:backup",
    "doctor": "office.doctor.cli:doctor",
    "documents": "office.documents.cli:documents",
    "exchange": "exchange.cli:exchange",
    "keys": "keys.cli:keys",
    "mail": "mailgw.cli:mail",
    "report": "office.reports.cli:report",
    "restore": "office.backup.cli:restore",
    "units": "keys.cli:units",
    "usage": "exchange.usage_cli:usage",
    "users": "keys.cli:users",
}


class LayerCommands(click.Group):
    """The ``congvan`` group: the commands below plus each layer's, loaded when named."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAYER_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAYER_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LayerCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="congvan")
def main() -> None:
    """congvan: signed, encrypted document exchange and e-office for a network of offices."""


@main.command()
@dir_option
@click.option("--node", "node_name", help="This node's name, e.g. HU-CAMLO.")
@click.option("--unit", "unit_codes", multiple=True, help="A hosted unit (repeat).")
@click.option("--hub", is_flag=True, help="This node is the provincial hub and CA.")
@click.option(
    "--from-bundle",
    "bundle_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file `congvan keys onboard` wrote: node, units, keys and trust data from the CA.",
)
@click.option(
    "--bundle-passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle's passphrase (else CONGVAN_BUNDLE_PASSPHRASE, or asked).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--web-port", type=int, default=8080, show_default=True)
@click.option("--peer-port", type=int, default=8443, show_default=True)
@click.option("--database-url", default="", help="postgresql://… (default: SQLite in --dir).")
@click.option("--passphrase-file", default="", help="File holding the key passphrase.")
def init(
    node_dir: Path,
    node_name: str | None,
    unit_codes: tuple[str, ...],
    hub: bool,
    bundle_file: Path | None,
    bundle_passphrase_file: Path | None,
    host: str,
    web_port: int,
    peer_port: int,
    database_url: str,
    passphrase_file: str,
) -> None:
    """Set up a node directory: settings, passphrase, migrated database; with --from-bundle,
    also its keys, the CA certificate, the CRL, the signed directory and its units."""
    from config.cli import fail
    from config.errors import CongvanError
    from keys.bundle import open_bundle
    from keys.cli import bundle_passphrase
    from office.node.setup import NodePlan, init_node, plan_from_bundle

    if bundle_file is None and (not node_name or not unit_codes):
        raise click.UsageError("give --node and --unit (repeat), or --from-bundle FILE")
    if bundle_file is not None and (node_name or unit_codes or hub):
        raise click.UsageError(
            "--from-bundle names the node and its units: leave out --node, --unit and --hub"
        )
    configure_logging(LogSettings())
    plan = NodePlan(
        node_name=node_name or "",
        units=unit_codes,
        hub=hub,
        host=host,
        web_port=web_port,
        peer_port=peer_port,
        database_url=database_url,
        passphrase_file=passphrase_file,
    )
    bundle = None
    if bundle_file is not None:
        try:
            secret = bundle_passphrase(bundle_passphrase_file)
            bundle = open_bundle(bundle_file, secret)
        except CongvanError as error:
            fail(error)
        plan = plan_from_bundle(bundle, plan)
    settings = run(init_node, node_dir, plan, dict(os.environ), bundle)
    click.echo(f"node {plan.node_name} initialised in {settings.node_dir}")
    if bundle is not None:
        click.echo(
            f"units {', '.join(plan.units)}; keys, CA certificate, CRL and signed directory "
            f"in {settings.pki_dir}; hub {bundle.hub} at {bundle.hub_url}"
        )


@main.group()
def db() -> None:
    """The node's database schema."""


@db.command()
@dir_option
@click.option("--revision", default="head", show_default=True)
def upgrade(node_dir: Path, revision: str) -> None:
    """Apply migrations up to REVISION."""
    from config import migrate
    from config.database import create_engine

    settings = load(node_dir)

    async def body() -> None:
        engine = create_engine(settings)
        try:
            await migrate.upgrade(engine, revision)
            click.echo(f"database at {await migrate.current_revision(engine)}")
        finally:
            await engine.dispose()

    run(body)


@db.command()
@dir_option
@click.argument("revision")
def downgrade(node_dir: Path, revision: str) -> None:
    """Revert migrations down to REVISION ('base' for an empty database)."""
    from config import migrate
    from config.database import create_engine

    settings = load(node_dir)

    async def body() -> None:
        engine = create_engine(settings)
        try:
            await migrate.downgrade(engine, revision)
            click.echo(f"database at {await migrate.current_revision(engine) or 'base'}")
        finally:
            await engine.dispose()

    run(body)


async def _run_until_signalled(nodes_to_start: list[Path], child: str = "") -> None:
    """Serve ``nodes_to_start`` until SIGINT or SIGTERM; ``child`` (``smtp``, ``web``): one
    node's process on that listener only, started by its ``serve``."""
    from office.node.app import RunningNode, start_node, start_smtp_process, start_web_process

    start = {"": start_node, "smtp": start_smtp_process, "web": start_web_process}[child]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # ``kill -USR1``: every thread's stack to stderr (the node's log), at once, even while the
    # event loop is held by a stuck step and would never see SIGTERM (docs/operations.md).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    running: list[RunningNode] = []
    try:
        for node_dir in nodes_to_start:
            running.append(await start(load(node_dir)))
        # What the start built (modules, the schema, the directory) lives as long as the
        # process: kept out of the collector, whose full passes walked all of it again and
        # again (a twentieth of an SMTP process's CPU under load).
        gc.freeze()
        for node in running:
            if not child:
                click.echo(f"{node.settings.node.name}: web {node.web_url}  peer {node.peer_url}")
        # A child whose `serve` was killed stops too: it would keep taking mail or pages with
        # nobody doing the rest of the node's work.
        orphan_watch = loop.create_task(_stop_when_orphaned(stop, os.getppid())) if child else None
        await stop.wait()
        if orphan_watch is not None:
            await orphan_watch
    finally:
        for node in running:
            await node.stop()


async def _stop_when_orphaned(stop: asyncio.Event, parent: int) -> None:
    while os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ORPHAN_CHECK_SECONDS)
        if stop.is_set():
            return
    stop.set()


@main.command()
@dir_option
def serve(node_dir: Path) -> None:
    """Run the node: the staff web listener and the peer listener (mutual TLS)."""
    load(node_dir)
    _allow_open_files()
    tune_allocator()
    share_tls_read_buffers()
    run(_run_until_signalled, [node_dir])


@main.command("serve-smtp")
@dir_option
def serve_smtp(node_dir: Path) -> None:
    """One more process taking mail on the node's SMTP port, beside `congvan serve`, which
    starts `[smtp] processes` - 1 of them itself."""
    load(node_dir)
    tune_allocator()
    share_tls_read_buffers()
    run(_run_until_signalled, [node_dir], "smtp")


@main.command("serve-web")
@dir_option
def serve_web(node_dir: Path) -> None:
    """One more process serving the staff web on the node's port, beside `congvan serve`,
    which starts `[web] processes` - 1 of them itself."""
    load(node_dir)
    _allow_open_files()
    tune_allocator()
    share_tls_read_buffers()
    run(_run_until_signalled, [node_dir], "web")


def _allow_open_files() -> None:
    """A hub holds one connection for each commune asking it (a long poll each), and a
    province has thousands: the soft limit on open files (1,024 under systemd and most
    shells) is raised to the hard one, which only the operator can change."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@main.command()
@dir_option
@click.option("--base-port", type=int, default=8400, show_default=True)
@click.option(
    "--database-url",
    default="",
    help="PostgreSQL URL template with {node} (e.g. postgresql://127.0.0.1/demo_{node}); "
    "default SQLite.",
)
@click.option("--setup-only", is_flag=True, help="Build the network and exit without serving.")
def demo(node_dir: Path, base_port: int, database_url: str, setup_only: bool) -> None:
    """Build (or reuse) a three-node demo network in --dir and run it until interrupted."""
    from office.node.demo import DEMO_NODES, build_demo, demo_file, demo_settings

    configure_logging(LogSettings())
    urls = {
        node.name: database_url.format(node=node.name.lower().replace("-", "_"))
        for node in DEMO_NODES
        if database_url
    }
    document = run(build_demo, node_dir, base_port, urls)
    click.echo(f"demo network in {node_dir.resolve()} ({demo_file(node_dir)})")
    for node in document["nodes"]:
        click.echo(
            f"  {node['name']:<10} {node['web_url']}  (peer {node['peer_url']}, "
            f"smtp {node.get('smtp_host')}:{node.get('smtp_port')})"
        )
    click.echo("logins (password / TOTP secret for an authenticator app / a leader's signing PIN):")
    for account in document["accounts"]:
        click.echo(
            f"  {account['node']:<10} {account['role']:<7} {account['username']:<18} "
            f"{account['password']}  {account['totp_secret']}  {account.get('signing_pin', '')}"
        )
    if setup_only:
        return
    run(_run_until_signalled, [settings.node_dir for settings in demo_settings(node_dir)])


if __name__ == "__main__":  # ``python -m office.node.cli``: how ``serve`` starts its children
    main()
