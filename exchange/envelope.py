"""The dispatch envelope: a clear header signed by the sending node, and a payload signed by
the sending unit and encrypted to every recipient unit.

On disk (and on the wire) a dispatch is three files:

- ``header.json``: canonical JSON (sorted keys, UTF-8) of id, from, to, kind, created, urgency,
  ref, node, size and SHA-256 of the payload. Nothing about the content.
- ``header.sig``: DER ECDSA-SHA256 over ``header.json`` by the sending node's key, so a hub or a
  receiver refuses a forged dispatch before decrypting anything.
- ``payload.age``: age v1 (X25519 recipients, ChaCha20-Poly1305 in 64 KiB chunks) of a MIME
  message: ``manifest.json`` (the header fields, the metadata and the SHA-256 of every file),
  ``manifest.sig`` (DER ECDSA-SHA256 by the sending unit), ``signer.pem``, ``chain.pem``,
  ``metadata.json`` and the files.

Every step streams file to file; the functions here block and are meant for a thread executor.
``docs/dispatch-format.md`` shows how an outsider checks each piece with age and openssl.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from config.errors import Invalid, PeerRefused
from exchange.age_stream import AgeError, AgeReader, NotForUs, encrypt
from exchange.mime import (
    BASE64_PARTS,
    COPY_BLOCK,
    IteratorReader,
    OutgoingPart,
    ReceivedPart,
    assign_names,
    read_mime,
    write_mime,
)
from exchange.threaded_sink import sink_for
from keys.age import encryption_key_of
from keys.directory import canonical_json
from keys.signatures import sign, signature_holds

FORMAT_VERSION = 1
KINDS = ("document", "mail", "status", "report", "schedule", "figures")
#: Độ khẩn: Thường, Khẩn, Thượng khẩn, Hỏa tốc. Higher is sent first.
URGENCIES = (0, 1, 2, 3)
HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE = "header.json", "header.sig", "payload.age"
MANIFEST, MANIFEST_SIGNATURE, SIGNER, CHAIN, METADATA = (
    "manifest.json",
    "manifest.sig",
    "signer.pem",
    "chain.pem",
    "metadata.json",
)
FILES_DIR = "files"
MAX_HEADER_BYTES = 64 * 1024
UNIT = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HASH_BLOCK = 256 * 1024


@dataclass(frozen=True)
class Header:
    """What anyone on the path may read about a dispatch, and nothing more."""

    id: str
    sender: str
    recipients: tuple[str, ...]
    kind: str
    created: str
    urgency: int
    node: str
    size: int
    payload_sha256: str
    ref: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "id": self.id,
            "from": self.sender,
            "to": list(self.recipients),
            "kind": self.kind,
            "created": self.created,
            "urgency": self.urgency,
            "node": self.node,
            "size": self.size,
            "payload_sha256": self.payload_sha256,
            "ref": self.ref,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.as_dict())

    @classmethod
    def from_bytes(cls, raw: bytes) -> Header:
        """Parse and check a header strictly; anything odd is ``malformed``."""
        if len(raw) > MAX_HEADER_BYTES:
            raise PeerRefused("header too large", code="malformed")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as error:
            # ValueError: not UTF-8, not JSON, or a number of more than 4,300 digits (Python's
            # int() limit); RecursionError: 64 KiB of "[[[[" nests deeper than the decoder goes.
            raise PeerRefused("header is not JSON", code="malformed") from error
        if not isinstance(data, dict):
            raise PeerRefused("header is not an object", code="malformed")
        header = cls._from_dict(data)
        if header.to_bytes() != raw:
            raise PeerRefused("header is not in canonical form", code="malformed")
        return header

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Header:
        expected = {"v", "id", "from", "to", "kind", "created", "urgency", "node", "size"}
        expected |= {"payload_sha256", "ref"}
        if set(data) != expected or data["v"] != FORMAT_VERSION:
            raise PeerRefused("header fields are not those of version 1", code="malformed")
        checks = [
            is_dispatch_id(data["id"]),
            isinstance(data["from"], str) and bool(UNIT.fullmatch(data["from"])),
            isinstance(data["to"], list)
            and 0 < len(data["to"]) <= 500
            and all(isinstance(u, str) and UNIT.fullmatch(u) for u in data["to"])
            and len(set(data["to"])) == len(data["to"]),
            data["kind"] in KINDS,
            _is_time(data["created"]),
            isinstance(data["urgency"], int)
            and not isinstance(data["urgency"], bool)
            and data["urgency"] in URGENCIES,
            isinstance(data["node"], str) and bool(UNIT.fullmatch(data["node"])),
            isinstance(data["size"], int)
            and not isinstance(data["size"], bool)
            and data["size"] > 0,
            isinstance(data["payload_sha256"], str)
            and bool(HEX64.fullmatch(data["payload_sha256"])),
            data["ref"] is None or is_dispatch_id(data["ref"]),
        ]
        if not all(checks):
            raise PeerRefused("header has a field out of range", code="malformed")
        return cls(
            id=data["id"],
            sender=data["from"],
            recipients=tuple(data["to"]),
            kind=data["kind"],
            created=data["created"],
            urgency=data["urgency"],
            node=data["node"],
            size=data["size"],
            payload_sha256=data["payload_sha256"],
            ref=data["ref"],
        )


def is_dispatch_id(value: object) -> bool:
    """A dispatch id is a UUID in its canonical form (lower case, with dashes), nothing else:
    it names a row and a folder of the spool."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _is_time(value: object) -> bool:
    if not isinstance(value, str) or not value.endswith("Z"):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def utc_timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Attachment:
    name: str
    path: Path
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Sender:
    """What sealing needs from the sending node: its key and its unit's signing identity."""

    node: str
    node_key: ec.EllipticCurvePrivateKey
    unit: str
    signing_key: ec.EllipticCurvePrivateKey
    signing_certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


