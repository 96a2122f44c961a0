"""The dispatch payload as a MIME multipart message, written and read in constant memory.

Python's ``email`` package builds whole messages in memory; a dispatch may carry a 1 GiB scan.
So the writer yields the message piece by piece and the reader decodes it block by block into
files, hashing each part as it writes it. Part headers are still parsed by ``email`` (small),
so file names in Vietnamese (RFC 2231) come back exactly.

Two part encodings (``docs/dispatch-format.md``): payload version 1, every part base64 in
76-character lines; version 2, every part ``binary`` with its ``Content-Length``, read by
count, never scanned for the boundary. Base64 alone runs at about 200 MB/s each way in
CPython here, slower than age's encryption: a 1 GiB scan spent more time in it than in
everything else. The reader reads both; the writer writes 2 only for nodes that said they read
it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import encode_rfc2231
from pathlib import Path
from typing import Any, BinaryIO

from config.errors import Invalid
from exchange.threaded_sink import sink_for

#: Bytes of input per base64 line (57 bytes -> 76 characters) and per read.
LINE_BYTES = 57
READ_BYTES = LINE_BYTES * 1024
MAX_LINE = 1000
MAX_HEADER_BYTES = 16 * 1024
MAX_PARTS = 1000
DECODE_BLOCK = 1024 * 1024
CRLF = b"\r\n"
#: Payload versions: 1, base64 parts; 2, binary parts with a ``Content-Length``.
BASE64_PARTS, BINARY_PARTS = 1, 2
#: What this node's reader takes, as it announces it to its peers.
READABLE_VERSIONS = (BASE64_PARTS, BINARY_PARTS)
#: Bytes read per step of a binary part (whatever the reader's block size for base64): the
#: receiving node's peak memory holds a few of them while a big part goes through.
COPY_BLOCK = 256 * 1024
MAX_PART_BYTES = 1 << 50


@dataclass(frozen=True)
class OutgoingPart:
    """A part to write: its file name, media type, and either bytes or a file to stream."""

    name: str
    content_type: str
    data: bytes | None = None
    path: Path | None = None

    def chunks(self, block_size: int = READ_BYTES) -> Iterator[bytes]:
        """The part's bytes in blocks of ``block_size`` (base64 lines take ``READ_BYTES``, a
        binary part ``COPY_BLOCK``)."""
        if self.data is not None:
            yield self.data
            return
        if self.path is None:
            raise ValueError("a part needs data or a path")
        with self.path.open("rb") as handle:
            while block := handle.read(block_size):
                yield block

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        if self.path is None:
            raise ValueError("a part needs data or a path")
        return self.path.stat().st_size


@dataclass(frozen=True)
class ReceivedPart:
    name: str
    content_type: str
    path: Path
    size: int
    #: SHA-256 (hex) of the part's bytes, taken as they were written.
    sha256: str


def _part_header(part: OutgoingPart, size: int | None = None) -> bytes:
    """The part's headers; with ``size``, those of a binary part of that many bytes."""
    name = part.name
    if name.isascii() and '"' not in name and "\\" not in name:
        disposition = f'attachment; filename="{name}"'
    else:
        disposition = f"attachment; filename*={encode_rfc2231(name, 'utf-8')}"
    encoding = "base64\r\n" if size is None else f"binary\r\nContent-Length: {size}\r\n"
    return (
        f"Content-Type: {part.content_type}\r\n"
        f"Content-Disposition: {disposition}\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n"
    ).encode("ascii")


def _base64_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        whole = len(pending) - len(pending) % LINE_BYTES
        if whole:
            yield base64.encodebytes(pending[:whole]).replace(b"\n", CRLF)
            pending = pending[whole:]
    if pending:
        yield base64.encodebytes(pending).replace(b"\n", CRLF)


