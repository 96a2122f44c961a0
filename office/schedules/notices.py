"""Telling the people concerned that a published line changed: an internal mail from the
person who changed it to the line's chair and attendees (before and after the change), through
the node's mail gateway like any other mail, so it reaches their mailbox and mail programs.

A notice that cannot be sent is logged; it never undoes the change. A person not cleared for
the line's secrecy is not sent a notice at all (the form refuses such a chair or attendee, but a
clearance may be lowered after the line was saved, or the person was just taken off the line):
the notice would carry the line's content, and the page it links to hides the line from them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.errors import CongvanError
from config.logging import get_logger
from keys.models import User
from keys.signin import StaffMember
from mailgw import composing
from mailgw.gateway import MailGateway
from office.schedules.weeks import Change

log = get_logger("congvan.office.schedules")


def notice_text(change: Change, editor: StaffMember, link: str) -> tuple[str, str]:
    """The subject and body of the mail (Vietnamese: the mail is read as it was sent)."""
    what = "hoãn/huỷ" if change.cancelled else "điều chỉnh"
    subject = f"Lịch công tác tuần {change.week_start:%d/%m/%Y} được {what}"
    body = (
        f"Lịch công tác tuần từ {change.week_start:%d/%m/%Y} của đơn vị đã được {what}:\n\n"
        f"    {change.content}\n\n"
        f"Người thay đổi: {editor.full_name or editor.username}.\n"
        f"Xem lịch mới nhất: {link}\n"
    )
    return subject, body


async def notify(
    gateway: MailGateway | None,
    sessions: async_sessionmaker[AsyncSession],
    editor: StaffMember,
    change: Change,
    link: str,
    now: datetime,
) -> int:
    """Mail the people concerned (not the editor) who are cleared for the line, as their
    clearance is now; how many were told."""
    people = change.people - {editor.id}
    if gateway is None or not change.adjusted or not people:
        return 0
    try:
        sender = await gateway.mailbox(editor.username)
        if sender is None:
            return 0
        async with sessions() as session:
            usernames = (
                await session.scalars(
                    select(User.username).where(
                        User.id.in_(people), User.clearance >= change.secrecy
                    )
                )
            ).all()
        if len(usernames) < len(people):
            log.info(
                "schedule.notice_withheld",
                week_id=change.week_id,
                people=len(people) - len(usernames),
            )
        addresses = []
        for username in usernames:
            mailbox = await gateway.mailbox(username)
            if mailbox is not None:
                addresses.append(mailbox.address)
        if not addresses:
            return 0
        subject, body = notice_text(change, editor, link)
        draft = composing.Draft(
            to=composing.parse_addresses(", ".join(addresses), "người nhận"),
            cc=(),
            subject=subject,
            body=body,
        )
        content = await asyncio.get_running_loop().run_in_executor(
            None, composing.build, draft, sender, now
        )
        await gateway.submit(sender, sender.address, draft.recipients, content, origin="web")
    except CongvanError as error:
        log.warning("schedule.notice_not_sent", week_id=change.week_id, reason=error.code)
        return 0
    log.info("schedule.notified", week_id=change.week_id, recipients=len(addresses))
    return len(addresses)
