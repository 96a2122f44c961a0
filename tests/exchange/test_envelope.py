"""The dispatch envelope, sealed with the demo network's real keys and checked from outside.

A dispatch sealed by unit TU opens at each addressed unit with every file intact; ``age`` and
``openssl`` (Debian's, not ours) decrypt it and verify both signatures and the signer's chain;
every way a dispatch can be forged, altered or misaddressed is refused with its own code; a
rotated encryption key still reads old dispatches. Property tests cover the header parser.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any

import pyrage
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.errors import PeerRefused
from exchange.envelope import (
    HEADER_FILE,
    HEADER_SIGNATURE_FILE,
    MAX_HEADER_BYTES,
    PAYLOAD_FILE,
    UNIT,
    Attachment,
    Draft,
    Header,
    Opened,
    Sender,
    check_payload,
    file_digest,
    open_payload,
    seal,
    verify_header,
)
from exchange.mime import BINARY_PARTS
from keys.age import recipient_of
from keys.ca import create_ca, issue_signing, pem, serial_hex
from keys.directory import canonical_json
from keys.keyring import Keyring
from keys.signatures import sign
from keys.trust import common_name
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.keys import (
    age_identity_file,
    keyring,
    openssl_verifies,
    run_tool,
    sender_of,
    tool_ok,
    trust_store,
)
from tests.support.network import DEMO_NODE_NAMES, DemoNetwork
from tests.support.templates import copy_network

NODES = ("TU", "HU-CAMLO", "TX-DONGHA")
METADATA = {
    "so_ky_hieu": "05-NQ/TU",
    "trich_yeu": "Về đẩy mạnh chuyển đổi số trong các cơ quan Đảng",
    "nguoi_ky": "Nguyễn Văn A",
    "so_trang": 3,
}
VIETNAMESE = "Nghị quyết 05.pdf"
#: An attachment: the name given, the content, the media type.
AttachmentSpec = tuple[str, bytes, str]
#: The module's dispatch carries these, and they must arrive under ``ARRIVING_NAMES``.
ATTACHMENTS: list[AttachmentSpec] = [
    (VIETNAMESE, b"%PDF-1.4 nghi quyet\n" + bytes(range(256)) * 700, "application/pdf"),
    ("empty.txt", b"", "text/plain"),
    (VIETNAMESE, b"%PDF-1.4 ban thu hai, cung ten\n", "application/pdf"),
    ("../x.pdf", b"%PDF-1.4 climbing out\n", "application/pdf"),
]
ARRIVING_NAMES = [VIETNAMESE, "empty.txt", f"7-{VIETNAMESE}", "x.pdf"]
FIXED = ["manifest.json", "manifest.sig", "signer.pem", "chain.pem", "metadata.json"]


@dataclass(frozen=True)
class Sealed:
    """A dispatch from TU to HU-CAMLO and TX-DONGHA, sealed once per module: do not alter it."""

    folder: Path
    header: Header
    contents: dict[str, bytes]
    types: dict[str, str]

    def copy_to(self, target: Path) -> Path:
        shutil.copytree(self.folder, target)
        return target


@pytest.fixture(scope="module")
def rings(demo_network: DemoNetwork) -> dict[str, Keyring]:
    return {node: keyring(demo_network, node) for node in NODES}


def encryption_certificates(rings: dict[str, Keyring], *units: str) -> dict[str, x509.Certificate]:
    hosted = {code: keys for ring in rings.values() for code, keys in ring.units.items()}
    return {unit: hosted[unit].encryption_certificate for unit in units}


def document(
    folder: Path, *recipients: str, attachments: list[AttachmentSpec] | None = None
) -> Draft:
    """A draft whose attachments are written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index, (name, content, media_type) in enumerate(attachments or []):
        path = folder / f"attachment-{index}"
        path.write_bytes(content)
        made.append(Attachment(name, path, media_type))
    return Draft(recipients, "document", METADATA, tuple(made), urgency=3)


def seal_to(
    rings: dict[str, Keyring],
    folder: Path,
    *recipients: str,
    sender: Sender | None = None,
    attachments: list[AttachmentSpec] | None = None,
) -> Header:
    draft = document(folder.parent / f"{folder.name}-files", *recipients, attachments=attachments)
    return seal(
        draft,
        sender or sender_of(rings["TU"], "TU"),
        encryption_certificates(rings, *recipients),
        folder,
    )


