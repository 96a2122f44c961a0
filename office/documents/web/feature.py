"""The document registers as a feature of the staff web app: incoming, outgoing, drafts and
the search."""

from __future__ import annotations

from aiohttp import web

from office.documents import (
    forward_messages,
    messages,
    review_messages,
    routing_messages,
    secrecy_messages,
)
from office.documents.web import (
    drafts,
    forwarding,
    incoming,
    outgoing,
    paper,
    registers,
    review,
    search,
    signing_key,
)
from office.web.feature import Feature, Section


def add_routes(app: web.Application) -> None:
    incoming.add_routes(app)
    forwarding.add_routes(app)
    registers.add_routes(app)
    search.add_routes(app)
    outgoing.add_routes(app)
    paper.add_routes(app)
    drafts.add_routes(app)
    review.add_routes(app)
    signing_key.add_routes(app)


FEATURE = Feature(
    "documents",
    add_routes,
    {
        language: {
            **messages.MESSAGES[language],
            **review_messages.MESSAGES[language],
            **forward_messages.MESSAGES[language],
            **secrecy_messages.MESSAGES[language],
            **routing_messages.MESSAGES[language],
        }
        for language in messages.MESSAGES
    },
    sections=(
        Section("incoming", "/incoming", position=10),
        Section("outgoing", "/outgoing", position=20),
        Section("search", "/search", position=50),
    ),
)
