"""Seal dispatches the way a node does, for tests that deliver them by hand."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from exchange.envelope import Attachment, Draft, Header, Sender, seal
from exchange.mime import BASE64_PARTS
from exchange.tls import peer_client_context
from tests.support.keys import keyring, sender_of
from tests.support.network import DemoNetwork


def seal_document(
    network: DemoNetwork,
    folder: Path,
    *,
    sender_node: str = "TU",
    sender_unit: str = "TU",
    to: tuple[str, ...] = ("HU-CAMLO",),
    sender: Sender | None = None,
    metadata: dict[str, Any] | None = None,
    content: bytes = b"%PDF-1.4 noi dung cong van\n" * 200,
    payload_version: int = BASE64_PARTS,
) -> Header:
    """A ``document`` dispatch with one attached file, sealed into ``folder``."""
    ring = keyring(network, sender_node)
    recipients = {unit: _encryption_certificate(network, unit) for unit in to}
    attachment = folder.parent / f"{folder.name}-attachment.pdf"
    folder.parent.mkdir(parents=True, exist_ok=True)
    attachment.write_bytes(content)
    draft = Draft(
        recipients=to,
        kind="document",
        metadata=metadata or {"so_ky_hieu": "05-NQ/TU", "trich_yeu": "Về công tác chuyển đổi số"},
        attachments=(Attachment("Nghị quyết 05.pdf", attachment, "application/pdf"),),
        urgency=2,
    )
    return seal(draft, sender or sender_of(ring, sender_unit), recipients, folder, payload_version)


def seal_status(
    network: DemoNetwork,
    folder: Path,
    *,
    ref: str,
    metadata: dict[str, Any],
    sender_node: str = "TU",
    sender_unit: str = "TU",
    to: tuple[str, ...] = ("HU-CAMLO",),
) -> Header:
    """A ``status`` dispatch about dispatch ``ref`` (a recall request, say), sealed into
    ``folder``."""
    ring = keyring(network, sender_node)
    recipients = {unit: _encryption_certificate(network, unit) for unit in to}
    folder.parent.mkdir(parents=True, exist_ok=True)
    draft = Draft(recipients=to, kind="status", metadata=metadata, ref=ref, urgency=2)
    return seal(draft, sender_of(ring, sender_unit), recipients, folder)


def _encryption_certificate(network: DemoNetwork, unit: str) -> Any:
    for account_node in ("TU", "HU-CAMLO", "TX-DONGHA"):
        ring = keyring(network, account_node)
        if unit in ring.units:
            return ring.units[unit].encryption_certificate
    raise KeyError(unit)


def node_context(network: DemoNetwork, node: str) -> ssl.SSLContext:
    return peer_client_context(network.settings(node), network.passphrase(node))
