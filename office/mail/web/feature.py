"""The web mailbox as a feature of the staff web app; the menu's unread count is its
middleware."""

from __future__ import annotations

from aiohttp import web

from office.mail.messages import MESSAGES
from office.mail.web import compose, mailbox
from office.web.feature import Feature, Section


def add_routes(app: web.Application) -> None:
    mailbox.add_routes(app)
    compose.add_routes(app)


FEATURE = Feature(
    "mail",
    add_routes,
    MESSAGES,
    middlewares=(mailbox.count_unread,),
    sections=(Section("mail", "/mail", position=40),),
)