@pytest.fixture(scope="module")
def sealed(rings: dict[str, Keyring], tmp_path_factory: pytest.TempPathFactory) -> Sealed:
    folder = tmp_path_factory.mktemp("sealed") / "dispatch"
    header = seal_to(rings, folder, "HU-CAMLO", "TX-DONGHA", attachments=ATTACHMENTS)
    arriving = list(zip(ARRIVING_NAMES, ATTACHMENTS, strict=True))
    contents = {name: content for name, (_, content, _) in arriving}
    types = {name: media for name, (_, _, media) in arriving}
    return Sealed(folder, header, contents, types)


def open_as(
    rings: dict[str, Keyring], node: str, unit: str, header: Header, folder: Path, out: Path
) -> Opened:
    identities = rings[node].unit(unit).identities
    return open_payload(header, folder / PAYLOAD_FILE, identities, out)


def refused(code: str, action: Callable[[], object]) -> PeerRefused:
    with pytest.raises(PeerRefused) as caught:
        action()
    assert caught.value.code == code, caught.value.message
    return caught.value


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- round trip ----------------------------------------------------------------------------------


def test_every_file_arrives_identical_under_the_names_the_manifest_lists(
    rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path
) -> None:
    opened = open_as(rings, "HU-CAMLO", "HU-CAMLO", sealed.header, sealed.folder, tmp_path)

    assert [path.name for path in opened.files] == ARRIVING_NAMES
    assert {path.name: path.read_bytes() for path in opened.files} == sealed.contents
    assert all(path.parent == tmp_path / "files" for path in opened.files)
    assert opened.metadata == METADATA
    assert opened.manifest["metadata"] == METADATA
    assert opened.manifest["files"] == [
        {
            "name": name,
            "size": len(sealed.contents[name]),
            "sha256": sha256(sealed.contents[name]),
            "type": sealed.types[name],
        }
        for name in ARRIVING_NAMES
    ]


def test_the_manifest_repeats_the_header_so_a_payload_belongs_to_one_dispatch(
    rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path
) -> None:
    opened = open_as(rings, "TX-DONGHA", "TX-DONGHA", sealed.header, sealed.folder, tmp_path)
    header = sealed.header.as_dict()
    assert opened.manifest["dispatch"] == {
        key: header[key]
        for key in ("id", "from", "to", "kind", "created", "urgency", "ref", "node")
    }
    assert opened.manifest["v"] == header["v"] == 1


@pytest.mark.parametrize("unit", ["HU-CAMLO", "TX-DONGHA"])
def test_each_recipient_opens_the_dispatch_with_its_own_keys(
    rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path, unit: str
) -> None:
    opened = open_as(rings, unit, unit, sealed.header, sealed.folder, tmp_path)
    assert {path.name: path.read_bytes() for path in opened.files} == sealed.contents
    assert opened.signer == rings["TU"].unit("TU").signing_certificate
    assert opened.chain == [rings["TU"].ca_certificate]


@pytest.mark.parametrize("unit", ["BTC", "TU"])
def test_a_unit_not_addressed_cannot_open_the_dispatch(
    rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path, unit: str
) -> None:
    refused(
        "not-addressed-here",
        lambda: open_as(rings, "TU", unit, sealed.header, sealed.folder, tmp_path),
    )
    assert not list((tmp_path / "files").glob("*")), "nothing of the content is left behind"


def test_the_signed_header_names_the_ciphertext_and_nothing_of_the_content(
    rings: dict[str, Keyring], sealed: Sealed
) -> None:
    raw = (sealed.folder / HEADER_FILE).read_bytes()
    signature = (sealed.folder / HEADER_SIGNATURE_FILE).read_bytes()
    header = verify_header(raw, signature, rings["TU"].node_certificate)

    assert header == sealed.header
    assert raw == canonical_json(header.as_dict())
    check_payload(header, sealed.folder / PAYLOAD_FILE)
    payload = (sealed.folder / PAYLOAD_FILE).read_bytes()
    assert (header.size, header.payload_sha256) == (len(payload), sha256(payload))
    assert (header.sender, header.node, header.recipients) == (
        "TU",
        "TU",
        ("HU-CAMLO", "TX-DONGHA"),
    )
    assert (header.kind, header.urgency, header.ref) == ("document", 3, None)
    text = raw.decode()
    assert "05-NQ" not in text and "pdf" not in text
    assert sorted(path.name for path in sealed.folder.iterdir()) == sorted(
        [HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE]
    )


# -- checked by outsiders ------------------------------------------------------------------------


