"""Helpers for document tests: PDFs, uploads through the real multipart form, form fields."""

from __future__ import annotations

import re
import secrets
import subprocess
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from sqlalchemy import func, select

from exchange.envelope import Attachment, Draft, Header
from office.documents.models import Document, DocumentFile, SearchPending
from office.documents.pdf_signing import simple_pdf
from office.node.app import RunningNode
from tests.support.waiting import wait_for
from tests.support.web import Page, StaffBrowser

FORM_ID = re.compile(r'name="form_id" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def make_pdf(folder: Path, name: str, *lines: str) -> Path:
    path = folder / name
    simple_pdf(lines or ("Công văn",), path)
    return path


def form_id(page: Page) -> str:
    found = FORM_ID.search(page.text)
    assert found, f"no form id on the page (status {page.status})"
    return found.group(1)


def version(page: Page) -> str:
    found = VERSION.search(page.text)
    assert found, "no version on the page"
    return found.group(1)


async def upload(
    browser: StaffBrowser,
    path: str,
    fields: dict[str, str],
    files: dict[str, tuple[str, bytes, str]],
    token: str | None,
) -> Page:
    """Post a multipart form as a browser does: the token first, then the fields and files."""
    data = aiohttp.FormData()
    if token is not None:
        data.add_field("csrf_token", token)
    for name, value in fields.items():
        data.add_field(name, value)
    for name, (filename, content, content_type) in files.items():
        data.add_field(name, content, filename=filename, content_type=content_type)
    return await browser.post(path, data)


def paper_fields(summary: str, **extra: str) -> dict[str, str]:
    """A paper document's fields; its number/symbol is new unless given (no duplicate alert)."""
    return {
        "doc_type": "CV",
        "summary": summary,
        "number_symbol": extra.pop("number_symbol", f"{secrets.randbelow(10**6)}-CV/HU"),
        "sender_name": extra.pop("sender_name", "Huyện uỷ Cam Lộ"),
        "issued_on": extra.pop("issued_on", "20/11/2026"),
        "urgency": "0",
        "secrecy": extra.pop("secrecy", "0"),
        **extra,
    }


def pdf_text(path: Path) -> str:
    """The text of a PDF as poppler's ``pdftotext`` reads it (a tool we did not write)."""
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


async def pending_search(node: RunningNode) -> int:
    """Documents whose search entry still waits for a PDF's text or signature check."""
    async with node.sessions() as session:
        return await session.scalar(select(func.count()).select_from(SearchPending)) or 0


async def indexed(node: RunningNode, seconds: float = 60) -> None:
    """Wait until the node's worker has read every PDF it was given (after each commit). The
    worker is woken by the commit and polls every 30 s besides: the wait outlasts one poll, so
    a loaded runner whose wake-up came late (CI saw it once) still finds the work done."""

    async def nothing_pending() -> bool:
        return await pending_search(node) == 0

    await wait_for(nothing_pending, seconds)


def slow_pdf(pages: int = 150, operators: int = 8_000) -> bytes:
    """A small PDF that takes pypdf about a minute to read: ``pages`` pages sharing one
    content stream of ``operators`` path operators and a single empty text, compressed to a
    few kilobytes (18 KB). pypdf parses the stream again for each page, and finds no text."""
    content = b"0 0 m\n" * operators + b"BT /F1 12 Tf () Tj ET\n"
    stream = zlib.compress(content, 9)
    kids = " ".join(f"{4 + page} 0 R" for page in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        (
            f"<< /Type /Pages /Kids [{kids}] /Count {pages} /Resources << /Font << /F1 "
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        ).encode(),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"] * pages,
    ]
    pdf = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        table,
    )
    return bytes(pdf)


async def upload_named(
    browser: StaffBrowser,
    path: str,
    fields: dict[str, str],
    file_name: str,
    content: bytes,
    token: str,
) -> Page:
    """Post a one-file upload form whose file name is sent as RFC 5987 ``filename*``, so it
    may hold what a header cannot (CR, LF, NUL): what a hostile client sends, and what
    ``aiohttp.FormData`` refuses to."""
    boundary = secrets.token_hex(12)
    parts = [("csrf_token", token), *fields.items()]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in parts
    )
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f"filename*=UTF-8''{quote(file_name, safe='')}\r\n"
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body += content + f"\r\n--{boundary}--\r\n".encode()
    async with browser.http.post(
        browser.base_url + path,
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        allow_redirects=False,
    ) as response:
        return Page(
            status=response.status,
            location=response.headers.get("Location"),
            text=await response.text(),
            headers=response.headers,
            set_cookies={},
        )


def files_under(folder: Path) -> list[Path]:
    """Every file under ``folder``, staging and scratch included."""
    return sorted(path for path in folder.rglob("*") if path.is_file())


async def sent_to_the_province(
    district: RunningNode, pdf: Path, metadata: dict[str, Any], *, urgency: int = 0
) -> Header:
    """A document Cam Lộ's node (``HU-CAMLO``) sends the province (``TU``) over the network:
    ``metadata`` as a district's issued document carries it, ``pdf`` its one file."""
    assert district.outbox is not None
    return await district.outbox.send(
        "HU-CAMLO",
        Draft(
            recipients=("TU",),
            kind="document",
            metadata=metadata,
            attachments=(Attachment(pdf.name, pdf, "application/pdf"),),
            urgency=urgency,
        ),
    )


async def arrived(node: RunningNode, dispatch_id: str) -> Document:
    """The incoming document a dispatch became on ``node``, once it is there."""

    async def find() -> Document | None:
        async with node.sessions() as session:
            return await session.scalar(select(Document).where(Document.dispatch_id == dispatch_id))

    async def there() -> bool:
        return await find() is not None

    await wait_for(there)
    found = await find()
    assert found is not None
    return found


async def enter_paper(browser: StaffBrowser, pdf: Path, summary: str, **extra: str) -> str:
    """Enter a paper document through the clerk's form (``pdf`` its scan, ``extra`` more
    fields); the document page's path."""
    form = await browser.get("/incoming/new")
    assert form.status == 200, form.text
    page = await upload(
        browser,
        "/incoming/new",
        {"form_id": form_id(form), **paper_fields(summary, **extra)},
        {"file": (pdf.name, pdf.read_bytes(), "application/pdf")},
        form.form_token,
    )
    assert page.status == 303, page.text
    assert page.location is not None
    return page.location


def id_from_path(path: str) -> int:
    """The id at the end of a document page's path."""
    return int(path.rsplit("/", 1)[1])


async def stored_document(node: RunningNode, document_id: int) -> Document:
    """The document as ``node`` holds it now."""
    async with node.sessions() as session:
        found = await session.get(Document, document_id)
    assert found is not None
    return found


async def stored_files(node: RunningNode, document_id: int) -> list[DocumentFile]:
    """The document's files as ``node`` holds them, in the order they were added."""
    async with node.sessions() as session:
        return list(
            await session.scalars(
                select(DocumentFile)
                .where(DocumentFile.document_id == document_id)
                .order_by(DocumentFile.id)
            )
        )
