"""The work schedules as a feature of the staff web app; a calendar feed is open to calendar
apps, whose secret token in the path is the credential."""

from __future__ import annotations

from aiohttp import web

from office.schedules.messages import MESSAGES
from office.schedules.web import feeds, week
from office.web.feature import Feature, Section


def add_routes(app: web.Application) -> None:
    week.add_routes(app)
    feeds.add_routes(app)


FEATURE = Feature(
    "schedules",
    add_routes,
    MESSAGES,
    is_public=feeds.is_feed,
    sections=(Section("schedule", "/schedule", position=30),),
)
