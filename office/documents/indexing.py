"""A document's search entry, completed after its step commits: the text of its PDFs, and the
signature of a PDF received from another node.

Reading a PDF costs what its author wants it to (a minute of CPU for a 23 KB file), and a
transaction that waited for it held SQLite's write lock, or PostgreSQL's lock on the register
counter, all that time: every other write on the node failed. So a step indexes its document in
its own transaction from what is at hand, its fields and the words of PDFs read before (kept in
``pdf_texts`` by SHA-256), and nothing slower. A document with a PDF not read yet, or a received
PDF whose signature is not checked yet, is queued in ``search_pending`` in that same
transaction, so a crash after the commit loses nothing.

The worker (one per node process; leases keep processes apart, a dead one's lease runs out) is
woken by the commit. It reads each PDF in a child process under a page, time and memory
cap (:mod:`office.documents.pdf_text`), keeps its words (or ``unreadable``: its documents are
then found by their fields only), checks the pending signatures in a thread, and indexes the
document again in a short transaction of its own: the document is searchable by its PDF's text
a moment later.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.blobs import BlobStorage
from config.logging import bind_request_id, get_logger
from config.settings import OfficeSettings
from office.documents.incoming import StoredFile
from office.documents.models import (
    SIGNATURE_PENDING,
    TEXT_READ,
    TEXT_UNREADABLE,
    Document,
    DocumentFile,
    PdfText,
    SearchPending,
)
from office.documents.pdf_text import read_text
from office.documents.pdf_verdicts import SignatureStatus
from office.documents.search import index_document, index_words

log = get_logger("congvan.office.indexing")

PDF = "application/pdf"
#: PDFs of one document whose text is read (the first ones); more are not searched.
MAX_PDFS = 50
#: How often documents left pending by another process, or before a restart, are looked for.
POLL_SECONDS = 30
#: A claim lasts one PDF's read and this much more (its signature checks, the indexing).
LEASE_MARGIN_SECONDS = 60

CheckSignature = Callable[[Path], Awaitable[SignatureStatus]]


@dataclass(frozen=True)
class Claim:
    document_id: int
    leased_until: datetime


async def _pdfs(session: AsyncSession, document_id: int) -> list[tuple[str, str | None, str]]:
    """The document's PDFs whose text counts, first ones first: (sha256, what became of its
    text or ``None`` when not read yet, its words)."""
    rows = await session.execute(
        select(DocumentFile.sha256, PdfText.state, PdfText.words)
        .outerjoin(PdfText, PdfText.sha256 == DocumentFile.sha256)
        .where(DocumentFile.document_id == document_id, DocumentFile.content_type == PDF)
        .order_by(DocumentFile.id)
        .limit(MAX_PDFS)
    )
    return [(sha256, state, words or "") for sha256, state, words in rows]


async def _signatures_pending(session: AsyncSession, document_id: int) -> list[tuple[int, str]]:
    """(file id, sha256) of the document's PDFs whose signature is still to be checked."""
    rows = await session.execute(
        select(DocumentFile.id, DocumentFile.sha256).where(
            DocumentFile.document_id == document_id,
            DocumentFile.signature_state == SIGNATURE_PENDING,
        )
    )
    return [(file_id, sha256) for file_id, sha256 in rows]


