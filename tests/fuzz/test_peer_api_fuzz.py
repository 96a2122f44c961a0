"""Fuzzing the peer API's JSON bodies against a running hub, over mutual TLS, as a peer node.

The provincial node TU (the hub: it receives dispatches for its units and relays others)
runs in the test's process; Cam Lộ's and Đông Hà's node certificates call it. Whatever the
body, the route or the dispatch id in the path, the answer is never a 5xx: a refusal is a 4xx
whose ``error`` is one of the codes docs/peer-api.yaml lists. A dispatch sealed by Cam Lộ with
its header, signature or payload changed is never accepted (no "accepted" receipt, no
"held"); a receipt signed by Đông Hà with any of its parts changed, or of another type, or
signed anew for another delivery, never closes the delivery it names.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
import pytest
import pytest_asyncio
import yaml
from cryptography import x509
from hypothesis import assume, example, given
from hypothesis import strategies as st
from yarl import URL

from exchange.envelope import (
    HEADER_FILE,
    HEADER_SIGNATURE_FILE,
    PAYLOAD_FILE,
    Header,
    is_dispatch_id,
)
from exchange.peer_client import PeerClient
from exchange.receipts import ACCEPTED, Signer, make_receipt
from keys.directory import canonical_json
from keys.signatures import sign
from office.node.app import RunningNode, start_node
from tests.fuzz.fuzzing import (
    SERIAL_WARNING,
    Edit,
    edits,
    json_values,
    mutate,
    share,
    strictly_equal,
)
from tests.support.dispatches import node_context, seal_document
from tests.support.keys import keyring
from tests.support.network import DemoNetwork

pytestmark = [pytest.mark.asyncio(loop_scope="module"), SERIAL_WARNING]

TESTS = 6
SPEC = Path(__file__).parents[2] / "docs" / "peer-api.yaml"
API = "/exchange/v1"


@dataclass(frozen=True)
class Sealed:
    """One dispatch as its sending node offers it."""

    header: Header
    raw: bytes
    signature: bytes
    payload: bytes

    @classmethod
    def read(cls, header: Header, folder: Path) -> Sealed:
        return cls(
            header,
            (folder / HEADER_FILE).read_bytes(),
            (folder / HEADER_SIGNATURE_FILE).read_bytes(),
            (folder / PAYLOAD_FILE).read_bytes(),
        )


@dataclass(frozen=True, repr=False)
class Hub:
    """The running hub, the peers' ways in, and the dispatches the tests change.

    ``offered`` is never offered unchanged, so no answer about it can be an earlier one;
    ``inline`` is offered only with its payload changed; ``relayed`` goes to Đông Hà through
    the hub, changed; ``held`` was relayed whole when the module began, and ``receipt`` is
    Đông Hà's genuine receipt for it (never posted unchanged).
    """

    node: RunningNode
    session: aiohttp.ClientSession
    camlo: ssl.SSLContext
    dongha: ssl.SSLContext
    offered: Sealed
    inline: Sealed
    relayed: Sealed
    held: Sealed
    receipt: dict[str, Any]
    dongha_unit: Signer
    codes: frozenset[str]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints a failing example's arguments: the hub in a few words."""
        printer.text("<the hub TU>")

    async def call(
        self, method: str, path: str, body: bytes, context: ssl.SSLContext | None = None
    ) -> tuple[int, Any]:
        """The status and the JSON answer (None when it is not JSON) of one request."""
        url = URL(self.node.peer_url + API + path, encoded=True)
        async with self.session.request(
            method,
            url,
            data=body,
            headers={"Content-Type": "application/json"},
            ssl=context or self.camlo,
        ) as response:
            text = await response.read()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, None

    def kept_payload(self, route: str, dispatch_id: str) -> bytes:
        """The ciphertext the hub keeps for a dispatch it accepted or holds."""
        assert self.node.inbox is not None and self.node.outbox is not None
        desk = self.node.inbox if route == "/dispatches" else self.node.outbox
        return (desk.folder(dispatch_id) / PAYLOAD_FILE).read_bytes()

    def refusal(self, status: int, answer: Any) -> str:
        """The answer is a refusal with a documented code; that code."""
        assert 400 <= status < 500, (status, answer)
        assert isinstance(answer, dict), (status, answer)
        assert answer.get("error") in self.codes, answer
        return str(answer["error"])


