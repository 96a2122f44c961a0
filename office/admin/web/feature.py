"""Account administration as a feature of the staff web app."""

from __future__ import annotations

from aiohttp import web

from office.admin.messages import MESSAGES
from office.admin.web import accounts, organisation
from office.web.feature import Feature


def add_routes(app: web.Application) -> None:
    accounts.add_routes(app)
    organisation.add_routes(app)


FEATURE = Feature("admin", add_routes, MESSAGES, sections=(accounts.ADMIN,))
