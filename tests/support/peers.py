"""Call a node's peer API the way another node does: mutual TLS with a node certificate."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import aiohttp


def client_context(
    ca_file: Path, cert_file: Path | None, key_file: Path | None, passphrase: bytes | None
) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    if cert_file is not None:
        context.load_cert_chain(cert_file, key_file, password=passphrase)
    return context


async def ping(peer_url: str, context: ssl.SSLContext) -> tuple[int, dict[str, Any]]:
    """GET /exchange/v1/ping; the status and the JSON body."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{peer_url}/exchange/v1/ping", ssl=context) as response,
    ):
        return response.status, await response.json()
