"""Thư điện tử: the web mailbox. Inbox and sent folders (search without diacritics), reading
a mail (its HTML sanitised, nothing remote loaded) and its attachments, handing a mail to the
unit's clerk as an incoming document, and the CA certificate mail clients install. Writing a
mail is :mod:`office.mail.web.compose`.

Every page answers for the signed-in user's own mail only: another user's mail answers exactly
like one that does not exist. A node without a mail gateway answers every mail page with a
page that says so.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from config.errors import Invalid, NotFound
from config.file_names import attachment_disposition
from config.logging import get_logger
from mailgw import mailbox, reading
from mailgw.mailbox import PAGE_SIZE
from mailgw.models import INBOX, SENT
from office.documents import from_mail
from office.documents.desk import DESK
from office.mail.web.requests import (
    FOLDER_PATHS,
    gateway_of,
    mail_id_of,
    mail_summary,
    mail_view,
    number,
)
from office.web import once
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, STAFF, UNREAD_MAIL, translator

log = get_logger("congvan.web.mail")

MAX_QUERY = 200
#: What a folder page may say an action did (``?notice=…`` after the redirect).
NOTICES = frozenset({"sent", "unread", "document"})
#: A mail's page loads styles from this site and nothing else: no image, frame or font from
#: anywhere, not even this site's own images (a mail cannot point at them either).
MAIL_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'none'; script-src 'none'; "
    "object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: An attachment is downloaded, never shown as a page of this site.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


@web.middleware
async def count_unread(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The menu's unread count on every page a signed-in user opens (one COUNT)."""
    site, staff = request.app[SITE], request.get(STAFF)
    if staff is not None and site.mail is not None and request.method == "GET":
        async with site.reads() as session:
            request[UNREAD_MAIL] = await mailbox.unread_count(session, staff.id)
    return await handler(request)


async def _folder(request: web.Request, folder: str) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    gateway = gateway_of(request)
    translate = translator(request)
    query = request.query.get("q", "")[:MAX_QUERY].strip()
    page = max(1, number(request.query.get("page"), 1))
    async with site.sessions() as session:
        rows = await mailbox.list_folder(
            session,
            staff.id,
            folder,
            query=query,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE + 1,
        )
        total = await mailbox.count_folder(session, staff.id, folder, query)
    own = await gateway.mailbox(staff.username)
    notice = request.query.get("notice")
    smtp = gateway.settings
    return render(
        request,
        "mail/mail_list.html",
        {
            "title": translate("mail.inbox" if folder == INBOX else "mail.sent"),
            "folder": folder,
            "folder_path": FOLDER_PATHS[folder],
            "rows": rows[:PAGE_SIZE],
            "more": len(rows) > PAGE_SIZE,
            "page": page,
            "query": query,
            "total": total,
            "notice": notice if notice in NOTICES else None,
            "address": own.address if own is not None else "",
            "smtp_enabled": smtp.enabled,
            "smtp_host": smtp.hostname or request.url.host or "",
            "smtp_port": smtp.port,
            "smtp_tls_port": smtp.tls_port,
            "ca_available": bool(site.ca_pem),
        },
    )


async def inbox_page(request: web.Request) -> web.Response:
    return await _folder(request, INBOX)


async def sent_page(request: web.Request) -> web.Response:
    return await _folder(request, SENT)


async def read_page(request: web.Request) -> web.Response:
    """A mail, marked read as it is opened."""
    site, staff = request.app[SITE], request[STAFF]
    gateway = gateway_of(request)
    async with site.sessions() as session, session.begin():
        summary = await mailbox.message(session, staff.id, mail_id_of(request))
        if not summary.seen:
            await mailbox.mark_seen(session, staff.id, summary.id, True)
    if not summary.seen and UNREAD_MAIL in request:
        request[UNREAD_MAIL] = max(0, request[UNREAD_MAIL] - 1)
    view = await mail_view(gateway, summary)
    notice = request.query.get("notice")
    response = render(
        request,
        "mail/mail_read.html",
        {
            "title": view.subject or translator(request)("mail.no_subject"),
            "mail": summary,
            "view": view,
            "html": Markup(view.html),  # noqa: S704 - sanitised by mailgw.reading.sanitise
            "folder_path": FOLDER_PATHS[summary.folder],
            "notice": notice if notice in NOTICES else None,
        },
    )
    response.headers["Content-Security-Policy"] = MAIL_CSP
    return response


