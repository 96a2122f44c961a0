"""Secret documents and the network: what the office tells the exchange, and the early, friendly
refusals of the pages.

The rule (2018 Law on Protection of State Secrets, Art. 5 clauses 5-6; Art. 15 and Decree
26/2020/NĐ-CP for sending on paper): nothing more secret than the node's
``[office] max_secrecy_on_network`` leaves it over the network. The exchange holds the line at the
one point where a dispatch is sealed for another node (:mod:`exchange.secrecy`); this module
gives it what only the office knows, and lets the pages say so before a clerk presses a button:

- :func:`files_level`: how secret the files of a dispatch are, by their content. A file is
  secret when it is a file of a secret document of this node (any of its files, any version of
  a draft's): so a secret document's file cannot leave attached to a mail, a report or a
  forward, whoever downloaded it, however it was renamed. A mail travels as one file: its parts
  are read and each is checked. A file changed in any byte (re-scanned, zipped, re-saved) is
  another file: the rules still bind the person who does that, as they bind a USB stick.
- :class:`NetworkLimit`: the check a page's step makes on a document and its recipients
  (issuing, resending, forwarding), with the message saying how to send it on paper.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.errors import Forbidden
from exchange.envelope import HASH_BLOCK, Attachment
from exchange.secrecy import SECRECY_NOT_ALLOWED, FilesLevel
from mailgw.parsing import PARSER_ERRORS, parse
from office.documents import refusals, secrecy_refusals
from office.documents.models import Document, DocumentFile, DocumentVersion, VersionFile

MAIL = "message/rfc822"
#: Digests asked about in one query.
DIGEST_BATCH = 500


@dataclass(frozen=True)
class NetworkLimit:
    """This node's limit, and which of a document's recipients it reaches over the network."""

    max_secrecy: int
    #: Of the given units, those another node hosts (all of them when unsure: fail closed).
    on_network: Callable[[Sequence[str]], list[str]]
    unit_name: Callable[[str], str]

    def allows(self, secrecy: int) -> bool:
        return secrecy <= self.max_secrecy

    def network_recipients(self, secrecy: int, recipients: Sequence[str]) -> list[str]:
        """The recipients a document of ``secrecy`` may not reach over the network."""
        return [] if self.allows(secrecy) else self.on_network(recipients)

    def check(self, secrecy: int, recipients: Sequence[str]) -> None:
        """Refuse (``secrecy-not-allowed``) sending a document of ``secrecy`` to another node
        when the network may not carry it; units this node hosts are not the network."""
        barred = self.network_recipients(secrecy, recipients)
        if barred:
            raise Forbidden(
                secrecy_refusals.NOT_ON_NETWORK(
                    level=refusals.SECRECY_LEVEL_NAMES[secrecy],
                    limit=refusals.SECRECY_LEVEL_NAMES[self.max_secrecy],
                    units=", ".join(self.unit_name(code) for code in barred),
                ),
                code=SECRECY_NOT_ALLOWED,
            )


def files_level(sessions: async_sessionmaker[AsyncSession]) -> FilesLevel:
    """The exchange's question (:meth:`exchange.secrecy.SecrecyPolicy.watch_files`), answered
    from this node's documents."""

    async def level(files: Sequence[Attachment]) -> int:
        if not files:
            return 0
        digests = await asyncio.get_running_loop().run_in_executor(None, carried_digests, files)
        async with sessions() as session:
            return await secrecy_of_files(session, digests)

    return level


async def secrecy_of_files(session: AsyncSession, digests: Iterable[str]) -> int:
    """The highest secrecy of the documents holding any of these files (by SHA-256), in their
    files or in a draft's earlier versions; 0 when none does."""
    wanted = sorted(set(digests))
    highest = 0
    for start in range(0, len(wanted), DIGEST_BATCH):
        batch = wanted[start : start + DIGEST_BATCH]
        current = await session.scalar(
            select(func.max(Document.secrecy))
            .join(DocumentFile, DocumentFile.document_id == Document.id)
            .where(DocumentFile.sha256.in_(batch))
        )
        earlier = await session.scalar(
            select(func.max(Document.secrecy))
            .join(DocumentVersion, DocumentVersion.document_id == Document.id)
            .join(VersionFile, VersionFile.version_id == DocumentVersion.id)
            .where(VersionFile.sha256.in_(batch))
        )
        highest = max(highest, current or 0, earlier or 0)
    return highest


def carried_digests(files: Sequence[Attachment]) -> set[str]:
    """The SHA-256 of every file, and of every part of a mail among them (its attachments, the
    attachments of a mail attached to it…), decoded as its reader would save them. Blocking:
    run it in an executor."""
    found = set()
    for file in files:
        found.add(_file_digest(file.path))
        if file.content_type == MAIL:
            found |= _parts_digests(parse(file.path))
    return found


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _parts_digests(message: Message) -> set[str]:
    found = set()
    for part in message.walk():  # attached messages included, part by part
        if part.is_multipart():
            continue
        try:
            content = part.get_payload(decode=True)
        except PARSER_ERRORS:
            continue  # a part no reader can decode cannot give a document's file back
        if isinstance(content, bytes) and content:
            found.add(hashlib.sha256(content).hexdigest())
    return found
