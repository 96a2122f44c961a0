"""What a document's file is, read from its content, never from its name or the browser's word.

A document carries its main PDF and appendices or sources: PDF, DOCX, XLSX, ODT, ODS, PNG,
JPEG. Anything else is refused, and so is a file whose content is not what its name's
extension says (a ``report.pdf`` that is a zip, an ``x.docx`` that is a PDF, a program renamed
``.png``): the reader opens a file by its name, so the name must not lie.

The office formats are zip archives, told apart by the names of their entries (and, for the
OpenDocument ones, by the stored ``mimetype`` entry). An upload is untrusted, so a zip is read
within bounds: the end record first, then a central directory only if it is small and has few
entries; no entry is inflated but the tiny ``mimetype``. The check blocks on the file and is
run off the event loop (:func:`check_upload`).
"""

from __future__ import annotations

import asyncio
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from config.errors import Invalid
from office.documents import refusals


@dataclass(frozen=True)
class FileKind:
    """A kind of file a document may carry: its short name (the pages' label), the content
    type stored for it, and the extensions its name may have."""

    name: str
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("pdf", "application/pdf", (".pdf",))
DOCX = FileKind(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = FileKind(
    "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)
)
ODT = FileKind("odt", "application/vnd.oasis.opendocument.text", (".odt",))
ODS = FileKind("ods", "application/vnd.oasis.opendocument.spreadsheet", (".ods",))
PNG = FileKind("png", "image/png", (".png",))
JPEG = FileKind("jpeg", "image/jpeg", (".jpg", ".jpeg"))
KINDS = (PDF, DOCX, XLSX, ODT, ODS, PNG, JPEG)
#: What the refusal lists as accepted.
ACCEPTED = ", ".join(kind.name.upper() for kind in KINDS)
#: For the file input's ``accept``: a hint to the browser; the content decides.
ACCEPT = ",".join(extension for kind in KINDS for extension in kind.extensions)

#: A document's zip has a few dozen entries; a spreadsheet with many sheets and images a few
#: thousand. More is not a document (or is a zip bomb's directory).
MAX_ZIP_ENTRIES = 5000
#: The central directory is read whole (it is where the names are): at most this.
MAX_CENTRAL_DIRECTORY = 2 * 1024 * 1024
_ZIP_LOCAL = b"PK\x03\x04"
_END = b"PK\x05\x06"
_END_SIZE = 22
_ZIP64_LOCATOR, _LOCATOR_SIZE = b"PK\x06\x07", 20
_MAX_COMMENT = 0xFFFF
#: OpenDocument: the first entry is ``mimetype``, stored, holding the type itself.
_OPEN_DOCUMENT = {ODT.content_type: ODT, ODS.content_type: ODS}


class TooManyEntries(Exception):
    """A zip whose directory is past the bounds (or in the zip64 form, for more entries or
    bytes than a document has): refused without being read."""


def _zip_kind(handle: BinaryIO) -> FileKind | None:
    """The office format of a zip, from its entries' names; None for any other zip."""
    handle.seek(0, 2)
    size = handle.tell()
    tail_size = min(size, _END_SIZE + _MAX_COMMENT)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < _END_SIZE:
        return None
    entries, directory_size = struct.unpack("<xxxxxxxxxxHI", tail[at : at + 16])
    if entries > MAX_ZIP_ENTRIES or directory_size > MAX_CENTRAL_DIRECTORY:
        raise TooManyEntries
    # A zip64 record would give the reader sizes these bounds never saw; no document needs one.
    end_at = size - tail_size + at
    if end_at >= _LOCATOR_SIZE:
        handle.seek(end_at - _LOCATOR_SIZE)
        if handle.read(4) == _ZIP64_LOCATOR:
            raise TooManyEntries
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:  # a zip64 record may say more than the end one
                raise TooManyEntries
            names = {info.filename for info in infos}
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
            if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                return XLSX
            first = infos[0] if infos else None
            if first is None or first.filename != "mimetype" or first.file_size > 100:
                return None
            with archive.open(first) as entry:
                declared = entry.read(100).decode("ascii", "replace").strip()
            return _OPEN_DOCUMENT.get(declared)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError):
        return None


def kind_of(path: Path) -> FileKind | None:
    """The kind ``path`` holds, from its first bytes (and a zip's directory); None when it is
    none of :data:`KINDS`. Blocking."""
    with path.open("rb") as handle:
        start = handle.read(8)
        if start.startswith(b"%PDF-"):
            return PDF
        if start.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG
        if start.startswith(b"\xff\xd8\xff"):
            return JPEG
        if start.startswith(_ZIP_LOCAL):
            return _zip_kind(handle)
    return None


def checked_kind(path: Path, name: str) -> FileKind:
    """The kind of an uploaded file named ``name``, or the refusal naming it: not a kind a
    document carries, a zip past the bounds, or content other than its extension says."""
    try:
        kind = kind_of(path)
    except TooManyEntries:
        raise Invalid(refusals.FILE_TOO_MANY_ENTRIES(name=name), code="bad-file") from None
    if kind is None:
        raise Invalid(refusals.FILE_KIND_REFUSED(name=name, kinds=ACCEPTED), code="bad-file")
    if not name.lower().endswith(kind.extensions):
        raise Invalid(
            refusals.FILE_NAME_MISLEADS(name=name, kind=kind.name.upper()), code="bad-file"
        )
    return kind


async def check_upload(path: Path, name: str) -> FileKind:
    """:func:`checked_kind` in a thread: a large file or a crafted zip never holds the loop."""
    return await asyncio.to_thread(checked_kind, path, name)


def received_content_type(path: Path) -> str | None:
    """The content type of a file that came from another node, by its content; None when it
    is none of :data:`KINDS` (a received document is kept whatever its files are: its sender
    signed them). Blocking."""
    try:
        kind = kind_of(path)
    except TooManyEntries:
        return None
    return kind.content_type if kind is not None else None


def label_of(content_type: str) -> str:
    """The short name of a stored file's kind (``pdf``…), or ``other``: the pages' label."""
    return next((kind.name for kind in KINDS if kind.content_type == content_type), "other")
