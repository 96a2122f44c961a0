"""Delivering into a Maildir once: a repeated delivery (after a crash, before or after the
message was read) never writes a second copy, and what is written is only ever whole."""

from __future__ import annotations

import errno
import mailbox
import os
from pathlib import Path

import pytest

from mailgw import maildir

RAW = b"From: a@tu.dangcongsan.vn\r\nSubject: Thu thu\r\n\r\nNoi dung\r\n"


def messages(root: Path, user: str) -> list[bytes]:
    box = mailbox.Maildir(root / user, factory=None, create=False)
    return [box.get_bytes(key) for key in box.iterkeys()]


def test_a_repeated_delivery_writes_no_second_copy_even_once_the_message_was_read(
    tmp_path: Path,
) -> None:
    source = tmp_path / "message.eml"
    source.write_bytes(RAW)
    root = tmp_path / "maildir"
    first = maildir.deliver(root, "vanthu", "Q1", source, 1_700_000_000.5)
    assert messages(root, "vanthu") == [RAW]
    # An IMAP client reads it: the server moves it to cur/ with its flags.
    first.rename(root / "vanthu" / "cur" / f"{first.name}:2,S")
    maildir.deliver(root, "vanthu", "Q1", source, 1_700_000_000.5)
    assert messages(root, "vanthu") == [RAW]
    assert not any((root / "vanthu" / "tmp").iterdir())
    # The markers live beside the mailboxes, where no mailbox can be.
    assert (root / maildir.MARKERS / "vanthu" / "Q1").exists()
    maildir.deliver(root, "vanthu", "Q2", source, 1_700_000_001.0)
    assert len(messages(root, "vanthu")) == 2


def test_a_crash_after_the_message_but_before_its_marker_is_not_delivered_twice(
    tmp_path: Path,
) -> None:
    source = tmp_path / "message.eml"
    source.write_bytes(RAW)
    root = tmp_path / "maildir"
    maildir.deliver(root, "vanthu", "Q7", source, 1_700_000_000.0)
    (root / maildir.MARKERS / "vanthu" / "Q7").unlink()  # as if the node died before it
    maildir.deliver(root, "vanthu", "Q7", source, 1_700_000_000.0)
    assert messages(root, "vanthu") == [RAW]
    assert (root / maildir.MARKERS / "vanthu" / "Q7").exists()


def test_the_message_is_its_blob_linked_in_not_a_copy(tmp_path: Path) -> None:
    source = tmp_path / "message.eml"
    source.write_bytes(RAW)
    delivered = maildir.deliver(tmp_path / "maildir", "vanthu", "Q3", source, 1_700_000_000.0)
    assert delivered.stat().st_ino == source.stat().st_ino
    assert delivered.read_bytes() == RAW


def test_a_blob_that_cannot_be_linked_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def other_file_system(source: Path, target: Path) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", other_file_system)
    source = tmp_path / "message.eml"
    source.write_bytes(RAW)
    root = tmp_path / "maildir"
    delivered = maildir.deliver(root, "vanthu", "Q4", source, 1_700_000_000.0)
    assert delivered.stat().st_ino != source.stat().st_ino
    assert messages(root, "vanthu") == [RAW]
    assert not any((root / "vanthu" / "tmp").iterdir())


def test_markers_are_links_to_one_empty_file_replaced_when_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "message.eml"
    source.write_bytes(RAW)
    root = tmp_path / "maildir"
    markers = root / maildir.MARKERS / "vanthu"
    maildir.deliver(root, "vanthu", "Q5", source, 1_700_000_000.0)
    maildir.deliver(root, "vanthu", "Q6", source, 1_700_000_000.0)
    assert (markers / "Q5").stat().st_ino == (markers / "Q6").stat().st_ino
    real_link = os.link

    def full_seed(source: Path, target: Path) -> None:
        if Path(source).name == maildir.SEED and (markers / maildir.SEED).stat().st_nlink >= 3:
            raise OSError(errno.EMLINK, "Too many links")
        real_link(source, target)

    monkeypatch.setattr(os, "link", full_seed)
    maildir.deliver(root, "vanthu", "Q8", source, 1_700_000_000.0)
    assert (markers / "Q8").exists()
    assert (markers / "Q8").stat().st_ino != (markers / "Q5").stat().st_ino
    # A message delivered again after its marker finds the marker: no second copy.
    maildir.deliver(root, "vanthu", "Q8", source, 1_700_000_000.0)
    assert len(messages(root, "vanthu")) == 3
