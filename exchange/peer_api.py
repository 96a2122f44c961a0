"""The peer API, ``/exchange/v1/``, served on the peer listener to other nodes only.

TLS has already checked that the client's certificate chains to our CA; this layer adds what
TLS cannot: the certificate must be a node certificate (clientAuth), and not revoked according
to a fresh CRL. A refusal names its reason code and is logged with the peer's identity.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from config.errors import PeerRefused
from config.logging import get_logger
from config.web import error_responses, request_context
from keys.revocation import RevocationChecker

API_PREFIX = "/exchange/v1"

REVOCATION = web.AppKey("revocation", RevocationChecker)
NODE_NAME = web.AppKey("node_name", str)
#: The authenticated peer's node name, kept on the request for the handlers.
PEER_NAME = web.RequestKey("peer_name", str)

log = get_logger("congvan.exchange.peer")


def client_certificate(request: web.Request) -> x509.Certificate:
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise PeerRefused("cần chứng thư nút (mutual TLS)", code="no-client-certificate")
    return x509.load_der_x509_certificate(der)


def peer_node_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _is_node_certificate(certificate: x509.Certificate) -> bool:
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in usages


@web.middleware
async def authenticate_peer(request: web.Request, handler: Handler) -> web.StreamResponse:
    certificate = client_certificate(request)
    peer = peer_node_name(certificate)
    try:
        if not _is_node_certificate(certificate):
            raise PeerRefused("chứng thư không phải chứng thư nút", code="not-a-node")
        request.app[REVOCATION].check(certificate)
    except PeerRefused as refusal:
        log.warning(
            "peer.refused",
            peer=peer,
            serial=format(certificate.serial_number, "X"),
            code=refusal.code,
        )
        raise
    request[PEER_NAME] = peer
    return await handler(request)


async def ping(request: web.Request) -> web.Response:
    """Liveness between nodes: who answers, and who the caller was taken to be."""
    return web.json_response({"node": request.app[NODE_NAME], "peer": request[PEER_NAME]})


def create_peer_app(node_name: str, revocation: RevocationChecker) -> web.Application:
    app = web.Application(middlewares=[request_context, error_responses, authenticate_peer])
    app[NODE_NAME] = node_name
    app[REVOCATION] = revocation
    app.router.add_get(f"{API_PREFIX}/ping", ping)
    return app
