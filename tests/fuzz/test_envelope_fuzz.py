"""Fuzzing the envelope: the header parser, the node's signature on the header, the payload's
digest, and the unit's signature on the manifest and files inside the payload.

One dispatch from TU to Cam Lộ is sealed once for the module with the demo network's real keys.
Every mutation of a signed byte (the header, its signature, the ciphertext, the manifest, its
signature, a file) must be refused, with a ``PeerRefused`` and nothing else; a mutation of
what is not signed (``metadata.json``, the certificates, the MIME framing) must be refused or
change nothing the receiver takes. Arbitrary headers parse into exactly themselves or are
``malformed``.
"""

from __future__ import annotations

import hashlib
import io
import operator
import string
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pyrage
import pytest
from cryptography import x509
from hypothesis import assume, example, given
from hypothesis import strategies as st

from config.errors import PeerRefused
from exchange.envelope import (
    CHAIN,
    FILES_DIR,
    FIXED_PARTS,
    HEADER_FILE,
    HEADER_SIGNATURE_FILE,
    MANIFEST,
    MANIFEST_SIGNATURE,
    METADATA,
    PAYLOAD_FILE,
    SIGNER,
    Header,
    check_payload,
    decrypt,
    open_payload,
    verify_header,
)
from exchange.mime import OutgoingPart, read_mime, write_mime
from keys.age import recipient_of
from keys.directory import canonical_json
from keys.trust import TrustStore
from tests.fuzz.fuzzing import (
    SERIAL_WARNING,
    Edit,
    edits,
    json_values,
    mutate,
    share,
    strictly_equal,
)
from tests.support.dispatches import seal_document
from tests.support.keys import keyring, trust_store
from tests.support.network import DemoNetwork

pytestmark = SERIAL_WARNING
#: The module's tests: together they run the profile's cases (see ``share``).
TESTS = 7
#: The dispatch's metadata, numbers included: the office reads ``secrecy`` only as an int.
METADATA_SIGNED = {
    "so_ky_hieu": "05-NQ/TU",
    "trich_yeu": "Về chuyển đổi số",
    "secrecy": 2,
    "pages": 3,
}


@dataclass(frozen=True, repr=False)
class SealedDispatch:
    """The module's dispatch and what Cam Lộ needs to check it: read, never altered."""

    header: Header
    raw: bytes
    signature: bytes
    payload: bytes
    node_certificate: x509.Certificate
    identities: tuple[Any, ...]
    recipient: pyrage.x25519.Recipient
    trust: TrustStore
    #: The decrypted parts in order: (name, media type, bytes).
    parts: tuple[tuple[str, str, bytes], ...]
    scratch: Path

    def part(self, name: str) -> bytes:
        return next(data for part_name, _, data in self.parts if part_name == name)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints a failing example's arguments: the dispatch in a few words."""
        printer.text(f"<the dispatch {self.header.id}>")


@pytest.fixture(scope="module")
def sealed(demo_network: DemoNetwork, tmp_path_factory: pytest.TempPathFactory) -> SealedDispatch:
    root = tmp_path_factory.mktemp("fuzz-envelope")
    header = seal_document(
        demo_network, root / "dispatch", metadata=METADATA_SIGNED, content=b"%PDF-1.4 fuzz\n" * 40
    )
    camlo = keyring(demo_network, "HU-CAMLO").unit("HU-CAMLO")
    plaintext = io.BytesIO()
    decrypt(root / "dispatch" / PAYLOAD_FILE, camlo.identities, plaintext)
    (root / "parts").mkdir()
    _top, received = read_mime(io.BytesIO(plaintext.getvalue()), root / "parts")
    return SealedDispatch(
        header=header,
        raw=(root / "dispatch" / HEADER_FILE).read_bytes(),
        signature=(root / "dispatch" / HEADER_SIGNATURE_FILE).read_bytes(),
        payload=(root / "dispatch" / PAYLOAD_FILE).read_bytes(),
        node_certificate=keyring(demo_network, "TU").node_certificate,
        identities=camlo.identities,
        recipient=pyrage.x25519.Recipient.from_str(recipient_of(camlo.encryption_certificate)),
        trust=trust_store(demo_network, "HU-CAMLO"),
        parts=tuple((p.name, p.content_type, p.path.read_bytes()) for p in received),
        scratch=root,
    )