@dataclass(frozen=True)
class Draft:
    """A dispatch before sealing."""

    recipients: tuple[str, ...]
    kind: str
    metadata: dict[str, Any]
    attachments: tuple[Attachment, ...] = ()
    urgency: int = 0
    ref: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: str = field(default_factory=utc_timestamp)


def file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _pem(certificates: tuple[x509.Certificate, ...] | list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


FIXED_PARTS = [MANIFEST, MANIFEST_SIGNATURE, SIGNER, CHAIN, METADATA]


def attachment_names(draft: Draft) -> list[str]:
    """The names the files travel under: safe, distinct, as the receiver will see them."""
    names = assign_names([*FIXED_PARTS, *(a.name for a in draft.attachments)])
    return names[len(FIXED_PARTS) :]


def manifest_of(draft: Draft, sender: Sender) -> dict[str, Any]:
    files = []
    for attachment, name in zip(draft.attachments, attachment_names(draft), strict=True):
        sha256, size = file_digest(attachment.path)
        files.append(
            {"name": name, "size": size, "sha256": sha256, "type": attachment.content_type}
        )
    return {
        "v": FORMAT_VERSION,
        "dispatch": {
            "id": draft.id,
            "from": sender.unit,
            "to": list(draft.recipients),
            "kind": draft.kind,
            "created": draft.created,
            "urgency": draft.urgency,
            "ref": draft.ref,
            "node": sender.node,
        },
        "metadata": draft.metadata,
        "files": files,
    }


def seal(
    draft: Draft,
    sender: Sender,
    recipients: dict[str, x509.Certificate],
    out_dir: Path,
    payload_version: int = BASE64_PARTS,
) -> Header:
    """Sign and encrypt ``draft`` into ``out_dir``; return its header. ``payload_version``:
    how the MIME parts are encoded (:mod:`exchange.mime`), 2 only for nodes that read it.

    ``recipients`` maps each addressed unit to its encryption certificate, already checked by the
    caller against the directory. The header is written last: a folder without ``header.json``
    is an unfinished seal.

    Each file appears whole or not at all (written under a ``.part`` name, then renamed), and
    the caller commits the dispatch's row only after this returns: a crash of the process
    mid-seal leaves an orphan folder, never a row pointing at half of one. Nothing is fsynced.
    Against a power cut a sync would have to cover the payload too (megabytes, never synced)
    and the database's commit, which SQLite does not sync either (``synchronous=NORMAL``), so
    syncing the two small header files bought no guarantee for four fsyncs a dispatch. A folder
    a power cut leaves incomplete is found out, not sent as whole: the delivery fails on the
    missing file, or the receiver refuses the payload by the digest in the signed header.
    """
    if draft.kind not in KINDS or draft.urgency not in URGENCIES:
        raise Invalid(f"unknown kind {draft.kind!r} or urgency {draft.urgency!r}")
    if set(recipients) != set(draft.recipients) or not draft.recipients:
        raise Invalid("every recipient needs an encryption certificate")
    manifest = canonical_json(manifest_of(draft, sender))
    parts = [
        OutgoingPart(MANIFEST, "application/json", data=manifest),
        OutgoingPart(
            MANIFEST_SIGNATURE, "application/octet-stream", data=sign(sender.signing_key, manifest)
        ),
        OutgoingPart(
            SIGNER, "application/pem-certificate-chain", data=_pem([sender.signing_certificate])
        ),
        OutgoingPart(CHAIN, "application/pem-certificate-chain", data=_pem(sender.chain)),
        OutgoingPart(METADATA, "application/json", data=canonical_json(draft.metadata)),
        *(
            OutgoingPart(name, a.content_type, path=a.path)
            for a, name in zip(draft.attachments, attachment_names(draft), strict=True)
        ),
    ]
    age_recipients = [encryption_key_of(recipients[unit]) for unit in draft.recipients]
    out_dir.mkdir(parents=True, exist_ok=True)
    payload_path = out_dir / PAYLOAD_FILE
    partial = out_dir / (PAYLOAD_FILE + ".part")
    plaintext = IteratorReader(write_mime(parts, {"X-Congvan-Dispatch": draft.id}, payload_version))
    plaintext_size = sum(part.size() for part in parts)
    with partial.open("wb") as file:
        # Hashed as it is written: reading a 1 GiB ciphertext back to hash it cost a pass.
        # Hashed and written in a thread of their own, beside the encryption.
        ciphertext = _Watched(file, hashlib.sha256())
        with sink_for(plaintext_size, ciphertext.write) as sink:
            encrypt(plaintext, sink.write, age_recipients)
    partial.replace(payload_path)
    payload_sha256, size = ciphertext.digest_and_size()
    header = Header(
        id=draft.id,
        sender=sender.unit,
        recipients=draft.recipients,
        kind=draft.kind,
        created=draft.created,
        urgency=draft.urgency,
        node=sender.node,
        size=size,
        payload_sha256=payload_sha256,
        ref=draft.ref,
    )
    raw = header.to_bytes()
    _write_whole(out_dir / HEADER_SIGNATURE_FILE, sign(sender.node_key, raw))
    _write_whole(out_dir / HEADER_FILE, raw)
    return header


def _write_whole(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)


def verify_header(raw: bytes, signature: bytes, node_certificate: x509.Certificate) -> Header:
    """Parse a header and check the sending node's signature on it."""
    header = Header.from_bytes(raw)
    if not signature_holds(node_certificate, signature, raw):
        raise PeerRefused("chữ ký của nút gửi trên tiêu đề không đúng", code="bad-signature")
    return header


def check_payload(header: Header, payload: Path) -> None:
    """The ciphertext is the one the signed header names (size and SHA-256)."""
    sha256, size = file_digest(payload)
    if size != header.size or sha256 != header.payload_sha256:
        raise PeerRefused("nội dung không khớp với mã băm trong tiêu đề", code="bad-digest")


@dataclass(frozen=True)
class Opened:
    """A decrypted payload, laid out as ``congvan exchange export`` writes it."""

    folder: Path
    manifest: dict[str, Any]
    metadata: dict[str, Any]
    signer: x509.Certificate
    chain: list[x509.Certificate]
    files: list[Path]


class _Watched:
    """A file written through, hashing what is written and counting it."""

    def __init__(self, file: BinaryIO, digest: Any) -> None:
        self.file = file
        self.digest = digest
        self.counted = 0

    def digest_and_size(self) -> tuple[str, int]:
        return self.digest.hexdigest(), self.counted

    def write(self, data: bytes) -> int:
        written = self.file.write(data)
        self.digest.update(data)
        self.counted += len(data)
        return written


def plaintext_of(
    ciphertext: BinaryIO,
    identities: tuple[x25519.X25519PrivateKey, ...],
    on_ciphertext: Callable[[bytes], Any] | None = None,
) -> AgeReader:
    """The plaintext of ``ciphertext`` as a readable file; ``on_ciphertext``, if given, is
    handed the ciphertext as it is read (to hash it). A refusal as the receiver gives it:
    ``not-addressed-here`` when no identity opens it, ``malformed`` when it is not age or a
    chunk fails authentication (then raised by a read)."""
    try:
        return _Refusing(ciphertext, list(identities), on_ciphertext)
    except NotForUs as error:
        raise PeerRefused(
            "không giải mã được: không gửi cho đơn vị này", code="not-addressed-here"
        ) from error
    except AgeError as error:
        raise PeerRefused(f"nội dung mã hoá hỏng: {error}", code="malformed") from error


class _Refusing(AgeReader):
    """An :class:`AgeReader` whose failing read is the receiver's ``malformed`` refusal."""

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            return super().readinto(target)
        except AgeError as error:
            raise _broken_chunk() from error

    def read(self, size: int = -1) -> bytes:
        try:
            return super().read(size)
        except AgeError as error:
            raise _broken_chunk() from error


def _broken_chunk() -> PeerRefused:
    return PeerRefused("nội dung mã hoá bị hỏng: một đoạn không xác thực được", code="malformed")


def decrypt(
    payload: Path,
    identities: tuple[x25519.X25519PrivateKey, ...],
    out: BinaryIO,
    digest: Any = None,
) -> None:
    """Decrypt ``payload`` into ``out``; ``digest``, if given, hashes the ciphertext read."""
    with payload.open("rb") as file:
        plaintext = plaintext_of(file, identities, digest.update if digest else None)
        while block := plaintext.read(COPY_BLOCK):
            out.write(block)


def open_payload(
    header: Header,
    payload: Path,
    identities: tuple[x25519.X25519PrivateKey, ...],
    folder: Path,
    payload_sha256: str | None = None,
) -> Opened:
    """Check the ciphertext against the signed header, decrypt it, unpack it into ``folder``
    and check the unit's signature and every file's digest.

    One pass over the ciphertext: it is hashed as it is read, and decrypted chunk by chunk
    straight into the MIME reader, so neither a re-read to hash it nor a plaintext copy on
    disk costs its size again. Nothing unpacked is looked at before
    the ciphertext's digest and size are found to be those of the signed header; when they
    are not, the answer is ``bad-digest`` whatever the decryption or the reader said (age
    authenticates every chunk, so a changed ciphertext never reaches the reader as content).

    ``payload_sha256``: the ciphertext's digest, taken by the caller as it wrote the file
    (:mod:`exchange.upload_digests`); then it is compared first, and not taken again.

    The signer's certificate is returned for the caller to check against the CA and the CRL.
    """
    if payload.stat().st_size != header.size or payload_sha256 not in (
        None,
        header.payload_sha256,
    ):
        raise PeerRefused("nội dung không khớp với mã băm trong tiêu đề", code="bad-digest")
    files_dir = folder / FILES_DIR
    files_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256() if payload_sha256 is None else None
    try:
        parts = _decrypt_and_read(payload, identities, _placed_in(folder), digest, header.size)
    except (PeerRefused, Invalid):
        check_payload(header, payload)  # a changed ciphertext says so first
        raise
    if digest is not None and digest.hexdigest() != header.payload_sha256:
        raise PeerRefused("nội dung không khớp với mã băm trong tiêu đề", code="bad-digest")
    return _check_parts(header, folder, [(part.path, part.sha256, part.size) for part in parts])


def _placed_in(folder: Path) -> Callable[[int, str], Path]:
    """Where each part of a payload is written as it is read: the fixed parts, in their order,
    into ``folder``, the files into its ``files`` folder. Written where they stay, not into a
    scratch folder and renamed: on the receiving node's disk each rename and folder cost
    about as much as a file's write (issue 23). A fixed part out of its place is refused
    before it is written, so no sent name can land on another part's file."""

    def place(index: int, name: str) -> Path:
        if index >= len(FIXED_PARTS):
            return folder / FILES_DIR / name
        if name != FIXED_PARTS[index]:
            raise Invalid("payload parts are not in the expected order", code="malformed")
        return folder / name

    return place


def _decrypt_and_read(
    payload: Path,
    identities: tuple[x25519.X25519PrivateKey, ...],
    place: Callable[[int, str], Path],
    digest: Any,
    size: int,
) -> list[ReceivedPart]:
    """Decrypt ``payload`` as :func:`read_mime` reads it, whatever follows the closing
    boundary included (every chunk is authenticated, the last one too); ``digest``, if
    given, hashes the ciphertext read, in a thread of its own beside the decryption."""
    with payload.open("rb") as file, sink_for(size if digest else 0, _update(digest)) as hashing:
        plaintext = plaintext_of(file, identities, hashing.write if digest else None)
        try:
            _top, parts = read_mime(plaintext, place)  # type: ignore[arg-type]
        except Invalid as error:
            raise PeerRefused(error.message, code="malformed") from error
        while plaintext.read(COPY_BLOCK):
            pass
    return parts


def _update(digest: Any) -> Callable[[bytes], Any]:
    return digest.update if digest is not None else (lambda _block: None)


def _canonical_form_of(signed: Any, raw: bytes) -> bool:
    """``raw`` (``metadata.json``, which the receiver reads) is the canonical JSON of what the
    unit signed, byte for byte. Python's ``==`` takes ``2``, ``2.0`` and ``true`` for one
    another, and a secrecy level of ``2.0`` is no secrecy level at all to the office."""
    try:
        return canonical_json(signed) == raw
    except ValueError:  # a lone surrogate ("\ud800") has no UTF-8, so no canonical form
        return False


def _check_parts(header: Header, folder: Path, received: list[tuple[Path, str, int]]) -> Opened:
    """``received``: each part's file, where :func:`_placed_in` put it, and the SHA-256 and
    size the reader took as it wrote it (the files are not read again to hash them)."""
    fixed = FIXED_PARTS
    paths = [path for path, _sha256, _size in received]
    if len(paths) < len(fixed):
        raise PeerRefused("payload parts are not in the expected order", code="malformed")
    files = paths[len(fixed) :]
    manifest_raw = (folder / MANIFEST).read_bytes()
    try:
        signer = x509.load_pem_x509_certificate((folder / SIGNER).read_bytes())
        chain = x509.load_pem_x509_certificates((folder / CHAIN).read_bytes())
        manifest = json.loads(manifest_raw)
        metadata_raw = (folder / METADATA).read_bytes()
        metadata = json.loads(metadata_raw)
    except (ValueError, RecursionError, x509.InvalidVersion) as error:
        raise PeerRefused("payload parts cannot be read", code="malformed") from error
    if not isinstance(metadata, dict):
        raise PeerRefused("metadata is not a JSON object", code="malformed")
    if not signature_holds(signer, (folder / MANIFEST_SIGNATURE).read_bytes(), manifest_raw):
        raise PeerRefused("chữ ký của đơn vị gửi không đúng", code="bad-signature")
    expected = {
        "id": header.id,
        "from": header.sender,
        "to": list(header.recipients),
        "kind": header.kind,
        "created": header.created,
        "urgency": header.urgency,
        "ref": header.ref,
        "node": header.node,
    }
    if not isinstance(manifest, dict) or manifest.get("dispatch") != expected:
        raise PeerRefused("bản kê không khớp với tiêu đề", code="bad-signature")
    if not _canonical_form_of(manifest.get("metadata"), metadata_raw):
        raise PeerRefused("metadata không khớp với bản kê", code="bad-digest")
    listed = manifest.get("files", [])
    if not isinstance(listed, list) or not all(isinstance(entry, dict) for entry in listed):
        raise PeerRefused("bản kê không liệt kê tệp đúng dạng", code="malformed")
    if [entry.get("name") for entry in listed] != [path.name for path in files]:
        raise PeerRefused("tệp đính kèm không khớp với bản kê", code="bad-digest")
    digests = [(sha256, size) for _path, sha256, size in received[len(fixed) :]]
    for entry, path, digest in zip(listed, files, digests, strict=True):
        if digest != (entry.get("sha256"), entry.get("size")):
            raise PeerRefused(f"tệp {path.name} không khớp mã băm", code="bad-digest")
    return Opened(folder, manifest, metadata, signer, chain, files)
