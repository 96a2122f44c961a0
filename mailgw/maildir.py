"""Local deliveries in Maildir layout, so that an IMAP server (Dovecot) serves them to mail
clients: ``<root>/<username>/{tmp,new,cur}``.

A message is written under ``tmp/`` and linked into ``new/``, as the layout requires, so a
reader never sees half a file. Its name is made from the queue id, not from the clock, and once
it is in ``new/`` an empty marker named after the queue id is left in ``<root>/.delivered/``
(beside the mailboxes, where the IMAP server never looks: no user name starts with a dot). A
delivery repeated after a crash finds the marker, or the message still in ``new/`` under its
name, and does not write a second copy.

Both checks look one name up: scanning ``new/`` and ``cur/`` for the queue id instead read the
whole mailbox on every delivery, which the SMTP fuzzing run's 100,000 mails to one mailbox
turned into hours of draining (each delivery slower than the last).
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

SUBFOLDERS = ("tmp", "new", "cur")
MARKERS = ".delivered"


def _unique_name(queue_id: str, received_at: float) -> str:
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    return f"{int(received_at)}.Q{queue_id}.{host}"


def user_folder(root: Path, username: str) -> Path:
    if "/" in username or username.startswith("."):
        raise ValueError(f"not a username: {username!r}")
    return root / username


def deliver(root: Path, username: str, queue_id: str, source: Path, received_at: float) -> Path:
    """Put the message at ``source`` into the user's Maildir once (blocking)."""
    folder = user_folder(root, username)
    for sub in SUBFOLDERS:
        (folder / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    markers = root / MARKERS / username
    markers.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = _unique_name(queue_id, received_at)
    target = folder / "new" / name
    marker = markers / queue_id
    if marker.exists():
        return target
    if not target.exists():
        temporary = folder / "tmp" / name
        with source.open("rb") as reader, temporary.open("wb") as writer:
            shutil.copyfileobj(reader, writer)
            writer.flush()
            os.fsync(writer.fileno())
        temporary.chmod(0o600)
        temporary.replace(target)
    # After the message: a crash before this line leaves it in new/ under its name, found
    # there by the next attempt.
    marker.touch(mode=0o600)
    return target
