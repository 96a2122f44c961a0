"""The web mailbox as a member of staff uses it: the compose form filled and sent as a browser
sends it, and waiting for the delivery worker to file a mail in an inbox."""

from __future__ import annotations

import html
import re

import aiohttp

from mailgw import mailbox, reading
from mailgw.addresses import Mailbox
from mailgw.models import INBOX
from office.node.app import RunningNode
from tests.support.waiting import wait_for
from tests.support.web import Page, StaffAccount, StaffBrowser

#: Files to attach, by field: (file name, content, content type) each.
FILES = dict[str, list[tuple[str, bytes, str]]]


async def mailbox_of(node: RunningNode, account: StaffAccount) -> Mailbox:
    assert node.mail is not None
    found = await node.mail.mailbox(account.username)
    assert found is not None
    return found


async def signed_in(node: RunningNode, account: StaffAccount) -> StaffBrowser:
    browser = StaffBrowser(node.web_url)
    await browser.sign_in_as(account)
    return browser


def field(page: Page, name: str) -> str:
    """A form field's value as the page shows it (an input or a textarea)."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page.text) or re.search(
        rf'<textarea[^>]*name="{name}"[^>]*>\n?(.*?)</textarea>', page.text, re.S
    )
    return html.unescape(found.group(1)) if found else ""


async def send(
    browser: StaffBrowser,
    to: str,
    subject: str,
    body: str = "Kính gửi đồng chí.",
    *,
    files: FILES | None = None,
    form_path: str = "/mail/compose",
    form: Page | None = None,
    token: bool = True,
    **extra: str,
) -> Page:
    """Fill the compose form (as opened at ``form_path``, or the page ``form`` already shows)
    and send it, the token first."""
    if form is None:
        form = await browser.get(form_path)
        assert form.status == 200, form.text
    # Multipart even without a file, names in UTF-8 as they are: what a browser sends.
    data = aiohttp.FormData(quote_fields=False, default_to_multipart=True)
    if token:
        data.add_field("csrf_token", form.form_token)
    values = {"form_id": field(form, "form_id"), "to": to, "cc": "", "subject": subject}
    for name in ("reply", "forward"):
        if field(form, name):
            values[name] = field(form, name)
    for name, value in {**values, "body": body, **extra}.items():
        data.add_field(name, value)
    for name, entries in (files or {}).items():
        for filename, content, content_type in entries:
            data.add_field(name, content, filename=filename, content_type=content_type)
    return await browser.post("/mail/compose", data)


async def arrived(node: RunningNode, owner: Mailbox, subject: str) -> int:
    """Wait until the delivery worker has filed ``subject`` in the inbox; its id there."""
    found: list[int] = []

    async def filed() -> bool:
        async with node.sessions() as session:
            rows = await mailbox.list_folder(session, owner.user_id, INBOX, query=subject)
        found[:] = [row.id for row in rows if row.subject == subject]
        return bool(found)

    await wait_for(filed)
    return found[0]


def unread_badge(page: Page) -> int:
    found = re.search(r'id="unread-mail"[^>]*>(\d+)<', page.text)
    return int(found.group(1)) if found else 0


async def raw_mail(node: RunningNode, owner: Mailbox, mail_id: int) -> reading.MailView:
    assert node.mail is not None
    async with node.sessions() as session:
        summary = await mailbox.message(session, owner.user_id, mail_id)
    return reading.read(node.mail.blobs.path(summary.blob_sha256))
