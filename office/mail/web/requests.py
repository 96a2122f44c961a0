"""What every mailbox page reads from its request the same way: the gateway (or a page
saying the node has none), the user's own mailbox, one of their mails and its parsed view."""

from __future__ import annotations

import asyncio

from aiohttp import web

from config.errors import NotFound
from mailgw import mailbox, reading
from mailgw.addresses import Mailbox
from mailgw.gateway import MailGateway
from mailgw.mailbox import MailSummary
from mailgw.models import INBOX, SENT
from office.web.site import SITE, STAFF, StaffSite, translator

FOLDER_PATHS = {INBOX: "/mail", SENT: "/mail/sent"}


def gateway_of(request: web.Request) -> MailGateway:
    gateway = request.app[SITE].mail
    if gateway is None:
        raise NotFound(translator(request)("mail.unavailable"), code="mail-unavailable")
    return gateway


async def own_mailbox(request: web.Request, gateway: MailGateway) -> Mailbox:
    found = await gateway.mailbox(request[STAFF].username)
    if found is None:
        raise NotFound(translator(request)("mail.no_mailbox"), code="no-mailbox")
    return found


def number(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def byte_count(size: int) -> str:
    """``25.000.000``: a byte count the Vietnamese way."""
    return f"{size:,}".replace(",", ".")


def mail_id_of(request: web.Request) -> int:
    return int(request.match_info["mail_id"])


async def mail_summary(site: StaffSite, user_id: int, mail_id: int) -> MailSummary:
    """One of the user's mails; another user's answers as a missing one."""
    async with site.sessions() as session:
        return await mailbox.message(session, user_id, mail_id)


async def mail_view(gateway: MailGateway, summary: MailSummary) -> reading.MailView:
    path = gateway.blobs.path(summary.blob_sha256)
    return await asyncio.get_running_loop().run_in_executor(None, reading.read, path)
