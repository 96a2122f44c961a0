"""Can this node reach the hub and the nodes it sends to directly?

Each is asked ``GET /exchange/v1/ping`` over mutual TLS with the node's own certificate, the
way the outbox calls them, all at once and for a few seconds at most. A peer that does not
answer is a warning (the outbox retries, then goes through the hub); the hub not answering is
a problem: it is the way round a dead peer, and where the CRL and the directory come from.
Nodes marked ``pull`` are not asked: they call the hub, nobody calls them.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass

import aiohttp
from cryptography import x509

from config.errors import ConfigError, NotFound, PeerRefused
from config.settings import Settings
from exchange.peer_api import API_PREFIX
from exchange.tls import peer_client_context
from keys.keystore import node_passphrase
from keys.signed_directory import SignedDirectory
from office.doctor.findings import Finding, first_line, ok, problem, warning

PING_SECONDS = 3


@dataclass(frozen=True)
class Target:
    #: The node's name in the directory; None for a hub known only by ``[exchange] hub_url``.
    name: str | None
    url: str
    hub: bool

    @property
    def check(self) -> str:
        return "hub" + (f" {self.name}" if self.name else "") if self.hub else f"peer {self.name}"


def targets(settings: Settings, directory: SignedDirectory | None) -> list[Target]:
    """The hub (unless this is it), then every other node that is sent to directly."""
    hub_name: str | None = None
    others = []
    if directory is not None:
        hub_name = directory.hub_name()
        names = {unit.node for unit in directory.units()} | ({hub_name} if hub_name else set())
        others = [directory.node(name) for name in sorted(names) if name != settings.node.name]
    found: list[Target] = []
    if not settings.node.hub:
        hub_url = settings.exchange.hub_url or next(
            (node.peer_url for node in others if node.name == hub_name), ""
        )
        if hub_url:
            found.append(Target(hub_name, hub_url, hub=True))
    found += [
        Target(node.name, node.peer_url, hub=False)
        for node in others
        # A node without an address is listed but not yet on the network.
        if node.name != hub_name and not node.pull and node.peer_url
    ]
    return found


async def ping(
    http: aiohttp.ClientSession, target: Target, context: ssl.SSLContext, this_is_hub: bool
) -> Finding:
    url = target.url.rstrip("/") + API_PREFIX + "/ping"
    started = time.perf_counter()
    try:
        async with http.get(url, ssl=context) as response:
            body = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
        return _unreachable(target, f"{target.url} does not answer: {_why(error)}", this_is_hub)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if status != 200 or not isinstance(body, dict):
        code = body.get("error") if isinstance(body, dict) else None
        return _unreachable(
            target, f"{target.url} answers {status}" + (f" ({code})" if code else ""), this_is_hub
        )
    answered = body.get("node")
    if target.name and answered != target.name:
        return warning(
            target.check,
            f"{target.url} answers as node {answered}, not {target.name}",
            "correct the node's peer URL in the directory (`congvan units import`, "
            "then `congvan keys directory` on the provincial node)",
        )
    return ok(target.check, f"{target.url} answers ({elapsed_ms:.0f} ms)")


def _why(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return f"nothing within {PING_SECONDS} s"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"its TLS certificate is not accepted: {error.certificate_error}"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect: {error.os_error.strerror or error.os_error}"
    return first_line(error)


def _unreachable(target: Target, message: str, this_is_hub: bool) -> Finding:
    if target.hub:
        return problem(
            target.check,
            message,
            "start the provincial node, or open the way to its peer port from here: "
            "without the hub, dispatches to unreachable peers wait and the CRL and "
            "directory go stale",
        )
    return warning(
        target.check,
        message,
        f"check that {target.name} runs and its peer port is open from here "
        "(meanwhile the outbox retries" + (")" if this_is_hub else ", then goes through the hub)"),
    )


async def check_reachability(settings: Settings, ca: x509.Certificate | None) -> list[Finding]:
    try:
        context = peer_client_context(settings, node_passphrase(settings))
    except (ConfigError, OSError, ssl.SSLError) as error:
        return [warning("peers", f"not checked: no usable node key ({first_line(error)})")]
    directory = SignedDirectory(ca, settings.directory_file) if ca is not None else None
    try:
        found = targets(settings, directory)
    except (PeerRefused, NotFound, OSError, ValueError, KeyError) as error:
        found = targets(settings, None)
        if not found:
            return [warning("peers", f"not checked: no usable directory ({first_line(error)})")]
    if not found:
        return [ok("peers", "no other node to reach")]
    timeout = aiohttp.ClientTimeout(total=PING_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        return list(
            await asyncio.gather(
                *(ping(http, target, context, settings.node.hub) for target in found)
            )
        )