@dataclass(frozen=True, repr=False)
class Taken:
    """What a receiver keeps of an opened dispatch, compared strictly (as JSON): the chain
    only vouches for the signer, so any chain the trust store accepts will do."""

    manifest: Any
    metadata: Any
    files: list[tuple[str, bytes]]
    signer: x509.Certificate
    chain: list[x509.Certificate]

    def same_as(self, other: Taken) -> bool:
        return (
            strictly_equal(self.manifest, other.manifest)
            and strictly_equal(self.metadata, other.metadata)
            and (self.files, self.signer) == (other.files, other.signer)
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"<taken: {[name for name, _ in self.files]}>")


def receive(sealed: SealedDispatch, header: Header, payload: bytes) -> Taken:
    """Cam Lộ's checks of a ciphertext under a verified header, as the inbox makes them:
    the digest, decryption, the manifest's signature and files, the signer's chain."""
    with tempfile.TemporaryDirectory(dir=sealed.scratch) as scratch:
        path = Path(scratch) / PAYLOAD_FILE
        path.write_bytes(payload)
        check_payload(header, path)
        return _open(sealed, header, path, Path(scratch) / "opened")


def _open(sealed: SealedDispatch, header: Header, payload: Path, folder: Path) -> Taken:
    opened = open_payload(header, payload, sealed.identities, folder)
    sealed.trust.check_unit_signer(opened.signer, header.sender, opened.chain)
    return Taken(
        opened.manifest,
        opened.metadata,
        [(path.name, path.read_bytes()) for path in opened.files],
        opened.signer,
        opened.chain,
    )


def open_plaintext(sealed: SealedDispatch, plaintext: bytes) -> Taken:
    """The payload as a sending node that re-signs the header over any ciphertext could send
    it: ``plaintext`` encrypted to Cam Lộ, opened under the dispatch's own header."""
    with tempfile.TemporaryDirectory(dir=sealed.scratch) as scratch:
        path = Path(scratch) / PAYLOAD_FILE
        path.write_bytes(pyrage.encrypt(plaintext, [sealed.recipient]))
        return _open(sealed, sealed.header, path, Path(scratch) / "opened")


def plaintext_with(sealed: SealedDispatch, name: str, data: bytes) -> bytes:
    parts = [
        OutgoingPart(part_name, media, data=data if part_name == name else original)
        for part_name, media, original in sealed.parts
    ]
    return b"".join(write_mime(parts, {"X-Congvan-Dispatch": sealed.header.id}))


def refused(action: Any, *args: Any) -> PeerRefused | None:
    """The ``PeerRefused`` ``action`` raised, or None when it accepted."""
    try:
        action(*args)
    except PeerRefused as refusal:
        return refusal
    return None


@pytest.fixture(scope="module")
def taken(sealed: SealedDispatch) -> Taken:
    return receive(sealed, sealed.header, sealed.payload)


# -- the header parser -------------------------------------------------------------------------

uuids = st.uuids().map(str)
#: Unit codes as ``UNIT`` allows them (built, not drawn from the regex: ten times cheaper).
CODE_CHARACTERS = string.ascii_uppercase + string.digits
units = st.builds(
    operator.add,
    st.sampled_from(CODE_CHARACTERS),
    st.text(alphabet=CODE_CHARACTERS + "-", max_size=31),
)
headers = st.builds(
    Header,
    id=uuids,
    sender=units,
    recipients=st.lists(units, min_size=1, max_size=4, unique=True).map(tuple),
    kind=st.sampled_from(["document", "mail", "status", "report", "schedule"]),
    created=st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
        lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    ),
    urgency=st.integers(0, 3),
    node=units,
    size=st.integers(1, 2**63),
    payload_sha256=st.binary(min_size=32, max_size=32).map(bytes.hex),
    ref=st.none() | uuids,
)
FIELDS = ["v", "id", "from", "to", "kind", "created", "urgency", "node", "size"]
FIELDS += ["payload_sha256", "ref", "extra"]


