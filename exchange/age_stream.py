"""age v1 files to X25519 recipients, written and read with ``cryptography``'s primitives.

The format is age's (https://age-encryption.org/v1), byte for byte what ``age`` and pyrage
write and read: a text header (one ``X25519`` stanza per recipient, then a MAC), a 16-byte
nonce, and the payload in chunks of 64 KiB, each sealed with ChaCha20-Poly1305 under a key
derived from the file key and the nonce. Only the implementation differs: pyrage called back
into Python for every 8 KiB it read or wrote, and ran its own ChaCha20 and Poly1305 at about a
fifth of OpenSSL's speed (1.5 s of CPU a gigabyte each way, against 0.3 s here), while a 1 GiB
dispatch is encrypted once and decrypted once on its way.

Reading is a file (:class:`AgeReader`): the MIME reader pulls plaintext from it chunk by chunk,
in the thread that reads, without a second thread nor a pipe between them.
"""

from __future__ import annotations

import base64
import hmac
import io
import os
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INTRO = b"age-encryption.org/v1\n"
X25519_LABEL = b"age-encryption.org/v1/X25519"
CHUNK = 64 * 1024
TAG = 16
SEALED_CHUNK = CHUNK + TAG
NONCE_BYTES = 16
FILE_KEY_BYTES = 16
#: A header longer than this is not one we wrote: 500 recipients take some 60 KB.
MAX_HEADER_BYTES = 256 * 1024


class Readable(Protocol):
    """What :func:`encrypt` reads the plaintext from (a file, or a reader over pieces)."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


class AgeError(Exception):
    """The ciphertext is not an age file we can read: malformed, cut short or altered."""


class NotForUs(AgeError):
    """No stanza of the header opens with the identities given: not encrypted to them."""


def _b64(raw: bytes) -> bytes:
    return base64.b64encode(raw).rstrip(b"=")


def _unb64(text: bytes) -> bytes:
    """age's base64: standard alphabet, no padding, canonical (no stray bits)."""
    if text.endswith(b"=") or len(text) % 4 == 1:
        raise AgeError("age header: bad base64")
    try:
        raw = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except ValueError as error:
        raise AgeError("age header: bad base64") from error
    if _b64(raw) != text:
        raise AgeError("age header: non-canonical base64")
    return raw


