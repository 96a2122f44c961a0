"""A person's signing key sealed under a secret that person holds: first the one-time activation
code the CA prints, then the signing PIN they choose.

A PIN is short and can be guessed; between a copy of the database (or a backup) and the key
stands only the cost of each guess. So the key that opens a seal is derived from the secret with
argon2id, which is memory-hard (64 MiB a guess: graphics cards and ASICs gain little over the
node's own CPU), with a random salt, and the key's PKCS#8 DER is encrypted with AES-256-GCM under
it. The parameters and the salt are in the seal's header, which the encryption authenticates:
a seal made with other parameters still opens, and a changed header fails like a wrong secret.
Guesses through the node itself are counted and locked separately (:mod:`keys.signers`).

Sealing and opening take a few tenths of a second of CPU on purpose: call them in a thread
(``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import os
import secrets
import struct
import unicodedata
from dataclasses import dataclass

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from config.errors import Invalid
from keys.passwords import TEST_HASHING_VARIABLE

MAGIC = b"CVPK"
VERSION = 1
#: magic, version, time cost, memory (KiB), parallelism, salt, nonce.
HEADER = struct.Struct(">4sBIIB16s12s")
KEY_BYTES = 32
#: Crockford's base32: no I, L, O or U, so what is read aloud or copied by hand is not misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: 20 characters of 5 bits: 100 bits, beyond guessing even without a lockout.
CODE_LENGTH = 20
CODE_GROUP = 5
#: What a code typed by hand may hold by mistake, read as the character it stands for.
CODE_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


@dataclass(frozen=True)
class Cost:
    """argon2id parameters: passes, memory in KiB, lanes."""

    time_cost: int
    memory_kib: int
    parallelism: int


#: RFC 9106's second recommended setting (for memory-constrained hosts): 3 passes, 64 MiB.
COST = Cost(time_cost=3, memory_kib=64 * 1024, parallelism=4)
#: argon2id at its cheapest, for the test suite only (``TEST_HASHING_VARIABLE``, as in
#: :mod:`keys.passwords`); a seal records its parameters, so either kind opens either way.
TEST_COST = Cost(time_cost=1, memory_kib=1024, parallelism=1)


def _cost() -> Cost:
    return TEST_COST if os.environ.get(TEST_HASHING_VARIABLE) == "1" else COST


def new_activation_code() -> str:
    """A random activation code, grouped for reading out: ``XXXXX-XXXXX-XXXXX-XXXXX``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def normal_code(code: str) -> str:
    """An activation code as typed (any case, with or without dashes and spaces, O for 0) in
    the one form it was sealed with."""
    return code.upper().translate(CODE_LOOKALIKES)


def _secret_bytes(secret: str) -> bytes:
    """A Vietnamese letter typed on two keyboards may reach us composed or decomposed: NFC."""
    return unicodedata.normalize("NFC", secret).encode("utf-8")


def _derive(secret: str, salt: bytes, cost: Cost) -> bytes:
    return hash_secret_raw(
        _secret_bytes(secret),
        salt,
        time_cost=cost.time_cost,
        memory_cost=cost.memory_kib,
        parallelism=cost.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def seal_key(key: ec.EllipticCurvePrivateKey, secret: str) -> bytes:
    """``key`` encrypted under ``secret``; the clear key exists only in memory."""
    cost, salt, nonce = _cost(), os.urandom(16), os.urandom(12)
    header = HEADER.pack(
        MAGIC, VERSION, cost.time_cost, cost.memory_kib, cost.parallelism, salt, nonce
    )
    plain = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return header + AESGCM(_derive(secret, salt, cost)).encrypt(nonce, plain, header)


def open_sealed(sealed: bytes, secret: str) -> ec.EllipticCurvePrivateKey | None:
    """The key in ``sealed``, or None when ``secret`` is not the one it was sealed under."""
    try:
        magic, version, time_cost, memory_kib, parallelism, salt, nonce = HEADER.unpack_from(sealed)
    except struct.error as error:
        raise _damaged() from error
    if magic != MAGIC or version != VERSION:
        raise _damaged()
    header = sealed[: HEADER.size]
    cost = Cost(time_cost, memory_kib, parallelism)
    try:
        plain = AESGCM(_derive(secret, salt, cost)).decrypt(nonce, sealed[HEADER.size :], header)
    except InvalidTag:
        return None
    except HashingError as error:  # parameters argon2 refuses: not a header we wrote
        raise _damaged() from error
    key = serialization.load_der_private_key(plain, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise _damaged()
    return key


def _damaged() -> Invalid:
    return Invalid("a sealed signing key is damaged or of an unknown kind", code="bad-seal")
