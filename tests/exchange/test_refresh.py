"""A district node that keeps its own copies fetches the directory and CRL from the hub."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from config.settings import load_settings
from exchange.peer_client import PeerClient
from office.app import start_node
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
