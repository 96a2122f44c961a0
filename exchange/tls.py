"""TLS contexts for the peer API: both sides show a node certificate from our CA, and trust
nothing else: not the system's CA store, which ``ssl.create_default_context`` would load."""

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
    """The peer listener's context: a client certificate from our CA is required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _with_node_identity(context, settings, passphrase)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def peer_client_context(settings: Settings, passphrase: bytes) -> ssl.SSLContext:
    """The context this node uses to call other nodes: it trusts only our CA (and checks the
    host name against the node certificate's SAN)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _with_node_identity(context, settings, passphrase)
    return context
