"""Posted forms: one-time form ids (a double submit does the work once) and streamed uploads.

An upload form is ``multipart/form-data``. It is never read whole: its first field must be
the form token (the page puts it first), checked before any file is read; each file streams
into the blob store and is refused the moment it passes the size limit.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import BodyPartReader, web
from multidict import MultiDict
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.blobs import BlobStorage, StoredBlob
from config.errors import Forbidden, Invalid
from office.documents.models import FormSubmission

FORM_ID_FIELD = "form_id"
MAX_TEXT_FIELD = 64 * 1024
MAX_FIELDS = 50
CHUNK = 64 * 1024


def new_form_id() -> str:
    return secrets.token_urlsafe(24)


def form_id_of(form: MultiDict[str] | object) -> str:
    value = form.get(FORM_ID_FIELD) if hasattr(form, "get") else None
    if not isinstance(value, str) or not 16 <= len(value) <= 64:
        raise Invalid("Biểu mẫu thiếu mã gửi. Vui lòng tải lại trang.", code="bad-form")
    return value


async def done_before(session: AsyncSession, form_id: str) -> str | None:
    """Where the first submit of this form led, when it was submitted before."""
    return await session.scalar(select(FormSubmission.outcome).where(FormSubmission.key == form_id))


async def claim(session: AsyncSession, form_id: str, user_id: int) -> FormSubmission:
    """Mark the form handled, first in the transaction: a concurrent second submit waits on
    this row and then fails its insert, instead of doing the work again."""
    row = FormSubmission(key=form_id, user_id=user_id, outcome="/", at=datetime.now(UTC))
    session.add(row)
    await session.flush()
    return row


async def release(session: AsyncSession, form_id: str) -> None:
    """Forget a claim whose work was refused, so the corrected form may be sent again."""
    await session.execute(delete(FormSubmission).where(FormSubmission.key == form_id))


@dataclass
class UploadForm:
    fields: MultiDict[str] = field(default_factory=MultiDict)
    files: list[tuple[str, str, StoredBlob]] = field(default_factory=list)


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def _bounded(part: BodyPartReader, limit: int) -> bytes:
    raw = bytearray()
    async for chunk in _chunks(part):
        raw += chunk
        if len(raw) > limit:
            raise Invalid("Một trường của biểu mẫu dài quá giới hạn.", code="too-long")
    return bytes(raw)


async def read_upload(
    request: web.Request,
    blobs: BlobStorage,
    limit: int,
    token_valid: Callable[[str], bool],
    form: UploadForm | None = None,
) -> UploadForm:
    """Read a multipart form: ``token_valid(token) -> bool`` checks the first field. Fields
    go into ``form`` when given, so a caller still has those read before a refusal (a file
    past the limit) to show the form again with them."""
    if request.content_type != "multipart/form-data":
        raise Invalid("Biểu mẫu gửi tệp không đúng dạng.", code="bad-form")
    reader = await request.multipart()
    first = await reader.next()
    if not isinstance(first, BodyPartReader) or first.name != "csrf_token":
        raise Forbidden("Biểu mẫu thiếu mã bảo vệ.", code="csrf")
    token = (await _bounded(first, 512)).decode("utf-8", "replace")
    if not token_valid(token):
        raise Forbidden("Biểu mẫu thiếu mã bảo vệ hoặc mã không hợp lệ.", code="csrf")
    form = form if form is not None else UploadForm()
    count = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        count += 1
        if count > MAX_FIELDS:
            raise Invalid("Biểu mẫu có quá nhiều trường.", code="bad-form")
        if part.filename is not None:
            if not part.filename:
                await part.release()
                continue
            stored = await blobs.put_stream(_chunks(part), limit)
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            form.files.append((part.filename[-255:], content_type, stored))
            continue
        raw = await _bounded(part, MAX_TEXT_FIELD)
        form.fields.add(part.name, raw.decode("utf-8", "replace"))
    return form