async def _texts(session: AsyncSession, sha256s: list[str]) -> dict[str, str]:
    """The words of those of ``sha256s`` whose text was read (or found unreadable: no words)."""
    rows = await session.execute(
        select(PdfText.sha256, PdfText.words).where(PdfText.sha256.in_(set(sha256s)))
    )
    return {sha256: words or "" for sha256, words in rows}


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class SearchIndexer:
    """Indexes documents in their steps' transactions, and completes them after commit."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        blobs: BlobStorage,
        settings: OfficeSettings,
        unit_name: Callable[[str], str],
        check_signature: CheckSignature,
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.settings = settings
        self.unit_name = unit_name
        self.check_signature = check_signature
        #: Set when a transaction that queued a document commits.
        self.queued = asyncio.Event()

    async def index(self, session: AsyncSession, document_id: int) -> None:
        """(Re)index a document in the caller's transaction from its fields and the PDF texts
        read so far; queue it for the worker if a PDF is still to be read or checked. Reads no
        file: the caller's transaction stays as short as its own work."""
        document = await session.get(Document, document_id)
        if document is None:
            return
        if await self._index_known(session, document):
            await self._queue_after(session, document_id)

    async def index_added(
        self, session: AsyncSession, document: Document, files: Sequence[StoredFile]
    ) -> None:
        """Index a document just added with ``files``, in the caller's transaction, as
        :meth:`index` would, from what is in hand: its PDFs and their pending signatures are
        ``files``, not rows read back; only the texts of PDFs read before are looked up (one
        query, and none for a document without a PDF). A received document is indexed in the
        transaction that accepts its dispatch, which holds the write lock: each statement
        there is paid by every dispatch of the group."""
        pdfs = [stored.sha256 for stored in files if stored.content_type == PDF][:MAX_PDFS]
        read = await _texts(session, pdfs) if pdfs else {}
        await self._index_with(session, document, [read.get(sha256, "") for sha256 in pdfs])
        pending = any(stored.signature_state == SIGNATURE_PENDING for stored in files)
        if pending or any(sha256 not in read for sha256 in pdfs):
            await self._queue_after(session, document.id)

    async def _queue_after(self, session: AsyncSession, document_id: int) -> None:
        """Queue the document in the caller's transaction; the worker wakes at its commit."""
        await self._queue(session, document_id)
        event.listen(session.sync_session, "after_commit", self._wake, once=True)

    async def _index_known(self, session: AsyncSession, document: Document) -> bool:
        """Index from what is known; whether anything is still to be read or checked."""
        pdfs = await _pdfs(session, document.id)
        await self._index_with(session, document, [words for _sha256, _state, words in pdfs])
        unread = any(state is None for _sha256, state, _words in pdfs)
        return unread or bool(await _signatures_pending(session, document.id))

    async def _index_with(
        self, session: AsyncSession, document: Document, pdf_words: list[str]
    ) -> None:
        texts = [
            document.summary,
            document.number_symbol,
            document.sender_name,
            document.signer_name,
            self.unit_name(document.sender_unit) if document.sender_unit else "",
            *pdf_words,
        ]
        await index_document(session, document.id, texts)

    @staticmethod
    async def _queue(session: AsyncSession, document_id: int) -> None:
        """Queue the document, or queue it again: a lease held on it is given up, so the
        worker that holds it does not take it off the queue with this step's work undone."""
        now = datetime.now(UTC)
        upsert = _insert(session)(SearchPending).values(
            document_id=document_id, queued_at=now, leased_until=None
        )
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=[SearchPending.document_id],
                set_={"queued_at": now, "leased_until": None},
            )
        )

    def _wake(self, _session: Any) -> None:
        self.queued.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Complete what is pending, then wait for a commit that queues more (or the next
        poll), until the node stops. A stop ends a read in progress (its child is killed) and
        gives its document back, for the next start or another process to take up at once."""
        bind_request_id()
        while not stop.is_set():
            try:
                await self.index_pending(stop)
            except (SQLAlchemyError, OSError) as error:
                log.warning("search.indexing_failed", error=f"{type(error).__name__}: {error}")
            await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.queued.wait())]
        await asyncio.wait(waiters, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        self.queued.clear()

    async def index_pending(self, stop: asyncio.Event) -> int:
        """Complete every pending document this process can claim, until ``stop``; how many."""
        count = 0
        while not stop.is_set() and (claim := await self._claim()) is not None:
            await self._complete(claim, stop)
            count += 1
        return count

    def _lease(self) -> datetime:
        return datetime.now(UTC) + timedelta(
            seconds=self.settings.text_seconds + LEASE_MARGIN_SECONDS
        )

    async def _claim(self) -> Claim | None:
        """The longest-waiting document no one holds, under a lease. The lease is taken by a
        conditional update, so two processes (on SQLite too) never both take it."""
        now = datetime.now(UTC)
        free = or_(SearchPending.leased_until.is_(None), SearchPending.leased_until < now)
        async with self.sessions() as session, session.begin():
            candidates = await session.scalars(
                select(SearchPending.document_id)
                .where(free)
                .order_by(SearchPending.queued_at)
                .limit(8)
                .with_for_update(skip_locked=True)
            )
            for document_id in candidates.all():
                lease = self._lease()
                taken = await session.execute(
                    update(SearchPending)
                    .where(SearchPending.document_id == document_id, free)
                    .values(leased_until=lease)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return Claim(document_id, lease)
        return None

    async def _renew(self, claim: Claim) -> Claim | None:
        """The claim held longer, for one more PDF; ``None`` if it was lost meanwhile (a step
        queued the document again, or the lease ran out and another process took it): the
        document is then someone else's, or this worker's again at its next claim."""
        lease = self._lease()
        async with self.sessions() as session, session.begin():
            renewed = await session.execute(
                update(SearchPending)
                .where(
                    SearchPending.document_id == claim.document_id,
                    SearchPending.leased_until == claim.leased_until,
                )
                .values(leased_until=lease)
            )
        return Claim(claim.document_id, lease) if renewed.rowcount == 1 else None  # type: ignore[attr-defined]

    async def _complete(self, claim: Claim, stop: asyncio.Event) -> None:
        """Read the claimed document's unread PDFs and check its pending signatures, the claim
        renewed before each; then index it again."""
        async with self.sessions() as session:
            pdfs = await _pdfs(session, claim.document_id)
            unchecked = await _signatures_pending(session, claim.document_id)
        unread = dict.fromkeys(sha256 for sha256, state, _words in pdfs if state is None)
        steps: list[Callable[[asyncio.Event], Awaitable[bool]]] = [
            *(functools.partial(self._read, sha256) for sha256 in unread),
            *(functools.partial(self._check, file_id, sha256) for file_id, sha256 in unchecked),
        ]
        for step in steps:
            renewed = await self._renew(claim)
            if renewed is None:
                return
            claim = renewed
            if stop.is_set() or not await step(stop):
                await self._give_back(claim)
                return
        await self._finish(claim)

    async def _give_back(self, claim: Claim) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(SearchPending)
                .where(
                    SearchPending.document_id == claim.document_id,
                    SearchPending.leased_until == claim.leased_until,
                )
                .values(leased_until=None)
            )

    async def _read(self, sha256: str, stop: asyncio.Event) -> bool:
        """Read one PDF's text in a child process under the caps, and keep its words; False
        when the node stopped first (the child is killed, nothing is kept)."""
        reading = asyncio.ensure_future(
            read_text(
                self.blobs.path(sha256),
                pages=self.settings.text_pages,
                seconds=self.settings.text_seconds,
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait((reading, stopping), return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not reading.done():
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            return False
        text = reading.result()
        words = await asyncio.to_thread(index_words, [text]) if text else []
        state = TEXT_READ if text is not None else TEXT_UNREADABLE
        async with self.sessions() as session, session.begin():
            await session.execute(
                _insert(session)(PdfText)
                .values(sha256=sha256, state=state, words=" ".join(words))
                .on_conflict_do_nothing()
            )
        log.info("search.pdf_read", sha256=sha256, state=state, words=len(words))
        return True

    async def _check(self, file_id: int, sha256: str, _stop: asyncio.Event) -> bool:
        """Check a received PDF's signature (in a thread, no transaction open) and keep it."""
        try:
            status = await self.check_signature(self.blobs.path(sha256))
        except Exception:  # a hostile file tripping the library: no reason to stop the worker
            log.exception("search.signature_check_failed", file_id=file_id)
            status = SignatureStatus("invalid", problem="damaged")
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(DocumentFile)
                .where(
                    DocumentFile.id == file_id, DocumentFile.signature_state == SIGNATURE_PENDING
                )
                .values(signature_state=status.state, signature_signer=status.signed_by)
            )
        return True

    async def _finish(self, claim: Claim) -> None:
        """Index the document again, now with its PDFs' words, and take it off the queue if
        nothing new came meanwhile."""
        async with self.sessions() as session, session.begin():
            # Locked first, as a step locks it, and by a write, so that SQLite's write lock is
            # held before anything is read: a step changing the document meanwhile waits, then
            # indexes it with these words, instead of this writing old fields over its own.
            locked = await session.execute(
                update(Document)
                .where(Document.id == claim.document_id)
                .values(version=Document.version)
            )
            document = await session.get(Document, claim.document_id) if locked.rowcount else None  # type: ignore[attr-defined]
            still = document is not None and await self._index_known(session, document)
            mine = (
                SearchPending.document_id == claim.document_id,
                SearchPending.leased_until == claim.leased_until,
            )
            if still:
                await session.execute(update(SearchPending).where(*mine).values(leased_until=None))
            else:
                await session.execute(delete(SearchPending).where(*mine))
        log.info("search.indexed", document_id=claim.document_id, pending=still)
