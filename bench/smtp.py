"""Mail submission against Postfix: accepted messages/s and time to the recipient's Maildir.

The figure: the province's gateway (``congvan serve``, in processes of its own, ``[smtp]
processes`` of them on the port) with STARTTLS and AUTH, every message checked and stored
durably before its 250, the delivery worker filing each one in the recipient's Maildir and
inbox. The baseline, in the same run: Debian's Postfix configured for the same job
(:mod:`bench.postfix`: STARTTLS required, SASL AUTH through Dovecot, the sender tied to the
login, no relay, delivery to a Maildir with Postfix's own fsyncs). Both are driven by the same
client (:mod:`bench.mail_client`: ``smtplib``, STARTTLS, AUTH, 10 KB messages):

- one connection reused for every message: messages/s;
- ``BENCH_SMTP_CLIENTS`` (20) clients at once, each on its own connection: accepted messages/s;
- for both, the time from the start of a message's sending to its file in the recipient's
  Maildir ``new/`` (p50, p99), and the CPU all the server's processes spent a message from
  the moment every client had signed in (the delivery included, the sign-ins' argon2 not).

``BENCH_SMTP_PROCESSES`` (2, one a core) sets the gateway's ``[smtp] processes``.
Rounds alternate Postfix and congvan (``BENCH_SMTP_ROUNDS``, 2), so the shared machine's noise
hits both; each figure is the median of its rounds. ``BENCH_SMTP_MESSAGES`` (300) messages a
round go over the one connection, and as many again spread over the clients. aiosmtpd's bare
``Sink`` behind STARTTLS and AUTH (``bench/smtp_sink.py``) shows what the protocol alone costs
in Python, over one connection.
"""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from bench.mail_client import (
    MaildirWatch,
    Run,
    Server,
    delays,
    percentile,
    process_tree_cpu,
    send,
)
from bench.postfix import Account, Postfix, install
from bench.table import Figure
from config.settings import Settings, load_settings
from keys.certificates import node_tls_paths
from office.node.demo import build_demo, read_demo

CONGVAN = str(Path(sys.executable).with_name("congvan"))
STARTUP_SECONDS = 60
DELIVERY_TIMEOUT = 300


@dataclass
class Tally:
    """One server's rounds of one kind."""

    rates: list[float] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    cpu_per_message: list[float] = field(default_factory=list)

    def rate(self) -> float:
        return statistics.median(self.rates)

    def cpu_ms(self) -> float:
        return statistics.median(self.cpu_per_message) * 1000


async def _until_listening(host: str, port: int) -> None:
    deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        try:
            _reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"nothing listens on {host}:{port}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
    await asyncio.wait_for(process.wait(), 60)


async def _measure(
    server: Server,
    maildir: Path,
    sender: str,
    recipient: str,
    groups: list[list[int]],
    cpu_roots: list[int] | None,
    tally: Tally,
) -> None:
    """Send ``groups`` (one connection each), wait until all are in the Maildir, note it."""
    watch = MaildirWatch(maildir)
    try:
        before: list[float] = []

        def signed_in() -> None:  # the sign-ins' argon2 is not what is measured
            before.append(process_tree_cpu(lambda: cpu_roots or []))

        run: Run = await asyncio.to_thread(send, server, sender, recipient, groups, signed_in)
        numbers = {n for group in groups for n in group}
        if not await asyncio.to_thread(watch.wait_for, numbers, DELIVERY_TIMEOUT):
            raise RuntimeError(f"{len(numbers - watch.seen.keys())} messages not delivered")
        after = process_tree_cpu(lambda: cpu_roots or [])
    finally:
        watch.close()
    tally.rates.append(run.rate)
    tally.delays.extend(delays(run, watch))
    if cpu_roots is not None:
        tally.cpu_per_message.append((after - before[0]) / len(numbers))


def _settings(root: Path) -> Settings:
    return load_settings(root / "TU", {})


