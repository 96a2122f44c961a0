"""Our age v1 writer and reader against age itself (pyrage, and the ``age`` command): each reads
what the other writes, at every size around a chunk's edge, and ours takes nothing cut, padded,
altered or meant for another key."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pyrage
import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from exchange.age_stream import CHUNK, AgeError, AgeReader, NotForUs, encrypt
from keys.age import identity_of

#: Empty, one byte, and each side of one and two chunks' edges.
SIZES = (0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 7)


def sealed(data: bytes, *keys: x25519.X25519PrivateKey) -> bytes:
    out = io.BytesIO()
    encrypt(io.BytesIO(data), out.write, [key.public_key() for key in keys])
    return out.getvalue()


def opened(ciphertext: bytes, key: x25519.X25519PrivateKey) -> bytes:
    return AgeReader(io.BytesIO(ciphertext), [key]).read()


@pytest.fixture(scope="module")
def key() -> x25519.X25519PrivateKey:
    return x25519.X25519PrivateKey.generate()


@pytest.mark.parametrize("size", SIZES)
def test_pyrage_and_ours_read_each_others_files(key: x25519.X25519PrivateKey, size: int) -> None:
    data = os.urandom(size)
    identity = pyrage.x25519.Identity.from_str(identity_of(key))
    other = x25519.X25519PrivateKey.generate()
    assert pyrage.decrypt(sealed(data, other, key), [identity]) == data
    assert opened(pyrage.encrypt(data, [identity.to_public()]), key) == data


def test_the_age_command_reads_ours(key: x25519.X25519PrivateKey, tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK + 7)
    (tmp_path / "file.age").write_bytes(sealed(data, key))
    (tmp_path / "identity").write_text(identity_of(key) + "\n")
    decrypted = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "identity"), str(tmp_path / "file.age")],
        capture_output=True,
        check=True,
    ).stdout
    assert decrypted == data


def test_a_file_for_other_keys_is_not_for_us(key: x25519.X25519PrivateKey) -> None:
    with pytest.raises(NotForUs):
        opened(sealed(b"secret", x25519.X25519PrivateKey.generate()), key)


@pytest.mark.parametrize("size", (1, CHUNK, 2 * CHUNK, 2 * CHUNK + 7))
def test_nothing_cut_padded_or_altered_is_read(key: x25519.X25519PrivateKey, size: int) -> None:
    ciphertext = sealed(os.urandom(size), key)
    last_chunk = (size % CHUNK or CHUNK) + 16
    # Cut inside the last chunk, and cut at a chunk's edge (the last chunk dropped whole).
    variants = [ciphertext[:cut] for cut in (-1, -16, -last_chunk)]
    variants.append(ciphertext + b"\0")
    flipped = bytearray(ciphertext)
    flipped[-20] ^= 1
    variants.append(bytes(flipped))
    for variant in variants:
        with pytest.raises(AgeError):
            opened(variant, key)


def test_an_altered_header_fails_its_mac(key: x25519.X25519PrivateKey) -> None:
    ciphertext = sealed(b"secret", key)
    with pytest.raises(AgeError):
        opened(ciphertext.replace(b"-> X25519 ", b"-> X25519 A", 1), key)
    with pytest.raises(AgeError):
        opened(b"age-encryption.org/v2\n" + ciphertext.split(b"\n", 1)[1], key)


def test_ours_reads_what_the_age_command_writes(
    key: x25519.X25519PrivateKey, tmp_path: Path
) -> None:
    data = os.urandom(3 * CHUNK + 11)
    (tmp_path / "plain").write_bytes(data)
    (tmp_path / "identity").write_text(identity_of(key) + "\n")
    recipient = subprocess.run(
        ["age-keygen", "-y", str(tmp_path / "identity")],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        ["age", "-r", recipient, "-o", str(tmp_path / "file.age"), str(tmp_path / "plain")],
        check=True,
    )
    assert opened((tmp_path / "file.age").read_bytes(), key) == data