def decoded(part: MIMEPart) -> bytes:
    """A part's content as bytes, decoded by Python's ``email`` (not by our reader)."""
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def age_decrypt(
    cli: Cli, network: DemoNetwork, unit: str, payload: Path, scratch: Path, seen: SecretsSeen
) -> bytes:
    identity = age_identity_file(cli, network, unit, unit, scratch / f"{unit}.agekey", seen)
    try:
        result = run_tool("age", "-d", "-i", identity, payload)
    finally:
        identity.unlink()
    tool_ok(result)
    return result.stdout


def test_age_decrypts_the_payload_into_a_mime_message_with_the_parts_in_order(
    cli: Cli,
    demo_network: DemoNetwork,
    sealed: Sealed,
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    for unit in ("HU-CAMLO", "TX-DONGHA"):
        plaintext = age_decrypt(
            cli, demo_network, unit, sealed.folder / PAYLOAD_FILE, tmp_path, secrets_seen
        )
        message = email.message_from_bytes(plaintext, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        assert message.get_content_type() == "multipart/mixed"
        assert message["X-Congvan-Dispatch"] == sealed.header.id
        parts = list(message.iter_parts())
        names = [part.get_filename() for part in parts]
        assert names == [*FIXED, *ARRIVING_NAMES]
        contents = {str(part.get_filename()): decoded(part) for part in parts}
        assert {name: contents[name] for name in ARRIVING_NAMES} == sealed.contents
        assert json.loads(contents["metadata.json"]) == METADATA
        assert [part["Content-Transfer-Encoding"] for part in parts] == ["base64"] * len(parts)
        manifest = json.loads(contents["manifest.json"])
        assert [entry["sha256"] for entry in manifest["files"]] == [
            sha256(contents[name]) for name in ARRIVING_NAMES
        ]


def test_age_refuses_the_payload_to_a_unit_not_addressed(
    cli: Cli,
    demo_network: DemoNetwork,
    sealed: Sealed,
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    identity = age_identity_file(
        cli, demo_network, "TU", "BTC", tmp_path / "btc.agekey", secrets_seen
    )
    result = run_tool("age", "-d", "-i", identity, sealed.folder / PAYLOAD_FILE)
    identity.unlink()
    assert result.returncode != 0 and not result.stdout
    assert b"no identity matched" in result.stderr


def test_openssl_verifies_the_header_signature_with_the_sending_node_certificate(
    demo_network: DemoNetwork, sealed: Sealed, tmp_path: Path
) -> None:
    node_pem = demo_network.settings("TU").pki_dir / "node.pem"
    result = openssl_verifies(
        node_pem, sealed.folder / HEADER_SIGNATURE_FILE, sealed.folder / HEADER_FILE, tmp_path
    )
    assert tool_ok(result).strip() == "Verified OK"

    altered = tmp_path / "header.json"
    altered.write_bytes(
        (sealed.folder / HEADER_FILE).read_bytes().replace(b'"urgency":3', b'"urgency":0')
    )
    result = openssl_verifies(node_pem, sealed.folder / HEADER_SIGNATURE_FILE, altered, tmp_path)
    assert result.returncode != 0 and b"Verification failure" in result.stdout + result.stderr


def test_openssl_verifies_the_manifest_signature_with_the_signer_certificate(
    rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path
) -> None:
    opened = open_as(rings, "HU-CAMLO", "HU-CAMLO", sealed.header, sealed.folder, tmp_path / "o")
    folder = opened.folder
    result = openssl_verifies(
        folder / "signer.pem", folder / "manifest.sig", folder / "manifest.json", tmp_path
    )
    assert tool_ok(result).strip() == "Verified OK"
    listed = {entry["name"]: entry["sha256"] for entry in opened.manifest["files"]}
    computed = tool_ok(run_tool("sha256sum", *sorted(opened.files)))
    assert {
        Path(line.split(maxsplit=1)[1]).name: line.split()[0] for line in computed.splitlines()
    } == listed


def test_openssl_verifies_the_signer_chain_against_the_crl(
    demo_network: DemoNetwork, rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path
) -> None:
    opened = open_as(rings, "TX-DONGHA", "TX-DONGHA", sealed.header, sealed.folder, tmp_path)
    crl = demo_network.settings("TU").ca_dir / "crl.pem"
    result = run_tool(
        "openssl",
        "verify",
        "-crl_check",
        "-CAfile",
        opened.folder / "chain.pem",
        "-CRLfile",
        crl,
        opened.folder / "signer.pem",
    )
    assert tool_ok(result).strip() == f"{opened.folder / 'signer.pem'}: OK"


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:], id="flipped"),
        pytest.param(lambda data: data + b"\0", id="appended"),
        pytest.param(lambda data: data[:-1], id="truncated"),
    ],
)
def test_an_altered_payload_is_refused_before_decrypting(
    sealed: Sealed, tmp_path: Path, tamper: Callable[[bytes], bytes]
) -> None:
    folder = sealed.copy_to(tmp_path / "copy")
    payload = folder / PAYLOAD_FILE
    payload.write_bytes(tamper(payload.read_bytes()))
    refused("bad-digest", lambda: check_payload(sealed.header, payload))


