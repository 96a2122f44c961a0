"""``congvan demo`` in a process of its own, as a person starts it, until it is interrupted."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from office.node.demo import DEMO_ROLES
from tests.conftest import SecretsSeen
from tests.support.cli import CONGVAN, Cli
from tests.support.databases import DatabasePool
from tests.support.network import DEMO_NODE_NAMES
from tests.support.ports import free_port_block
from tests.support.web import StaffAccount

STARTUP_SECONDS = 60


@dataclass
class RunningDemo:
    root: Path
    document: dict[str, Any]
    process: subprocess.Popen[str]

    def node(self, name: str) -> dict[str, Any]:
        return next(node for node in self.document["nodes"] if node["name"] == name)

    def account(self, node: str, role: str) -> dict[str, Any]:
        return next(
            account
            for account in self.document["accounts"]
            if account["node"] == node and account["role"] == role
        )

    def staff(self, node: str, role: str) -> StaffAccount:
        """The account as a person holds it (secrets kept out of reprs and tracebacks)."""
        account = self.account(node, role)
        full_name = f"{DEMO_ROLES[role][2]} {account['unit']}"
        return StaffAccount(
            account["username"],
            account["password"],
            account["totp_secret"],
            account["unit"],
            full_name,
        )


def healthy(web_url: str) -> bool:
    async def probe() -> bool:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(
                    f"{web_url}/healthz", timeout=aiohttp.ClientTimeout(total=2)
                ) as response,
            ):
                return response.status == 200 and (await response.json())["status"] == "ok"
        except (aiohttp.ClientError, TimeoutError):
            return False

    return asyncio.run(probe())


def _wait_until_healthy(document_path: Path, process: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "congvan demo exited early"
        if document_path.exists():
            document = json.loads(document_path.read_text(encoding="utf-8"))
            if all(healthy(node["web_url"]) for node in document["nodes"]):
                return document
        time.sleep(0.3)
    raise AssertionError("demo network did not become healthy in time")


@contextmanager
def running_demo(
    cli: Cli, databases: DatabasePool, root: Path, secrets_seen: SecretsSeen
) -> Iterator[RunningDemo]:
    """Build and serve the demo network in ``root``; its secrets go to the guard."""
    args = [CONGVAN, "demo", "--dir", str(root), "--base-port", str(free_port_block(23))]
    template = databases.new_template(DEMO_NODE_NAMES)
    if template:
        args += ["--database-url", template]
    with cli.log_path.open("a", encoding="utf-8") as log:
        process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=log, text=True, env=cli.environment()
        )
    try:
        document = _wait_until_healthy(root / "demo.json", process)
        for account in document["accounts"]:
            secrets_seen.add(account["password"], account["totp_secret"])
        for node in document["nodes"]:
            secrets_seen.add((Path(node["dir"]) / "secret").read_text().strip())
        yield RunningDemo(root, document, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
