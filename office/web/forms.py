"""Posted forms: their one-time form id (see :mod:`office.web.once`) and streamed uploads.

An upload form is ``multipart/form-data``. It is never read whole: its first field must be
the form token (the page puts it first), checked before any file is read; each file streams
to the blob store's staging folder and is refused the moment it passes the size limit. A file
becomes a blob only when the view keeps it, in the transaction that records it; whatever the
form's fate, :func:`staged_upload` removes what was not kept.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from multidict import MultiDict, MultiMapping

from config.blobs import BlobStorage, StagedBlob
from config.errors import Forbidden, Invalid
from config.file_names import clean_file_name
from office.web import refusals

FORM_ID_FIELD = "form_id"
MAX_TEXT_FIELD = 64 * 1024
MAX_FIELDS = 50
CHUNK = 64 * 1024


def new_form_id() -> str:
    return secrets.token_urlsafe(24)


def form_text(form: MultiMapping[Any], name: str) -> str:
    """A text field of a posted form; "" when absent or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_id_of(form: MultiDict[str] | object) -> str:
    value = form.get(FORM_ID_FIELD) if hasattr(form, "get") else None
    if not isinstance(value, str) or not 16 <= len(value) <= 64:
        raise Invalid(refusals.NO_FORM_ID(), code="bad-form")
    return value


@dataclass
class UploadForm:
    """A posted upload form: its text fields, and its files (name, content type, staged file)
    not yet in the blob store, in the order posted; ``file_fields`` names each file's input."""

    fields: MultiDict[str] = field(default_factory=MultiDict)
    files: list[tuple[str, str, StagedBlob]] = field(default_factory=list)
    file_fields: list[str] = field(default_factory=list)

    def files_of(self, name: str) -> list[tuple[str, str, StagedBlob]]:
        """The files posted in the input ``name``: a form with a main file and attachments."""
        return [
            file
            for file, field_name in zip(self.files, self.file_fields, strict=True)
            if field_name == name
        ]

    def keep(self, blobs: BlobStorage) -> None:
        """Move the files into the blob store: last in the transaction that records them."""
        for _name, _content_type, staged in self.files:
            blobs.keep(staged)

    def discard(self, blobs: BlobStorage) -> None:
        """Remove the files not kept."""
        for _name, _content_type, staged in self.files:
            blobs.discard(staged)


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def _bounded(part: BodyPartReader, limit: int) -> bytes:
    raw = bytearray()
    async for chunk in _chunks(part):
        raw += chunk
        if len(raw) > limit:
            raise Invalid(refusals.FIELD_TOO_LONG(), code="too-long")
    return bytes(raw)


async def _read_upload(
    request: web.Request,
    blobs: BlobStorage,
    limit: int,
    token_valid: Callable[[str], bool],
    form: UploadForm,
) -> None:
    """Read a multipart form into ``form``: ``token_valid(token) -> bool`` checks the first
    field, before any file is read."""
    if request.content_type != "multipart/form-data":
        raise Invalid(refusals.NOT_AN_UPLOAD_FORM(), code="bad-form")
    reader = await request.multipart()
    first = await reader.next()
    if not isinstance(first, BodyPartReader) or first.name != "csrf_token":
        raise Forbidden(refusals.NO_FORM_TOKEN(), code="csrf")
    token = (await _bounded(first, 512)).decode("utf-8", "replace")
    if not token_valid(token):
        raise Forbidden(refusals.BAD_FORM_TOKEN(), code="csrf")
    count = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        count += 1
        if count > MAX_FIELDS:
            raise Invalid(refusals.TOO_MANY_FIELDS(), code="bad-form")
        if part.filename is not None:
            if not part.filename:
                await part.release()
                continue
            staged = await blobs.stage_stream(_chunks(part), limit)
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            form.files.append((clean_file_name(part.filename), content_type, staged))
            form.file_fields.append(part.name)
            continue
        raw = await _bounded(part, MAX_TEXT_FIELD)
        form.fields.add(part.name, raw.decode("utf-8", "replace"))


@asynccontextmanager
async def staged_upload(
    request: web.Request,
    blobs: BlobStorage,
    limit: int,
    token_valid: Callable[[str], bool],
    form: UploadForm | None = None,
) -> AsyncIterator[UploadForm]:
    """The posted upload form, for the view's whole work; on the way out, the files the view
    did not keep are removed, whatever happened: a refused form, a file that is not a PDF, a
    double submit, a file past the limit. Fields go into ``form`` when given, so a caller
    still has those read before a refusal to show the form again with them."""
    form = form if form is not None else UploadForm()
    try:
        await _read_upload(request, blobs, limit, token_valid, form)
        yield form
    finally:
        form.discard(blobs)