def test_a_dispatch_sealed_with_binary_parts_opens_to_the_same_files(
    rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path
) -> None:
    draft = document(tmp_path / "files", "HU-CAMLO", attachments=ATTACHMENTS)
    certificates = encryption_certificates(rings, "HU-CAMLO")
    header = seal(draft, sender_of(rings["TU"], "TU"), certificates, tmp_path / "d", BINARY_PARTS)
    assert header.size < sealed.header.size  # a third less than base64
    opened = open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path / "d", tmp_path / "out")
    assert {path.name: path.read_bytes() for path in opened.files} == sealed.contents


@pytest.mark.parametrize("at", [0.0, 0.5, 1.0])
def test_an_altered_binary_payload_is_bad_digest_wherever_it_was_altered(
    rings: dict[str, Keyring], tmp_path: Path, at: float
) -> None:
    """The ciphertext is hashed as it is decrypted: a flipped byte is refused as the header's
    digest says, not as whatever the decryption or the reader made of it."""
    big = [("scan.pdf", bytes(range(256)) * 8000, "application/pdf")]
    draft = document(tmp_path / "files", "HU-CAMLO", attachments=big)
    certificates = encryption_certificates(rings, "HU-CAMLO")
    header = seal(draft, sender_of(rings["TU"], "TU"), certificates, tmp_path / "d", BINARY_PARTS)
    payload = tmp_path / "d" / PAYLOAD_FILE
    data = bytearray(payload.read_bytes())
    data[min(int(len(data) * at), len(data) - 1)] ^= 1
    payload.write_bytes(bytes(data))
    refused(
        "bad-digest",
        lambda: open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path / "d", tmp_path / "o"),
    )


def test_an_altered_header_under_the_old_signature_is_refused(
    rings: dict[str, Keyring], sealed: Sealed
) -> None:
    signature = (sealed.folder / HEADER_SIGNATURE_FILE).read_bytes()
    for change in ({"urgency": 0}, {"recipients": ("HU-CAMLO",)}, {"sender": "BTC"}):
        altered = dataclasses.replace(sealed.header, **change).to_bytes()
        Header.from_bytes(altered)  # well formed: only the signature is wrong
        refused(
            "bad-signature",
            lambda raw=altered: verify_header(raw, signature, rings["TU"].node_certificate),
        )


def test_a_header_signed_by_another_node_is_refused(
    rings: dict[str, Keyring], sealed: Sealed
) -> None:
    raw = (sealed.folder / HEADER_FILE).read_bytes()
    forged = sign(rings["TX-DONGHA"].node_key, raw)
    refused("bad-signature", lambda: verify_header(raw, forged, rings["TU"].node_certificate))
    verify_header(raw, forged, rings["TX-DONGHA"].node_certificate)  # the signature itself holds


def test_a_header_signed_by_a_unit_key_is_refused(
    rings: dict[str, Keyring], sealed: Sealed
) -> None:
    raw = (sealed.folder / HEADER_FILE).read_bytes()
    forged = sign(rings["TU"].unit("TU").signing_key, raw)
    refused("bad-signature", lambda: verify_header(raw, forged, rings["TU"].node_certificate))
    refused("bad-signature", lambda: verify_header(raw, b"", rings["TU"].node_certificate))
    refused(
        "bad-signature",
        lambda: verify_header(
            raw,
            (sealed.folder / HEADER_SIGNATURE_FILE).read_bytes(),
            rings["TU"].unit("BTC").encryption_certificate,  # an X25519 key verifies nothing
        ),
    )


def _fields(change: dict[str, Any]) -> Callable[[dict[str, Any]], bytes]:
    return lambda fields: canonical_json({**fields, **change})


def _without(key: str) -> Callable[[dict[str, Any]], bytes]:
    return lambda fields: canonical_json({k: v for k, v in fields.items() if k != key})


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


