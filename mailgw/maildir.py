"""Local deliveries in Maildir layout, so that an IMAP server (Dovecot) serves them to mail
clients: ``<root>/<username>/{tmp,new,cur}``.

A message is its blob linked into ``new/`` (whole and synced before the message was accepted);
where it cannot be linked (another file system) it is copied under ``tmp/``, synced and renamed
into ``new/``, as the layout requires: either way a reader never sees half a file. Its name
is made from the queue id, not from the clock, and once it is in ``new/`` a marker named after
the queue id (a link to an empty file) is left in ``<root>/.delivered/`` (beside the
mailboxes, where the IMAP server never looks: no user name starts with a dot). A
delivery repeated after a crash finds the marker, or the message still in ``new/`` under its
name, and does not write a second copy.

Both checks look one name up: scanning ``new/`` and ``cur/`` for the queue id instead read the
whole mailbox on every delivery, which the SMTP fuzzing run's 100,000 mails to one mailbox
turned into hours of draining (each delivery slower than the last).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
from pathlib import Path

SUBFOLDERS = ("tmp", "new", "cur")
MARKERS = ".delivered"
#: The empty file every marker of a user is a link to (no queue id starts with a dot).
SEED = ".seed"


def _unique_name(queue_id: str, received_at: float) -> str:
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    return f"{int(received_at)}.Q{queue_id}.{host}"


def user_folder(root: Path, username: str) -> Path:
    if "/" in username or username.startswith("."):
        raise ValueError(f"not a username: {username!r}")
    return root / username


def deliver(root: Path, username: str, queue_id: str, source: Path, received_at: float) -> Path:
    """Put the message at ``source`` into the user's Maildir once (blocking). ``source`` is a
    blob: whole, synced to disk before the message was accepted, and never changed."""
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
    if not target.exists() and not _linked(source, target):
        temporary = folder / "tmp" / name
        with source.open("rb") as reader, temporary.open("wb") as writer:
            shutil.copyfileobj(reader, writer)
            writer.flush()
            os.fsync(writer.fileno())
        temporary.chmod(0o600)
        temporary.replace(target)
    # After the message: a crash before this line leaves it in new/ under its name, found
    # there by the next attempt.
    _mark(markers, marker)
    return target


def _mark(markers: Path, marker: Path) -> None:
    """``marker`` made: a link to the folder's one empty file (``SEED``), not a file of its
    own, so that a delivery allocates no inode for it (ext4's search for a free inode was a
    tenth of an SMTP process's CPU under load). A seed with as many links as the file system
    allows (ext4: 65,000) is replaced by a fresh one; where there are no links, a marker is a
    file of its own."""
    seed = markers / SEED
    for _attempt in range(3):
        try:
            os.link(seed, marker)
            return
        except FileExistsError:
            return
        except FileNotFoundError:
            seed.touch(mode=0o600)
        except OSError as error:
            if error.errno != errno.EMLINK:
                break  # no links here (EPERM): a file of its own
            fresh = markers / f"{SEED}.{os.getpid()}"
            fresh.touch(mode=0o600)
            fresh.replace(seed)
    marker.touch(mode=0o600)


def _linked(source: Path, target: Path) -> bool:
    """``source`` linked in as ``target`` (False: it cannot be, on another file system, say).

    A blob is whole and on disk, and nothing writes into a Maildir file (an IMAP server
    renames one to set its flags and unlinks it to delete it, and links one to copy it, as
    Dovecot does): the link is the message, with no copy to write and sync and no inode to
    allocate (under 20 clients the copy's inode and fsync were most of the kernel's time in
    an SMTP process). A link is whole the moment it appears, so it goes straight into new/.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        return True  # an earlier attempt's, of the same blob
    except OSError as error:
        if error.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            return False
        raise
    return True
