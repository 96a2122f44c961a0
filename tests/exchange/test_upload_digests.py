"""A payload's digest taken as it is uploaded stands for the file only while it covers every
byte of that very file, in order; otherwise the check hashes the file itself."""

from __future__ import annotations

import hashlib
from pathlib import Path

from exchange.spool_lock import write_at
from exchange.upload_digests import UploadDigests


def _upload(digests: UploadDigests, part: Path, dispatch_id: str, offset: int, data: bytes) -> None:
    with part.open("r+b") as handle:
        digest = digests.resume(dispatch_id, handle, offset)
        write_at(handle, data, offset)
        if digest is not None:
            digest.written(data)
        digests.keep(dispatch_id, digest, handle)


def test_an_upload_resumed_where_it_broke_gives_the_whole_files_digest(tmp_path: Path) -> None:
    part, digests = tmp_path / "payload.part", UploadDigests()
    part.touch()
    _upload(digests, part, "d", 0, b"first half, ")
    _upload(digests, part, "d", 12, b"second half")
    with part.open("rb") as handle:
        assert digests.take("d", handle) == hashlib.sha256(part.read_bytes()).hexdigest()
        assert digests.take("d", handle) is None  # used once


def test_bytes_written_by_someone_else_leave_no_digest(tmp_path: Path) -> None:
    part, digests = tmp_path / "payload.part", UploadDigests()
    part.touch()
    _upload(digests, part, "d", 0, b"ours")
    with part.open("r+b") as handle:  # another process's upload, beside this one's digest
        write_at(handle, b" theirs", 4)
    _upload(digests, part, "d", 11, b" ours again")
    with part.open("rb") as handle:
        assert digests.take("d", handle) is None


def test_a_digest_of_fewer_bytes_than_the_file_holds_is_not_given(tmp_path: Path) -> None:
    part, digests = tmp_path / "payload.part", UploadDigests()
    part.touch()
    _upload(digests, part, "d", 0, b"uploaded")
    with part.open("ab") as handle:
        handle.write(b" and more")
    with part.open("rb") as handle:
        assert digests.take("d", handle) is None


def test_a_digest_is_not_given_for_another_file_of_the_same_name(tmp_path: Path) -> None:
    part, digests = tmp_path / "payload.part", UploadDigests()
    part.touch()
    _upload(digests, part, "d", 0, b"uploaded")
    replaced = tmp_path / "new"
    replaced.write_bytes(b"replaced")
    replaced.replace(part)
    with part.open("rb") as handle:
        assert digests.take("d", handle) is None


def test_only_the_newest_digests_are_kept(tmp_path: Path) -> None:
    digests = UploadDigests(kept=2)
    for name in ("a", "b", "c"):
        (tmp_path / name).touch()
        _upload(digests, tmp_path / name, name, 0, name.encode())
    with (tmp_path / "a").open("rb") as first, (tmp_path / "c").open("rb") as last:
        assert digests.take("a", first) is None
        assert digests.take("c", last) == hashlib.sha256(b"c").hexdigest()