MALFORMED: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "extra-spaces": lambda f: json.dumps(f, sort_keys=True, ensure_ascii=False).encode(),
    "reordered-keys": lambda f: json.dumps(
        dict(sorted(f.items(), reverse=True)), separators=(",", ":")
    ).encode(),
    "trailing-newline": lambda f: canonical_json(f) + b"\n",
    "leading-BOM": lambda f: b"\xef\xbb\xbf" + canonical_json(f),
    "duplicate-key": lambda f: canonical_json(f)[:-1] + b',"v":1}',
    "missing-ref": _without("ref"),
    "missing-id": _without("id"),
    "extra-field": _fields({"subject": "Nghị quyết"}),
    "version-2": _fields({"v": 2}),
    "version-true": _fields({"v": True}),
    "unknown-kind": _fields({"kind": "fax"}),
    "bad-uuid": _fields({"id": "not-a-uuid"}),
    "upper-case-uuid": lambda f: canonical_json({**f, "id": f["id"].upper()}),
    "braced-uuid": lambda f: canonical_json({**f, "id": "{" + f["id"] + "}"}),
    "bad-ref": _fields({"ref": "12345"}),
    "size-0": _fields({"size": 0}),
    "size-negative": _fields({"size": -5}),
    "size-true": _fields({"size": True}),
    "size-float": _fields({"size": 1.5}),
    "size-string": _fields({"size": "1000"}),
    "urgency-4": _fields({"urgency": 4}),
    "urgency-negative": _fields({"urgency": -1}),
    "urgency-true": _fields({"urgency": True}),
    "urgency-string": _fields({"urgency": "3"}),
    "lower-case-sender": _fields({"from": "tu"}),
    "sender-with-a-space": _fields({"from": "HU CAMLO"}),
    "sender-too-long": _fields({"from": "X" * 33}),
    "node-with-a-leading-dash": _fields({"node": "-TU"}),
    "no-recipients": _fields({"to": []}),
    "recipient-not-a-list": _fields({"to": "HU-CAMLO"}),
    "recipient-not-a-code": _fields({"to": ["HU-CAMLO", "../TU"]}),
    "duplicate-recipients": _fields({"to": ["HU-CAMLO", "HU-CAMLO"]}),
    "too-many-recipients": _fields({"to": [f"U{i}" for i in range(501)]}),
    "created-without-Z": _fields({"created": "2025-03-01T08:00:00"}),
    "created-with-offset": _fields({"created": "2025-03-01T08:00:00+07:00"}),
    "created-month-13": _fields({"created": "2025-13-01T08:00:00Z"}),
    "upper-case-digest": lambda f: canonical_json(
        {**f, "payload_sha256": f["payload_sha256"].upper()}
    ),
    "short-digest": _fields({"payload_sha256": "ab" * 31}),
    "an-array": lambda f: canonical_json([f]),
    "a-string": lambda f: canonical_json("header"),
    "not-UTF-8": lambda f: canonical_json(f).replace(b'"TU"', b'"T\xff"', 1),
    "not-JSON": lambda f: b"id=1&from=TU",
    "empty": lambda f: b"",
    "too-large": _fields({"pad": "x" * MAX_HEADER_BYTES}),
    "deeply-nested": lambda f: _nested(MAX_HEADER_BYTES // 2 - 1),
}


@pytest.mark.parametrize("make", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_header_not_in_the_exact_form_is_malformed_even_when_signed(
    rings: dict[str, Keyring], sealed: Sealed, make: Callable[[dict[str, Any]], bytes]
) -> None:
    raw = make(sealed.header.as_dict())
    signature = sign(rings["TU"].node_key, raw)
    refused("malformed", lambda: verify_header(raw, signature, rings["TU"].node_certificate))


def test_a_unit_key_that_does_not_match_its_certificate_is_refused(
    rings: dict[str, Keyring], tmp_path: Path
) -> None:
    honest = sender_of(rings["TU"], "TU")
    wrong_key = dataclasses.replace(honest, signing_key=rings["TU"].unit("BTC").signing_key)
    header = seal_to(rings, tmp_path / "d", "HU-CAMLO", sender=wrong_key)
    refused(
        "bad-signature",
        lambda: open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path / "d", tmp_path / "o"),
    )


