"""The peer API, ``/exchange/v1/``, served on the peer listener to other nodes only.

TLS has already checked that the client's certificate chains to our CA; this layer adds what
TLS cannot: the certificate must be a node certificate (clientAuth), and not revoked according
to a fresh CRL. A refusal names its reason code and is logged with the peer's identity.
``docs/peer-api.yaml`` describes the routes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import ClientPayloadError, web
from aiohttp.streams import EofStream
from aiohttp.typedefs import Handler
from cryptography import x509

from config.durability import DurableCommits
from config.errors import Conflict, NotFound, PeerRefused
from config.logging import get_logger
from config.web import error_responses, request_context
from exchange import spool_lock
from exchange.envelope import UNIT, is_dispatch_id
from exchange.inbox import Inbox
from exchange.inbox_inline import InlineInbox
from exchange.mime import READABLE_VERSIONS
from exchange.relay import RelayDesk
from keys.directory import DIRECTORY_FILE, SIGNATURE_SUFFIX
from keys.revocation import CRL_FILE, RevocationChecker
from keys.trust import common_name, is_node_certificate

API_PREFIX = "/exchange/v1"
#: The most of an upload read, and written to disk in one thread's turn, at a time. The
#: connection buffers up to twice ``READ_BUFFER`` before it stops reading the socket: at
#: aiohttp's default (64 KiB) a 1 GiB upload took 16,000 turns of a thread, most of the
#: event loop's work; a slow link still has each piece written as soon as it arrives. Not
#: more than 256 KiB: at 1 MiB the buffers of one upload held 2-3 MiB of the node's peak
#: resident memory, which issue 23 bounds at 100 MiB.
UPLOAD_CHUNK = READ_BUFFER = 256 * 1024
#: The longest a pull node may ask the hub to hold its question (the hub caps it lower).
MAX_PULL_WAIT = 600
#: Peer certificates kept parsed: more than a province's nodes (5,000 communes and more).
KNOWN_PEERS = 20_000

REVOCATION = web.AppKey("revocation", RevocationChecker)
NODE_NAME = web.AppKey("node_name", str)
INBOX = web.AppKey("inbox", Inbox)
INLINE = web.AppKey("inline", InlineInbox)
PUBLISHED: web.AppKey[Path | None] = web.AppKey("published")
DURABLE = web.AppKey("durable", DurableCommits)
RELAY: web.AppKey[RelayDesk | None] = web.AppKey("relay")
#: The authenticated peer's node name and certificate, kept on the request for the handlers.
PEER_NAME = web.RequestKey("peer_name", str)
PEER_CERTIFICATE = web.RequestKey("peer_certificate", x509.Certificate)

log = get_logger("congvan.exchange.peer")


class KnownPeers:
    """Peer certificates parsed once, by their bytes: a connection kept open asks again and
    again (a commune's long poll, every ``pull_wait_seconds``), and parsing the certificate,
    its name and its extensions for each request was a good share of a question's cost. TLS
    admits only certificates our CA issued, a few per node; past ``limit`` the cache starts
    over. What may change (revocation, expiry) is still checked at every request."""

    def __init__(self, limit: int = KNOWN_PEERS) -> None:
        self._limit = limit
        self._known: dict[bytes, tuple[x509.Certificate, str, bool]] = {}

    def parsed(self, der: bytes) -> tuple[x509.Certificate, str, bool]:
        """The certificate, its common name, and whether it is a node's."""
        known = self._known.get(der)
        if known is None:
            if len(self._known) >= self._limit:
                self._known.clear()
            certificate = x509.load_der_x509_certificate(der)
            known = (certificate, common_name(certificate), is_node_certificate(certificate))
            self._known[der] = known
        return known


KNOWN_PEERS_KEY = web.AppKey("known_peers", KnownPeers)


def client_certificate(request: web.Request) -> bytes:
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    der: bytes | None = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    if not der:
        raise PeerRefused("cần chứng thư nút (mutual TLS)", code="no-client-certificate")
    return der


@web.middleware
async def authenticate_peer(request: web.Request, handler: Handler) -> web.StreamResponse:
    certificate, peer, is_node = request.app[KNOWN_PEERS_KEY].parsed(client_certificate(request))
    try:
        if not is_node:
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
    request[PEER_CERTIFICATE] = certificate
    return await handler(request)


@web.middleware
async def durable_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An answer to a change (a receipt, a refusal, a relay's "stored") is a promise the peer
    acts on: it leaves only once what it says is on disk. Outside ``error_responses``, so a
    refusal rendered from an exception waits too; a 5xx promises nothing."""
    response = await handler(request)
    if request.method not in ("GET", "HEAD") and response.status < 500:
        await request.app[DURABLE].sync()
    return response


async def ping(request: web.Request) -> web.Response:
    """Liveness between nodes: who answers, and who the caller was taken to be."""
    return web.json_response({"node": request.app[NODE_NAME], "peer": request[PEER_NAME]})


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise PeerRefused(f"{what} missing", code="malformed")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise PeerRefused(f"{what} is not base64", code="malformed") from error


async def _json_object(request: web.Request, what: str) -> dict[str, object]:
    try:
        body = await request.json()
    except (ValueError, RecursionError) as error:
        # ValueError: not UTF-8, not JSON, or a number of more than 4,300 digits (Python's
        # int() limit); RecursionError: arrays nested deeper than the decoder goes.
        raise PeerRefused(f"{what} is not JSON", code="malformed") from error
    if not isinstance(body, dict):
        raise PeerRefused(f"{what} is not an object", code="malformed")
    return body


async def offer(request: web.Request) -> web.Response:
    body = await _json_object(request, "offer")
    peer, certificate = request[PEER_NAME], request[PEER_CERTIFICATE]
    raw, signature = _b64(body.get("header"), "header"), _b64(body.get("signature"), "signature")
    if "payload" in body:
        # A small dispatch travels whole in its offer: one round trip instead of three.
        payload = _b64(body["payload"], "payload")
        answer = await request.app[INLINE].receive(peer, certificate, raw, signature, payload)
    else:
        answer = await request.app[INBOX].offer(peer, certificate, raw, signature)
    reply: dict[str, object] = {
        "id": answer.dispatch_id,
        "offset": answer.offset,
        # What our reader takes: the sender seals binary parts for us from now on.
        "payload_versions": list(READABLE_VERSIONS),
    }
    if answer.receipt is not None:
        reply["receipt"] = answer.receipt
    return web.json_response(reply, status=200 if "receipt" in reply else 201)


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    """The request body; a link that breaks mid-upload is an expected event on our WAN, not
    a bug: the bytes written so far are kept and the sender resumes from them."""
    try:
        async for chunk in request.content.iter_chunked(UPLOAD_CHUNK):
            yield chunk
    except (ConnectionError, EofStream, ClientPayloadError) as error:
        raise Conflict("kết nối bị ngắt giữa lúc tải lên", code="interrupted") from error


def _dispatch_id(request: web.Request) -> str:
    """The dispatch id in the path names a spool folder and a row: anything but a dispatch
    id (a NUL byte, ``..``) is refused here, before it reaches either."""
    dispatch_id = request.match_info["dispatch_id"]
    if not is_dispatch_id(dispatch_id):
        raise PeerRefused("dispatch id is not a UUID", code="malformed")
    return dispatch_id


def _offset(request: web.Request) -> int:
    try:
        return int(request.query.get("offset", ""))
    except ValueError as error:
        raise PeerRefused("offset must be an integer", code="malformed") from error


async def upload(request: web.Request) -> web.Response:
    offset, dispatch_id = _offset(request), _dispatch_id(request)
    held = await request.app[INBOX].upload(
        request[PEER_NAME], dispatch_id, offset, _chunks(request)
    )
    log.info("dispatch.uploaded", dispatch_id=dispatch_id, offset=offset, held=held)
    return web.json_response({"offset": held})


async def commit(request: web.Request) -> web.Response:
    receipt = await request.app[INBOX].commit(request[PEER_NAME], _dispatch_id(request))
    return web.json_response({"receipt": receipt})


async def progress(request: web.Request) -> web.Response:
    return web.json_response(
        await request.app[INBOX].progress(request[PEER_NAME], _dispatch_id(request))
    )


async def published_trust(request: web.Request) -> web.Response:
    """The hub's signed directory and CRL, for nodes that refresh theirs (exchange.refresh)."""
    folder = request.app[PUBLISHED]
    if folder is None:
        raise NotFound("nút này không phát hành danh bạ", code="not-a-hub")
    try:
        directory = (folder / DIRECTORY_FILE).read_bytes()
        signature = (folder / (DIRECTORY_FILE + SIGNATURE_SUFFIX)).read_bytes()
        crl = (folder / CRL_FILE).read_text(encoding="ascii")
    except FileNotFoundError as error:
        raise NotFound("danh bạ chưa được phát hành", code="not-published") from error
    return web.json_response(
        {
            "directory": base64.b64encode(directory).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
            "crl": crl,
        }
    )


# -- store and forward: served by the hub only -------------------------------------------------


def _relay(request: web.Request) -> RelayDesk:
    relay = request.app[RELAY]
    if relay is None:
        raise NotFound("nút này không chuyển tiếp công văn", code="not-a-hub")
    return relay


def _node_field(body: dict[str, object]) -> str:
    node = body.get("node")
    if not isinstance(node, str) or not UNIT.fullmatch(node):
        raise PeerRefused("node missing or not a node name", code="malformed")
    return node


async def relay_offer(request: web.Request) -> web.Response:
    """Like an offer to the addressee, plus ``node``: where the hub should take it."""
    relay, peer = _relay(request), request[PEER_NAME]
    body = await _json_object(request, "offer")
    node = _node_field(body)
    dispatch_id, held = await relay.offer(
        peer,
        request[PEER_CERTIFICATE],
        _b64(body.get("header"), "header"),
        _b64(body.get("signature"), "signature"),
        node,
    )
    reply: dict[str, object] = {"id": dispatch_id, "offset": held}
    if "payload" in body:
        payload = _b64(body["payload"], "payload")
        if held < len(payload):
            await relay.upload(peer, dispatch_id, held, spool_lock.one_chunk(payload[held:]))
        reply = {**await relay.commit(peer, dispatch_id, node), "offset": len(payload)}
    return web.json_response(reply, status=200 if "state" in reply else 201)


async def relay_upload(request: web.Request) -> web.Response:
    offset, dispatch_id = _offset(request), _dispatch_id(request)
    held = await _relay(request).upload(request[PEER_NAME], dispatch_id, offset, _chunks(request))
    log.info("relay.uploaded", dispatch_id=dispatch_id, offset=offset, held=held)
    return web.json_response({"offset": held})


async def relay_commit(request: web.Request) -> web.Response:
    node = _node_field(await _json_object(request, "commit"))
    return web.json_response(
        await _relay(request).commit(request[PEER_NAME], _dispatch_id(request), node)
    )


async def relay_receipts(request: web.Request) -> web.Response:
    wanted = (await _json_object(request, "question")).get("dispatches")
    if not isinstance(wanted, list) or not all(
        isinstance(item, dict)
        and is_dispatch_id(item.get("id"))
        and isinstance(item.get("node"), str)
        and UNIT.fullmatch(item["node"])
        for item in wanted
    ):
        raise PeerRefused("dispatches must be a list of {id, node}", code="malformed")
    answers = await _relay(request).receipts_for(
        request[PEER_NAME], [(item["id"], item["node"]) for item in wanted]
    )
    return web.json_response({"dispatches": answers})


async def relay_waiting(request: web.Request) -> web.Response:
    """What waits for the asking pull node; ``?wait=<seconds>`` holds the question open until
    something arrives (a long poll; the hub caps the time, and says how long in ``held``)."""
    try:
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        raise PeerRefused("wait must be a number of seconds", code="malformed") from None
    if not 0 <= wait <= MAX_PULL_WAIT:
        raise PeerRefused("wait must be from 0 to 600 seconds", code="malformed")
    relay = _relay(request)
    listed = await relay.waiting_for(request[PEER_NAME], wait)
    # The hold it gave, so that a node asking for longer than this hub's cap knows an empty
    # answer after it means "ask again now", not "answered at once, wait pull_seconds".
    return web.json_response({"dispatches": listed, "held": relay.hold_for(wait)})


async def relay_payload(request: web.Request) -> web.FileResponse:
    """The ciphertext for a pull node; a Range header resumes a broken download."""
    path = await _relay(request).payload_for(request[PEER_NAME], _dispatch_id(request))
    return web.FileResponse(path, headers={"Content-Type": "application/octet-stream"})


async def relay_receipt(request: web.Request) -> web.Response:
    receipt = (await _json_object(request, "receipt")).get("receipt")
    if not isinstance(receipt, dict):
        raise PeerRefused("receipt missing", code="malformed")
    state = await _relay(request).take_receipt(request[PEER_NAME], _dispatch_id(request), receipt)
    return web.json_response({"state": state})


def create_peer_app(
    node_name: str,
    revocation: RevocationChecker,
    inbox: Inbox,
    durable: DurableCommits,
    published: Path | None = None,
    relay: RelayDesk | None = None,
) -> web.Application:
    """``published``: the CA folder whose directory and CRL this node serves, and ``relay``
    its store-and-forward desk (the hub only)."""
    app = web.Application(
        middlewares=[request_context, durable_answers, error_responses, authenticate_peer],
        handler_args={"read_bufsize": READ_BUFFER},
    )
    app[DURABLE] = durable
    app[NODE_NAME] = node_name
    app[REVOCATION] = revocation
    app[INBOX] = inbox
    app[INLINE] = InlineInbox(inbox)
    app[PUBLISHED] = published
    app[RELAY] = relay
    app[KNOWN_PEERS_KEY] = KnownPeers()
    app.router.add_get(f"{API_PREFIX}/directory", published_trust)
    app.router.add_get(f"{API_PREFIX}/ping", ping)
    app.router.add_post(f"{API_PREFIX}/dispatches", offer)
    app.router.add_get(f"{API_PREFIX}/dispatches/{{dispatch_id}}", progress)
    app.router.add_put(f"{API_PREFIX}/dispatches/{{dispatch_id}}/payload", upload)
    app.router.add_post(f"{API_PREFIX}/dispatches/{{dispatch_id}}/commit", commit)
    app.router.add_post(f"{API_PREFIX}/relay", relay_offer)
    app.router.add_post(f"{API_PREFIX}/relay/receipts", relay_receipts)
    app.router.add_get(f"{API_PREFIX}/relay/waiting", relay_waiting)
    app.router.add_put(f"{API_PREFIX}/relay/{{dispatch_id}}/payload", relay_upload)
    app.router.add_get(f"{API_PREFIX}/relay/{{dispatch_id}}/payload", relay_payload)
    app.router.add_post(f"{API_PREFIX}/relay/{{dispatch_id}}/commit", relay_commit)
    app.router.add_post(f"{API_PREFIX}/relay/{{dispatch_id}}/receipt", relay_receipt)
    return app
