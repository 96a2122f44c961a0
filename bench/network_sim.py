"""A province at commune scale: one hub, hundreds of pull-node communes, districts sending.

Real: the hub is ``congvan serve`` in its own process, so its CPU is read from
``/proc/<pid>/stat`` alone; its database, CA and signed directory are built with the keys
functions. Every commune and district has its own node (TLS) certificate and unit signing and
encryption certificates from that CA, and is listed in the directory (communes ``pull = true``).
Dispatches are sealed by ``exchange.envelope.seal`` (signed by the district unit and node,
encrypted to the commune unit), and every call is the peer API over mutual TLS with the
caller's own certificate, through ``exchange.peer_client.PeerClient``.

Simulated, in this one process: the communes and districts are not nodes. A commune does what
``exchange.pull.Puller`` does on the wire (list, download what the listing does not carry,
hand back a receipt signed by its unit) but checks less than a node's inbox: the header's
signature, the payload's digest, and that its unit key decrypts it; no database, no MIME or
manifest check. A district does what its
outbox does on the wire: relays each dispatch to the hub (inline, so offer, upload and commit
are one request) and asks the hub for receipts as ``collect_receipts`` does, without checking
them.

How a commune asks is the point of the comparison. With ``wait`` (the long poll, the default
of the measured load) it asks ``relay/waiting?wait=``, the hub holds the question until a
dispatch for it arrives or the wait passes, and it asks again at once, as ``Puller.run`` does;
each commune keeps one connection across its questions, as a node asking again at once reuses
it (``--new-connections``: a TCP and TLS handshake per question instead). The long-polling
communes come online over one wait (or at ``ONLINE_PER_SECOND``, if longer) before the window
opens, so that each is waiting at the hub and their questions are renewed at spread-out
moments, as a province's would be. Without
``wait`` (the baseline's default) each commune polls every ``pull_seconds`` with a new
connection, the Puller before the long poll.

The baseline is the same hub, directory, communes and sending rate, measured first in the same
run, asking the old way: the ratios say what the long poll changes and nothing else. After the
sending window the communes ask on until everything the hub holds is fetched (a polling one
may be a whole period away), so every dispatch's offer->fetched is timed; CPU is read over the
sending window only.

"pull round" was, for polling, one question's round trip (list, then fetch and acknowledge
what was listed). Under a long poll a question's round trip is mostly the hub holding it, so
it is now counted per dispatch fetched, from the moment the hub has the work and the commune
is asking (the later of the two: the district having the hub's answer to its relay, or its
offer's start if that answer has not been read yet; and the question leaving) to the
commune's receipt accepted by the hub. For a long poll that is waking the held question,
the listing, the download and the receipt; for polling, what the old figure measured for a
question that found work. The wait for the next poll is in offer->fetched, not here.

The hub shares the machine with this process and whatever else runs there: "run-queue wait"
is how long its event loop was ready to run but had no CPU, and the tail latencies follow it.
``python -m bench.network_sim --help`` lists the knobs; ``--hub-profile`` says where the hub's
CPU goes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import math
import os
import random
import re
import resource
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import aiohttp
import pyrage
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import x25519

from bench.table import Figure, render
from config.database import open_database
from config.errors import PeerRefused
from config.logging import configure_logging
from config.settings import LogSettings, Settings
from exchange.envelope import Attachment, Draft, Header, Sender, seal, verify_header
from exchange.outbox import RECEIPT_BATCH
from exchange.peer_client import PeerClient
from exchange.pull import unless_stopped
from exchange.receipts import ACCEPTED, Signer, make_receipt
from keys import certificates, directory
from keys.age import identity_of
from keys.ca import CA_CERT_FILE
from keys.certificates import node_tls_paths, unit_key_paths
from keys.keystore import load_private_key, load_signing_key, node_passphrase
from office.node.setup import NodePlan, init_node

HUB = "TU"
#: The hub's peer port, its web port the next: below the ephemeral range (see bench.__main__).
BASE_PORT = 11700
SAMPLE_UNITS = "data/quangtri-units.toml"
CONGVAN = str(Path(sys.executable).with_name("congvan"))
HUB_ENV = {"CONGVAN_LOG_LEVEL": "warning", "CONGVAN_REPORTS_SEND_DAY": "0"}
#: A district's outbox asks the hub about a relayed dispatch this long after handing it over,
#: then again as often; its loop looks for due questions every ``POLL_SECONDS``.
RECEIPT_POLL_SECONDS, POLL_SECONDS = 30.0, 2.0
DRAIN_CONCURRENCY = 50
#: After the sending window, the communes ask on until everything held is fetched, or this
#: long (plus a polling period) has passed.
TAIL_SECONDS = 10.0
#: Long-polling communes come online at most this many a second before the window: 5,000 at
#: once (over one 25 s wait) kept the hub busy with handshakes well into the window on a
#: shared two-core machine, and the window measured that, not the province at work.
ONLINE_PER_SECOND = 100
TIMEOUT = aiohttp.ClientTimeout(total=120)
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b")


@dataclass(frozen=True)
class Load:
    communes: int
    rate: float
    seconds: float
    pull_seconds: float
    #: The long poll's ``wait``: each question is held at the hub up to this long; 0 polls
    #: every ``pull_seconds`` instead (the Puller before the long poll).
    wait: float = 0
    #: Each commune keeps one connection across its questions; otherwise a new session (TCP
    #: and TLS handshake) per question, as ``Puller.pull_once`` opened one.
    keep_alive: bool = False

    @property
    def label(self) -> str:
        how = f"wait {self.wait:g}s" if self.wait else f"poll {self.pull_seconds:g}s"
        return f"[{self.communes}c {self.rate:g}/s {how}{'' if self.keep_alive else ' new-conn'}]"

    def describe(self) -> str:
        asking = (
            f"asking with wait={self.wait:g} (a long poll)"
            if self.wait
            else f"pulling every {self.pull_seconds:g} s"
        )
        connection = "one kept connection each" if self.keep_alive else "a new connection each time"
        return (
            f"{self.communes} communes {asking}, {connection}; "
            f"{self.rate:g} dispatches/s for {self.seconds:g} s"
        )

    @property
    def coming_online(self) -> float:
        """How long long-polling communes take to come online before the window opens: one
        wait, so that their questions are renewed at spread-out moments, or longer for a
        province too big to connect (a TLS handshake each) at ``ONLINE_PER_SECOND``."""
        return max(self.wait, self.communes / ONLINE_PER_SECOND) if self.wait else 0

    @property
    def tail(self) -> float:
        """After the sending window, how long communes go on asking for what is still at the
        hub before the untimed drain: a polling commune may be a whole period away."""
        return TAIL_SECONDS + (0 if self.wait else self.pull_seconds)


@dataclass(frozen=True)
class Commune:
    code: str  # its node's name and its unit's code alike
    context: ssl.SSLContext
    signer: Signer
    identity: pyrage.x25519.Identity


@dataclass(frozen=True)
class District:
    code: str
    context: ssl.SSLContext
    sender: Sender


@dataclass
class Network:
    hub: Settings
    hub_url: str
    communes: list[Commune]
    districts: list[District]
    #: commune unit -> encryption certificate; district node -> TLS certificate (headers).
    encryption: dict[str, x509.Certificate]
    node_certificates: dict[str, x509.Certificate]


@dataclass(frozen=True)
class Sealed:
    id: str
    folder: Path
    district: int
    commune: str


@dataclass
class Tally:
    """What one load saw; latencies in seconds."""

    delivery: list[float] = field(default_factory=list)
    #: Per dispatch fetched: from the later of "the hub holds it" and "its commune asked" to
    #: the commune's receipt accepted (see the module's docstring).
    pull_round: list[float] = field(default_factory=list)
    fetched_after: list[float] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    offered_at: dict[str, float] = field(default_factory=dict)
    #: When the district had the hub's answer to its relay: the hub holds the dispatch.
    held_at: dict[str, float] = field(default_factory=dict)
    #: Questions to the hub (listings, held or not): all, and those in the sending window.
    questions: int = 0
    window_questions: int = 0
    hub_cpu: float = math.nan
    bench_cpu: float = math.nan
    hub_peak_rss_mib: float = math.nan
    #: Share of the window the hub's event loop was ready to run but waited for a CPU.
    hub_cpu_wait: float = math.nan
    fetched: set[str] = field(default_factory=set)


# -- set-up ------------------------------------------------------------------------------------


def _client_context(pki: Path, passphrase: bytes) -> ssl.SSLContext:
    """``exchange.tls.peer_client_context`` from a bare ``pki`` folder: a simulated node has
    no settings to build it from."""
    cert_path, key_path = node_tls_paths(pki)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_cert_chain(cert_path, key_path, password=passphrase)
    context.load_verify_locations(cafile=pki / CA_CERT_FILE)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _commune_entries(
    count: int, parents: list[str]
) -> tuple[list[directory.NodeEntry], list[directory.UnitEntry]]:
    codes = [f"XA-{number:04d}" for number in range(1, count + 1)]
    nodes = [directory.NodeEntry(code, "127.0.0.1", "", pull=True) for code in codes]
    units = [
        directory.UnitEntry(
            code,
            f"Đảng uỷ xã {code}",
            "commune",
            parents[n % len(parents)],
            code,
            f"{code.lower()}.xa.vn",
        )
        for n, code in enumerate(codes)
    ]
    return nodes, units


async def build_network(
    root: Path, communes: int, districts: int, database_url: str, base_port: int
) -> Network:
    """The hub's folder, CA and directory, and a ``pki`` folder per simulated node, laid out
    as the CA issues them (keys encrypted with the hub's passphrase), then loaded. The hub
    listens on ``base_port`` (peers) and the next (staff web)."""
    peer_port = base_port
    plan = NodePlan(
        node_name=HUB,
        units=(HUB,),
        hub=True,
        web_port=base_port + 1,
        peer_port=peer_port,
        database_url=database_url,
    )
    hub = await init_node(root / HUB, plan, {})
    passphrase = node_passphrase(hub)
    with as_file(files("keys").joinpath(SAMPLE_UNITS)) as units_path:
        nodes, units = directory.read_units_file(units_path)
    senders = [u.code for u in units if u.kind == "district" and u.code == u.node][:districts]
    commune_nodes, commune_units = _commune_entries(communes, senders)
    clients = root / "clients"
    async with open_database(hub) as sessions, sessions() as session, session.begin():
        authority = await certificates.init_ca(session, hub, "CA (bench)", passphrase)
        await directory.import_units(session, nodes + commune_nodes, units + commune_units)
        url = f"https://127.0.0.1:{peer_port}"
        await certificates.issue_node(
            session, hub, authority, passphrase, HUB, ["127.0.0.1"], url, hub.pki_dir
        )
        for code in senders + [unit.code for unit in commune_units]:
            pki = clients / code
            await certificates.issue_node(
                session, hub, authority, passphrase, code, ["127.0.0.1"], "", pki
            )
            await certificates.issue_unit(session, hub, authority, passphrase, code, pki)
        await directory.publish_directory(
            session, authority, hub.directory_file, hub.keys.crl_days, HUB
        )
    return await asyncio.to_thread(_load_clients, hub, clients, senders, commune_units)


def _load_clients(
    hub: Settings, clients: Path, senders: list[str], commune_units: list[directory.UnitEntry]
) -> Network:
    """Every simulated node's keys, decrypted once and kept in memory for the run."""
    passphrase = node_passphrase(hub)
    ca_certificate = x509.load_pem_x509_certificate((hub.pki_dir / CA_CERT_FILE).read_bytes())

    def certificate(path: Path) -> x509.Certificate:
        return x509.load_pem_x509_certificate(path.read_bytes())

    network = Network(hub, f"https://127.0.0.1:{hub.peer.port}", [], [], {}, {})
    for code in senders:
        pki = clients / code
        signing_cert, signing_key = unit_key_paths(pki, code, "signing")
        node_cert, node_key = node_tls_paths(pki)
        sender = Sender(
            node=code,
            node_key=load_signing_key(node_key, passphrase),
            unit=code,
            signing_key=load_signing_key(signing_key, passphrase),
            signing_certificate=certificate(signing_cert),
            chain=(ca_certificate,),
        )
        network.districts.append(District(code, _client_context(pki, passphrase), sender))
        network.node_certificates[code] = certificate(node_cert)
    for unit in commune_units:
        pki = clients / unit.code
        signing_cert, signing_key = unit_key_paths(pki, unit.code, "signing")
        encryption_cert, encryption_key = unit_key_paths(pki, unit.code, "encryption")
        secret = load_private_key(encryption_key, passphrase)
        assert isinstance(secret, x25519.X25519PrivateKey)
        signer = Signer(
            unit.code, load_signing_key(signing_key, passphrase), certificate(signing_cert)
        )
        identity = pyrage.x25519.Identity.from_str(identity_of(secret))
        network.communes.append(
            Commune(unit.code, _client_context(pki, passphrase), signer, identity)
        )
        network.encryption[unit.code] = certificate(encryption_cert)
    return network


def seal_pool(network: Network, load: Load, folder: Path, size: int) -> list[Sealed]:
    """One sealed dispatch per send of the run, made beforehand: the id is in the signed header
    and the manifest, so each is sealed on its own, and sealing during the run would make this
    process's CPU a limit on the rate. Each goes to a random commune of the active ones."""
    rng = random.Random(load.communes)
    document = folder / "document.bin"
    folder.mkdir(parents=True, exist_ok=True)
    document.write_bytes(os.urandom(size))
    pool = []
    for number in range(math.ceil(load.rate * load.seconds) + 1):
        district = number % len(network.districts)
        commune = network.communes[rng.randrange(load.communes)].code
        draft = Draft(
            recipients=(commune,),
            kind="document",
            metadata={"summary": f"bench {number}"},
            attachments=(Attachment("congvan.bin", document),),
        )
        sender = network.districts[district].sender
        seal(draft, sender, {commune: network.encryption[commune]}, folder / draft.id)
        pool.append(Sealed(draft.id, folder / draft.id, district, commune))
    return pool


# -- the hub's process -------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads (fields 14 and 15 of its stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_queue_seconds(pid: int) -> float:
    """How long the process's main thread (the hub's event loop) has waited for a CPU while
    ready to run: on a shared machine, what its latencies owe to others rather than to it."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def _raise_open_files_limit() -> None:
    """Hundreds of simulated nodes hold a socket each, and the hub, started from here, as many:
    the usual soft limit of 1024 is too close."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def _wait_until_ready(network: Network, hub: asyncio.subprocess.Process) -> None:
    district = network.districts[0]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        for _ in range(240):
            if hub.returncode is not None:
                raise RuntimeError(f"the hub exited with {hub.returncode}")
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with http.get(
                    f"{network.hub_url}/exchange/v1/ping", ssl=district.context
                ) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.25)
    raise RuntimeError("the hub did not answer a ping within a minute")


