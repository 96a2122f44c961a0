"""A document form's files, checked by content before anything is recorded: the main PDF and
the appendices and sources that go with it (see :mod:`office.documents.file_kinds`).

Every check runs off the event loop and outside any transaction; a refusal names the file and
leaves nothing behind (the staged files go with the form, :func:`office.web.forms.staged_upload`).
The content type kept is the content's, never the browser's.
"""

from __future__ import annotations

import asyncio

from config.blobs import StagedBlob
from config.errors import Invalid
from config.refusals import Message
from office.documents import file_kinds
from office.documents.desk import DocumentDesk
from office.documents.incoming import StoredFile
from office.documents.pdf_checks import looks_signable

#: The inputs of a form with a main file and attachments.
MAIN_FIELD, ATTACHMENTS_FIELD = "file", "attachments"


async def require_pdf(name: str, staged: StagedBlob, not_a_pdf: Message) -> None:
    """A document's main file is a PDF (one the unit's key can sign): ``not_a_pdf`` otherwise."""
    if not await asyncio.to_thread(looks_signable, staged.path):
        raise Invalid(not_a_pdf(name=name), code="not-pdf")


async def main_pdf(name: str, staged: StagedBlob, not_a_pdf: Message) -> StoredFile:
    """A draft's main file: a PDF, named as one. Its signature is not read: it is signed when
    the document is issued."""
    await require_pdf(name, staged, not_a_pdf)
    kind = await file_kinds.check_upload(staged.path, name)
    return StoredFile(name, kind.content_type, staged.sha256, staged.size)


async def checked_file(desk: DocumentDesk, name: str, staged: StagedBlob) -> StoredFile:
    """A file of a kind a document carries, whose name says what it is; a PDF's signature read
    as the pages will show it."""
    kind = await file_kinds.check_upload(staged.path, name)
    if kind != file_kinds.PDF:
        return StoredFile(name, kind.content_type, staged.sha256, staged.size)
    signature = await desk.signature_of(staged.path)
    return StoredFile(
        name, kind.content_type, staged.sha256, staged.size, signature.state, signature.signer
    )


async def checked_files(
    desk: DocumentDesk, files: list[tuple[str, str, StagedBlob]]
) -> list[StoredFile]:
    """The attachments as posted, in order, each checked (the browser's type is not used)."""
    return [await checked_file(desk, name, staged) for name, _content_type, staged in files]
