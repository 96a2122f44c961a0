"""Sending a recorded forward (see :mod:`office.documents.forwarding`): sealed outside any
transaction, each step recorded as it completes, as issuing does (:mod:`office.documents.
sending`): the forward and its dispatch id are committed first; the outbox commits the queued
dispatch in its own transaction; then the forward is marked sent. An attempt that finds its
dispatch already queued (the node stopped after it) only marks it; one the exchange refuses is
logged with its reason and waits for the clerk's "Gửi lại".

The files go as they are kept, the main file first: their bytes, so the issuer's digital
signatures in each PDF, are those that arrived (Decree 30/2020 Art. 11); the dispatch itself is
signed by the forwarding unit and its node, as every dispatch is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.errors import CongvanError, Invalid
from config.logging import get_logger
from exchange.envelope import Attachment, Draft
from exchange.models import OutboundDispatch
from office.documents import forwarding, refusals

if TYPE_CHECKING:
    from office.documents.desk import DocumentDesk

log = get_logger("congvan.office.forwarding")


def forward_draft(desk: DocumentDesk, job: forwarding.ForwardJob) -> Draft:
    return Draft(
        recipients=job.recipients,
        kind="document",
        metadata=forwarding.forward_metadata(job, desk.unit_name),
        attachments=tuple(
            Attachment(file.name, desk.blobs.path(file.sha256), file.content_type)
            for file in job.files
        ),
        urgency=job.urgency,
        id=job.dispatch_id,
    )


async def send_forward(desk: DocumentDesk, forward_id: int, user_id: int | None) -> str | None:
    """Send a recorded forward, at most once. The answer is the reason it was not sent (it
    waits for another attempt), or None when it is on its way (or was already)."""
    outbox = desk.outbox
    if outbox is None:
        raise Invalid(refusals.NO_EXCHANGE(), code="no-exchange")
    async with desk.sessions() as session:
        job = await forwarding.forward_job(session, forward_id)
        queued = (
            job is not None and await session.get(OutboundDispatch, job.dispatch_id) is not None
        )
    if job is None:
        return None
    try:
        if not queued:
            await outbox.send(job.unit, forward_draft(desk, job))
    except CongvanError as error:
        async with desk.transaction() as session:
            await forwarding.mark_failed(
                session, forward_id, job.document_id, user_id, error.message, desk.now()
            )
        log.warning(
            "document.forward_failed",
            document_id=job.document_id,
            dispatch_id=job.dispatch_id,
            reason=error.code,
        )
        return error.message
    async with desk.transaction() as session:
        await forwarding.mark_sent(session, forward_id, desk.now())
    log.info(
        "document.forwarded",
        document_id=job.document_id,
        dispatch_id=job.dispatch_id,
        to=list(job.recipients),
        files=len(job.files),
    )
    return None