async def run(base_port: int = 12000) -> list[Figure]:
    messages = int(os.environ.get("BENCH_SMTP_MESSAGES", "300"))
    clients = int(os.environ.get("BENCH_SMTP_CLIENTS", "20"))
    rounds = int(os.environ.get("BENCH_SMTP_ROUNDS", "2"))
    processes = int(os.environ.get("BENCH_SMTP_PROCESSES", "2"))
    await asyncio.to_thread(install)
    quiet = {**os.environ, "CONGVAN_LOG_LEVEL": "warning"}
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryDirectory(prefix="postfix-") as postfix_folder,
    ):
        root = Path(folder)
        await build_demo(root / "net", base_port, {})
        document = read_demo(root / "net")
        assert document is not None
        staff, clerk = (
            next(a for a in document["accounts"] if a["node"] == "TU" and a["role"] == role)
            for role in ("staff", "clerk")
        )
        settings = _settings(root / "net")
        passphrase = (settings.node_dir / "secret").read_text().strip().encode()
        cert, key = node_tls_paths(settings.pki_dir)
        environment = {
            **quiet,
            "CONGVAN_SMTP_RATE_PER_MINUTE": "100000",
            "CONGVAN_SMTP_PROCESSES": str(processes),
        }
        node = await asyncio.create_subprocess_exec(
            CONGVAN, "serve", "--dir", str(settings.node_dir), env=environment,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        postfix_port, sink_port = base_port + 60, base_port + 61
        postfix = Postfix(
            Path(postfix_folder),
            postfix_port,
            clerk["email"].split("@")[1],
            [Account(staff["username"], staff["app_password"], staff["email"])],
            [clerk["email"]],
            cert,
            key,
            passphrase,
            settings.smtp.max_message_bytes,
        )
        sink = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.smtp_sink", str(sink_port), str(cert), str(key),
            str(settings.node_dir / "secret"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        context = ssl.create_default_context(cafile=document["ca"])
        login = (staff["username"], staff["app_password"])
        ours = Server(settings.smtp.host, settings.smtp.port, login, context)
        theirs = Server("127.0.0.1", postfix_port, login, context)
        our_maildir = settings.path(settings.smtp.maildir) / clerk["username"]
        for sub in ("tmp", "new", "cur"):
            (our_maildir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        numbers = count()
        tallies = {(who, kind): Tally() for who in ("congvan", "postfix") for kind in ("1", "n")}
        sink_rates: list[float] = []
        try:
            await asyncio.to_thread(postfix.start)
            await _until_listening(ours.host, ours.port)
            await _until_listening("127.0.0.1", sink_port)
            for _round in range(rounds):
                for who, server, maildir, roots in (
                    ("postfix", theirs, postfix.maildir(clerk["email"]), postfix.master_pids),
                    ("congvan", ours, our_maildir, lambda: [node.pid]),
                ):
                    one = [[next(numbers) for _ in range(messages)]]
                    each = max(1, messages // clients)
                    many = [[next(numbers) for _ in range(each)] for _ in range(clients)]
                    for kind, groups in (("1", one), ("n", many)):
                        await _measure(
                            server,
                            maildir,
                            staff["email"],
                            clerk["email"],
                            groups,
                            roots(),
                            tallies[(who, kind)],
                        )
                sink_run = await asyncio.to_thread(
                    send,
                    Server("127.0.0.1", sink_port, ("any", "any"), context),
                    staff["email"],
                    clerk["email"],
                    [[next(numbers) for _ in range(messages)]],
                )
                sink_rates.append(sink_run.rate)
        finally:
            await _stop(node)
            await _stop(sink)
            await asyncio.to_thread(postfix.stop)
    return _figures(tallies, clients, statistics.median(sink_rates))


def _figures(tallies: dict[tuple[str, str], Tally], clients: int, sink: float) -> list[Figure]:
    figures = []
    for kind, label in (("1", "1 connection"), ("n", f"{clients} clients")):
        ours, theirs = tallies[("congvan", kind)], tallies[("postfix", kind)]
        figures.append(
            Figure(
                f"SMTP msgs/s, {label}",
                ours.rate(),
                "Postfix (TLS, AUTH, Maildir)",
                theirs.rate(),
                "",
            )
        )
        for share, name in ((0.5, "p50"), (0.99, "p99")):
            figures.append(
                Figure(
                    f"  to Maildir {name}, {label}",
                    percentile(ours.delays, share) * 1000,
                    f"Postfix {name}",
                    percentile(theirs.delays, share) * 1000,
                    "ms",
                )
            )
        figures.append(
            Figure(
                f"  CPU a message, {label}",
                ours.cpu_ms(),
                "Postfix, all processes",
                theirs.cpu_ms(),
                "ms",
            )
        )
    ours_one = tallies[("congvan", "1")].rate()
    figures.append(
        Figure("SMTP msgs/s, 1 connection", ours_one, "aiosmtpd Sink, TLS+AUTH", sink, "")
    )
    return figures


if __name__ == "__main__":
    from bench.table import render

    print(render(asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 12000))))