def test_a_payload_moved_under_another_header_is_refused(
    rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path
) -> None:
    """A sending node may sign any header, but not re-sign the unit's manifest."""
    for change in (
        {"id": str(uuid.uuid4())},
        {"recipients": ("TX-DONGHA", "HU-CAMLO")},
        {"urgency": 0},
        {"kind": "mail"},
        {"ref": str(uuid.uuid4())},
        {"created": "2020-01-01T00:00:00Z"},
    ):
        header = dataclasses.replace(sealed.header, **change)
        check_payload(header, sealed.folder / PAYLOAD_FILE)
        refused(
            "bad-signature",
            lambda h=header: open_as(
                rings, "HU-CAMLO", "HU-CAMLO", h, sealed.folder, tmp_path / str(uuid.uuid4())
            ),
        )


@pytest.mark.parametrize(
    "plaintext",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not a MIME message at all\r\n", id="text"),
        pytest.param(bytes(range(256)) * 40, id="binary"),
        pytest.param(
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nnot base64!\r\n--b--\r\n",
            id="bad-base64",
        ),
        pytest.param(
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b'Content-Disposition: attachment; filename="manifest.json"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\ne30=\r\n--b--\r\n",
            id="parts-missing",
        ),
        pytest.param(
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Transfer-Encoding: \xff\xfe\r\n\r\n--b--\r\n",
            id="8-bit-part-header",
        ),
    ],
)
def test_a_payload_that_decrypts_to_garbage_is_malformed(
    rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path, plaintext: bytes
) -> None:
    recipient = recipient_of(rings["HU-CAMLO"].unit("HU-CAMLO").encryption_certificate)
    payload = tmp_path / PAYLOAD_FILE
    payload.write_bytes(pyrage.encrypt(plaintext, [pyrage.x25519.Recipient.from_str(recipient)]))
    # Signed for by its (broken) sending node: the ciphertext is the one its header names.
    sha256, size = file_digest(payload)
    header = dataclasses.replace(sealed.header, size=size, payload_sha256=sha256)
    refused(
        "malformed",
        lambda: open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path, tmp_path / "o"),
    )


# -- trust in the signer -------------------------------------------------------------------------


def test_the_signer_of_an_opened_dispatch_is_trusted_as_the_sending_unit(
    demo_network: DemoNetwork, rings: dict[str, Keyring], sealed: Sealed, tmp_path: Path
) -> None:
    opened = open_as(rings, "HU-CAMLO", "HU-CAMLO", sealed.header, sealed.folder, tmp_path)
    for node in ("HU-CAMLO", "TX-DONGHA", "TU"):
        trust_store(demo_network, node).check_unit_signer(
            opened.signer, sealed.header.sender, opened.chain
        )


def test_another_unit_signing_in_the_senders_name_is_an_unknown_sender(
    demo_network: DemoNetwork, rings: dict[str, Keyring], tmp_path: Path
) -> None:
    """BTC's key and certificate are good, and the manifest signature holds, but not for TU."""
    impostor = dataclasses.replace(
        sender_of(rings["TU"], "TU"),
        signing_key=rings["TU"].unit("BTC").signing_key,
        signing_certificate=rings["TU"].unit("BTC").signing_certificate,
    )
    header = seal_to(rings, tmp_path / "d", "HU-CAMLO", sender=impostor)
    opened = open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path / "d", tmp_path / "o")
    store = trust_store(demo_network, "HU-CAMLO")
    refused("unknown-sender", lambda: store.check_unit_signer(opened.signer, "TU", opened.chain))
    store.check_unit_signer(opened.signer, "BTC", opened.chain)


def test_a_certificate_from_a_rogue_ca_of_the_same_name_is_an_unknown_sender(
    demo_network: DemoNetwork,
    rings: dict[str, Keyring],
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> None:
    ours = rings["TU"].ca_certificate
    passphrase = "rogue-ca-passphrase-0"
    secrets_seen.add(passphrase)
    rogue = create_ca(common_name(ours), tmp_path / "rogue", passphrase.encode())
    assert rogue.certificate.subject == ours.subject
    certificate, key = issue_signing(rogue, "TU", "Tỉnh uỷ giả", 30)
    impostor = dataclasses.replace(
        sender_of(rings["TU"], "TU"),
        signing_key=key,
        signing_certificate=certificate,
        chain=(rogue.certificate,),
    )
    header = seal_to(rings, tmp_path / "d", "HU-CAMLO", sender=impostor)
    opened = open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path / "d", tmp_path / "o")
    assert opened.chain == [rogue.certificate]

    store = trust_store(demo_network, "HU-CAMLO")
    refused("unknown-sender", lambda: store.check_unit_signer(opened.signer, "TU", opened.chain))
    refused("unknown-sender", lambda: store.check_unit_signer(opened.signer, "TU", []))
    result = run_tool(
        "openssl",
        "verify",
        "-CAfile",
        demo_network.settings("TU").pki_dir / "ca.pem",
        opened.folder / "signer.pem",
    )
    assert result.returncode != 0


