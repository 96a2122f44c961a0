"""A district node that keeps its own copies fetches the directory and CRL from the hub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509

from config.errors import PeerRefused
from config.settings import load_settings
from exchange.peer_client import PeerClient
from exchange.refresh import TrustRefresher
from office.node.app import start_node
from tests.support.cli import Cli
from tests.support.dispatches import node_context, seal_document
from tests.support.network import DemoNetwork
from tests.support.peers import ping
from tests.support.waiting import wait_for


async def test_a_district_fetches_directory_and_crl_from_the_hub_and_then_accepts(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    province = await start_node(demo_network.settings("TU"))
    own = {
        "CONGVAN_KEYS_DIRECTORY_FILE": str(tmp_path / "directory.json"),
        "CONGVAN_KEYS_CRL_FILE": str(tmp_path / "crl.pem"),
        "CONGVAN_EXCHANGE_HUB_URL": province.peer_url,
    }
    camlo = await start_node(load_settings(demo_network.node_dir("HU-CAMLO"), own))
    try:

        async def fetched() -> bool:
            return (tmp_path / "directory.json").exists()  # written last

        await wait_for(fetched)
        published = demo_network.node_dir("TU") / "ca"
        copied = (tmp_path / "directory.json").read_bytes()
        assert copied == (published / "directory.json").read_bytes()
        assert (tmp_path / "directory.json.sig").read_bytes() == (
            published / "directory.json.sig"
        ).read_bytes()
        assert (tmp_path / "crl.pem").read_bytes() == (published / "crl.pem").read_bytes()
        seal_document(demo_network, tmp_path / "out")
        async with aiohttp.ClientSession() as session:
            client = PeerClient(session, camlo.peer_url, node_context(demo_network, "TU"))
            receipt = await client.deliver(tmp_path / "out")
        assert receipt["body"]["status"] == "accepted"
    finally:
        await camlo.stop()
        await province.stop()


async def test_only_the_hub_publishes_the_directory(demo_network: DemoNetwork) -> None:
    camlo = await start_node(demo_network.settings("HU-CAMLO"))
    try:
        assert (await ping(camlo.peer_url, node_context(demo_network, "TU")))[0] == 200
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{camlo.peer_url}/exchange/v1/directory", ssl=node_context(demo_network, "TU")
            ) as response,
        ):
            assert response.status == 404
            assert (await response.json())["error"] == "not-a-hub"
    finally:
        await camlo.stop()


async def test_an_older_crl_from_the_hub_does_not_replace_a_newer_one(
    fresh_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    """A replayed old CRL would un-revoke certificates: the district keeps the newer one."""
    province = await start_node(fresh_network.settings("TU"))
    district = load_settings(fresh_network.node_dir("HU-CAMLO"), {})
    refresher = TrustRefresher(
        ca_certificate=x509.load_pem_x509_certificate((district.pki_dir / "ca.pem").read_bytes()),
        hub_url=province.peer_url,
        client_context=node_context(fresh_network, "HU-CAMLO"),
        directory_file=tmp_path / "directory.json",
        crl_file=tmp_path / "crl.pem",
        interval_seconds=3600,
    )
    published = fresh_network.node_dir("TU") / "ca" / "crl.pem"
    try:
        await refresher.refresh_once()
        old = published.read_bytes()
        cli("keys", "crl", "--dir", fresh_network.node_dir("TU"))
        await refresher.refresh_once()
        newer = (tmp_path / "crl.pem").read_bytes()
        assert newer == published.read_bytes() != old
        published.write_bytes(old)  # the hub (or someone in its place) serves the old one
        with pytest.raises(PeerRefused) as refused:
            await refresher.refresh_once()
    finally:
        await province.stop()
    assert refused.value.code == "stale-crl"
    assert (tmp_path / "crl.pem").read_bytes() == newer


async def test_a_district_knows_when_its_trust_data_goes_stale(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    province = await start_node(demo_network.settings("TU"))
    district = load_settings(demo_network.node_dir("HU-CAMLO"), {})
    refresher = TrustRefresher(
        ca_certificate=x509.load_pem_x509_certificate((district.pki_dir / "ca.pem").read_bytes()),
        hub_url=province.peer_url,
        client_context=node_context(demo_network, "HU-CAMLO"),
        directory_file=tmp_path / "directory.json",
        crl_file=tmp_path / "crl.pem",
        interval_seconds=3600,
    )
    now = datetime.now(UTC)
    try:
        assert refresher.held_state(now) == {"crl": "missing", "directory": "missing"}
        await refresher.refresh_once()
    finally:
        await province.stop()
    days = district.keys.crl_days
    assert refresher.held_state(now) == {"crl": "fresh", "directory": "fresh"}
    last_day = now + timedelta(days=days, hours=-12)
    assert refresher.held_state(last_day) == {"crl": "expiring", "directory": "expiring"}
    past = now + timedelta(days=days, hours=1)
    assert refresher.held_state(past) == {"crl": "stale", "directory": "stale"}
