"""TLS contexts for the peer API: both sides show a node certificate from our CA."""

from __future__ import annotations

import ssl

from config.settings import Settings
from keys.ca import CA_CERT_FILE
from keys.certificates import node_tls_paths


def _with_node_identity(context: ssl.SSLContext, settings: Settings, passphrase: bytes) -> None:
    cert_path, key_path = node_tls_paths(settings.pki_dir)
    context.load_cert_chain(cert_path, key_path, password=passphrase)
    context.load_verify_locations(cafile=settings.pki_dir / CA_CERT_FILE)
    context.minimum_version = ssl.TLSVersion.TLSv1_2


def peer_server_context(settings: Settings, passphrase: bytes) -> ssl.SSLContext:
    """The peer listener's context: a client certificate is required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _with_node_identity(context, settings, passphrase)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def peer_client_context(settings: Settings, passphrase: bytes) -> ssl.SSLContext:
    """The context this node uses to call other nodes: it trusts only our CA."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    _with_node_identity(context, settings, passphrase)
    return context
