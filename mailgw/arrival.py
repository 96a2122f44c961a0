"""A ``mail`` dispatch from another node: its message joins this node's delivery queue.

The handler runs inside the transaction that marks the dispatch handled, so the queue row and
that mark are written together: a crash before the commit leaves the dispatch to be handed over
again, and a second hand-over finds the row and adds nothing. The delivery worker then files the
message for each recipient that exists here and bounces the others to the sender.
"""

from __future__ import annotations

import asyncio
import uuid
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from config.logging import get_logger
from exchange.handlers import ReceivedDispatch
from mailgw.addresses import normalise
from mailgw.delivery import MAIL_DISPATCH_NAMESPACE
from mailgw.gateway import MailGateway
from mailgw.models import QueuedMail
from mailgw.parsing import authors, header_block

log = get_logger("congvan.mailgw.arrival")

WAKE_DELAY_SECONDS = 0.5


def _authors(message: Path) -> list[str]:
    return authors(BytesHeaderParser(policy=policy.compat32).parsebytes(header_block(message)))


def arrival_queue_id(dispatch_id: str) -> str:
    """The queue id of a dispatch's message: the same at every hand-over."""
    return str(uuid.uuid5(MAIL_DISPATCH_NAMESPACE, f"arrived/{dispatch_id}"))


class MailArrival:
    def __init__(self, gateway: MailGateway) -> None:
        self.gateway = gateway

    def _authors_belong_to(self, dispatch: ReceivedDispatch) -> bool:
        """Every ``From:`` address is of the unit that signed the dispatch, as the envelope
        sender must be: a node speaks for its own users only."""
        authors = _authors(dispatch.files[0])
        units = [self.gateway.book.unit_of(author) for author in authors]
        return bool(authors) and all(
            unit is not None and unit.code == dispatch.header.sender for unit in units
        )

    async def receive(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        header = dispatch.header
        queue_id = arrival_queue_id(header.id)
        if await session.get(QueuedMail, queue_id) is not None:
            return
        book = self.gateway.book
        mail_from = normalise(str(dispatch.metadata.get("mail_from", "")))
        sender_unit = book.unit_of(mail_from) if mail_from else None
        if mail_from and (sender_unit is None or sender_unit.code != header.sender):
            # A unit signs only for its own users: anything else is spoofed, and is not
            # delivered (nor bounced, which would go to the spoofed address).
            log.warning("mail.foreign_sender", dispatch_id=header.id, unit=header.sender)
            return
        if not dispatch.files or not self._authors_belong_to(dispatch):
            log.warning("mail.foreign_author", dispatch_id=header.id, unit=header.sender)
            return
        recipients = []
        for address in dispatch.metadata.get("recipients", []):
            unit = book.unit_of(str(address))
            if unit is not None and unit.code in dispatch.units:
                recipients.append(normalise(str(address)))
            else:
                log.warning("mail.misaddressed_recipient", dispatch_id=header.id)
        if not recipients:
            log.warning("mail.nothing_to_deliver", dispatch_id=header.id)
            return
        loop = asyncio.get_running_loop()
        blob = await loop.run_in_executor(None, self.gateway.blobs.put_file, dispatch.files[0])
        await self.gateway.enqueue(
            session,
            queue_id,
            blob,
            mail_from=mail_from,
            recipients=recipients,
            unit=dispatch.units[0],
            origin="dispatch",
        )
        # The worker is woken once the hand-over's transaction has (most likely) committed;
        # should it look too early, its next poll finds the message.
        loop.call_later(WAKE_DELAY_SECONDS, self.gateway.queued.set)
        log.info("mail.arrived", dispatch_id=header.id, queue_id=queue_id, bytes=blob.size)