# -- the load ----------------------------------------------------------------------------------


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def _what(error: BaseException) -> str:
    if isinstance(error, PeerRefused):
        return f"refused {error.code}"
    return type(error).__name__


class Simulation:
    """One load against the running hub: districts relaying on a fixed schedule (open loop:
    a slow answer does not slow the offers), communes pulling on theirs."""

    def __init__(self, network: Network, load: Load, pool: list[Sealed]):
        self.network, self.load, self.pool = network, load, pool
        self.tally = Tally()
        self.communes = network.communes[: load.communes]
        #: Per district: dispatch id -> (commune, when to ask the hub for its receipt).
        self.awaiting: list[dict[str, tuple[str, float]]] = [{} for _ in network.districts]
        self.start = self.end = 0.0
        #: Set when the communes stop asking: a question held at the hub is dropped.
        self.stop = asyncio.Event()
        #: Held by the hub and not yet fetched; once all is sent, ``all_fetched`` says when
        #: that is empty.
        self.unfetched: set[str] = set()
        self.sent = False
        self.all_fetched = asyncio.Event()

    async def run(self, hub_pid: int) -> Tally:
        # Long-polling communes come online before the window (``Load.coming_online``), so
        # that each is waiting at the hub, their questions renewed at spread-out moments.
        self.start = time.perf_counter() + 1 + self.load.coming_online
        self.end = self.start + self.load.seconds
        async with contextlib.AsyncExitStack() as stack:
            senders = [
                await stack.enter_async_context(aiohttp.ClientSession(timeout=TIMEOUT))
                for _ in self.network.districts
            ]
            kept: list[aiohttp.ClientSession | None] = [None] * len(self.communes)
            if self.load.keep_alive:
                # The hub's own keep-alive (aiohttp's 75 s) still ends longer silences.
                keepalive = max(self.load.pull_seconds, self.load.wait) * 2
                kept = [
                    await stack.enter_async_context(
                        aiohttp.ClientSession(
                            timeout=TIMEOUT,
                            connector=aiohttp.TCPConnector(keepalive_timeout=keepalive),
                        )
                    )
                    for _ in self.communes
                ]
            asking = [
                asyncio.create_task(self._ask(n, commune, kept[n]))
                for n, commune in enumerate(self.communes)
            ]
            await _sleep_until(self.start)
            hub_cpu, bench_cpu = _cpu_seconds(hub_pid), time.process_time()
            hub_wait = _run_queue_seconds(hub_pid)
            questions = self.tally.questions
            tasks = [asyncio.create_task(self._send_all(senders))]
            tasks += [
                asyncio.create_task(self._ask_receipts(n, senders[n])) for n in range(len(senders))
            ]
            await _sleep_until(self.end)
            self.tally.hub_cpu = (_cpu_seconds(hub_pid) - hub_cpu) / self.load.seconds * 100
            self.tally.bench_cpu = (time.process_time() - bench_cpu) / self.load.seconds * 100
            self.tally.hub_peak_rss_mib = _peak_rss_mib(hub_pid)
            waited = _run_queue_seconds(hub_pid) - hub_wait
            self.tally.hub_cpu_wait = waited / self.load.seconds * 100
            self.tally.window_questions = self.tally.questions - questions
            await asyncio.gather(*tasks)
            await self._until_fetched()
            self.stop.set()
            await asyncio.gather(*asking)
        await self._drain()
        return self.tally

    async def _until_fetched(self) -> None:
        """The tail: communes go on asking until all the hub holds is fetched, so that the
        last dispatches' offer->fetched is timed too, not left to the untimed drain."""
        self.sent = True
        if self.unfetched:
            with contextlib.suppress(TimeoutError):
                tail = self.end + self.load.tail - time.perf_counter()
                await asyncio.wait_for(self.all_fetched.wait(), tail)

    async def _send_all(self, sessions: list[aiohttp.ClientSession]) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        for number, sealed in enumerate(self.pool):
            moment = self.start + number / self.load.rate
            if moment >= self.end:
                break
            await _sleep_until(moment)
            task = asyncio.create_task(self._send(sealed, sessions[sealed.district]))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.gather(*in_flight)

    async def _send(self, sealed: Sealed, http: aiohttp.ClientSession) -> None:
        district = self.network.districts[sealed.district]
        started = time.perf_counter()
        self.tally.offered_at[sealed.id] = started
        self.tally.counts["offered"] += 1
        try:
            await PeerClient(http, self.network.hub_url, district.context).relay(
                sealed.folder, sealed.commune
            )
        except (PeerRefused, aiohttp.ClientError, TimeoutError, OSError) as error:
            self.tally.errors[f"relay: {_what(error)}"] += 1
            return
        self.tally.held_at[sealed.id] = time.perf_counter()
        if sealed.id not in self.tally.fetched:
            self.unfetched.add(sealed.id)
        self.tally.delivery.append(self.tally.held_at[sealed.id] - started)
        self.tally.counts["held by hub"] += 1
        due = time.perf_counter() + RECEIPT_POLL_SECONDS
        self.awaiting[sealed.district][sealed.id] = (sealed.commune, due)

    async def _ask_receipts(self, district: int, http: aiohttp.ClientSession) -> None:
        """What a district's ``collect_receipts`` asks the hub, batch by batch."""
        client = PeerClient(http, self.network.hub_url, self.network.districts[district].context)
        awaiting = self.awaiting[district]
        while time.perf_counter() < self.end:
            now = time.perf_counter()
            due = [(i, node) for i, (node, at) in awaiting.items() if at <= now][:RECEIPT_BATCH]
            if due:
                try:
                    answers = await client.relay_receipts(due)
                except (PeerRefused, aiohttp.ClientError, TimeoutError, OSError) as error:
                    self.tally.errors[f"receipts: {_what(error)}"] += 1
                    answers = []
                for answer in answers:
                    dispatch_id = str(answer.get("id"))
                    if dispatch_id not in awaiting:
                        continue
                    if isinstance(answer.get("receipt"), dict):
                        del awaiting[dispatch_id]
                        self.tally.counts["receipts to senders"] += 1
                    else:
                        node = awaiting[dispatch_id][0]
                        awaiting[dispatch_id] = (node, now + RECEIPT_POLL_SECONDS)
            await asyncio.sleep(min(POLL_SECONDS, max(0.0, self.end - time.perf_counter())))

    async def _ask(self, number: int, commune: Commune, kept: aiohttp.ClientSession | None) -> None:
        """What ``Puller.run`` does until the run stops: polling, questions spread evenly over
        a period, so the hub sees ``communes / pull_seconds`` a second; with the long poll, it
        asks again at once after work or a question held for its wait, and sleeps
        ``pull_seconds`` only after an empty answer at once (which this hub does not give)."""
        spread = self.load.coming_online or self.load.pull_seconds
        online = self.start - self.load.coming_online
        await _sleep_until(online + number * spread / len(self.communes))
        while not self.stop.is_set():
            asked = time.perf_counter()
            listed = await self._pull(commune, kept, wait=self.load.wait, timed=True)
            held = time.perf_counter() - asked >= self.load.wait / 2
            if self.load.wait and (listed or held):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.stop.wait(), asked + self.load.pull_seconds - time.perf_counter()
                )

    async def _pull(
        self,
        commune: Commune,
        kept: aiohttp.ClientSession | None,
        *,
        wait: float = 0,
        timed: bool,
    ) -> int:
        """One question as ``Puller.pull_once`` asks it (held up to ``wait`` at the hub, and
        dropped when the run stops); the answer is how many were listed."""
        asked = time.perf_counter()
        self.tally.questions += 1
        try:
            async with (
                contextlib.nullcontext(kept) if kept else aiohttp.ClientSession(timeout=TIMEOUT)
            ) as http:
                client = PeerClient(http, self.network.hub_url, commune.context)
                question = client.waiting(wait)
                items = (
                    (await unless_stopped(question, self.stop) or []) if wait else await question
                )
                for item in items:
                    await self._take(client, commune, item, asked if timed else None)
        except (PeerRefused, aiohttp.ClientError, TimeoutError, OSError) as error:
            self.tally.errors[f"pull: {_what(error)}"] += 1
            return 0
        return len(items)

    async def _take(
        self, client: PeerClient, commune: Commune, item: dict[str, Any], asked: float | None
    ) -> None:
        """Fetch, check and acknowledge one listed dispatch; ``asked`` (when timed) is when
        the question that listed it left."""
        dispatch_id = str(item["id"])
        try:
            raw = base64.b64decode(str(item["header"]), validate=True)
            signature = base64.b64decode(str(item["signature"]), validate=True)
            node = Header.from_bytes(raw).node
            header = verify_header(raw, signature, self.network.node_certificates[node])
            if "payload" in item:  # a small one comes in the listing
                payload = base64.b64decode(str(item["payload"]), validate=True)
            else:
                payload = b"".join([chunk async for chunk in client.download(dispatch_id, 0)])
            if hashlib.sha256(payload).hexdigest() != header.payload_sha256:
                raise PeerRefused("payload digest differs from the header's", code="bad-digest")
            pyrage.decrypt(payload, [commune.identity])
            self.tally.fetched.add(dispatch_id)
            self.unfetched.discard(dispatch_id)
            if self.sent and not self.unfetched:
                self.all_fetched.set()
            offered = self.tally.offered_at.get(dispatch_id)
            if asked is not None and offered is not None:
                self.tally.fetched_after.append(time.perf_counter() - offered)
            receipt = make_receipt(
                commune.signer,
                dispatch_id=dispatch_id,
                payload_sha256=header.payload_sha256,
                node=commune.code,
                units=[commune.code],
                status=ACCEPTED,
            )
            state = await client.hand_back_receipt(dispatch_id, receipt)
            if asked is not None and offered is not None:
                # The district may not have read the hub's answer yet: its offer is then the
                # (earlier, so longer) stand-in for the moment the hub held the dispatch.
                has_work = max(asked, self.tally.held_at.get(dispatch_id, offered))
                self.tally.pull_round.append(time.perf_counter() - has_work)
        except (PeerRefused, aiohttp.ClientError, TimeoutError, OSError) as error:
            self.tally.errors[f"fetch: {_what(error)}"] += 1
            return
        except pyrage.DecryptError:
            self.tally.errors["fetch: cannot decrypt"] += 1
            return
        self.tally.counts[f"acked, {state}"] += 1

    async def _drain(self) -> None:
        """After the tail, every commune sent something not yet fetched pulls until nothing
        waits for it (not timed), so the counts show whether every dispatch offered got to its
        commune; the others had nothing sent this run, so nothing waits for them."""
        gate = asyncio.Semaphore(DRAIN_CONCURRENCY)
        behind = {
            sealed.commune
            for sealed in self.pool
            if sealed.id in self.tally.offered_at and sealed.id not in self.tally.fetched
        }

        async def drain(commune: Commune) -> None:
            async with gate:
                for _ in range(10):
                    if not await self._pull(commune, None, timed=False):
                        return

        await asyncio.gather(*(drain(c) for c in self.communes if c.code in behind))


