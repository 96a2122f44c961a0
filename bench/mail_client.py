"""The mail client ``bench/smtp.py`` drives every server with, and the watch on the recipient's
Maildir that tells when each message was delivered.

Each message carries its number in an ``X-Bench-Seq`` header; the client notes when it began
sending each one, the watch when the file appeared in ``new/`` (inotify, read from a thread),
so delivery time is measured the same way whichever server wrote the file.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
import smtplib
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

BODY_BYTES = 10 * 1024
IN_CREATE = 0x100
IN_MOVED_TO = 0x80
SEQ = re.compile(rb"^X-Bench-Seq: (\d+)", re.MULTILINE)
EVENT = struct.Struct("iIII")


def message(sender: str, recipient: str, number: int) -> bytes:
    """10 KB of Vietnamese text (quoted-printable, as a mail client sends it)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = recipient
    mail["Subject"] = f"Thư thử số {number}"
    mail["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    mail["X-Bench-Seq"] = str(number)
    line = "Nội dung thư thử tốc độ gửi, dòng văn bản tiếng Việt có dấu.\n"
    mail.set_content((line * (BODY_BYTES // len(line.encode()) + 1))[: BODY_BYTES // 2])
    return mail.as_bytes(policy=policy.SMTP)


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    login: tuple[str, str]
    context: ssl.SSLContext


@dataclass
class Run:
    """When each message's sending began (``perf_counter``), and how long the sending took."""

    sent: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.sent) / self.seconds if self.seconds else 0.0


def _connect(server: Server) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.port, timeout=120)
    client.starttls(context=server.context)
    client.login(*server.login)
    return client


def send(
    server: Server,
    sender: str,
    recipient: str,
    numbers: list[list[int]],
    on_start: Callable[[], None] = lambda: None,
) -> Run:
    """Each list of ``numbers`` on a connection of its own, all at once (one thread each),
    timed from when every client has signed in (``on_start`` is called then) to the last 250
    (blocking)."""
    messages = [[message(sender, recipient, n) for n in group] for group in numbers]
    run = Run()
    ready = threading.Barrier(len(numbers) + 1)
    errors: list[BaseException] = []
    # One sign-in at a time: the gateway counts an attempt before it checks it, and twenty
    # at once from one address look like guessing (keys.throttle).
    signing_in = threading.Lock()

    def client(group: list[int], raws: list[bytes]) -> None:
        try:
            with signing_in:
                connection = _connect(server)
            with connection:
                ready.wait()
                for number, raw in zip(group, raws, strict=True):
                    run.sent[number] = time.perf_counter()
                    connection.sendmail(sender, [recipient], raw)
        except threading.BrokenBarrierError:
            pass  # another client failed
        except BaseException as error:
            errors.append(error)
            ready.abort()

    threads = [
        threading.Thread(target=client, args=(group, raws))
        for group, raws in zip(numbers, messages, strict=True)
    ]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: raised below
        ready.wait()
    on_start()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return run


class MaildirWatch:
    """When each numbered message appeared in ``folder/new`` (inotify from a thread)."""

    def __init__(self, folder: Path) -> None:
        self.new = folder / "new"
        self.seen: dict[int, float] = {}
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        watch = self._libc.inotify_add_watch(
            self._fd, str(self.new).encode(), IN_CREATE | IN_MOVED_TO
        )
        if watch < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {self.new}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if not ready:
                continue
            data = os.read(self._fd, 1 << 16)
            now = time.perf_counter()
            offset = 0
            while offset < len(data):
                _wd, _mask, _cookie, length = EVENT.unpack_from(data, offset)
                name = data[offset + EVENT.size : offset + EVENT.size + length].rstrip(b"\0")
                offset += EVENT.size + length
                self._note(name.decode(errors="surrogateescape"), now)

    def _note(self, name: str, now: float) -> None:
        try:
            with (self.new / name).open("rb") as reader:
                head = reader.read(8192)
        except OSError:
            return
        found = SEQ.search(head)
        if found is not None:
            self.seen.setdefault(int(found.group(1)), now)

    def wait_for(self, numbers: set[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not numbers <= self.seen.keys():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._fd)


def delays(run: Run, watch: MaildirWatch) -> list[float]:
    """Seconds from the start of sending to the file in ``new/``, of each delivered message."""
    return sorted(watch.seen[n] - started for n, started in run.sent.items() if n in watch.seen)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def process_tree_cpu(roots: Callable[[], list[int]]) -> float:
    """CPU seconds of the processes ``roots`` names and all their descendants, living ones
    and those their parents reaped (every server here reaps its own)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        # utime, stime, cutime, cstime
        times[pid] = sum(int(value) for value in fields[11:15]) / tick
    wanted = set(roots())
    total = 0.0
    for pid in times:
        ancestor = pid
        while ancestor not in wanted and ancestor in parents and ancestor > 1:
            ancestor = parents[ancestor]
        if ancestor in wanted:
            total += times[pid]
    return total
