"""What a document's page says about the network's secrecy limit: whom the network may not
carry it to, and so which of issuing, resending and issuing on paper it offers (the rules:
:mod:`office.documents.secrecy`, :mod:`office.documents.paper`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from office.documents import access, outgoing
from office.documents.desk import DESK
from office.documents.models import Document
from office.web.site import STAFF


def network_context(request: web.Request, document: Document) -> dict[str, Any]:
    """What a document's page needs to offer issuing over the network or on paper: the
    recipients the network may not carry it to (named, to say why), and the steps allowed."""
    staff, desk = request[STAFF], request.app[DESK]
    limit = desk.network_limit
    barred = limit.network_recipients(document.secrecy, outgoing.recipients_of(document))
    clerk = access.may_register(staff)
    waiting = document.state in (outgoing.APPROVED, outgoing.ISSUED)
    return {
        "network_barred": [desk.unit_name(code) for code in barred],
        "network_limit": limit.max_secrecy,
        "may_issue": clerk and document.state == outgoing.APPROVED and not barred,
        "may_resend": clerk and document.state == outgoing.ISSUED and not barred,
        "may_issue_paper": clerk and waiting and document.secrecy > 0,
    }