def with_field(header: Header, key: str, value: Any) -> bytes:
    return canonical_json({**header.as_dict(), key: value})


#: Anything a peer could send as a header: noise, JSON, a valid header with one field
#: replaced, or a valid header's bytes mutated.
header_bytes = st.one_of(
    st.binary(max_size=400),
    json_values.map(canonical_json),
    st.builds(with_field, headers, st.sampled_from(FIELDS), json_values),
    st.builds(mutate, headers.map(Header.to_bytes), edits),
)

#: A size of 5,000 digits: Python's int() refuses more than 4,300 with a bare ValueError.
HUGE_NUMBER = canonical_json({"size": 1})[:-2] + b"1" * 5000 + b"}"


@share(TESTS)
@given(header_bytes)
@example(HUGE_NUMBER)
@example(b'{"urgency":' + b"9" * 4301 + b"}")
def test_any_header_bytes_parse_into_exactly_themselves_or_are_malformed(raw: bytes) -> None:
    try:
        parsed = Header.from_bytes(raw)
    except PeerRefused as refusal:
        assert refusal.code == "malformed"
        return
    assert parsed.to_bytes() == raw


# -- the node's signature on the header --------------------------------------------------------


@share(TESTS)
@given(target=st.sampled_from(["header", "signature", "both"]), changes=edits, more=edits)
def test_a_changed_header_or_signature_is_refused(
    sealed: SealedDispatch, target: str, changes: list[Edit], more: list[Edit]
) -> None:
    raw, signature = sealed.raw, sealed.signature
    if target in ("header", "both"):
        raw = mutate(raw, changes)
    if target in ("signature", "both"):
        signature = mutate(signature, more)
    refusal = refused(verify_header, raw, signature, sealed.node_certificate)
    assert refusal is not None, f"a changed {target} was accepted"
    assert refusal.code in ("malformed", "bad-signature")


@share(TESTS)
@given(key=st.sampled_from([*FIELDS, "all"]), value=json_values, other=headers)
def test_another_valid_header_under_the_signature_is_refused(
    sealed: SealedDispatch, key: str, value: Any, other: Header
) -> None:
    raw = other.to_bytes() if key == "all" else with_field(sealed.header, key, value)
    assume(raw != sealed.raw)
    refusal = refused(verify_header, raw, sealed.signature, sealed.node_certificate)
    assert refusal is not None and refusal.code in ("malformed", "bad-signature")


# -- the ciphertext under the signed header ----------------------------------------------------


@share(TESTS)
@given(changes=edits)
def test_a_changed_ciphertext_is_refused(sealed: SealedDispatch, changes: list[Edit]) -> None:
    refusal = refused(receive, sealed, sealed.header, mutate(sealed.payload, changes))
    assert refusal is not None and refusal.code == "bad-digest"


#: A byte of the last chunk flipped: age's authentication fails mid-stream, which pyrage
#: raises as a bare OSError ("decryption error"); it was not a refusal.
@example(changes=[Edit("flip", -20)])
@share(TESTS)
@given(changes=edits)
def test_a_changed_ciphertext_does_not_open_even_under_a_header_signed_for_it(
    sealed: SealedDispatch, changes: list[Edit]
) -> None:
    """age authenticates every chunk: a sending node that signs a header over an altered
    ciphertext (a hub cannot) still gets no altered content taken."""
    with tempfile.TemporaryDirectory(dir=sealed.scratch) as scratch:
        path = Path(scratch) / PAYLOAD_FILE
        path.write_bytes(mutate(sealed.payload, changes))
        refusal = refused(_open, sealed, sealed.header, path, Path(scratch) / "opened")
    assert refusal is not None


