"""The admin listener: ``/metrics`` read by prometheus-client's own parser, ``/healthz`` and
``/readyz``, on a node of the demo network whose other nodes are down."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from prometheus_client.openmetrics import parser as openmetrics
from prometheus_client.parser import text_string_to_metric_families

from config.errors import PeerRefused
from config.settings import load_settings
from exchange.ledger import VIETNAM
from exchange.outbox import Outbox
from exchange.peer_client import PeerClient
from keys.ca import load_ca
from keys.revocation import crl_pem
from office.node.app import RunningNode, start_node
from office.reports.figures import counted_months
from tests.support.dispatches import node_context, seal_document
from tests.support.mail import client_context, message_from
from tests.support.network import DEMO_NODE_NAMES, DemoNetwork
from tests.support.nodes import FAST, draft, start, states
from tests.support.ports import free_port_block
from tests.support.waiting import wait_for
from tests.support.web import StaffBrowser, new_account

#: Ports ``congvan demo`` gives its nodes, from its base port on.
DEMO_PORTS = 23

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def admin_port(network: DemoNetwork) -> int:
    """A free port outside the block the demo network's nodes listen on (free now only because
    those nodes are down)."""
    used = {
        port
        for name in DEMO_NODE_NAMES
        for settings in (network.settings(name),)
        for port in (settings.web.port, settings.peer.port, settings.smtp.port)
    }
    block = range(min(used), min(used) + DEMO_PORTS)
    while True:
        port = free_port_block(1)
        if port not in used and port not in block:
            return port


@pytest.fixture
async def tu(demo_network: DemoNetwork, tmp_path: Path) -> AsyncIterator[RunningNode]:
    """The provincial node with its admin listener on, checking peers against a CRL of the
    test's own (a copy of the network's), so the test may spoil it."""
    crl = tmp_path / "crl.pem"
    shutil.copyfile(demo_network.settings("TU").crl_file, crl)
    overrides = {
        **FAST,
        "CONGVAN_ADMIN_ENABLED": "true",
        "CONGVAN_ADMIN_PORT": str(admin_port(demo_network)),
        "CONGVAN_KEYS_CRL_FILE": str(crl),
        "CONGVAN_SMTP_POLL_SECONDS": "1",
    }
    node = await start_node(load_settings(demo_network.node_dir("TU"), overrides))
    yield node
    await node.stop()


def outbox(node: RunningNode) -> Outbox:
    assert node.outbox is not None
    return node.outbox


def admin_url(node: RunningNode, path: str) -> str:
    return f"http://{node.settings.admin.host}:{node.settings.admin.port}{path}"


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def scrape(node: RunningNode) -> Samples:
    status, _type, text = await get(admin_url(node, "/metrics"))
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of a family's samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= set(found))


async def moved(node: RunningNode, name: str, before: float, by: float, **labels: str) -> None:
    """Wait until ``name`` has grown by ``by`` (the usage ledger is written every few seconds)."""

    async def grown() -> bool:
        return value(await scrape(node), name, **labels) >= before + by

    await wait_for(grown)


async def test_the_figures_move_with_the_outbox_refusals_sign_ins_and_mail(
    tu: RunningNode, demo_network: DemoNetwork, tmp_path: Path
) -> None:
    before = await scrape(tu)
    assert value(before, "congvan_up") == 1
    assert value(before, "congvan_crl_next_update_seconds") > 24 * 3600

    # A dispatch for Cam Lộ, whose node is down: it waits in the outbox.
    await outbox(tu).send("TU", draft(tmp_path, ("HU-CAMLO",), summary="cho"))
    after = await scrape(tu)
    queued = total(after, "congvan_outbox_deliveries", node="HU-CAMLO")
    assert queued == total(before, "congvan_outbox_deliveries", node="HU-CAMLO") + 1
    states = {
        dict(labels)["state"] for (name, labels) in after if name == "congvan_outbox_deliveries"
    }
    assert states <= {"queued", "sending", "awaiting-receipt", "retry-wait", "failed"}

    # An offer from Cam Lộ for a unit the province does not host is refused.
    seal_document(
        demo_network,
        tmp_path / "offer",
        sender_node="HU-CAMLO",
        sender_unit="HU-CAMLO",
        to=("TX-DONGHA",),
    )
    async with aiohttp.ClientSession() as http:
        client = PeerClient(http, tu.peer_url, node_context(demo_network, "HU-CAMLO"))
        with pytest.raises(PeerRefused) as refused:
            await client.deliver(tmp_path / "offer")
    code = refused.value.code
    after = await scrape(tu)
    assert value(after, "congvan_refusals_total", code=code) == (
        value(before, "congvan_refusals_total", code=code) + 1
    )

    # A wrong password: one failure held against the account, one refused sign-in counted.
    account = await new_account(tu)
    async with StaffBrowser(tu.web_url) as browser:
        page = await browser.sign_in(account.username, "not the password", account.code())
        assert page.status == 200
    after = await scrape(tu)
    assert value(after, "congvan_sign_in_failures") == value(before, "congvan_sign_in_failures") + 1
    await moved(
        tu, "congvan_sign_ins_refused_today", value(before, "congvan_sign_ins_refused_today"), 1
    )

    # A message through SMTP to a colleague on the same node: a session, accepted, delivered.
    sender = demo_network.account("TU", "clerk")
    recipient = demo_network.account("TU", "leader")

    def send() -> None:
        with smtplib.SMTP(tu.settings.smtp.host, tu.settings.smtp.port, timeout=30) as client:
            client.starttls(context=client_context(demo_network))
            client.login(sender["username"], sender["app_password"])
            message = message_from(sender["email"], [recipient["email"]], "Họp giao ban", "8 giờ")
            client.send_message(message)

    await asyncio.to_thread(send)
    after = await scrape(tu)
    assert (
        value(after, "congvan_smtp_sessions_total")
        == value(before, "congvan_smtp_sessions_total") + 1
    )
    await moved(tu, "congvan_mail_accepted_today", value(before, "congvan_mail_accepted_today"), 1)
    await moved(
        tu, "congvan_mail_delivered_today", value(before, "congvan_mail_delivered_today"), 1
    )


async def test_a_delivered_dispatch_counts_in_the_delivery_time_histogram(
    tu: RunningNode, demo_network: DemoNetwork, tmp_path: Path
) -> None:
    before = await scrape(tu)
    camlo, _recorder = await start(demo_network, "HU-CAMLO")
    try:
        header = await outbox(tu).send("TU", draft(tmp_path, ("HU-CAMLO",), summary="den"))

        async def delivered() -> bool:
            return await states(tu, header.id) == {"HU-CAMLO": "delivered"}

        await wait_for(delivered)
    finally:
        await camlo.stop()
    after = await scrape(tu)
    name = "congvan_dispatch_delivery_seconds"
    # Cam Lộ's coming up also lets through what earlier tests left waiting for it (seconds ago).
    count = value(after, f"{name}_gcount") - value(before, f"{name}_gcount")
    assert count >= 1
    taken = value(after, f"{name}_gsum") - value(before, f"{name}_gsum")
    assert 0 < taken < 60 * count
    within_a_minute = value(after, f"{name}_bucket", le="60.0") - value(
        before, f"{name}_bucket", le="60.0"
    )
    assert within_a_minute == count
    assert value(after, f"{name}_bucket", le="+Inf") == value(after, f"{name}_gcount")


async def test_the_roll_up_lag_grows_until_the_roll_up_and_todays_count_stays(
    tu: RunningNode,
) -> None:
    assert tu.ledger is not None
    await tu.ledger.roll_up()
    before = await scrape(tu)
    assert value(before, "congvan_usage_rollup_lag_events") == 0
    assert value(before, "congvan_usage_rollup_lag_seconds") == 0
    account = await new_account(tu)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(account)
    await tu.ledger.flush()
    waiting = await scrape(tu)
    assert value(waiting, "congvan_usage_rollup_lag_events") >= 2  # the sign-in, the pages
    assert value(waiting, "congvan_usage_rollup_lag_seconds") > 0
    signed_in = value(waiting, "congvan_sign_ins_today")
    assert signed_in == value(before, "congvan_sign_ins_today") + 1
    assert value(waiting, "congvan_sign_in_failures") == value(before, "congvan_sign_in_failures")

    await tu.ledger.roll_up()
    rolled = await scrape(tu)
    assert value(rolled, "congvan_usage_rollup_lag_events") == 0
    assert value(rolled, "congvan_sign_ins_today") == signed_in  # counted once, not twice


async def test_only_successful_sign_ins_are_accesses_and_refused_ones_are_counted_apart(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    """The IT report's note defines an access (lượt truy cập) as a successful sign-in: three
    refused sign-ins (two wrong web passwords, a wrong app password over SMTP) and two
    successful ones (web, SMTP AUTH) add two accesses to the month's report and three
    refusals to ``/metrics`` and the administrator's page."""
    assert tu.ledger is not None
    month, today = datetime.now(VIETNAM).strftime("%Y-%m"), datetime.now(VIETNAM).date()

    async def accesses() -> int:
        await tu.ledger.flush()
        await tu.ledger.roll_up()
        async with tu.sessions() as session:
            counted = await counted_months(session, ["TU"], (month,), today)
        usage = counted["TU"].usage.get(month)
        return usage.accesses if usage else 0

    reported, before = await accesses(), await scrape(tu)
    clerk = demo_network.account("TU", "clerk")

    def smtp_sign_in(password: str) -> None:
        """One AUTH PLAIN (``login()`` would try each mechanism offered in turn)."""
        with smtplib.SMTP(tu.settings.smtp.host, tu.settings.smtp.port, timeout=30) as client:
            client.starttls(context=client_context(demo_network))
            client.ehlo()
            client.user, client.password = clerk["username"], password
            client.auth("PLAIN", client.auth_plain)

    wrong, right = await new_account(tu), await new_account(tu)
    async with StaffBrowser(tu.web_url) as browser:
        for _ in range(2):
            page = await browser.sign_in(wrong.username, "not the password", wrong.code())
            assert page.status == 200
        await browser.sign_in_as(right)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        await asyncio.to_thread(smtp_sign_in, "not the app password")
    await asyncio.to_thread(smtp_sign_in, clerk["app_password"])

    assert await accesses() == reported + 2
    after = await scrape(tu)
    assert value(after, "congvan_sign_ins_today") == value(before, "congvan_sign_ins_today") + 2
    assert value(after, "congvan_sign_ins_refused_today") == (
        value(before, "congvan_sign_ins_refused_today") + 3
    )
    admin = await new_account(tu, role="admin")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(admin)
        page = await browser.get("/admin")
    refused = int(value(after, "congvan_sign_ins_refused_today"))
    assert f"{refused} bị từ chối" in page.text


