"""``congvan demo`` from nothing: three nodes that answer, trust each other, refuse the revoked.

The demo runs as an operator starts it, in its own process, and is stopped with Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import signal
import smtplib
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import pytest
from cryptography import x509

from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.demo import running_demo as run_demo
from tests.support.network import DEMO_NODE_NAMES
from tests.support.peers import client_context, ping


@pytest.fixture(scope="module")
def running_demo(
    cli: Cli,
    databases: DatabasePool,
    tmp_path_factory: pytest.TempPathFactory,
    secrets_seen: SecretsSeen,
) -> Iterator[tuple[Path, dict[str, Any], subprocess.Popen[str]]]:
    with run_demo(cli, databases, tmp_path_factory.mktemp("running-demo"), secrets_seen) as demo:
        yield demo.root, demo.document, demo.process


def _node_context(document: dict[str, Any], name: str) -> Any:
    node = next(node for node in document["nodes"] if node["name"] == name)
    folder = Path(node["dir"])
    return client_context(
        Path(document["ca"]),
        folder / "pki" / "node.pem",
        folder / "pki" / "node.key",
        (folder / "secret").read_text().strip().encode(),
    )


def test_demo_json_describes_nodes_and_one_account_per_role(running_demo: Any) -> None:
    _root, document, _process = running_demo
    assert Path(document["ca"]).exists()
    assert [node["name"] for node in document["nodes"]] == DEMO_NODE_NAMES
    assert {tuple(node["units"]) for node in document["nodes"]} == {
        ("TU", "BTC"),
        ("HU-CAMLO",),
        ("TX-DONGHA",),
    }
    for node in document["nodes"]:
        roles = {a["role"] for a in document["accounts"] if a["node"] == node["name"]}
        assert roles == {"admin", "clerk", "leader", "staff"}
    for account in document["accounts"]:
        assert set(account) >= {
            "username",
            "password",
            "totp_secret",
            "unit",
            "role",
            "clearance",
            "node",
            "email",
            "app_password",
            "ics_url",
        }
        assert account["email"].startswith(account["username"] + "@")


def test_mail_between_demo_nodes_with_their_app_passwords(running_demo: Any) -> None:
    """demo.json's ``smtp_host``/``smtp_port``, ``email`` and ``app_password`` are all a mail
    client needs: a message from the province reaches Đông Hà's Maildir."""
    _root, document, _process = running_demo
    province = next(node for node in document["nodes"] if node["name"] == "TU")
    dongha = next(node for node in document["nodes"] if node["name"] == "TX-DONGHA")
    sender = next(a for a in document["accounts"] if a["node"] == "TU" and a["role"] == "clerk")
    receiver = next(
        a for a in document["accounts"] if a["node"] == "TX-DONGHA" and a["role"] == "leader"
    )
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        sender["email"],
        receiver["email"],
        "Thư thử từ bản demo",
    )
    message.set_content("Xin chào Đông Hà.")
    context = ssl.create_default_context(cafile=document["ca"])
    with smtplib.SMTP(province["smtp_host"], province["smtp_port"], timeout=30) as client:
        client.starttls(context=context)
        client.login(sender["email"], sender["app_password"])
        assert client.send_message(message) == {}
    new_mail = Path(dongha["dir"]) / "maildir" / receiver["username"] / "new"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(new_mail.glob("*")):
        time.sleep(0.2)
    [arrived] = new_mail.glob("*")
    assert "Thư thử từ bản demo" in str(
        BytesParser(policy=policy.default).parsebytes(arrived.read_bytes())["Subject"]
    )


def test_every_node_answers_ping_to_every_other_node(running_demo: Any) -> None:
    _root, document, _process = running_demo

    async def all_pairs() -> list[tuple[str, str, int, dict[str, Any]]]:
        results = []
        for server in document["nodes"]:
            for client in DEMO_NODE_NAMES:
                if client == server["name"]:
                    continue
                status, body = await ping(server["peer_url"], _node_context(document, client))
                results.append((server["name"], client, status, body))
        return results

    for server, client, status, body in asyncio.run(all_pairs()):
        assert status == 200, (server, client, body)
        assert body == {"node": server, "peer": client}


def test_a_revoked_node_is_refused_by_every_other_node(running_demo: Any, cli: Cli) -> None:
    _root, document, _process = running_demo
    dongha = next(node for node in document["nodes"] if node["name"] == "TX-DONGHA")
    certificate = x509.load_pem_x509_certificate(
        (Path(dongha["dir"]) / "pki" / "node.pem").read_bytes()
    )
    province_dir = next(n["dir"] for n in document["nodes"] if n["name"] == "TU")
    cli(
        "keys",
        "revoke",
        format(certificate.serial_number, "X"),
        "--reason",
        "keyCompromise",
        "--dir",
        province_dir,
    )

    async def from_dongha() -> list[tuple[int, dict[str, Any]]]:
        context = _node_context(document, "TX-DONGHA")
        return [
            await ping(node["peer_url"], context)
            for node in document["nodes"]
            if node["name"] != "TX-DONGHA"
        ]

    for status, body in asyncio.run(from_dongha()):
        assert status == 403
        assert body["error"] == "revoked"


def test_every_account_subscribes_to_this_weeks_schedule_at_its_ics_url(
    running_demo: Any, secrets_seen: SecretsSeen
) -> None:
    _root, document, _process = running_demo
    web_urls = {node["name"]: node["web_url"] for node in document["nodes"]}
    for account in document["accounts"]:
        assert account["ics_url"].startswith(web_urls[account["node"]] + "/calendar/")
        secrets_seen.add(account["ics_url"].rsplit("/", 1)[1].removesuffix(".ics"))

    async def fetch(url: str) -> str:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
            return await response.text()

    def feed(role: str) -> icalendar.Calendar:
        account = next(
            a for a in document["accounts"] if a["node"] == "HU-CAMLO" and a["role"] == role
        )
        return icalendar.Calendar.from_ical(asyncio.run(fetch(account["ics_url"])))

    leader, staff = feed("leader"), feed("staff")
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    monday = today - timedelta(days=today.weekday())
    chaired = leader.walk("VEVENT")
    assert len(chaired) >= 8
    assert {event.decoded("DTSTART").date() for event in chaired} == {
        monday + timedelta(days=day) for day in range(5)
    }
    assert any("Giao ban Thường trực" in str(event["SUMMARY"]) for event in chaired)
    assert [str(event["STATUS"]) for event in chaired].count("CANCELLED") == 1
    assert [str(event.get("CLASS", "")) for event in chaired].count("CONFIDENTIAL") == 1
    attended = staff.walk("VEVENT")
    assert 0 < len(attended) < len(chaired)
    assert not any(str(event.get("CLASS", "")) == "CONFIDENTIAL" for event in attended)


def test_ctrl_c_stops_the_demo_and_a_second_run_reuses_it(running_demo: Any, cli: Cli) -> None:
    root, document, process = running_demo
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    again = cli("demo", "--dir", root, "--setup-only")
    assert json.loads((root / "demo.json").read_text(encoding="utf-8")) == document
    assert document["accounts"][0]["username"] in again.stdout
