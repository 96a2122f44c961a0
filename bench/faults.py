"""The fault campaign's long form, for operators: three nodes, each a ``congvan serve`` of its
own, exchange 2,000 dispatches and 500 mails between units, direct and through the hub, while
the sender, the receiver and the hub are killed with SIGKILL at random, connections are cut in
the middle of a transfer and the receiver's disk runs full for a while, several times.

The same code as the CI's short form (tests/e2e/test_faults.py; the campaign itself is
tests/support/faults.py), with bigger numbers. It prints what it did (dispatches, mails, kills
per role, cuts, disk-full periods) and what came of it (lost, duplicated, and any problem found:
a 500 in a log, a spool file left behind, an evidence log that does not verify), and exits 1
unless nothing was lost or doubled and no problem was found.

Run it from the source tree as root (the receiver's small disk is a tmpfs), on an otherwise quiet
machine: ``nice -n 10 python -m bench.faults`` (SQLite), ``--database postgresql`` for the local
PostgreSQL. It takes about half an hour. Passwords are hashed at the test suite's cheap argon2
setting: the campaign is about faults, not sign-in.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bench.scratch_database import run_admin_statement
from config.library_warnings import ignore_known_library_warnings
from config.logging import configure_logging
from config.settings import LogSettings
from keys.passwords import TEST_HASHING_VARIABLE
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.disk import can_mount
from tests.support.network import build_demo_network

if TYPE_CHECKING:
    from tests.support.faults import CampaignSize, Figures

PG_SERVER = "postgresql://127.0.0.1:5432/postgres"


class ServerDatabases(DatabasePool):
    """The demo's databases on ``server`` (none: SQLite in each node's folder)."""

    def __init__(self, server: str) -> None:
        super().__init__()
        self.server = server

    def new_template(self, node_names: list[str]) -> str:
        if not self.server:
            return ""
        prefix = f"cv_faults_{uuid.uuid4().hex[:8]}_"
        for node in node_names:
            name = prefix + node.lower().replace("-", "_")
            asyncio.run(run_admin_statement(self.server, f'CREATE DATABASE "{name}"'))
            self.created.append(name)
        return self.server.rsplit("/", 1)[0] + "/" + prefix + "{node}"

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(
                run_admin_statement(self.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
        self.created.clear()


def campaign_size(options: argparse.Namespace) -> CampaignSize:
    from tests.support.faults import LONG

    return replace(
        LONG,
        dispatches=options.dispatches,
        mails=options.mails,
        kills_per_role=options.kills_per_role,
        cuts=options.cuts,
        disk_full_periods=options.disk_full_periods,
        seconds=options.seconds,
        seed=options.seed,
    )


def run(size: CampaignSize, database: str, server: str, root: Path) -> Figures:
    from tests.support.faults import Campaign

    os.environ.setdefault(TEST_HASHING_VARIABLE, "1")
    logs = root / "logs"
    logs.mkdir(parents=True)
    cli = Cli(log_path=logs / "cli.log")
    databases = ServerDatabases(server if database == "postgresql" else "")
    try:
        network = build_demo_network(cli, databases, root / "network")
        campaign = Campaign(cli, network, root / "work", logs, size)
        name = "PostgreSQL" if database == "postgresql" else "SQLite"
        return asyncio.run(campaign.run(name))
    finally:
        databases.drop_all()


def main(argv: list[str] | None = None) -> None:
    # The campaign imports the whole node, pyHanko with it: its known warning is silenced first.
    ignore_known_library_warnings()
    from tests.support.faults import LONG

    parser = argparse.ArgumentParser(
        prog="python -m bench.faults", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dispatches", type=int, default=LONG.dispatches)
    parser.add_argument("--mails", type=int, default=LONG.mails)
    parser.add_argument("--kills-per-role", type=int, default=LONG.kills_per_role)
    parser.add_argument("--cuts", type=int, default=LONG.cuts)
    parser.add_argument("--disk-full-periods", type=int, default=LONG.disk_full_periods)
    parser.add_argument(
        "--seconds",
        type=float,
        default=LONG.seconds,
        help="how long the traffic is spread over (the faults fall within it)",
    )
    parser.add_argument("--seed", type=int, default=LONG.seed)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg", default=PG_SERVER, help="the PostgreSQL server's admin URL")
    parser.add_argument(
        "--keep", type=Path, default=None, help="work in this folder and keep it (logs, nodes)"
    )
    options = parser.parse_args(argv)
    if not can_mount():
        parser.error("run it as root: the receiver's small disk is a tmpfs")
    configure_logging(LogSettings(level="warning"))
    size = campaign_size(options)
    if options.keep is not None:
        figures = run(size, options.database, options.pg, options.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="congvan-faults-") as folder:
            figures = run(size, options.database, options.pg, Path(folder))
    print("\n".join(figures.lines()))
    for problem in figures.problems:
        print(f"  problem: {problem}")
    if figures.problems or figures.lost or figures.duplicated:
        sys.exit(1)


if __name__ == "__main__":
    main()