async def download(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    gateway = gateway_of(request)
    summary = await mail_summary(site, staff.id, mail_id_of(request))
    described, content = await asyncio.get_running_loop().run_in_executor(
        None,
        reading.attachment,
        gateway.blobs.path(summary.blob_sha256),
        int(request.match_info["index"]),
    )
    return web.Response(
        body=content,
        headers={
            "Content-Type": described.content_type,
            "Content-Disposition": attachment_disposition(described.name),
            "Content-Security-Policy": DOWNLOAD_CSP,
        },
    )


async def mark_unread(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    gateway_of(request)
    async with site.sessions() as session, session.begin():
        summary = await mailbox.message(session, staff.id, mail_id_of(request))
        await mailbox.mark_seen(session, staff.id, summary.id, False)
    return see_other(URL(FOLDER_PATHS[summary.folder]).with_query(notice="unread"))


async def to_document(request: web.Request) -> web.Response:
    """Chuyển văn thư vào sổ: the mail becomes a document in the clerk's queue of the user's
    unit, once (the same mail again leads to the same document)."""
    site, staff = request.app[SITE], request[STAFF]
    gateway, desk = gateway_of(request), request.app[DESK]
    summary = await mail_summary(site, staff.id, mail_id_of(request))
    if summary.folder != INBOX:
        raise Invalid(translator(request)("mail.to_document.inbox_only"), code="not-inbox")
    key = from_mail.once_key(staff.unit, summary.blob_sha256)
    async with site.sessions() as session:
        outcome = await once.done_before(session, key)
    if outcome is None:
        files = await desk.mail_files(gateway.blobs.path(summary.blob_sha256))

        async def receive(session: AsyncSession) -> str:
            document = await from_mail.receive_mail(session, staff, summary, files, desk.now())
            await desk.index(session, document.id)
            log.info("mail.to_document", mail_id=summary.id, document_id=document.id)
            return f"/incoming/{document.id}"

        outcome = (await run_once(request, key, receive)).outcome
    async with site.sessions() as session:
        visible = await from_mail.may_see(session, staff, int(outcome.rsplit("/", 1)[1]))
    if visible:
        return see_other(outcome)
    # Handed over by a colleague before: the clerk has it, this user may not open it.
    return see_other(URL(f"/mail/{summary.id}").with_query(notice="document"))


async def ca_certificate(request: web.Request) -> web.Response:
    """The provincial CA's certificate, public: mail clients install it to trust the gateway."""
    pem = request.app[SITE].ca_pem
    if not pem:
        raise NotFound(translator(request)("error.not-found"))
    return web.Response(
        body=pem,
        headers={
            "Content-Type": "application/x-pem-file",
            "Content-Disposition": 'attachment; filename="congvan-ca.pem"',
        },
    )


def add_routes(app: web.Application) -> None:
    mail_id = r"{mail_id:\d{1,9}}"
    app.router.add_get("/mail", inbox_page, name="mail")
    app.router.add_get("/mail/sent", sent_page, name="mail_sent")
    app.router.add_get(f"/mail/{mail_id}", read_page, name="mail_message")
    app.router.add_get(
        rf"/mail/{mail_id}/attachments/{{index:\d{{1,4}}}}", download, name="mail_attachment"
    )
    app.router.add_post(f"/mail/{mail_id}/unread", mark_unread)
    app.router.add_post(f"/mail/{mail_id}/to-document", to_document)
    app.router.add_get("/ca.pem", ca_certificate, name="ca_certificate")