def test_a_node_certificate_and_a_unit_certificate_are_not_interchangeable(
    demo_network: DemoNetwork, rings: dict[str, Keyring]
) -> None:
    """Node TU and unit TU share a common name; the key usages keep them apart."""
    store = trust_store(demo_network, "HU-CAMLO")
    store.check_node(rings["TU"].node_certificate, "TU")
    refused(
        "not-a-node", lambda: store.check_node(rings["TU"].unit("TU").signing_certificate, "TU")
    )
    refused(
        "bad-signature",
        lambda: store.check_unit_signer(rings["TU"].node_certificate, "TU", []),
    )
    refused(
        "bad-signature",
        lambda: store.check_unit_signer(rings["TU"].unit("TU").encryption_certificate, "TU", []),
    )


# -- networks of their own: revocation and rotation ----------------------------------------------


@pytest.fixture
def own_network(
    own_network_original: DemoNetwork,
    databases: DatabasePool,
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> DemoNetwork:
    """A demo network this test alone changes (the module's one stays as built)."""
    network = copy_network(own_network_original, tmp_path / "net", databases)
    for name in DEMO_NODE_NAMES:
        secrets_seen.add((network.node_dir(name) / "secret").read_text().strip())
    for account in network.document["accounts"]:
        secrets_seen.add(account["password"], account["totp_secret"])
    return network


def test_a_revoked_signer_is_refused_once_the_crl_says_so(
    cli: Cli, own_network: DemoNetwork, tmp_path: Path
) -> None:
    rings = {node: keyring(own_network, node) for node in NODES}
    header = seal_to(rings, tmp_path / "d", "HU-CAMLO")
    opened = open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path / "d", tmp_path / "o")
    store = trust_store(own_network, "HU-CAMLO")
    store.check_unit_signer(opened.signer, "TU", opened.chain)

    serial = serial_hex(opened.signer)
    cli("keys", "revoke", serial, "--reason", "keyCompromise", "--dir", own_network.node_dir("TU"))

    refused("revoked", lambda: store.check_unit_signer(opened.signer, "TU", opened.chain))
    refused(
        "revoked",
        lambda: trust_store(own_network, "TU").check_unit_signer(opened.signer, "TU", opened.chain),
    )
    result = run_tool(
        "openssl",
        "verify",
        "-crl_check",
        "-CAfile",
        opened.folder / "chain.pem",
        "-CRLfile",
        own_network.settings("TU").ca_dir / "crl.pem",
        opened.folder / "signer.pem",
    )
    assert result.returncode != 0
    assert b"certificate revoked" in result.stdout + result.stderr
    # The signature itself still holds: revocation is the trust store's word, not the envelope's.
    open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path / "d", tmp_path / "again")


def test_a_rotated_encryption_key_still_opens_old_dispatches(
    cli: Cli, own_network: DemoNetwork, tmp_path: Path
) -> None:
    rings = {node: keyring(own_network, node) for node in NODES}
    before = rings["HU-CAMLO"].unit("HU-CAMLO")
    old_header = seal_to(rings, tmp_path / "old", "HU-CAMLO", attachments=ATTACHMENTS[:1])

    camlo = own_network.node_dir("HU-CAMLO")
    cli(
        "keys",
        "rotate",
        "HU-CAMLO",
        "--use",
        "encryption",
        "--dir",
        own_network.node_dir("TU"),
        "--out",
        own_network.settings("HU-CAMLO").pki_dir,
        "--key-passphrase-file",
        camlo / "secret",
    )

    rings["HU-CAMLO"] = keyring(own_network, "HU-CAMLO")
    after = rings["HU-CAMLO"].unit("HU-CAMLO")
    assert after.encryption_certificate != before.encryption_certificate
    assert after.signing_certificate == before.signing_certificate
    assert len(after.identities) == 2
    assert recipient_of(before.encryption_certificate) != recipient_of(after.encryption_certificate)

    old = open_as(rings, "HU-CAMLO", "HU-CAMLO", old_header, tmp_path / "old", tmp_path / "o1")
    assert [path.read_bytes() for path in old.files] == [ATTACHMENTS[0][1]]
    refused(
        "not-addressed-here",
        lambda: open_payload(
            old_header, tmp_path / "old" / PAYLOAD_FILE, after.identities[:1], tmp_path / "o2"
        ),
    )

    new_header = seal_to(rings, tmp_path / "new", "HU-CAMLO", attachments=ATTACHMENTS[:1])
    new = open_payload(
        new_header, tmp_path / "new" / PAYLOAD_FILE, after.identities[:1], tmp_path / "o3"
    )
    assert [path.read_bytes() for path in new.files] == [ATTACHMENTS[0][1]]
    refused(
        "not-addressed-here",
        lambda: open_payload(
            new_header, tmp_path / "new" / PAYLOAD_FILE, before.identities, tmp_path / "o4"
        ),
    )
    # The new encryption certificate is ours and current.
    trust_store(own_network, "TX-DONGHA").check(after.encryption_certificate, owner="HU-CAMLO")
    assert (
        pem(after.encryption_certificate)
        == (
            own_network.settings("HU-CAMLO").pki_dir / "units" / "HU-CAMLO" / "encryption.pem"
        ).read_bytes()
    )