# -- figures -----------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures_of(load: Load, tally: Tally, base_load: Load, base: Tally) -> list[Figure]:
    def row(name: str, unit: str, value: float, baseline: float) -> Figure:
        return Figure(f"{load.label} {name}", value, f"{base_load.label} same", baseline, unit)

    rows = [
        row("hub CPU, % of a core", "%", tally.hub_cpu, base.hub_cpu),
        row("bench process CPU, %", "%", tally.bench_cpu, base.bench_cpu),
        row("hub run-queue wait, %", "%", tally.hub_cpu_wait, base.hub_cpu_wait),
        row("hub peak RSS, MiB", "", tally.hub_peak_rss_mib, base.hub_peak_rss_mib),
        row(
            "questions to the hub /s",
            "",
            tally.window_questions / load.seconds,
            base.window_questions / base_load.seconds,
        ),
    ]
    for name, unit, scale, timings in (
        ("pull round", "ms", 1000, "pull_round"),
        ("relay delivery", "ms", 1000, "delivery"),
        ("offer->fetched", "s", 1, "fetched_after"),
    ):
        for label, share in (("p50", 0.5), ("p99", 0.99)):
            rows.append(
                row(
                    f"{name} {label}",
                    unit,
                    _percentile(getattr(tally, timings), share) * scale,
                    _percentile(getattr(base, timings), share) * scale,
                )
            )
    for name in ("offered", "held by hub"):
        rows.append(row(name, "", tally.counts[name], base.counts[name]))
    rows.append(row("fetched by communes", "", len(tally.fetched), len(base.fetched)))
    for name in ("acked, delivered", "receipts to senders"):
        rows.append(row(name, "", tally.counts[name], base.counts[name]))
    rows.append(row("errors", "", sum(tally.errors.values()), sum(base.errors.values())))
    return rows


