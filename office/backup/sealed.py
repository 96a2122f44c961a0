"""The backup file: the inner archive encrypted with age, openable only with the passphrase.

pyrage encrypts to a passphrase (scrypt) only from bytes in memory, which a node's blobs do not
fit. So each backup gets a fresh X25519 key: the archive is encrypted to it as a stream (age's
64 KiB chunks, constant memory), and the key's identity is encrypted with the node's passphrase.
The file is a plain tar of the two::

    identity.age      AGE-SECRET-KEY-1…, encrypted with the passphrase (age scrypt)
    archive.tar.age   the archive, encrypted to that key (age X25519)

which Debian's tools open without congvan (``age`` reads a passphrase-encrypted identity file)::

    tar -xf node.backup && age -d -i identity.age archive.tar.age | tar -t

The second member is written as it is encrypted: its tar header is written last, over a
placeholder, once its size is known (GNU format: one 512-byte header for any size).
"""

from __future__ import annotations

import contextlib
import os
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

import pyrage

from config.errors import Invalid

IDENTITY = "identity.age"
ARCHIVE = "archive.tar.age"
BLOCK = tarfile.BLOCKSIZE
PIPE_READ = 1024 * 1024
IDENTITY_LIMIT = 64 * 1024

T = TypeVar("T")
U = TypeVar("U")


def seal(out: Path, passphrase: bytes, write: Callable[[IO[bytes]], T]) -> T:
    """Create ``out`` (mode 0600, refused if it exists) holding what ``write`` writes, encrypted.

    Blocking: run it in a thread.
    """
    identity = pyrage.x25519.Identity.generate()
    wrapped = pyrage.passphrase.encrypt(str(identity).encode("ascii") + b"\n", passphrase.decode())
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as sink:
        sink.write(_header(IDENTITY, len(wrapped)))
        sink.write(wrapped)
        sink.write(_padding(len(wrapped)))
        start = sink.tell()
        sink.write(bytes(BLOCK))

        def encrypt(reader: IO[bytes]) -> None:
            pyrage.encrypt_io(reader, sink, [identity.to_public()])

        result, _ = pipe_through(write, encrypt)
        size = sink.tell() - start - BLOCK
        sink.write(_padding(size) + bytes(2 * BLOCK))  # the end of the tar
        sink.seek(start)
        sink.write(_header(ARCHIVE, size))
        sink.flush()
        os.fsync(sink.fileno())
    return result


def unseal(source: Path, passphrase: bytes, read: Callable[[IO[bytes]], T]) -> T:
    """Decrypt the archive in ``source`` into ``read`` as a stream.

    Whatever ``read`` is given has passed age's checks chunk by chunk; a damaged or altered
    chunk, or a cut end, stops it with an error: so ``read`` must keep what it unpacks apart
    until it returns.
    """
    try:
        outer = tarfile.open(source, "r:")  # noqa: SIM115 - closed by the `with` below
    except FileNotFoundError as error:
        raise Invalid(f"no backup at {source}", code="no-backup") from error
    except (tarfile.TarError, OSError) as error:
        raise _not_a_backup(source) from error
    with outer:
        identity = _identity(outer, source, passphrase)
        encrypted = _member(outer, ARCHIVE, source)

        def decrypt(writer: IO[bytes]) -> None:
            try:
                pyrage.decrypt_io(encrypted, writer, [identity])
            # pyrage reports a chunk that fails its check as an OSError ("decryption error").
            # A broken pipe only follows from the reader's own failure, which is the one told.
            except (pyrage.DecryptError, OSError) as error:
                raise _damaged(error) from error

        try:
            _, result = pipe_through(decrypt, read)
        except tarfile.TarError as error:
            raise _damaged(error) from error
    return result


def pipe_through(
    produce: Callable[[IO[bytes]], T], consume: Callable[[IO[bytes]], U]
) -> tuple[T, U]:
    """Run ``produce`` (writing) in a thread and ``consume`` (reading) here, joined by a pipe.

    Whichever side fails first gives the error: the other side's failure (a broken pipe, a
    cut stream) only follows from it. ``consume`` is read to the end, so the producer always
    finishes (and age checks the last chunk).
    """
    read_end, write_end = os.pipe()
    reader, writer = os.fdopen(read_end, "rb"), os.fdopen(write_end, "wb")
    failures: list[BaseException] = []
    lock = threading.Lock()
    produced: list[T] = []

    def run() -> None:
        try:
            produced.append(produce(writer))
        except BaseException as error:
            with lock:
                failures.append(error)
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    thread = threading.Thread(target=run, name="backup-pipe", daemon=True)
    thread.start()
    consumed: list[U] = []
    try:
        consumed.append(consume(reader))
        while reader.read(PIPE_READ):
            pass
    except BaseException as error:
        with lock:
            failures.append(error)
    finally:
        reader.close()  # after the failure is recorded: the producer then stops on a broken pipe
    thread.join()
    if failures:
        raise failures[0]
    return produced[0], consumed[0]


def _identity(outer: tarfile.TarFile, source: Path, passphrase: bytes) -> pyrage.x25519.Identity:
    wrapped = _member(outer, IDENTITY, source).read(IDENTITY_LIMIT)
    try:
        text = pyrage.passphrase.decrypt(wrapped, passphrase.decode())
        return pyrage.x25519.Identity.from_str(text.decode("ascii").strip())
    except (pyrage.DecryptError, pyrage.IdentityError, UnicodeDecodeError) as error:
        raise Invalid(
            f"cannot open the backup {source}: wrong passphrase, or the backup is damaged",
            code="bad-passphrase",
        ) from error


def _member(outer: tarfile.TarFile, name: str, source: Path) -> IO[bytes]:
    try:
        reader = outer.extractfile(outer.getmember(name))
    except (KeyError, tarfile.TarError) as error:
        raise _not_a_backup(source) from error
    if reader is None:
        raise _not_a_backup(source)
    return reader


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "strict")
    assert len(header) == BLOCK  # a short name: no long-name block
    return header


def _padding(size: int) -> bytes:
    return bytes(-size % BLOCK)


def _damaged(error: Exception) -> Invalid:
    return Invalid(
        f"the backup is damaged or was altered ({error}): nothing was restored",
        code="damaged-backup",
    )


def _not_a_backup(source: Path) -> Invalid:
    return Invalid(f"{source} is not a congvan backup (or is damaged)", code="not-a-backup")
