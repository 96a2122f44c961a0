"""The address a staff request comes from, as sign-in throttling counts it.

A node behind a reverse proxy (nginx terminating TLS, see docs/deploy.md) sees every request
come from the proxy: counted so, one stranger's guesses would make everyone wait. ``[web]
trusted_proxies`` names the proxies; for a request from one of them the client is the last
address ``X-Forwarded-For`` names that is not a trusted proxy itself (each proxy appends the
address it saw, so the ones further left are the client's to write). The header of anyone else
is ignored: a client could put any address in it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _is_proxy(address: str, proxies: Iterable[Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_address(request: web.Request, trusted_proxies: Iterable[str]) -> str | None:
    """The client's IP address; None when the request came over no IP socket."""
    peer = request.remote
    proxies = [ipaddress.ip_network(item, strict=False) for item in trusted_proxies]
    if peer is None or not _is_proxy(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _is_proxy(hop, proxies):
            return hop
    return hops[0] if hops else peer
