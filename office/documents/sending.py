"""Phát hành, after the number: sign the PDF with the unit's key, then send it, each step
recorded as it completes, so a step that fails or a node that stops midway is simply taken up
again by the next attempt.

Why this order, and why no single transaction: the number must be written in the same
transaction as the state that says it was given (``issued``), or a crash would lose it or a
retry would take a second one. Signing (a second or more of CPU) and sealing (encrypting the
PDF to every recipient) cannot run inside that transaction without holding the register
counter's lock, and on SQLite the write lock of the whole database, while they run. So:

1. one transaction: the number, the symbol, ``issued``, and the dispatch id (a UUID kept on the
   document: every attempt seals the same dispatch id, and the receivers' duplicate handling
   makes a repeated delivery harmless);
2. sign, keep the signed PDF (the first one kept stays: a second attempt reuses it);
3. ``Outbox.send``, which commits the outbound dispatch in its own transaction; an attempt
   that finds that row already there (the node stopped after it) does not send again;
4. ``sent``.

A failure in 2 or 3 (a revoked signing certificate, a stale directory, a unit missing from it)
is logged on the document with its reason; the clerk fixes the cause and presses "Gửi lại".
Two attempts at once would seal the same folder twice, so an attempt holds a lease (its
``send-attempt`` event) that a second one respects.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from config.errors import CongvanError, Invalid
from config.logging import get_logger
from exchange.envelope import Attachment, Draft
from exchange.models import OutboundDispatch
from exchange.outbox import Outbox
from office.documents import outgoing, refusals
from office.documents.incoming import StoredFile
from office.documents.issue_lines import date_line, number_line
from office.documents.outgoing import SEND_FAILED, SendJob
from office.documents.pdf_verdicts import SignatureStatus
from office.documents.recall_requests import RecallPlan
from office.documents.records import log_event

if TYPE_CHECKING:
    from office.documents.desk import DocumentDesk

log = get_logger("congvan.office.outgoing")

PDF = "application/pdf"


async def send_issued(desk: DocumentDesk, document_id: int, user_id: int | None) -> str | None:
    """Sign and send an issued document, each at most once. The answer is the reason it was
    not sent (it stays ``issued``), or None when it is on its way (or was already)."""
    outbox = desk.outbox
    if outbox is None:
        raise Invalid(refusals.NO_EXCHANGE(), code="no-exchange")
    async with desk.sessions() as session:
        job = await outgoing.send_job(session, document_id)
        queued = (
            job is not None and await session.get(OutboundDispatch, job.dispatch_id) is not None
        )
    if job is None:
        return None
    try:
        if not queued:
            signed = job.signed or await _sign(desk, outbox, job)
            await outbox.send(job.unit, _draft(desk, job, signed))
    except CongvanError as error:
        async with desk.transaction() as session:
            log_event(session, document_id, user_id, SEND_FAILED, error.message, at=desk.now())
        log.warning(
            "document.send_failed",
            document_id=document_id,
            dispatch_id=job.dispatch_id,
            reason=error.code,
        )
        return error.message
    async with desk.transaction() as session:
        await outgoing.mark_sent(session, document_id, desk.now())
    log.info(
        "document.sent",
        document_id=document_id,
        dispatch_id=job.dispatch_id,
        to=list(job.recipients),
    )
    return None


def _issue_and_check(
    source: Path,
    target: Path,
    outbox: Outbox,
    unit: str,
    name: str,
    reason: str,
    lines: tuple[str, str],
) -> SignatureStatus:
    """Stamp the number and date, sign as the unit, then check the result as a receiver will:
    every signature valid, the signer's (if any) first and the unit's last (blocking: run in
    an executor)."""
    # pyHanko loads with the first document issued, not when the node starts.
    from office.documents.pdf_issue import issue_and_sign_as_unit
    from office.documents.pdf_signing import signature_status

    keys, ca = outbox.keyring.unit(unit), outbox.keyring.ca_certificate
    number, dated = lines
    issue_and_sign_as_unit(
        source,
        target,
        keys.signing_key,
        keys.signing_certificate,
        (ca,),
        number_line=number,
        date_line=dated,
        unit_name=name,
        reason=reason,
    )
    return signature_status(target, [ca])


async def _sign(desk: DocumentDesk, outbox: Outbox, job: SendJob) -> StoredFile:
    """The unit's signature on the PDF its signer signed, with the number and date stamped
    where the draft had their placeholders, in the same revision (Decree 30 Art. 16; HD 36
    point 1.3.1)."""
    name = desk.unit_name(job.unit)
    reason = f"Phát hành văn bản số {job.number_symbol}"
    place = desk.place_name(job.unit)
    lines = (number_line(job.number_symbol, job.style), date_line(place, job.issued_on, job.style))
    loop = asyncio.get_running_loop()
    with desk.scratch("sign-") as scratch:
        target = scratch / "signed.pdf"
        check = functools.partial(
            _issue_and_check,
            desk.blobs.path(job.main.sha256),
            target,
            outbox,
            job.unit,
            name,
            reason,
            lines,
        )
        status = await loop.run_in_executor(None, check)
        if status.state != "valid" or status.signatures[-1].role != "unit":
            raise Invalid(
                refusals.SIGNATURE_NOT_VERIFIED(problem=status.problem), code="bad-signature"
            )
        blob = await loop.run_in_executor(None, desk.blobs.put_file, target)
    stored = StoredFile(
        outgoing.symbol_file_name(job.number_symbol), PDF, blob.sha256, blob.size, "valid"
    )
    async with desk.transaction() as session:
        kept = await outgoing.keep_signed(session, job.document_id, stored, status.signed_by)
    log.info("document.signed", document_id=job.document_id, sha256=kept.sha256)
    return kept


def _draft(desk: DocumentDesk, job: SendJob, signed: StoredFile) -> Draft:
    """The dispatch: the signed PDF first (the receiver's main file), then the appendices and
    sources in the draft's order, each with its SHA-256 in the signed manifest; and the fields
    the receiver's clerk would otherwise type."""
    metadata = {
        "doc_type": job.doc_type,
        "summary": job.summary,
        "number_symbol": job.number_symbol,
        "issued_on": job.issued_on.isoformat(),
        "signer_name": job.signer_name,
        "urgency": job.urgency,
        "secrecy": job.secrecy,
        "pages": job.pages,
        "sender_name": desk.unit_name(job.unit),
    }
    files = (
        Attachment(signed.name, desk.blobs.path(signed.sha256), PDF),
        *(
            Attachment(file.name, desk.blobs.path(file.sha256), file.content_type)
            for file in job.attachments
        ),
    )
    return Draft(
        recipients=job.recipients,
        kind="document",
        metadata=metadata,
        attachments=files,
        urgency=job.urgency,
        id=job.dispatch_id,
    )


async def request_recall(desk: DocumentDesk, plan: RecallPlan, note: str) -> None:
    """Send the recall request (13) to the recipients chosen, naming the replacement if any;
    the caller records it after, so a request the exchange refuses leaves nothing marked.
    Sending it twice is harmless."""
    if desk.statuses is None:
        raise Invalid(refusals.NO_EXCHANGE(), code="no-exchange")
    header = await desk.statuses.request_recall(
        plan.dispatch_id,
        plan.sender,
        note,
        recipients=plan.units,
        details=plan.replacement.as_details() if plan.replacement else None,
    )
    log.info(
        "document.recall_sent", document_id=plan.document_id, status_id=header.id, to=plan.units
    )