#: The rows ``python -m bench`` shows of this part, those the issue sets targets for, so the
#: whole run fits on one screen; ``python -m bench.network_sim`` shows them all.
BRIEF_ROWS = (
    "hub CPU, % of a core",
    "hub peak RSS, MiB",
    "pull round p50",
    "pull round p99",
    "offer->fetched p50",
    "offer->fetched p99",
    "fetched by communes",
    "errors",
)


def brief_figures(load: Load, tally: Tally, base_load: Load, base: Tally) -> list[Figure]:
    """:func:`figures_of`'s rows in ``BRIEF_ROWS``, named shortly: ``hub 500c`` and the
    baseline as ``polling, new conn``."""
    prefix = f"{load.label} "
    return [
        replace(
            figure,
            name=f"hub {load.communes}c {figure.name.removeprefix(prefix).removeprefix('hub ')}",
            baseline_name=f"poll {base_load.pull_seconds:g}s"
            f"{'' if base_load.keep_alive else ', new conn'}",
        )
        for figure in figures_of(load, tally, base_load, base)
        if figure.name.removeprefix(prefix) in BRIEF_ROWS
    ]


def _log_summary(path: Path) -> str:
    """The hub's warnings and errors by event, with the last line of each exception: a few
    lines instead of a screenful of tracebacks."""
    seen: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            seen[f"(not JSON) {line[:120]}"] += 1
            continue
        if not isinstance(event, dict):
            continue
        cause = [
            line
            for line in str(event.get("exception") or event.get("error") or "").splitlines()
            if EXCEPTION_LINE.match(line)
        ]
        what = f"{event.get('level')} {event.get('event')} {cause[-1][:160] if cause else ''}"
        seen[what.strip()] += 1
    return "hub log:\n" + "\n".join(f"  {count:6d} x {what}" for what, count in seen.items())


