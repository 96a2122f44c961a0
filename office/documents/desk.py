"""The document desk: what the pages and the exchange call to work on documents.

It owns the pieces a step needs beyond the database (the blob store, the working calendar,
the way back to a sender) and the order of things: the step's transaction commits first, then
its statuses go back to the sender. A status that cannot be sent is logged, never allowed to
undo the step that the clerk or leader took.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from aiohttp import web
from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.blobs import BlobStorage, StoredBlob
from config.errors import CongvanError, NotFound, PeerRefused
from config.file_names import clean_file_name
from config.logging import get_logger
from config.settings import OfficeSettings
from exchange.handlers import ReceivedDispatch
from exchange.outbox import Outbox
from exchange.statuses import RecallRequest, Statuses
from keys.revocation import RevocationChecker
from keys.signed_directory import SignedDirectory
from office.documents import file_kinds, forwarding, from_mail, incoming, recall, workload
from office.documents.fields import from_metadata
from office.documents.incoming import StoredFile
from office.documents.indexing import SearchIndexer
from office.documents.issue_lines import place_of
from office.documents.models import SIGNATURE_PENDING
from office.documents.pdf_checks import check_signatures
from office.documents.pdf_verdicts import SignatureStatus
from office.documents.records import StatusNotice
from office.documents.secrecy import NetworkLimit
from office.documents.workdays import WorkingCalendar
from office.formats import local_time

log = get_logger("congvan.office.documents")


class DocumentDesk:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        blobs: BlobStorage,
        calendar: WorkingCalendar,
        settings: OfficeSettings,
        statuses: Statuses | None = None,
        directory: SignedDirectory | None = None,
        trust_roots: Sequence[x509.Certificate] = (),
        revocation: RevocationChecker | None = None,
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.calendar = calendar
        self.settings = settings
        self.statuses = statuses
        self.directory = directory
        #: Whose PDF signatures the pages call valid: our CA.
        self.trust_roots = tuple(trust_roots)
        #: The node's CRL: a PDF signed with a revoked certificate is not called valid.
        self.revocation = revocation
        #: The search index: written in each step's transaction from what is known, completed
        #: after commit with its PDFs' text (the node runs its worker).
        self.indexer = SearchIndexer(sessions, blobs, settings, self.unit_name, self.signature_of)
        if statuses is not None:
            statuses.on_recall_request = self.recall_requested

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    @staticmethod
    def today() -> date:
        """Today in Vietnam: registers and deadlines follow the office's calendar."""
        return local_time(datetime.now(UTC)).date()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def remind(self) -> int:
        """One round of deadline reminders (the node runs it every ``reminder_minutes``)."""
        async with self.transaction() as session:
            count = await workload.remind_due(
                session, self.calendar, self.today(), self.settings.remind_days_before, self.now()
            )
        if count:
            log.info("document.reminded", assignments=count)
        return count

    async def report(self, notices: Sequence[StatusNotice]) -> None:
        """Tell each sender what became of its document (after the step committed)."""
        if self.statuses is None:
            return
        for notice in notices:
            try:
                await self.statuses.send_status(
                    notice.dispatch_id, notice.unit, notice.code, notice.note
                )
            except CongvanError as error:
                log.warning(
                    "document.status_not_sent",
                    dispatch_id=notice.dispatch_id,
                    code=notice.code,
                    reason=error.code,
                )

    def unit_name(self, code: str) -> str:
        if self.directory is None:
            return code
        try:
            return self.directory.unit(code).name
        except (NotFound, CongvanError):
            return code

    @contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A private folder for a file being signed, removed after: beside the blob store, not
        in /tmp, because the file may be a secret document."""
        root = self.blobs.root / "staging"
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(dir=root, prefix=prefix) as folder:
            yield Path(folder)

    def place_name(self, code: str) -> str:
        """The place a unit writes before its date (``Cam Lộ``): its committee's place, or the
        nearest parent committee's for a board or office (``Quảng Trị``)."""
        current: str | None = code
        for _ in range(PLACE_DEPTH):
            if current is None or self.directory is None:
                break
            try:
                unit = self.directory.unit(current)
            except (NotFound, CongvanError):
                break
            place = place_of(unit.name)
            if place:
                return place
            current = unit.parent
        return self.unit_name(code)

    async def store(
        self,
        path: Path,
        name: str,
        content_type: str | None = None,
        sha256: str | None = None,
    ) -> StoredFile:
        """Copy a received file into the blob store (in a thread: the file may be large), its
        content type read from its content unless given (a file of a kind no document carries
        is kept as ``application/octet-stream``: the sender signed it, the clerk judges it). A
        PDF's signature is checked after the step commits (:meth:`index` queues it): the
        step's transaction does not wait for a file its sender made."""
        blob, found = await asyncio.get_running_loop().run_in_executor(
            None, self._put_file, path, sha256, content_type is None
        )
        content_type = content_type or found or "application/octet-stream"
        signature = SIGNATURE_PENDING if content_type == file_kinds.PDF.content_type else None
        return StoredFile(name, content_type, blob.sha256, blob.size, signature)

    def _put_file(
        self, path: Path, sha256: str | None, find_type: bool
    ) -> tuple[StoredBlob, str | None]:
        """The blob stored, and the file's content type read from its content if asked: one
        trip to a thread for both (a received document's transaction waits for each)."""
        blob = self.blobs.put_file(path, sha256)
        return blob, file_kinds.received_content_type(path) if find_type else None

    async def mail_files(self, mail_path: Path) -> list[StoredFile]:
        """The files of a document made from the mail at ``mail_path``: its PDF attachments
        (their signatures checked), or the whole mail as a ``.eml`` when it has none."""
        loop = asyncio.get_running_loop()
        files = []
        for name, content in await loop.run_in_executor(None, from_mail.pdf_attachments, mail_path):
            blob = await loop.run_in_executor(None, self.blobs.put_bytes, content)
            status = await self.signature_of(self.blobs.path(blob.sha256))
            files.append(
                StoredFile(
                    name, "application/pdf", blob.sha256, blob.size, status.state, status.signed_by
                )
            )
        return files or [await self.store(mail_path, from_mail.EML_NAME, "message/rfc822")]

    async def index(self, session: AsyncSession, document_id: int) -> None:
        """(Re)index a document for search in the caller's transaction, from its fields and
        the PDF texts already read; the rest follows after commit (see
        :mod:`office.documents.indexing`). Reads no file."""
        await self.indexer.index(session, document_id)

    async def signature_of(self, path: Path) -> SignatureStatus:
        """The PDF's signature status as it stands now, revocation included: a signature by a
        certificate on the CRL is ``revoked`` (any of them: the signer's as well as the unit's on
        an issued document); one whose CRL cannot be read is not ``valid`` (fail closed). The
        state is kept with the file when it arrives."""
        status = await asyncio.get_running_loop().run_in_executor(
            None, check_signatures, path, self.trust_roots
        )
        if status.state != "valid" or status.serial is None or self.revocation is None:
            return status
        try:
            revoked = {
                entry.serial
                for entry in status.signatures
                if self.revocation.is_revoked(entry.serial)
            }
        except PeerRefused:
            return dataclasses.replace(status, state="untrusted", problem="revocation-unknown")
        if revoked:
            entries = tuple(
                dataclasses.replace(entry, state="revoked", problem="certificate-revoked")
                if entry.serial in revoked
                else entry
                for entry in status.signatures
            )
            return dataclasses.replace(
                status, state="revoked", problem="certificate-revoked", signatures=entries
            )
        return status

    async def receive(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        """The ``document`` handler: the dispatch's units each get it in their clerk's queue."""
        header = dispatch.header
        # The urgency the sending node signed in the header, which its outbox and the relay
        # ordered the dispatch by; the metadata may lack it (`congvan exchange send`).
        metadata = {**dispatch.metadata, "urgency": header.urgency}
        fields = from_metadata(metadata, self.unit_name(header.sender))
        # A forward (chuyển tiếp) names the original issuer as its sender; the unit that
        # forwarded it is the dispatch's authenticated sender, whom its statuses go back to.
        note = forwarding.forward_note(metadata)
        if note is not None:
            fields = dataclasses.replace(fields, note=note)
        digests = dispatch.digests or (None,) * len(dispatch.files)
        files = [
            await self.store(path, clean_file_name(path.name), sha256=digest)
            for path, digest in zip(dispatch.files, digests, strict=True)
        ]
        created = await incoming.receive(
            session,
            dispatch.units,
            fields,
            files,
            dispatch_id=header.id,
            sender_unit=header.sender,
            now=self.now(),
            forwarded_by="" if note is None else self.unit_name(header.sender),
        )
        for document in created:
            await self.indexer.index_added(session, document, files)
        if self.statuses is not None:
            # A recall request that overtook this document on the network applies to it now.
            await self.statuses.pass_on_early_recalls(session, dispatch)
        log.info(
            "document.received",
            dispatch_id=header.id,
            documents=[document.id for document in created],
            files=len(files),
        )

    @property
    def outbox(self) -> Outbox | None:
        """Where issued documents leave from (None on a desk without an exchange)."""
        return self.statuses.outbox if self.statuses is not None else None

    @property
    def network_limit(self) -> NetworkLimit:
        """``[office] max_secrecy_on_network``, and which recipients are on another node."""
        outbox = self.outbox
        return NetworkLimit(
            self.settings.max_secrecy_on_network,
            outbox.units_on_network if outbox is not None else list,
            self.unit_name,
        )

    async def recall_requested(self, session: AsyncSession, request: RecallRequest) -> None:
        """The exchange's listener for a sender's recall request (status 13), with the
        replacement it names."""
        await recall.mark_requested(
            session,
            request.dispatch_id,
            request.unit,
            request.note,
            self.now(),
            recall.Replacement.from_details(request.details),
        )


#: How far up the directory a board looks for its committee's place.
PLACE_DEPTH = 8

#: Where the staff web app keeps the desk, for every feature's pages (set by ``office.node``).
DESK = web.AppKey("desk", DocumentDesk)
