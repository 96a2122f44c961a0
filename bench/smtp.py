"""Mail submission throughput: messages/s of 10 KB over one reused connection.

The figure: the province's gateway (``congvan serve``, in a process of its own) with STARTTLS
and AUTH, every message checked and stored durably before its 250, the delivery worker filing
each one in the recipient's Maildir and inbox meanwhile. The baseline, in the same run and on
the same machine: aiosmtpd's bare ``Sink`` (``python -m aiosmtpd``, its own process too) with
no TLS, no AUTH and a handler that throws every message away; and, to tell the protocol's cost
from the gateway's work, the same ``Sink`` behind STARTTLS and AUTH (``bench/smtp_sink.py``).
The client is ``smtplib`` in this process, the same for all three.

``BENCH_SMTP_MESSAGES`` (default 2000) sets how many messages each side gets.
"""

from __future__ import annotations

import asyncio
import os
import signal
import smtplib
import ssl
import sys
import tempfile
import time
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from bench.table import Figure
from config.settings import load_settings
from keys.certificates import node_tls_paths
from office.node.demo import build_demo, read_demo

CONGVAN = str(Path(sys.executable).with_name("congvan"))
BODY_BYTES = 10 * 1024
STARTUP_SECONDS = 60


def _message(sender: str, recipient: str, number: int) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = f"Thư thử số {number}"
    message["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    line = "Nội dung thư thử tốc độ gửi, dòng văn bản tiếng Việt có dấu.\n"
    message.set_content((line * (BODY_BYTES // len(line.encode()) + 1))[: BODY_BYTES // 2])
    return message.as_bytes(policy=policy.SMTP)


def _send_all(
    host: str,
    port: int,
    count: int,
    sender: str,
    recipient: str,
    login: tuple[str, str] | None,
    context: ssl.SSLContext | None,
) -> float:
    """Messages per second on one connection (blocking)."""
    messages = [_message(sender, recipient, number) for number in range(count)]
    with smtplib.SMTP(host, port, timeout=60) as client:
        if context is not None:
            client.starttls(context=context)
        if login is not None:
            client.login(*login)
        started = time.perf_counter()
        for raw in messages:
            client.sendmail(sender, [recipient], raw)
        return count / (time.perf_counter() - started)


async def _until_listening(host: str, port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
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
    process.send_signal(signal.SIGINT)
    await asyncio.wait_for(process.wait(), 60)


async def run(base_port: int = 48000) -> list[Figure]:
    count = int(os.environ.get("BENCH_SMTP_MESSAGES", "2000"))
    quiet = {**os.environ, "CONGVAN_LOG_LEVEL": "warning"}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        await build_demo(root, base_port, {})
        document = read_demo(root)
        assert document is not None
        staff, clerk = (
            next(a for a in document["accounts"] if a["node"] == "TU" and a["role"] == role)
            for role in ("staff", "clerk")
        )
        environment = {**quiet, "CONGVAN_SMTP_RATE_PER_MINUTE": str(count * 10)}
        settings = load_settings(root / "TU", {})
        node = await asyncio.create_subprocess_exec(
            CONGVAN, "serve", "--dir", str(settings.node_dir), env=environment,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        sink_port, tls_sink_port = base_port + 50, base_port + 51
        sink = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
            "-l", f"127.0.0.1:{sink_port}",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        cert, key = node_tls_paths(settings.pki_dir)
        tls_sink = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.smtp_sink", str(tls_sink_port), str(cert), str(key),
            str(settings.node_dir / "secret"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await _until_listening(settings.smtp.host, settings.smtp.port)
            await _until_listening("127.0.0.1", sink_port)
            await _until_listening("127.0.0.1", tls_sink_port)
            context = ssl.create_default_context(cafile=document["ca"])
            gateway = await asyncio.to_thread(
                _send_all,
                settings.smtp.host,
                settings.smtp.port,
                count,
                staff["email"],
                clerk["email"],
                (staff["username"], staff["app_password"]),
                context,
            )
            bare = await asyncio.to_thread(
                _send_all, "127.0.0.1", sink_port, count, staff["email"], clerk["email"],
                None, None,
            )  # fmt: skip
            protocol_only = await asyncio.to_thread(
                _send_all, "127.0.0.1", tls_sink_port, count, staff["email"], clerk["email"],
                ("any", "any"), context,
            )  # fmt: skip
        finally:
            await _stop(node)
            await _stop(sink)
            await _stop(tls_sink)
    return [
        Figure("SMTP 10 KB msgs/s, TLS+AUTH", gateway, "aiosmtpd Sink, no TLS/AUTH", bare, ""),
        Figure(
            "SMTP 10 KB msgs/s, TLS+AUTH",
            gateway,
            "aiosmtpd Sink, TLS+AUTH",
            protocol_only,
            "",
        ),
    ]


if __name__ == "__main__":
    from bench.table import render

    print(render(asyncio.run(run())))
