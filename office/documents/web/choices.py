"""The document forms' and pages' choices (types, urgencies, secrecy levels), named in the
request's language."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from office.documents.fields import DOC_TYPES, SECRECY_LEVELS, URGENCIES
from office.web.site import translator


def document_choices(request: web.Request) -> dict[str, Any]:
    """The document forms' and pages' choices, named in the request's language."""
    translate = translator(request)
    return {
        "doc_types": {code: translate(f"doctype.{code}") for code in DOC_TYPES},
        "urgencies": {level: translate(f"urgency.{level}") for level in URGENCIES},
        "secrecy_levels": {level: translate(f"clearance.{level}") for level in SECRECY_LEVELS},
    }
