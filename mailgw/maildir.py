"""Local deliveries in Maildir layout, so that an IMAP server (Dovecot) serves them to mail
clients: ``<root>/<username>/{tmp,new,cur}``.

A message is written under ``tmp/`` and renamed into ``new/``, as the layout requires, so a
reader never sees half a file. Its name is made from the queue id, not from the clock, so a
delivery repeated after a crash finds it there already (in ``new/``, or in ``cur/`` once a
client has read it) and does not write a second copy.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

SUBFOLDERS = ("tmp", "new", "cur")


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
    name = _unique_name(queue_id, received_at)
    already = [
        *(folder / "new").glob(f"*.Q{queue_id}.*"),
        *(folder / "cur").glob(f"*.Q{queue_id}.*"),
    ]
    if already:
        return already[0]
    temporary = folder / "tmp" / name
    with source.open("rb") as reader, temporary.open("wb") as writer:
        shutil.copyfileobj(reader, writer)
        writer.flush()
        os.fsync(writer.fileno())
    temporary.chmod(0o600)
    target = folder / "new" / name
    temporary.replace(target)
    return target
