"""Soạn thư: writing a mail in the web mailbox, a reply (``?reply=ID``) or a forward
(``?forward=ID``) of one's own mail. It is sent through the mail gateway, as an SMTP client's
would be, so the same rules refuse it; a refusal shows the form again as it was typed.

The attachments stream into the blob store and are refused the moment they pass the message
size limit; a double click sends one mail (the form's one-time id is claimed before sending,
and given back if the gateway refuses the mail, so the corrected form may be sent).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from multidict import MultiDict, MultiMapping

from config.blobs import UploadTooLarge
from config.errors import Invalid
from mailgw import composing, reading, refusals
from mailgw.addresses import Mailbox
from mailgw.gateway import MailGateway, MailRefused
from office.documents.desk import DESK
from office.formats import format_datetime, local_time
from office.mail.web.requests import (
    byte_count,
    gateway_of,
    mail_summary,
    mail_view,
    number,
    own_mailbox,
)
from office.web import forms
from office.web.auth import upload_token_check
from office.web.once import claim_only, run_once
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator

SENT_DONE = "/mail/sent?notice=sent"


async def _prefill(request: web.Request, gateway: MailGateway) -> MultiDict[str]:
    """The form of a reply (``?reply=ID``) or a forward (``?forward=ID``) of one's own mail."""
    site, staff, translate = request.app[SITE], request[STAFF], translator(request)
    values: MultiDict[str] = MultiDict()
    for action in ("reply", "forward"):
        mail_id = number(request.query.get(action))
        if not mail_id:
            continue
        summary = await mail_summary(site, staff.id, mail_id)
        view = await mail_view(gateway, summary)
        when = format_datetime(view.sent_at or summary.received_at)
        values[action] = str(mail_id)
        if action == "reply":
            values["to"] = view.reply_to
            values["subject"] = composing.reply_subject(view.subject)
            said = translate("mail.reply.said", when=when, who=view.from_text)
            values["body"] = f"\n\n{said}\n{composing.quote(view.text)}\n"
        else:
            values["subject"] = composing.forward_subject(view.subject)
            header = "\n".join(
                (
                    translate("mail.forward.header"),
                    f"{translate('mail.from')}: {view.from_text}",
                    f"{translate('mail.date')}: {when}",
                    f"{translate('mail.subject')}: {view.subject}",
                    f"{translate('mail.to')}: {view.to_text}",
                )
            )
            values["body"] = f"\n\n{header}\n\n{view.text}\n"
        break
    return values


async def _compose_form(
    request: web.Request,
    values: MultiMapping[str],
    *,
    refusal: str | None = None,
    status: int = 200,
) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    gateway = gateway_of(request)
    carried: tuple[reading.Attachment, ...] = ()
    forward_id = number(values.get("forward"))
    if forward_id:
        carried = (
            await mail_view(gateway, await mail_summary(site, staff.id, forward_id))
        ).attachments
    own = await own_mailbox(request, gateway)
    return render(
        request,
        "mail/mail_compose.html",
        {
            "title": translator(request)("mail.compose"),
            "values": values,
            "form_id": values.get("form_id") or forms.new_form_id(),
            "sender": own.header_address,
            "carried": carried,
            "limit": byte_count(gateway.settings.max_message_bytes),
            "refusal": refusal,
        },
        status=status,
    )


async def compose_page(request: web.Request) -> web.Response:
    return await _compose_form(request, await _prefill(request, gateway_of(request)))


async def _draft(
    request: web.Request, gateway: MailGateway, upload: forms.UploadForm
) -> composing.Draft:
    site, staff, translate = request.app[SITE], request[STAFF], translator(request)
    fields = upload.fields
    limit = gateway.settings.max_message_bytes
    if sum(blob.size for _name, _type, blob in upload.files) > limit:
        raise UploadTooLarge(translate("mail.compose.too_large", limit=byte_count(limit)))
    in_reply_to = references = ""
    reply_id, forward_id = number(fields.get("reply")), number(fields.get("forward"))
    if reply_id:
        original = await mail_view(gateway, await mail_summary(site, staff.id, reply_id))
        in_reply_to, references = composing.thread_of(original)
    forwarding = None
    if forward_id:
        forwarded = await mail_summary(site, staff.id, forward_id)
        forwarding = gateway.blobs.path(forwarded.blob_sha256)
    return composing.Draft(
        to=composing.parse_addresses(fields.get("to", ""), refusals.TO),
        cc=composing.parse_addresses(fields.get("cc", ""), refusals.CC),
        subject=composing.one_line(fields.get("subject", "")),
        body=fields.get("body", ""),
        uploads=tuple(
            composing.Upload(name, content_type, staged.path)
            for name, content_type, staged in upload.files
        ),
        forwarding=forwarding,
        in_reply_to=in_reply_to,
        references=references,
    )


async def compose_submit(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    sender = await own_mailbox(request, gateway)
    limit = gateway.settings.max_message_bytes
    upload = forms.UploadForm()
    # The attachments go into the mail's own blob: none is kept in the store.
    try:
        async with forms.staged_upload(
            request, gateway.blobs, limit, upload_token_check(request), upload
        ):
            form_id = forms.form_id_of(upload.fields)
            draft = await _draft(request, gateway, upload)
            return await _send(request, sender, form_id, draft, upload)
    except UploadTooLarge:
        refusal = translator(request)("mail.compose.too_large", limit=byte_count(limit))
        return await _compose_form(request, upload.fields, refusal=refusal, status=413)
    except Invalid as invalid:
        return await _compose_form(
            request, upload.fields, refusal=translator(request).refusal(invalid), status=400
        )


async def _send(
    request: web.Request,
    sender: Mailbox,
    form_id: str,
    draft: composing.Draft,
    upload: forms.UploadForm,
) -> web.Response:
    """Claim the form, then build the mail and hand it to the gateway (a double click sends
    one mail); a refusal gives the form back as typed, claim released."""
    gateway = gateway_of(request)

    async def submit() -> None:
        gateway.check_rate(sender)
        content = await asyncio.get_running_loop().run_in_executor(
            None, composing.build, draft, sender, local_time(request.app[DESK].now())
        )
        await gateway.submit(sender, sender.address, draft.recipients, content, origin="web")

    try:
        # A refusal, or a database or disk failure, queued nothing: the claim is released.
        sent = await run_once(request, form_id, claim_only(SENT_DONE), then=submit)
    except (Invalid, MailRefused) as refusal:
        return await _compose_form(
            request,
            upload.fields,
            refusal=translator(request).refusal(refusal),
            status=refusal.http_status,
        )
    return see_other(sent.outcome)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/mail/compose", compose_page, name="mail_compose")
    app.router.add_post("/mail/compose", compose_submit, name="mail_compose.upload")
