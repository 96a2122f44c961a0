"""The dispatch floor: what one 10 KB dispatch costs when nothing but the unavoidable is done.

Per dispatch, in one thread, with the key types the network uses (ECDSA P-256 with SHA-256 for
signatures, age X25519 for encryption): the sending unit signs the manifest, the payload is
encrypted to the receiving unit, the sending node signs the header, the ciphertext is written
and fsynced; the receiving node verifies the header, decrypts, verifies the manifest, writes
the plaintext and fsyncs it, signs a receipt, and the sender verifies the receipt. No network,
no database, no parsing: any design of a signed, encrypted, durable exchange pays at least
this, so a node pair's dispatches per second are judged against it (issue 23).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import pyrage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE = ec.ECDSA(hashes.SHA256())


def _write(path: Path, data: bytes, *, sync: bool) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())


def dispatches_per_second(count: int, size: int, *, sync: bool = True) -> float:
    """Dispatches of ``size`` bytes a second through the unavoidable steps, ``count`` times;
    ``sync`` says whether the two writes are fsynced (as a durable receipt requires)."""
    unit_key = ec.generate_private_key(ec.SECP256R1())
    sender_node_key = ec.generate_private_key(ec.SECP256R1())
    receiver_node_key = ec.generate_private_key(ec.SECP256R1())
    identity = pyrage.x25519.Identity.generate()
    recipient = identity.to_public()
    document = os.urandom(size)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        for number in range(count):
            manifest = b'{"dispatch":%d,"sha256":"%s"}' % (
                number,
                hashlib.sha256(document).hexdigest().encode(),
            )
            manifest_signature = unit_key.sign(manifest, SIGNATURE)
            ciphertext = pyrage.encrypt(manifest + manifest_signature + document, [recipient])
            header = b'{"id":%d,"sha256":"%s"}' % (
                number,
                hashlib.sha256(ciphertext).hexdigest().encode(),
            )
            header_signature = sender_node_key.sign(header, SIGNATURE)
            _write(root / f"{number}.age", ciphertext, sync=sync)
            # The receiving node.
            sender_node_key.public_key().verify(header_signature, header, SIGNATURE)
            plaintext = pyrage.decrypt(ciphertext, [identity])
            unit_key.public_key().verify(
                plaintext[len(manifest) : len(manifest) + len(manifest_signature)],
                plaintext[: len(manifest)],
                SIGNATURE,
            )
            _write(root / f"{number}.plain", plaintext, sync=sync)
            receipt = b'{"dispatch":%d,"status":"accepted"}' % number
            receipt_signature = receiver_node_key.sign(receipt, SIGNATURE)
            # The sending node, on the receipt.
            receiver_node_key.public_key().verify(receipt_signature, receipt, SIGNATURE)
        return count / (time.perf_counter() - started)
