"""Who may hand this node a dispatch: the node that signed its header, or the hub on that
node's behalf.

A dispatch that comes through the hub still carries the sending node's signature on its
header; the hub's own TLS identity only says who carried it. So the check is the same either
way, against the sending node's certificate: the one it showed in TLS when it came directly,
the directory's when it came through the hub (which cannot forge it).
"""

from __future__ import annotations

from cryptography import x509

from config.errors import NotFound, PeerRefused
from exchange.envelope import Header, verify_header
from keys.signed_directory import SignedDirectory
from keys.trust import TrustStore


def may_carry(directory: SignedDirectory, peer: str, sending_node: str) -> bool:
    """A peer may offer, upload or commit a dispatch it signed, or the hub may carry it."""
    return peer == sending_node or peer == directory.hub_name()


def check_origin(
    directory: SignedDirectory,
    trust: TrustStore,
    peer: str,
    peer_certificate: x509.Certificate | None,
    header: Header,
    raw: bytes,
    signature: bytes,
) -> None:
    """The sending node signed this header, hosts the sending unit, and ``peer`` may carry it."""
    if not may_carry(directory, peer, header.node):
        raise PeerRefused(f"nút {peer} gửi công văn do nút {header.node} ký", code="wrong-node")
    if peer != header.node or peer_certificate is None:
        try:
            peer_certificate = directory.node(header.node).certificate()
        except NotFound as error:
            raise PeerRefused(
                f"nút gửi {header.node} không có trong danh bạ", code="unknown-sender"
            ) from error
        trust.check_node(peer_certificate, header.node)
    verify_header(raw, signature, peer_certificate)
    try:
        sender = directory.unit(header.sender)
    except NotFound as error:
        raise PeerRefused(
            f"đơn vị gửi {header.sender} không có trong danh bạ", code="unknown-sender"
        ) from error
    if sender.node != header.node:
        raise PeerRefused(
            f"nút {header.node} không quản lý đơn vị {header.sender}", code="wrong-node"
        )