def documented_codes() -> frozenset[str]:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    codes = spec["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
    return frozenset(codes) - {"internal"}


def seal_for(network: DemoNetwork, root: Path, name: str, to: str) -> Sealed:
    header = seal_document(
        network, root / name, sender_node="HU-CAMLO", sender_unit="HU-CAMLO", to=(to,)
    )
    return Sealed.read(header, root / name)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub(
    demo_network: DemoNetwork, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    root = tmp_path_factory.mktemp("fuzz-peer")
    held = seal_for(demo_network, root, "held", "TX-DONGHA")
    dongha = keyring(demo_network, "TX-DONGHA").unit("TX-DONGHA")
    dongha_unit = Signer("TX-DONGHA", dongha.signing_key, dongha.signing_certificate)
    receipt = make_receipt(
        dongha_unit,
        dispatch_id=held.header.id,
        payload_sha256=held.header.payload_sha256,
        node="TX-DONGHA",
        units=["TX-DONGHA"],
        status=ACCEPTED,
    )
    node = await start_node(demo_network.settings("TU"))
    try:
        async with aiohttp.ClientSession() as session:
            camlo = node_context(demo_network, "HU-CAMLO")
            await PeerClient(session, node.peer_url, camlo).relay(root / "held", "TX-DONGHA")
            yield Hub(
                node=node,
                session=session,
                camlo=camlo,
                dongha=node_context(demo_network, "TX-DONGHA"),
                offered=seal_for(demo_network, root, "offered", "TU"),
                inline=seal_for(demo_network, root, "inline", "TU"),
                relayed=seal_for(demo_network, root, "relayed", "TX-DONGHA"),
                held=held,
                receipt=receipt,
                dongha_unit=dongha_unit,
                codes=documented_codes(),
            )
    finally:
        await node.stop()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- any body, any route -----------------------------------------------------------------------

#: (method, path) with ``{id}`` for the dispatch id in the path.
ROUTES = [
    ("POST", "/dispatches"),
    ("GET", "/dispatches/{id}"),
    ("GET", "/relay/{id}/payload"),
    ("POST", "/dispatches/{id}/commit"),
    ("PUT", "/dispatches/{id}/payload?offset=0"),
    ("POST", "/relay"),
    ("POST", "/relay/receipts"),
    ("POST", "/relay/{id}/commit"),
    ("POST", "/relay/{id}/receipt"),
    ("PUT", "/relay/{id}/payload?offset=0"),
]
#: Ids the router hands to a handler: its ``{dispatch_id}`` takes any text but ``{``, ``}``
#: and ``/`` (aiohttp answers any other path with its own 404, before congvan's code).
dispatch_ids = st.one_of(
    st.uuids().map(str),
    st.text(min_size=1, max_size=40).filter(lambda text: not {"{", "}"} & set(text)),
    st.sampled_from(["..", ".", "%2e%2e", "..%2F..%2Fetc", "\x00", "a\x00b", "%00", "\ud800"]),
)
#: What a JSON field may hold: any JSON, base64 of anything, text.
fields = json_values | st.binary(max_size=200).map(b64) | st.text(max_size=40)
#: Bodies with the keys the routes read, holding anything.
shaped_bodies = st.fixed_dictionaries(
    {},
    optional={
        "header": fields,
        "signature": fields,
        "payload": fields,
        "node": fields | st.sampled_from(["TX-DONGHA", "TU", "HU-CAMLO", "\x00"]),
        "dispatches": st.lists(
            st.fixed_dictionaries({}, optional={"id": dispatch_ids | fields, "node": fields})
            | fields,
            max_size=5,
        )
        | fields,
        "receipt": st.dictionaries(
            st.sampled_from(["body", "signature", "certificate"]), fields, max_size=3
        )
        | fields,
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    shaped_bodies.map(lambda value: json.dumps(value).encode()),
)
#: A number of 5,000 digits: Python's int() refuses more than 4,300 with a bare ValueError.
HUGE_NUMBER = b'{"header":' + b"1" * 5000 + b"}"
DEEP = b"[" * 100_000 + b"]" * 100_000


def path_for(template: str, dispatch_id: str) -> str:
    return template.replace("{id}", quote(dispatch_id, safe="%", errors="surrogatepass"))


@share(TESTS)
@given(route=st.sampled_from(ROUTES), dispatch_id=dispatch_ids, body=bodies)
@example(route=("POST", "/dispatches"), dispatch_id="x", body=HUGE_NUMBER)
@example(route=("POST", "/relay/receipts"), dispatch_id="x", body=DEEP)
@example(route=("POST", "/relay/{id}/commit"), dispatch_id="\x00", body=b'{"node":"TX-DONGHA"}')
@example(route=("POST", "/relay/{id}/commit"), dispatch_id="..%2Fin%2Fx", body=b'{"node":"TU"}')
@example(
    route=("POST", "/relay/receipts"),
    dispatch_id="x",
    body=b'{"dispatches":[{"id":"\\u0000","node":"x"}]}',
)
async def test_any_body_on_any_route_is_answered_without_a_server_error(
    hub: Hub, route: tuple[str, str], dispatch_id: str, body: bytes
) -> None:
    method, template = route
    path = path_for(template, dispatch_id)
    status, answer = await hub.call(method, path, body)
    assert status < 500, (status, answer)
    if "{id}" in template and not is_dispatch_id(unquote(dispatch_id)):
        # Before it names a folder of the spool (``..%2Fin%2F<id>``) or a row (a NUL byte).
        assert hub.refusal(status, answer) == "malformed", (path, answer)
    elif status >= 400:
        hub.refusal(status, answer)
    else:
        assert template == "/relay/receipts", (status, answer)
        assert isinstance(answer, dict) and isinstance(answer.get("dispatches"), list)


# -- signed inputs, changed --------------------------------------------------------------------


def accepted(status: int, answer: Any) -> bool:
    """An answer that takes a dispatch: a receipt that says accepted, or the hub's "held"."""
    if status >= 400 or not isinstance(answer, dict):
        return False
    receipt = answer.get("receipt")
    said = receipt.get("body", {}).get("status") if isinstance(receipt, dict) else None
    return said == ACCEPTED or answer.get("state") == "held"


@share(TESTS)
@given(
    route=st.sampled_from(["/dispatches", "/relay"]),
    target=st.sampled_from(["header", "signature", "both"]),
    changes=edits,
    more=edits,
    with_payload=st.booleans(),
)
async def test_an_offer_with_its_header_or_signature_changed_is_refused(
    hub: Hub,
    route: str,
    target: str,
    changes: list[Edit],
    more: list[Edit],
    with_payload: bool,
) -> None:
    sealed = hub.offered if route == "/dispatches" else hub.relayed
    raw, signature = sealed.raw, sealed.signature
    if target in ("header", "both"):
        raw = mutate(raw, changes)
    if target in ("signature", "both"):
        signature = mutate(signature, more)
    offer = {"header": b64(raw), "signature": b64(signature), "node": "TX-DONGHA"}
    if with_payload:
        offer["payload"] = b64(sealed.payload)
    status, answer = await hub.call("POST", route, json.dumps(offer).encode())
    hub.refusal(status, answer)


@share(TESTS)
@given(route=st.sampled_from(["/dispatches", "/relay"]), changes=edits)
async def test_an_offer_with_its_payload_changed_is_never_accepted(
    hub: Hub, route: str, changes: list[Edit]
) -> None:
    """The header and its signature are genuine, so a refusal may come with a signed receipt,
    or the answer may wait for the rest of a payload cut short; what is accepted in the end
    is the ciphertext the header signs, byte for byte."""
    sealed = hub.inline if route == "/dispatches" else hub.relayed
    offer = {
        "header": b64(sealed.raw),
        "signature": b64(sealed.signature),
        "payload": b64(mutate(sealed.payload, changes)),
        "node": "TX-DONGHA",
    }
    status, answer = await hub.call("POST", route, json.dumps(offer).encode())
    assert status < 500, (status, answer)
    if status >= 400:
        hub.refusal(status, answer)
    if accepted(status, answer):
        # An upload resumes from the bytes the hub holds: an earlier offer cut short may
        # have left the genuine beginning, and this one the genuine rest. Only those count.
        assert hub.kept_payload(route, sealed.header.id) == sealed.payload


RECEIPT_PARTS = ["body", "signature", "certificate"]


def changed_receipt(receipt: dict[str, Any], part: str, changes: list[Edit]) -> bytes:
    """The hand-back request with one part of the receipt changed, as raw bytes: a changed
    body may no longer be JSON at all."""
    body, signature = canonical_json(receipt["body"]), base64.b64decode(receipt["signature"])
    certificate = receipt["certificate"].encode()
    if part == "body":
        body = mutate(body, changes)
    elif part == "signature":
        signature = b64(mutate(signature, changes)).encode()
    else:
        certificate = mutate(certificate, changes)
    if part != "signature":
        signature = receipt["signature"].encode()
    return (
        b'{"receipt":{"body":'
        + body
        + b',"signature":'
        + json.dumps(signature.decode("latin-1")).encode()
        + b',"certificate":'
        + json.dumps(certificate.decode("latin-1")).encode()
        + b"}}"
    )


def same_receipt(request: bytes, receipt: dict[str, Any]) -> bool:
    """The request carries the genuine receipt after all (JSON that says the same, the same
    signature bytes, the same certificate)."""
    try:
        sent = json.loads(request)["receipt"]
        certificate = x509.load_pem_x509_certificate(sent["certificate"].encode())
        signature = base64.b64decode(sent["signature"], validate=True)
    except (ValueError, TypeError, KeyError):
        return False
    original = x509.load_pem_x509_certificate(receipt["certificate"].encode())
    return (
        strictly_equal(sent["body"], receipt["body"])
        and signature == base64.b64decode(receipt["signature"])
        and certificate == original
    )


@share(TESTS)
@given(part=st.sampled_from(RECEIPT_PARTS), changes=edits)
@example(part="certificate", changes=[Edit("flip", 130, data=b"\x04")])
async def test_a_receipt_with_any_part_changed_does_not_close_the_delivery(
    hub: Hub, part: str, changes: list[Edit]
) -> None:
    request = changed_receipt(hub.receipt, part, changes)
    status, answer = await hub.call(
        "POST", f"/relay/{hub.held.header.id}/receipt", request, hub.dongha
    )
    if same_receipt(request, hub.receipt):
        return
    hub.refusal(status, answer)


@share(TESTS)
@given(part=st.sampled_from(RECEIPT_PARTS), value=json_values)
async def test_a_receipt_with_a_part_of_any_type_is_refused(
    hub: Hub, part: str, value: Any
) -> None:
    receipt = {**hub.receipt, part: value}
    assume(not strictly_equal(value, hub.receipt[part]))
    status, answer = await hub.call(
        "POST",
        f"/relay/{hub.held.header.id}/receipt",
        json.dumps({"receipt": receipt}).encode(),
        hub.dongha,
    )
    hub.refusal(status, answer)


#: The fields of a receipt's body that say which delivery it closes, and how.
CHECKED_FIELDS = ["dispatch_id", "payload_sha256", "node", "signer", "status", "code"]


@share(TESTS)
@given(field=st.sampled_from(CHECKED_FIELDS), value=json_values)
@example(field="signer", value=["TX-DONGHA"])
@example(field="status", value=[])
@example(field="code", value={"x": 1})
async def test_a_receipt_signed_anew_for_another_delivery_is_refused(
    hub: Hub, field: str, value: Any
) -> None:
    """Đông Hà's own key signs a body that names another dispatch, payload, node or signer,
    or says something else than accepted or refused (a broken or compromised receiver): the
    hub refuses it, and never with a server error."""
    original = hub.receipt["body"]
    assume(not strictly_equal(value, original[field]))
    # A refusal with a reason is a receipt the hub takes: not another delivery's.
    assume(not (field == "code" and isinstance(value, str)))
    assume(not (field == "status" and value == "refused"))
    body = {**original, field: value}
    receipt = {
        **hub.receipt,
        "body": body,
        "signature": b64(sign(hub.dongha_unit.key, canonical_json(body))),
    }
    status, answer = await hub.call(
        "POST",
        f"/relay/{hub.held.header.id}/receipt",
        json.dumps({"receipt": receipt}).encode(),
        hub.dongha,
    )
    hub.refusal(status, answer)