# -- the unit's signature on the manifest and the files ----------------------------------------

ATTACHED = "the attached file"
#: ``{"pages":3,"secrecy":2,...`` with ``.0`` after the 2: equal to the signed metadata under
#: Python's ``==``, so it was taken, and the office read a secrecy of ``2.0`` as none (0).
SECRECY_AS_A_FLOAT = [Edit("insert", len(b'{"pages":3,"secrecy":2'), data=b".0")]


@share(TESTS)
@given(name=st.sampled_from([MANIFEST, MANIFEST_SIGNATURE, METADATA, ATTACHED]), changes=edits)
@example(name=METADATA, changes=SECRECY_AS_A_FLOAT)
def test_a_changed_manifest_signature_metadata_or_file_is_refused(
    sealed: SealedDispatch, name: str, changes: list[Edit]
) -> None:
    """``metadata.json`` is not signed itself, but must be the canonical JSON of the signed
    manifest's metadata: any other bytes are refused."""
    if name == ATTACHED:
        name = sealed.parts[len(FIXED_PARTS)][0]
    changed = mutate(sealed.part(name), changes)
    refusal = refused(open_plaintext, sealed, plaintext_with(sealed, name, changed))
    assert refusal is not None, f"a changed {name} was accepted"


WHOLE = "the whole message"


@share(TESTS)
@given(name=st.sampled_from([SIGNER, CHAIN, WHOLE]), changes=edits)
def test_a_changed_certificate_or_framing_is_refused_or_changes_nothing_taken(
    sealed: SealedDispatch, taken: Taken, name: str, changes: list[Edit]
) -> None:
    """The certificates are checked against the CA, and the MIME around the parts is
    framing: a change to any of them is refused or leaves the receiver with exactly what the
    unit signed."""
    if name == WHOLE:
        plaintext = mutate(plaintext_with(sealed, "", b""), changes)
    else:
        plaintext = plaintext_with(sealed, name, mutate(sealed.part(name), changes))
    try:
        opened = open_plaintext(sealed, plaintext)
    except PeerRefused:
        return
    assert opened.same_as(taken), f"a changed {name} changed what was taken"


@pytest.mark.parametrize(
    "renamed", [{0: MANIFEST_SIGNATURE, 1: MANIFEST}, {0: "files"}, {4: "scan.pdf"}]
)
def test_a_fixed_part_out_of_its_place_is_refused_before_it_is_written(
    sealed: SealedDispatch, tmp_path: Path, renamed: dict[int, str]
) -> None:
    """Each part is written where it stays as it is read: a fixed part sent under another
    name (swapped, the files folder's, an attachment's) is refused as malformed, and nothing
    of it is written, in the fixed parts' place or over the files folder."""
    parts = [
        OutgoingPart(renamed.get(index, name), media, data=data)
        for index, (name, media, data) in enumerate(sealed.parts)
    ]
    plaintext = b"".join(write_mime(parts, {"X-Congvan-Dispatch": sealed.header.id}))
    ciphertext = pyrage.encrypt(plaintext, [sealed.recipient])
    payload = tmp_path / PAYLOAD_FILE
    payload.write_bytes(ciphertext)
    # The header a sending node would sign for this ciphertext: its digest and size hold.
    header = replace(
        sealed.header, size=len(ciphertext), payload_sha256=hashlib.sha256(ciphertext).hexdigest()
    )
    folder = tmp_path / "opened"
    refusal = refused(open_payload, header, payload, sealed.identities, folder)
    assert refusal is not None and refusal.code == "malformed"
    # The parts before the misplaced one were in their places; nothing else was written.
    first_misplaced = min(renamed)
    kept = {path.name for path in folder.iterdir()}
    assert kept == {FILES_DIR, *FIXED_PARTS[:first_misplaced]}
    assert (folder / FILES_DIR).is_dir() and not any((folder / FILES_DIR).iterdir())
