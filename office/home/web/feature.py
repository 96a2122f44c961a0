"""The home page as a feature of the staff web app."""

from __future__ import annotations

from aiohttp import web

from office.home.messages import MESSAGES
from office.home.web import pages
from office.web.feature import Feature


def add_routes(app: web.Application) -> None:
    pages.add_routes(app)


FEATURE = Feature("home", add_routes, MESSAGES)
