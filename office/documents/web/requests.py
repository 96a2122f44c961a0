"""What every document page reads from its request the same way: the document's id, the
version its form showed, the register filters, and running a form's work once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid
from office.documents.desk import DESK
from office.documents.fields import DOC_TYPES, URGENCIES, day, level
from office.web import forms
from office.web.site import SITE, STAFF


def document_id_of(request: web.Request) -> int:
    return int(request.match_info["document_id"])


def form_version(form: MultiMapping[Any]) -> int:
    """The version of the document the form was shown with (stale forms are refused)."""
    try:
        return int(str(form.get("version", "")))
    except ValueError:
        raise Invalid(
            "Biểu mẫu thiếu phiên bản. Vui lòng tải lại trang.", code="bad-form"
        ) from None


def common_filters(query: MultiMapping[str]) -> dict[str, Any]:
    """The filters both registers take: dates, type, urgency, page."""
    urgency = query.get("urgency", "")
    try:
        page = max(1, int(query.get("page", "1")))
    except ValueError:
        page = 1
    return {
        "date_from": day(query.get("from"), "từ ngày"),
        "date_to": day(query.get("to"), "đến ngày"),
        "doc_type": query.get("type", "") if query.get("type") in DOC_TYPES else "",
        "urgency": level(urgency, "độ khẩn", URGENCIES) if urgency else None,
        "page": page,
    }


@dataclass(frozen=True)
class Once:
    #: Where the form leads: this submit's outcome, or the first submit's.
    outcome: str
    #: This submit did the work (False: it repeated one done before).
    fresh: bool


async def run_once(
    request: web.Request, form_id: str, work: Callable[[AsyncSession], Awaitable[str]]
) -> Once:
    """Run ``work`` in a transaction that first claims the form's one-time id. A second submit
    of the same form does nothing and is led where the first one went; one sent at the same
    moment waits on the claim, then finds it taken."""
    site, staff = request.app[SITE], request[STAFF]
    try:
        async with request.app[DESK].transaction() as session:
            earlier = await forms.done_before(session, form_id)
            if earlier is not None:
                return Once(earlier, fresh=False)
            claimed = await forms.claim(session, form_id, staff.id)
            claimed.outcome = await work(session)
            outcome = claimed.outcome
    except IntegrityError:
        async with site.sessions() as session:
            earlier = await forms.done_before(session, form_id)
        if earlier is None:
            raise
        return Once(earlier, fresh=False)
    return Once(outcome, fresh=True)