def _hkdf(key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def _raw(public: x25519.X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _header_mac(file_key: bytes, header_without_mac: bytes) -> bytes:
    return hmac.digest(_hkdf(file_key, b"", b"header"), header_without_mac, "sha256")


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _stanza(file_key: bytes, recipient: x25519.X25519PublicKey) -> bytes:
    ephemeral = x25519.X25519PrivateKey.generate()
    share = _raw(ephemeral.public_key())
    salt = share + _raw(recipient)
    wrap_key = _hkdf(ephemeral.exchange(recipient), salt, X25519_LABEL)
    body = _b64(ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None))
    lines = [body[at : at + 64] for at in range(0, len(body), 64)]
    if len(lines[-1]) == 64:
        lines.append(b"")  # the last line of a stanza's body is shorter than 64
    return b"-> X25519 " + _b64(share) + b"\n" + b"\n".join(lines) + b"\n"


def encrypt(
    plaintext: Readable,
    out: Callable[[bytes], Any],
    recipients: list[x25519.X25519PublicKey],
) -> None:
    """Encrypt what ``plaintext`` reads to ``recipients``, handing the ciphertext to ``out``
    (a file's ``write``, or one that hashes it too) a sealed chunk at a time. Each chunk is
    read into one of two buffers, the next one ahead (the last chunk is sealed apart)."""
    if not recipients:
        raise ValueError("age needs at least one recipient")
    file_key = os.urandom(FILE_KEY_BYTES)
    header = INTRO + b"".join(_stanza(file_key, r) for r in recipients) + b"---"
    nonce = os.urandom(NONCE_BYTES)
    out(header + b" " + _b64(_header_mac(file_key, header)) + b"\n" + nonce)
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    current, following = memoryview(bytearray(CHUNK)), memoryview(bytearray(CHUNK))
    size = _read_into(plaintext, current)
    counter = 0
    while True:
        ahead = _read_into(plaintext, following) if size == CHUNK else 0
        out(aead.encrypt(_nonce(counter, not ahead), current[:size], None))
        if not ahead:
            return
        counter += 1
        current, following, size = following, current, ahead


def _read_into(stream: Readable, buffer: memoryview) -> int:
    """Fill ``buffer``; fewer bytes only at the end (a reader may answer short reads)."""
    filled = 0
    while filled < len(buffer):
        count = stream.readinto(buffer[filled:])
        if not count:
            break
        filled += count
    return filled


class AgeReader(io.RawIOBase):
    """The plaintext of the age file ``source`` reads, as a readable file.

    The header is read and checked when the reader is made (:class:`NotForUs` when no
    identity opens it, :class:`AgeError` when it is malformed or its MAC fails); every chunk
    is authenticated before a byte of it is handed out, and a payload cut at a chunk boundary
    or with bytes after its last chunk fails as a read's :class:`AgeError`, never as an early
    end of file. ``on_ciphertext``, if given, sees every ciphertext byte read (to hash it).
    """

    def __init__(
        self,
        source: BinaryIO,
        identities: list[x25519.X25519PrivateKey],
        on_ciphertext: Callable[[bytes], Any] | None = None,
    ) -> None:
        super().__init__()
        self._source = source
        self._seen = on_ciphertext
        self._pending = b""  # ciphertext read beyond the header
        file_key = self._read_header(identities)
        nonce = self._take(NONCE_BYTES)
        if len(nonce) != NONCE_BYTES:
            raise AgeError("age payload: no nonce")
        self._aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
        self._counter = 0
        self._next = self._take(SEALED_CHUNK)
        self._chunk = b""
        self._plain = memoryview(b"")
        self._done = False

    def _fill(self, size: int) -> bytes:
        data = self._source.read(size)
        if data and self._seen is not None:
            self._seen(data)
        return data

    def _take(self, size: int) -> bytes:
        """``size`` ciphertext bytes (fewer only at its end), the header's leftovers first."""
        data, self._pending = self._pending[:size], self._pending[size:]
        while len(data) < size:
            more = self._fill(max(size - len(data), 8192))
            if not more:
                break
            data += more
        if len(data) > size:
            data, self._pending = data[:size], data[size:] + self._pending
        return data

    def _line(self, limit: int) -> bytes:
        """The next header line without its newline; AgeError when there is none in ``limit``."""
        while b"\n" not in self._pending:
            if len(self._pending) > limit:
                raise AgeError("age header: line too long")
            more = self._fill(8192)
            if not more:
                raise AgeError("age header: cut short")
            self._pending += more
        line, self._pending = self._pending.split(b"\n", 1)
        return line

    def _read_header(self, identities: list[x25519.X25519PrivateKey]) -> bytes:
        if self._line(len(INTRO)) + b"\n" != INTRO:
            raise AgeError("not an age v1 file")
        header = INTRO
        stanzas: list[tuple[list[bytes], bytes]] = []
        while True:
            line = self._line(MAX_HEADER_BYTES)
            if len(header) + len(line) > MAX_HEADER_BYTES:
                raise AgeError("age header too long")
            if line.startswith(b"--- "):
                mac = _unb64(line[4:])
                break
            if not line.startswith(b"-> "):
                raise AgeError("age header: not a stanza")
            arguments = line[3:].split(b" ")
            header += line + b"\n"
            if not all(arguments):
                raise AgeError("age header: empty stanza argument")
            body = b""
            while True:
                body_line = self._line(64)
                header += body_line + b"\n"
                if len(header) > MAX_HEADER_BYTES:
                    raise AgeError("age header too long")
                if len(body_line) > 64:
                    raise AgeError("age header: stanza line too long")
                body += body_line
                if len(body_line) < 64:
                    break
            stanzas.append((arguments, _unb64(body)))
        if not stanzas:
            raise AgeError("age header: no recipient")
        header += b"---"
        file_key = self._unwrap(stanzas, identities)
        if not hmac.compare_digest(_header_mac(file_key, header), mac):
            raise AgeError("age header: MAC does not match")
        return file_key

    @staticmethod
    def _unwrap(
        stanzas: list[tuple[list[bytes], bytes]], identities: list[x25519.X25519PrivateKey]
    ) -> bytes:
        for arguments, body in stanzas:
            if arguments[0] != b"X25519":
                continue  # another kind of recipient: not ours to open
            if len(arguments) != 2 or len(body) != FILE_KEY_BYTES + TAG:
                raise AgeError("age header: malformed X25519 stanza")
            share = _unb64(arguments[1])
            if len(share) != 32:
                raise AgeError("age header: malformed X25519 stanza")
            for identity in identities:
                try:
                    shared = identity.exchange(x25519.X25519PublicKey.from_public_bytes(share))
                except ValueError as error:  # a low-order share: the shared secret is zero
                    raise AgeError("age header: bad X25519 share") from error
                salt = share + _raw(identity.public_key())
                wrap_key = _hkdf(shared, salt, X25519_LABEL)
                try:
                    return ChaCha20Poly1305(wrap_key).decrypt(bytes(12), body, None)
                except InvalidTag:
                    continue
        raise NotForUs("no identity opens this age file")

    def _open_next_chunk(self) -> None:
        sealed, self._next = self._next, b""
        if len(sealed) == SEALED_CHUNK:
            self._next = self._take(SEALED_CHUNK)
        last = not self._next
        if last and self._pending:
            raise AgeError("age payload: bytes after the last chunk")
        if len(sealed) < TAG or (last and len(sealed) == TAG and self._counter > 0):
            raise AgeError("age payload: cut short")
        try:
            plain = self._aead.decrypt(_nonce(self._counter, last), sealed, None)
        except InvalidTag as error:
            raise AgeError("age payload: a chunk fails authentication") from error
        self._counter += 1
        self._chunk = plain
        self._plain = memoryview(plain)
        self._done = last

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._plain:
            if self._done:
                return 0
            self._open_next_chunk()
        count = min(len(target), len(self._plain))
        target[:count] = self._plain[:count]
        self._plain = self._plain[count:]
        return count

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes, at most what is left of the current chunk: the chunk itself,
        not a copy, when all of it is asked for."""
        if size < 0:
            return self.readall()
        while not self._plain:
            if self._done or size == 0:
                return b""
            self._open_next_chunk()
        if size >= len(self._plain) and len(self._plain) == len(self._chunk):
            self._plain = memoryview(b"")
            return self._chunk
        count = min(size, len(self._plain))
        data = self._plain[:count].tobytes()
        self._plain = self._plain[count:]
        return data

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(CHUNK):
            parts.append(chunk)
        return b"".join(parts)
