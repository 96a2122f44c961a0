"""The blob store on a full disk: a put is refused "not now" (``DiskFull``) and leaves nothing
in staging, whichever way the content comes (a file, bytes, a web upload's stream)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from config.blobs import BlobStore
from config.errors import DiskFull
from tests.support.disk import SmallDisk, can_mount, small_disk

pytestmark = pytest.mark.skipif(not can_mount(), reason="the small disk is a tmpfs: needs root")

CONTENT = os.urandom(256 * 1024)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    with small_disk(tmp_path / "disk", 4) as disk:
        disk.fill(64 * 1024)
        yield disk


async def chunks() -> AsyncIterator[bytes]:
    for start in range(0, len(CONTENT), 64 * 1024):
        yield CONTENT[start : start + 64 * 1024]


async def test_a_put_on_a_full_disk_is_refused_for_now_and_leaves_nothing_behind(
    full_disk: SmallDisk, tmp_path: Path
) -> None:
    store = BlobStore(full_disk.mount_point / "blobs")
    source = tmp_path / "ban-do.bin"
    source.write_bytes(CONTENT)

    with pytest.raises(DiskFull):
        store.put_file(source)
    with pytest.raises(DiskFull):
        store.put_bytes(CONTENT)
    with pytest.raises(DiskFull):
        await store.stage_stream(chunks(), limit=len(CONTENT))

    assert list((store.root / "staging").iterdir()) == []
    full_disk.empty()
    assert store.put_bytes(CONTENT).size == len(CONTENT)


@pytest.mark.parametrize(
    "name", ["A" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n", "g" * 64, "../" + "a" * 61, ""]
)
def test_a_name_that_is_not_a_sha256_in_hex_has_no_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path).path(name)


def test_a_sha256_in_hex_names_a_file_fanned_out_by_its_first_bytes(tmp_path: Path) -> None:
    digest = "0123456789abcdef" * 4
    assert BlobStore(tmp_path).path(digest) == tmp_path / "01" / "23" / digest
