"""The document registers as a feature of the staff web app: incoming, outgoing, drafts and
the search."""

from __future__ import annotations

from aiohttp import web

from office.documents.messages import MESSAGES
from office.documents.web import drafts, incoming, outgoing, search
from office.web.feature import Feature, Section


def add_routes(app: web.Application) -> None:
    incoming.add_routes(app)
    search.add_routes(app)
    outgoing.add_routes(app)
    drafts.add_routes(app)


FEATURE = Feature(
    "documents",
    add_routes,
    MESSAGES,
    sections=(
        Section("incoming", "/incoming", position=10),
        Section("outgoing", "/outgoing", position=20),
        Section("search", "/search", position=50),
    ),
)
