"""The fault campaign: three nodes, each a ``congvan serve`` of its own, exchange dispatches
and mail while a controller kills them, cuts their connections and fills a disk.

The demo network: ``TU`` is the hub (hosting the units TU and BTC), ``HU-CAMLO`` the receiver
(most dispatches and mail go to it), ``TX-DONGHA`` the sender, made a pull node so that what it
is sent waits at the hub. Dispatches and mail travel direct and through the hub (see
:mod:`tests.support.traffic`). Meanwhile the controller, one fault at a time in a random order:

- kills the sender, the receiver or the hub with SIGKILL, and starts it again a moment later;
- cuts a connection to the receiver or the hub in the middle of what it carries (the peer
  ports sit behind :class:`~tests.support.links.SlowLink`, which the directory points at);
- fills the receiver's disk (a small tmpfs holding its spool, blobs and Maildirs) to its last
  bytes for a while, then gives the room back.

Then every node runs until nothing is left to do, and is stopped; :mod:`tests.support.fault_checks`
says whether everything arrived once. The same code runs the CI's short form
(tests/e2e/test_faults.py) and the operators' long one (``python -m bench.faults``).

The nodes' retries are compressed to seconds (base 1 s, at most 2 s), and so are the leases a
killed process leaves behind (10 s, the least the settings allow). ``retry_max`` is raised to
match: 12 attempts are hours at the production back-off, seconds here, and no fault of the
campaign lasts long enough to make a delivery a dead letter in production.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import open_database
from config.settings import Settings
from exchange.assembly import Exchange
from exchange.cli import open_exchange
from tests.support import fault_checks
from tests.support.cli import Cli
from tests.support.disk import SmallDisk, node_on_small_disk
from tests.support.links import SlowLink
from tests.support.network import DEMO_NODE_NAMES, DemoNetwork
from tests.support.ports import free_port_block
from tests.support.processes import NodeProcess, stop_all
from tests.support.traffic import (
    MailClient,
    SentDispatch,
    SentMail,
    TrafficTally,
    make_files,
    send_dispatches,
)

ROLES = {"sender": "TX-DONGHA", "receiver": "HU-CAMLO", "hub": "TU"}
NODE_ENV = {
    "CONGVAN_EXCHANGE_RETRY_BASE_SECONDS": "1",
    "CONGVAN_EXCHANGE_RETRY_CAP_SECONDS": "2",
    "CONGVAN_EXCHANGE_RETRY_MAX": "100000",
    "CONGVAN_EXCHANGE_POLL_SECONDS": "1",
    "CONGVAN_EXCHANGE_LEASE_SECONDS": "10",
    "CONGVAN_EXCHANGE_VERIFY_LEASE_SECONDS": "10",
    "CONGVAN_EXCHANGE_RECEIPT_POLL_SECONDS": "1",
    "CONGVAN_EXCHANGE_PULL_SECONDS": "1",
    "CONGVAN_EXCHANGE_SWEEP_SECONDS": "5",
    "CONGVAN_SMTP_POLL_SECONDS": "1",
    "CONGVAN_SMTP_LEASE_SECONDS": "10",
    "CONGVAN_SMTP_RATE_PER_MINUTE": "100000",
    "CONGVAN_SMTP_RETRY_MAX": "100000",
}
#: The links toward the receiver and the hub: fast, but a large payload takes a moment.
LINK_BYTES_PER_SECOND = 4 * 1024 * 1024
#: What the ballast leaves free on the receiver's disk.
DISK_LEFT_BYTES = 64 * 1024
STARTUP_SECONDS = 120
#: A cut drops the next connection once it carried this many bytes one way (a random amount
#: in the range): in the middle of an inline offer or of a large upload or download.
CUT_AFTER_BYTES = (8 * 1024, 64 * 1024)
#: The faults fall in this first share of the traffic's time, so traffic is still flowing
#: at the last one.
FAULTS_SHARE = 0.8
Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class CampaignSize:
    dispatches: int
    mails: int
    #: Kills of each role: the sender, the receiver and the hub.
    kills_per_role: int
    cuts: int
    disk_full_periods: int
    disk_full_seconds: float
    #: Every this many dispatches, one carries a large file (sent the long way); prime to the
    #: number of routes, so that every route carries large ones.
    large_every: int
    #: How long the traffic is spread over; the faults fall within it.
    seconds: float
    #: The receiver's small disk.
    disk_mib: int
    #: How long the nodes get, after the last fault, to finish their work.
    settle_seconds: float
    seed: int = 17


SHORT = CampaignSize(
    dispatches=120,
    mails=30,
    kills_per_role=2,
    cuts=3,
    disk_full_periods=1,
    disk_full_seconds=8,
    large_every=4,
    seconds=50,
    disk_mib=256,
    settle_seconds=240,
)
LONG = CampaignSize(
    dispatches=2_000,
    mails=500,
    kills_per_role=8,
    cuts=20,
    disk_full_periods=3,
    disk_full_seconds=15,
    large_every=8,
    seconds=900,
    disk_mib=2048,
    settle_seconds=900,
)


@dataclass
class Figures:
    """What the campaign did and what came of it."""

    database: str
    dispatches: int = 0
    large_dispatches: int = 0
    mails: int = 0
    mail_copies: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    cuts: int = 0
    #: Cuts asked for that no connection carried enough for before the end.
    cuts_not_made: int = 0
    disk_full_periods: int = 0
    #: Requests the receiver refused with ``disk-full`` (a retryable refusal).
    disk_full_refusals: int = 0
    lost: int = 0
    duplicated: int = 0
    seconds: float = 0.0
    traffic: TrafficTally = field(default_factory=TrafficTally)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        kills = ", ".join(f"{role} {self.kills[role]}" for role in ROLES)
        smtp = dict(self.traffic.smtp_refused) or "none"
        return [
            f"fault campaign on {self.database}: {self.seconds:.0f} s",
            f"  dispatches {self.dispatches} ({self.large_dispatches} large, sent the long way)",
            f"  mails {self.mails} ({self.mail_copies} Maildir deliveries expected)",
            f"  kills (SIGKILL) {sum(self.kills.values())}: {kills}",
            f"  connections cut mid-transfer {self.cuts} ({self.cuts_not_made} asked for "
            "and not made)",
            f"  disk-full periods {self.disk_full_periods}: {self.disk_full_refusals} requests "
            f"refused disk-full, {self.traffic.queue_refused} sends held back, SMTP "
            f"temporary refusals {smtp}",
            f"  SMTP connections broken {dict(self.traffic.smtp_broken) or 'none'}, answers "
            f"lost but kept "
            f"{self.traffic.smtp_answer_lost}",
            f"  lost = {self.lost}, duplicated = {self.duplicated}",
        ]


class Controller:
    """Injects the faults in a random order, at moments spread over the traffic's time: a
    killed node starts again a moment later while the next faults go on (it is killed again
    only once it is back), a cut waits in its link for a connection to carry enough."""

    def __init__(
        self,
        processes: dict[str, NodeProcess],
        links: dict[str, SlowLink],
        disk: SmallDisk,
        size: CampaignSize,
        figures: Figures,
    ) -> None:
        self.processes = processes
        self.links = links
        self.disk = disk
        self.size = size
        self.figures = figures
        self.rng = random.Random(size.seed)
        self.restarting: dict[str, asyncio.Task[None]] = {}

    def plan(self) -> list[tuple[str, str]]:
        faults = [("kill", role) for role in ROLES for _ in range(self.size.kills_per_role)]
        faults += [("cut", list(self.links)[n % len(self.links)]) for n in range(self.size.cuts)]
        faults += [("disk-full", "receiver")] * self.size.disk_full_periods
        self.rng.shuffle(faults)
        return faults

    async def run(self) -> None:
        """Every fault, then until every killed node is back."""
        faults = self.plan()
        began, span = time.monotonic(), self.size.seconds * FAULTS_SHARE
        try:
            for index, (kind, target) in enumerate(faults):
                at = began + span * (index + self.rng.random()) / len(faults)
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                if kind == "kill":
                    await self.kill(target)
                elif kind == "cut":
                    self.links[target].cut_next(self.rng.randrange(*CUT_AFTER_BYTES))
                else:
                    await self.fill_disk()
        finally:
            await asyncio.gather(*self.restarting.values())

    async def kill(self, role: str) -> None:
        name = ROLES[role]
        if name in self.restarting:
            await self.restarting.pop(name)
        self.processes[name].kill()
        self.figures.kills[role] += 1
        self.restarting[name] = asyncio.create_task(self.restart(self.processes[name]))

    async def restart(self, process: NodeProcess) -> None:
        await asyncio.sleep(self.rng.uniform(0.5, 3.0))
        process.start()
        await process.started(STARTUP_SECONDS)

    async def fill_disk(self) -> None:
        await asyncio.to_thread(self.disk.fill, DISK_LEFT_BYTES)
        self.figures.disk_full_periods += 1
        try:
            await asyncio.sleep(self.size.disk_full_seconds)
        finally:
            self.disk.empty()


def node_processes(
    cli: Cli, network: DemoNetwork, log_dir: Path, peer_ports: dict[str, int]
) -> dict[str, NodeProcess]:
    """One ``congvan serve`` per node; those behind a link listen on a port of their own."""
    tag = network.root.parent.name
    return {
        name: NodeProcess(
            cli,
            network.node_dir(name),
            log_dir / f"faults-{tag}-{name.lower()}.log",
            NODE_ENV | ({"CONGVAN_PEER_PORT": str(peer_ports[name])} if name in peer_ports else {}),
        )
        for name in DEMO_NODE_NAMES
    }


@asynccontextmanager
async def opened(
    network: DemoNetwork,
) -> AsyncIterator[tuple[dict[str, Sessions], dict[str, Exchange]]]:
    """Every node's database, and the outbox of each, as the clerks' commands open them."""
    async with AsyncExitStack() as stack:
        sessions = {
            name: await stack.enter_async_context(open_database(network.settings(name)))
            for name in DEMO_NODE_NAMES
        }
        senders = {
            name: await stack.enter_async_context(open_exchange(network.settings(name)))
            for name in DEMO_NODE_NAMES
        }
        yield sessions, senders


class Campaign:
    """The campaign on a demo network built for it (``build_demo_network``), not running."""

    def __init__(
        self, cli: Cli, network: DemoNetwork, work: Path, log_dir: Path, size: CampaignSize
    ) -> None:
        """Đông Hà is made a pull node in the published directory; ``work`` takes the files
        sent and the receiver's small disk, ``log_dir`` the nodes' logs."""
        self.cli = cli
        self.network = network
        self.work = work
        self.log_dir = log_dir
        self.size = size
        hub = network.node_dir("TU")
        cli("units", "set-pull", "--dir", hub, ROLES["sender"])
        cli("keys", "directory", "--dir", hub)

    async def run(self, database: str) -> Figures:
        figures = Figures(database)
        started = time.monotonic()
        backends = {"HU-CAMLO": free_port_block(1), "TU": free_port_block(1)}
        settings = {name: self.network.settings(name) for name in DEMO_NODE_NAMES}
        processes = node_processes(self.cli, self.network, self.log_dir, backends)
        receiver_dir = self.network.node_dir(ROLES["receiver"])
        with (
            node_on_small_disk(receiver_dir, self.work / "disk", self.size.disk_mib) as disk,
            SlowLink(
                settings["HU-CAMLO"].peer.port, backends["HU-CAMLO"], LINK_BYTES_PER_SECOND
            ) as to_receiver,
            SlowLink(settings["TU"].peer.port, backends["TU"], LINK_BYTES_PER_SECOND) as to_hub,
        ):
            links = {"receiver": to_receiver, "hub": to_hub}
            try:
                for process in processes.values():
                    process.start()
                await asyncio.gather(*(p.started(STARTUP_SECONDS) for p in processes.values()))
                async with opened(self.network) as (sessions, senders):
                    sent, mails = await self.traffic(
                        sessions, senders, processes, links, disk, figures
                    )
                    if not await self.settle(sessions, processes):
                        figures.problems.append(
                            f"work left undone {self.size.settle_seconds:.0f} s after the traffic"
                        )
                    stop_all(list(processes.values()))
                    await self.check(settings, sessions, sent, mails, figures)
            finally:
                stop_all(list(processes.values()))
            figures.cuts = sum(link.cuts for link in links.values())
            figures.cuts_not_made = sum(link.cuts_armed for link in links.values())
        figures.disk_full_refusals = fault_checks.refusals(processes["HU-CAMLO"], "disk-full")
        figures.problems += fault_checks.server_errors(list(processes.values()))
        figures.seconds = time.monotonic() - started
        return figures

    async def traffic(
        self,
        sessions: dict[str, Sessions],
        senders: dict[str, Exchange],
        processes: dict[str, NodeProcess],
        links: dict[str, SlowLink],
        disk: SmallDisk,
        figures: Figures,
    ) -> tuple[list[SentDispatch], list[SentMail]]:
        """Dispatches and mail go out while the controller injects its faults."""
        rng = random.Random(self.size.seed)
        files = make_files(self.work / "files", rng)
        mail = MailClient(self.network, sessions, figures.traffic)
        controller = Controller(processes, links, disk, self.size, figures)
        sent, mails, _ = await asyncio.gather(
            send_dispatches(
                senders,
                self.size.dispatches,
                self.size.large_every,
                self.size.seconds,
                files,
                figures.traffic,
            ),
            mail.send_all(self.size.mails, self.size.seconds),
            controller.run(),
        )
        figures.dispatches, figures.mails = len(sent), len(mails)
        figures.large_dispatches = sum(1 for dispatch in sent if dispatch.large)
        figures.mail_copies = sum(len(one.to) for one in mails)
        return sent, mails

    async def settle(
        self, sessions: dict[str, Sessions], processes: dict[str, NodeProcess]
    ) -> bool:
        """Until no node has anything left to do (and the sweep has cleared what killed
        processes left in the spools): True; False if the time ran out first."""
        deadline = time.monotonic() + self.size.settle_seconds
        while time.monotonic() < deadline:
            for process in processes.values():
                assert process.running, f"a node stopped by itself; see {process.log_path}"
            closed = [await fault_checks.all_closed(factory) for factory in sessions.values()]
            if all(closed):
                left = [
                    await fault_checks.leftovers(self.network.settings(name), factory)
                    for name, factory in sessions.items()
                ]
                if not any(left):
                    return True
            await asyncio.sleep(1)
        return False

    async def check(
        self,
        settings: dict[str, Settings],
        sessions: dict[str, Sessions],
        sent: list[SentDispatch],
        mails: list[SentMail],
        figures: Figures,
    ) -> None:
        dispatches, problems = await fault_checks.dispatches_handled(sessions, sent)
        figures.problems += problems
        figures.problems += await fault_checks.deliveries_closed_once(sessions)
        usernames = {
            who: self.network.account(*who)["username"]
            for mail in mails
            for who in (mail.author, *mail.to)
        }
        delivered, problems = await fault_checks.mails_delivered(
            settings, sessions, mails, usernames
        )
        figures.problems += problems
        figures.lost = dispatches.lost + delivered.lost
        figures.duplicated = dispatches.duplicated + delivered.duplicated
        for name, factory in sessions.items():
            figures.problems += [
                f"{name}: {left}" for left in await fault_checks.leftovers(settings[name], factory)
            ]
            verified = self.cli(
                "audit", "verify", "--dir", self.network.node_dir(name), check=False
            )
            if verified.returncode != 0:
                figures.problems.append(f"{name}: evidence log: {verified.stdout}{verified.stderr}")