def _hub_wait(*loads: Load) -> dict[str, str]:
    """The hub holds a question as long as the longest wait asked (its default is 55 s)."""
    longest = max(each.wait for each in loads)
    return {"CONGVAN_EXCHANGE_PULL_WAIT_SECONDS": f"{math.ceil(longest)}"} if longest else {}


def _load_average() -> str:
    return " ".join(f"{each:.2f}" for each in os.getloadavg())


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def simulate(
    load: Load,
    base_load: Load,
    *,
    districts: int = 2,
    database_url: str = "",
    size: int = 10 * 1024,
    hub_profile: Path | None = None,
    rows: Callable[[Load, Tally, Load, Tally], list[Figure]] = figures_of,
    base_port: int = BASE_PORT,
) -> list[Figure]:
    """Set up (timed apart), then the baseline load and the full load against one hub; the
    figures as ``rows`` makes them (all of them unless told)."""
    _raise_open_files_limit()
    communes = max(load.communes, base_load.communes)
    with tempfile.TemporaryDirectory(prefix="congvan-netsim-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        network = await build_network(root, communes, districts, database_url, base_port)
        set_up = time.perf_counter() - started
        _note(
            f"set-up: hub, CA, {communes} communes and {districts} districts with "
            f"{3 * (communes + districts)} certificates: {set_up:.1f} s"
        )
        pools = {}
        for name, each in (("baseline", base_load), ("full", load)):
            started = time.perf_counter()
            pools[name] = await asyncio.to_thread(seal_pool, network, each, root / name, size)
            took = time.perf_counter() - started
            _note(
                f"sealed {len(pools[name])} dispatches of {size} bytes for the {name} load: "
                f"{took:.1f} s ({took / len(pools[name]) * 1000:.1f} ms each)"
            )
        with (root / "hub.log").open("wb") as log:
            profiler = [sys.executable, "-m", "bench.cpu_profile", str(hub_profile)]
            hub = await asyncio.create_subprocess_exec(
                *(profiler if hub_profile else []),
                CONGVAN,
                "serve",
                "--dir",
                str(network.hub.node_dir),
                env={**os.environ, **HUB_ENV, **_hub_wait(load, base_load)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        tallies = {}
        try:
            await _wait_until_ready(network, hub)
            await asyncio.sleep(3)  # the hub's start-up work (publisher, recovery) settles
            for name, each in (("baseline", base_load), ("full", load)):
                _note(f"{name}: {each.describe()}")
                tally = await Simulation(network, each, pools[name]).run(hub.pid)
                tallies[name] = tally
                _note(
                    f"  counts {dict(tally.counts)}, fetched {len(tally.fetched)}; "
                    f"errors {dict(tally.errors) or 'none'}; "
                    f"load average {_load_average()} on {os.cpu_count()} CPUs"
                )
        finally:
            hub.send_signal(signal.SIGINT)
            await asyncio.wait_for(hub.wait(), timeout=60)
            if hub.returncode not in (0, -signal.SIGINT) or any(
                tally.errors for tally in tallies.values()
            ):
                _note(_log_summary(root / "hub.log"))
    return rows(load, tallies["full"], base_load, tallies["baseline"])


async def run(base_port: int = BASE_PORT) -> list[Figure]:
    """For ``python -m bench``: the issue's 500 communes, 10 dispatches/s for 60 s, asking
    with the long poll (wait 55 s, one kept connection each) against the same polling every
    60 s with a new connection each time; ``BENCH_NETWORK_FULL=1`` makes the windows 120 s."""
    seconds = 120 if os.environ.get("BENCH_NETWORK_FULL") == "1" else 60
    load = Load(500, 10, seconds, 60, wait=55, keep_alive=True)
    return await simulate(
        load, replace(load, wait=0, keep_alive=False), rows=brief_figures, base_port=base_port
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.network_sim", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--communes", type=int, default=500)
    parser.add_argument("--districts", type=int, default=2)
    parser.add_argument("--rate", type=float, default=10.0, help="dispatches per second")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--pull-seconds", type=float, default=60.0)
    parser.add_argument(
        "--wait",
        type=float,
        default=55.0,
        help="the long poll's wait (the hub's pull_wait_seconds); 0 polls every --pull-seconds",
    )
    parser.add_argument(
        "--new-connections",
        action="store_true",
        help="a new connection per question (as Puller.pull_once opened) instead of one kept",
    )
    parser.add_argument(
        "--baseline-communes", type=int, help="default: --communes (only the asking differs)"
    )
    parser.add_argument("--baseline-rate", type=float, help="default: --rate")
    parser.add_argument(
        "--baseline-wait", type=float, default=0.0, help="default 0: the baseline polls"
    )
    parser.add_argument(
        "--baseline-keep-alive",
        action="store_true",
        help="the baseline's communes keep their connection too (default: a new one each time)",
    )
    parser.add_argument("--bytes", type=int, default=10 * 1024, help="each document's size")
    parser.add_argument("--database-url", default="", help="the hub's; default SQLite")
    parser.add_argument(
        "--base-port", type=int, default=BASE_PORT, help="the hub's peer port; its web port next"
    )
    parser.add_argument(
        "--hub-profile",
        type=Path,
        help="run the hub under cProfile, timed by its event loop's CPU, and write its stats "
        "here (slows the hub)",
    )
    options = parser.parse_args(argv)
    configure_logging(LogSettings(level="warning"))
    load = Load(
        options.communes,
        options.rate,
        options.seconds,
        options.pull_seconds,
        wait=options.wait,
        keep_alive=not options.new_connections,
    )
    base = Load(
        options.baseline_communes or options.communes,
        options.baseline_rate or options.rate,
        options.seconds,
        options.pull_seconds,
        wait=options.baseline_wait,
        keep_alive=options.baseline_keep_alive,
    )
    figures = asyncio.run(
        simulate(
            load,
            base,
            districts=options.districts,
            database_url=options.database_url,
            size=options.bytes,
            hub_profile=options.hub_profile,
            base_port=options.base_port,
        )
    )
    print(render(figures))
    _note(f"load average at the end: {_load_average()}")


if __name__ == "__main__":
    main()