async def test_a_scraper_that_asks_for_openmetrics_gets_it(tu: RunningNode) -> None:
    headers = {"Accept": "application/openmetrics-text; version=1.0.0"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(admin_url(tu, "/metrics"), headers=headers) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        text = await response.text()
    parsed = openmetrics.text_string_to_metric_families(text)  # type: ignore[no-untyped-call]
    families = {family.name: family for family in parsed}
    assert families["congvan_dispatch_delivery_seconds"].type == "gaugehistogram"
    assert families["congvan_refusals"].type == "counter"
    assert families["congvan_up"].samples[0].value == 1


async def test_the_delivery_time_histogram_and_the_job_lags_are_well_formed(
    tu: RunningNode,
) -> None:
    samples = await scrape(tu)
    buckets = sorted(
        (float(dict(labels)["le"]), count)
        for (name, labels), count in samples.items()
        if name == "congvan_dispatch_delivery_seconds_bucket"
    )
    assert buckets[-1][0] == float("inf")
    counts = [count for _bound, count in buckets]
    assert counts == sorted(counts)  # cumulative
    assert value(samples, "congvan_dispatch_delivery_seconds_gcount") == counts[-1]
    assert value(samples, "congvan_dispatch_delivery_seconds_gsum") >= 0
    for name in (
        "congvan_mail_queue_messages",
        "congvan_mail_queue_oldest_due_seconds",
        "congvan_usage_rollup_lag_events",
        "congvan_usage_rollup_lag_seconds",
        "congvan_accounts_locked",
    ):
        assert (name, ()) in samples, name
        assert samples[(name, ())] >= 0


async def test_health_is_ok_and_ready_until_the_crl_goes_stale(
    tu: RunningNode, demo_network: DemoNetwork
) -> None:
    assert (await get(admin_url(tu, "/healthz")))[::2] == (200, "ok\n")
    assert (await get(admin_url(tu, "/readyz")))[::2] == (200, "ready\n")

    # A CRL truly signed by the CA, whose next update passed yesterday, put in place as the
    # refresher does (a rename).
    authority = load_ca(demo_network.settings("TU").ca_dir, demo_network.passphrase("TU"))
    now = datetime.now(UTC)
    stale = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(now - timedelta(days=8))
        .next_update(now - timedelta(days=1))
        .sign(authority.key, hashes.SHA256())
    )
    crl = tu.settings.crl_file
    fresh = crl.with_suffix(".new")
    fresh.write_bytes(crl_pem(stale))
    fresh.replace(crl)
    status, _type, text = await get(admin_url(tu, "/readyz"))
    assert status == 503
    assert text.startswith("not ready\ncrl: past its next update (")
    assert "database" not in text
    assert value(await scrape(tu), "congvan_crl_next_update_seconds") < -23 * 3600

    crl.unlink()
    status, _type, text = await get(admin_url(tu, "/readyz"))
    assert status == 503
    assert "crl: stale-crl: " in text
    samples = await scrape(tu)
    assert ("congvan_crl_next_update_seconds", ()) not in samples
    assert value(samples, "congvan_up") == 1  # the database still answers
    assert (await get(admin_url(tu, "/healthz")))[0] == 200


async def test_metrics_are_not_served_on_the_staff_port(tu: RunningNode) -> None:
    status, _type, text = await get(f"{tu.web_url}/metrics")
    assert status != 200
    assert "congvan_" not in text
    assert (await get(f"{tu.web_url}/healthz"))[0] == 200  # the web app's own health check


async def test_the_admin_listener_is_not_started_unless_enabled(
    demo_network: DemoNetwork,
) -> None:
    port = admin_port(demo_network)
    overrides = {**FAST, "CONGVAN_ADMIN_PORT": str(port)}
    node = await start_node(load_settings(demo_network.node_dir("TU"), overrides))
    try:
        assert not node.settings.admin.enabled
        with pytest.raises(aiohttp.ClientConnectionError):
            await get(f"http://127.0.0.1:{port}/healthz")
    finally:
        await node.stop()