def write_mime(
    parts: list[OutgoingPart], headers: dict[str, str], version: int = BASE64_PARTS
) -> Iterator[bytes]:
    """Yield a ``multipart/mixed`` message holding ``parts``, base64 (version 1, pieces of at
    most ~80 KB) or binary (version 2, pieces of at most ``COPY_BLOCK``)."""
    if version not in READABLE_VERSIONS:
        raise ValueError(f"no payload version {version}")
    boundary = f"congvan-{uuid.uuid4().hex}"
    top = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    yield (
        f'MIME-Version: 1.0\r\n{top}Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    ).encode()
    for part in parts:
        if version == BASE64_PARTS:
            yield f"--{boundary}\r\n".encode("ascii") + _part_header(part)
            yield from _base64_lines(part.chunks())
            continue
        # The size is taken before the bytes are read: a file that changes meanwhile fails
        # here rather than being sent with a length that is not its own.
        size, sent = part.size(), 0
        yield f"--{boundary}\r\n".encode("ascii") + _part_header(part, size)
        for block in part.chunks(COPY_BLOCK):
            sent += len(block)
            if sent > size:
                break
            yield block
        if sent != size:
            raise ValueError(f"part {part.name!r} changed size while it was written")
        yield CRLF
    yield f"--{boundary}--\r\n".encode("ascii")


class IteratorReader(io.RawIOBase):
    """A readable file over an iterator of byte strings (to feed a streaming encryptor)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        #: The piece being read, and how far into it: age reads 8 KiB at a time, and cutting
        #: the rest of a 1 MiB piece off at each read copied it a hundred times over.
        self._buffer = memoryview(b"")
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._at >= len(self._buffer):
            try:
                self._buffer, self._at = memoryview(next(self._pieces)), 0
            except StopIteration:
                return 0
        count = min(len(target), len(self._buffer) - self._at)
        target[:count] = self._buffer[self._at : self._at + count]
        self._at += count
        return count


SAFE_NAME = re.compile(r"[^\w .,()+@-]", re.UNICODE)
#: UTF-8 bytes of a name: under a file system's 255 with room for a ``12-3-`` prefix, and short
#: enough that its RFC 2231 form (3 characters a byte) stays well inside ``MAX_LINE``.
MAX_NAME_BYTES = 200


def safe_file_name(name: str, index: int) -> str:
    """A file name that cannot climb out of its folder or hide: no paths, no controls.

    Idempotent (a safe name is its own safe name), so the reader, which makes every received
    name safe again, arrives at the names the writer chose. Letters typed decomposed (macOS)
    are composed first, so Vietnamese marks stay letters.
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = SAFE_NAME.sub("_", base).strip(" .")
    base = base.encode()[:MAX_NAME_BYTES].decode(errors="ignore").strip(" .")
    return base or f"file-{index}"


def assign_names(names: list[str]) -> list[str]:
    """Safe, distinct names for parts in order; writer and reader agree on them.

    A name already taken gets the part's index in front (``7-name``), then ``7-2-name``,
    ``7-3-name``…: each of these is a distinct safe name, so the search ends.
    """
    taken: set[str] = set()
    return [_assign_name(name, index, taken) for index, name in enumerate(names)]


def _assign_name(name: str, index: int, taken: set[str]) -> str:
    """The safe name for part ``index``, not one in ``taken``; add it there."""
    base = safe_file_name(name, index)
    candidate, attempt = base, 0
    while candidate in taken:
        attempt += 1
        prefix = f"{index}-" if attempt == 1 else f"{index}-{attempt}-"
        candidate = safe_file_name(prefix + base, index)
    taken.add(candidate)
    return candidate


class _Source:
    """The message being read, by lines (headers) or by blocks (bodies), with push-back."""

    def __init__(self, stream: BinaryIO, block_size: int) -> None:
        self._stream = stream
        self._buffer = b""
        self._block_size = block_size

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self._buffer[:limit] and len(self._buffer) < limit:
            more = self._stream.read(READ_BYTES)
            if not more:
                break
            self._buffer += more
        newline = self._buffer.find(b"\n", 0, limit)
        end = newline + 1 if newline >= 0 else min(limit, len(self._buffer))
        line, self._buffer = self._buffer[:end], self._buffer[end:]
        return line

    def read_block(self) -> bytes:
        if self._buffer:
            block, self._buffer = self._buffer, b""
            return block
        return self._stream.read(self._block_size)

    def read_upto(self, count: int) -> bytes:
        """At most ``count`` bytes (fewer only at the end of the message)."""
        if self._buffer:
            block, self._buffer = self._buffer[:count], self._buffer[count:]
            return block
        return self._stream.read(min(count, COPY_BLOCK))

    def unread(self, data: bytes) -> None:
        self._buffer = data + self._buffer


def _read_line(source: _Source) -> bytes:
    line = source.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise Invalid("payload MIME line too long", code="malformed")
    return line


def _read_headers(source: _Source) -> bytes:
    collected = b""
    while True:
        line = _read_line(source)
        if not line:
            raise Invalid("payload MIME ends inside a header", code="malformed")
        if line in (b"\r\n", b"\n"):
            return collected
        collected += line
        if len(collected) > MAX_HEADER_BYTES:
            raise Invalid("payload MIME header too long", code="malformed")


def read_mime(
    raw: BinaryIO, out: Path | Callable[[int, str], Path], block_size: int = DECODE_BLOCK
) -> tuple[dict[str, str], list[ReceivedPart]]:
    """Decode a message written by :func:`write_mime` into files: in the folder ``out``, or
    where ``out`` says for each part (given its position and the name it was given), so a
    reader that knows where each part belongs writes it there, with no renaming afterwards.

    Returns the top-level headers and the parts in order. Anything outside that shape is
    refused as ``malformed``: the sender was verified, but its software may still be broken.
    """
    stream = _Source(raw, block_size)
    top = BytesHeaderParser().parsebytes(_read_headers(stream))
    boundary = top.get_boundary()
    if top.get_content_type() != "multipart/mixed" or not boundary:
        raise Invalid("payload is not multipart/mixed", code="malformed")
    delimiter, closing = f"--{boundary}".encode(), f"--{boundary}--".encode()
    line = _read_line(stream)
    while line and line.rstrip(b"\r\n") not in (delimiter, closing):  # skip a preamble
        line = _read_line(stream)
    parts: list[ReceivedPart] = []
    taken: set[str] = set()  # the names so far, as assign_names would give them
    while line.rstrip(b"\r\n") == delimiter:
        if len(parts) >= MAX_PARTS:
            raise Invalid("payload has too many parts", code="malformed")
        headers = BytesHeaderParser().parsebytes(_read_headers(stream))
        # str(): a header with 8-bit bytes comes back as an ``email.header.Header``.
        encoding = str(headers.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding not in ("base64", "binary"):
            raise Invalid("payload part is not base64", code="malformed")
        name = _assign_name(_file_name(headers), len(parts), taken)
        target = out / name if isinstance(out, Path) else out(len(parts), name)
        digest = hashlib.sha256()
        if encoding == "base64":
            line, size = _decode_part(stream, target, delimiter, digest)
        else:
            size = _copy_part(stream, target, _content_length(headers), digest)
            line = _read_line(stream)
            if line != CRLF:
                raise Invalid("binary payload part does not end at its length", code="malformed")
            line = _read_line(stream)
            if line.rstrip(b"\r\n") not in (delimiter, closing):
                raise Invalid("binary payload part does not end at its length", code="malformed")
        parts.append(
            ReceivedPart(name, headers.get_content_type(), target, size, digest.hexdigest())
        )
    if line.rstrip(b"\r\n") != closing:
        raise Invalid("payload MIME is cut short", code="malformed")
    return {key: str(value) for key, value in top.items()}, parts


def _file_name(headers: Message) -> str:
    """The part's file name as sent; a name Python cannot decode is malformed (an RFC 2231
    charset with a NUL in it makes ``get_filename`` raise ValueError)."""
    try:
        return headers.get_filename() or ""
    except (ValueError, LookupError) as error:
        raise Invalid("payload part's file name cannot be read", code="malformed") from error


def _content_length(headers: Message) -> int:
    """A binary part's ``Content-Length``: plain digits, nothing else."""
    raw = str(headers.get("Content-Length", "")).strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16 or int(raw) > MAX_PART_BYTES:
        raise Invalid("binary payload part has no valid Content-Length", code="malformed")
    return int(raw)


def _copy_part(source: _Source, target: Path, length: int, digest: Any) -> int:
    """Copy exactly ``length`` bytes of a binary part into ``target``, hashing them."""
    left = length

    def hash_and_write(block: bytes) -> None:
        digest.update(block)
        out.write(block)

    # Hashed and written in a thread of their own, beside the decryption that reads them.
    with target.open("xb") as out, sink_for(length, hash_and_write) as sink:
        while left:
            block = source.read_upto(left)
            if not block:
                raise Invalid("payload MIME is cut short", code="malformed")
            sink.write(block)
            left -= len(block)
    return length


def _decode_part(source: _Source, target: Path, delimiter: bytes, digest: Any) -> tuple[bytes, int]:
    """Decode a base64 body into ``target`` until a boundary line; return it and the size.

    The body is read in blocks, not lines: a 1 GiB scan is 18 million base64 lines. Base64
    has no ``-``, so the first ``\n--boundary`` ends the body; what follows the boundary is
    pushed back for the next part.
    """
    size, pending, open_line = 0, b"", 0
    marker = b"\n" + delimiter
    tail, virtual = b"\n", 1  # a virtual newline: a boundary right at the start ends the body
    with target.open("xb") as out:
        while True:
            block = source.read_block()
            if not block:
                raise Invalid("payload MIME is cut short", code="malformed")
            window = tail + block
            found = window.find(marker)
            if found >= 0:
                body = window[virtual : found + 1]
                source.unread(window[found + 1 :])
            else:
                cut = max(virtual, len(window) - (len(marker) - 1))  # a boundary may straddle
                body, tail, virtual = window[virtual:cut], window[cut:], 0
            open_line = _check_line_lengths(body, open_line)
            pending += body.translate(None, b"\r\n")
            whole = len(pending) - len(pending) % 4
            try:
                data = base64.b64decode(pending[:whole], validate=True)
            except ValueError as error:
                raise Invalid("payload part is not valid base64", code="malformed") from error
            pending = pending[whole:]
            digest.update(data)
            out.write(data)
            size += len(data)
            if found >= 0:
                break
    if pending:
        raise Invalid("payload part is not valid base64", code="malformed")
    return _read_line(source), size


def _check_line_lengths(body: bytes, open_line: int) -> int:
    """Refuse a line of ``MAX_LINE`` bytes or more with its newline (RFC 5322 allows 998 + CRLF);
    ``open_line`` is the length of the line the previous block left open. Returns the new one."""
    lines = body.split(b"\n")
    first = open_line + len(lines[0])
    if first >= MAX_LINE or (len(lines) > 1 and max(map(len, lines[1:])) >= MAX_LINE):
        raise Invalid("payload MIME line too long", code="malformed")
    return first if len(lines) == 1 else len(lines[-1])