# -- properties of the header --------------------------------------------------------------------

uuids = st.uuids().map(str)
units = st.from_regex(UNIT, fullmatch=True)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")
)
headers = st.builds(
    Header,
    id=uuids,
    sender=units,
    recipients=st.lists(units, min_size=1, max_size=5, unique=True).map(tuple),
    kind=st.sampled_from(["document", "mail", "status", "report"]),
    created=times,
    urgency=st.integers(0, 3),
    node=units,
    size=st.integers(1, 2**63),
    payload_sha256=st.binary(min_size=32, max_size=32).map(bytes.hex),
    ref=st.none() | uuids,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@hypothesis_settings(max_examples=50, deadline=None)
@given(headers)
def test_a_valid_header_survives_the_round_trip(header: Header) -> None:
    raw = header.to_bytes()
    assert Header.from_bytes(raw) == header
    assert Header.from_bytes(raw).to_bytes() == raw


@hypothesis_settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300) | json_values.map(canonical_json))
def test_arbitrary_bytes_are_malformed_and_nothing_else(raw: bytes) -> None:
    refused("malformed", lambda: Header.from_bytes(raw))


@hypothesis_settings(max_examples=50, deadline=None)
@given(
    headers,
    st.sampled_from(
        [
            "v",
            "id",
            "from",
            "to",
            "kind",
            "created",
            "urgency",
            "node",
            "size",
            "payload_sha256",
            "ref",
            "extra",
        ]
    ),
    json_values,
)
def test_a_header_with_any_field_replaced_is_accepted_only_if_still_valid(
    header: Header, key: str, value: Any
) -> None:
    raw = canonical_json({**header.as_dict(), key: value})
    try:
        parsed = Header.from_bytes(raw)
    except PeerRefused as error:
        assert error.code == "malformed"
        return
    assert parsed.to_bytes() == raw
    assert type(parsed.urgency) is int and 0 <= parsed.urgency <= 3
    assert type(parsed.size) is int and parsed.size > 0
    assert all(type(unit) is str and UNIT.fullmatch(unit) for unit in parsed.recipients)
    assert len(set(parsed.recipients)) == len(parsed.recipients) > 0
    assert str(uuid.UUID(parsed.id)) == parsed.id


def test_a_unit_certificate_cannot_act_as_an_issuing_ca(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """Whoever holds a unit's signing key must not mint certificates our CA never issued."""
    camlo = keyring(demo_network, "HU-CAMLO").unit("HU-CAMLO")
    forged_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TU")]))
        .issuer_name(camlo.signing_certificate.subject)
        .public_key(forged_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(camlo.signing_key, hashes.SHA256())
    )
    store = trust_store(demo_network, "TX-DONGHA")
    with pytest.raises(PeerRefused) as refused:
        store.check_unit_signer(forged, "TU", [camlo.signing_certificate])
    assert refused.value.code == "unknown-sender"


def test_metadata_that_is_not_an_object_is_malformed(
    rings: dict[str, Keyring], tmp_path: Path
) -> None:
    """Signed and encrypted correctly, but a handler would trip over a list of metadata."""
    draft = dataclasses.replace(
        document(tmp_path / "files", "HU-CAMLO"),
        metadata=["not", "an", "object"],  # type: ignore[arg-type]
    )
    header = seal(
        draft,
        sender_of(rings["TU"], "TU"),
        encryption_certificates(rings, "HU-CAMLO"),
        tmp_path / "d",
    )
    refused(
        "malformed",
        lambda: open_as(rings, "HU-CAMLO", "HU-CAMLO", header, tmp_path / "d", tmp_path / "o"),
    )
