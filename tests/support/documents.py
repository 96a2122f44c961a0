"""Helpers for document tests: PDFs, uploads through the real multipart form, form fields."""

from __future__ import annotations

import re
import secrets
import subprocess
from pathlib import Path

import aiohttp

from office.pdf_signing import simple_pdf
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
