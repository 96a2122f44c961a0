"""Secret outgoing documents as register entries only: numbered and dated in the secret series of
the outgoing book, their recipients on paper, nothing sent over the network.

Why: a state secret travels on paper (or over the cipher service), never over congvan's network
(2018 Law on Protection of State Secrets, Art. 5 clauses 5-6); before a secret document is given
out it is registered as outgoing (Art. 15 of the Law, Decree 26/2020/NĐ-CP), and the e-office
keeps that entry: what the register needs (number, date, type and summary, signer, recipients,
secrecy), and a file only if the clerk attaches one, which never leaves the node
(:mod:`office.documents.secrecy`). Two ways in:

- :func:`issue_on_paper`: a secret draft approved in the e-office (or one numbered and never
  sent) is issued on paper: it takes its number as issuing would, and is not signed by the unit
  nor sent;
- :func:`enter_outgoing`: a secret document drafted and signed on paper, entered by the clerk.

The incoming side is :func:`office.documents.incoming.enter_paper` (a secret paper document is
registered without a scan).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid
from exchange.models import OutboundDispatch
from keys.signin import StaffMember
from office.documents import access, refusals, review_refusals, secrecy_refusals
from office.documents.fields import DocumentFields
from office.documents.incoming import StoredFile
from office.documents.models import OUTGOING, Document
from office.documents.numbering import next_outgoing_number
from office.documents.outgoing import (
    APPROVED,
    DRAFT,
    ISSUED,
    PAPER,
    REVIEWING,
    SIGNING,
    add_outgoing,
    require_signer,
)
from office.documents.records import change, log_event, visible_document

#: The history's entry: issued as a register entry, its paper sent by hand.
ISSUED_ON_PAPER = "issued-on-paper"


def _require_secret(secrecy: int) -> None:
    if secrecy < 1:
        raise Invalid(secrecy_refusals.PAPER_IS_FOR_SECRETS(), code="not-secret")


async def issue_on_paper(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    now: datetime,
    today: date,
) -> Document:
    """Cấp số, phát hành bản giấy: an approved secret draft takes the next number of its
    series (as :func:`office.documents.outgoing.issue` would) and today's date; one numbered
    already and never sent keeps its number. Only what its signer approved is issued (Decree 30
    Art. 13 and 16)."""
    access.require(access.may_register(staff), refusals.TO_ISSUE)
    document = await visible_document(session, staff, document_id, OUTGOING)
    _require_secret(document.secrecy)
    if document.state in (DRAFT, REVIEWING, SIGNING):
        raise Conflict(review_refusals.NOT_APPROVED(), code="not-approved")
    if document.state not in (APPROVED, ISSUED) or (
        document.dispatch_id is not None
        and await session.get(OutboundDispatch, document.dispatch_id) is not None
    ):
        # Sent, on paper already, or its dispatch sealed meanwhile: it is on its way.
        raise Conflict(secrecy_refusals.NOT_TO_ISSUE_ON_PAPER(), code="stale")
    if document.version != version:
        raise Conflict(refusals.STALE(), code="stale")
    if document.state == ISSUED:
        await change(session, document, version, state=PAPER)
    else:
        taken = await next_outgoing_number(
            session, staff.unit, document.doc_type, document.secrecy, today
        )
        await change(
            session,
            document,
            version,
            state=PAPER,
            **taken.register_entry(now, today),
        )
    log_event(session, document.id, staff.id, ISSUED_ON_PAPER, document.number_symbol, at=now)
    return document


async def enter_outgoing(
    session: AsyncSession,
    staff: StaffMember,
    fields: DocumentFields,
    recipients: Sequence[str],
    files: Sequence[StoredFile],
    now: datetime,
    today: date,
) -> Document:
    """Vào sổ văn bản mật đi: a secret document drafted and signed on paper, registered by the
    clerk with the next number of its series and today's date; its files are optional."""
    access.require(access.may_register(staff), refusals.TO_ISSUE)
    _require_secret(fields.secrecy)
    require_signer(fields)
    taken = await next_outgoing_number(session, staff.unit, fields.doc_type, fields.secrecy, today)
    document = await add_outgoing(
        session,
        staff,
        fields,
        recipients,
        files,
        now,
        state=PAPER,
        action="entered",
        **taken.register_entry(now, today),
    )
    log_event(session, document.id, staff.id, ISSUED_ON_PAPER, taken.symbol, at=now)
    return document
