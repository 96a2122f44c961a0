"""Migration 0020 (recall per recipient): a document whose recall was asked before it, when a
recall went to every recipient at once, keeps every recipient as asked (none is offered for
asking again), at the time of its first request; a document never recalled gets no row; and
the migration goes down and up again on the database under test."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from config import migrate
from config.database import UTCDateTime, create_engine
from config.settings import Settings

#: The revision that adds the recalls, and the one below it.
REVISION, BELOW = "0020", "0019"
ASKED = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)

DOCUMENTS = sa.table(
    "documents",
    *(
        sa.column(name, sa.String)
        for name in (
            "unit_code",
            "direction",
            "state",
            "doc_type",
            "summary",
            "recipients",
            "number_symbol",
            "sender_name",
            "signer_name",
            "direction_note",
            "note",
        )
    ),
    *(sa.column(name, sa.Integer) for name in ("id", "secrecy", "urgency", "version")),
    sa.column("recall_state", sa.String),
    sa.column("created_at", UTCDateTime()),
)
EVENTS = sa.table(
    "document_events",
    sa.column("document_id", sa.Integer),
    sa.column("at", UTCDateTime()),
    sa.column("action", sa.String),
    sa.column("note", sa.Text),
)

RECALLS = sa.table(
    "document_recalls",
    sa.column("document_id", sa.Integer),
    sa.column("unit", sa.String),
    sa.column("requested_at", UTCDateTime()),
    sa.column("replacement_dispatch_id", sa.String),
)


def a_document(document_id: int, direction: str, recall_state: str | None) -> dict[str, object]:
    return {
        "id": document_id,
        "unit_code": "TU",
        "direction": direction,
        "state": "sent" if direction == "outgoing" else "received",
        "doc_type": "CV",
        "summary": f"Văn bản {document_id}",
        "recipients": "HU-CAMLO,TX-DONGHA" if direction == "outgoing" else "",
        "recall_state": recall_state,
        "created_at": ASKED,
        **dict.fromkeys(
            ("number_symbol", "sender_name", "signer_name", "direction_note", "note"), ""
        ),
        **dict.fromkeys(("secrecy", "urgency"), 0),
        "version": 1,
    }


async def test_recalls_asked_before_keep_every_recipient_asked(province: Settings) -> None:
    engine = create_engine(province)
    try:
        await migrate.downgrade(engine, BELOW)
        async with engine.begin() as connection:
            await connection.execute(
                DOCUMENTS.insert(),
                [
                    a_document(901, "outgoing", "requested"),
                    a_document(902, "outgoing", None),
                    a_document(903, "incoming", "requested"),
                ],
            )
            await connection.execute(
                EVENTS.insert(),
                [
                    {"document_id": 901, "at": ASKED, "action": "recall-requested", "note": "x"},
                    {"document_id": 903, "at": ASKED, "action": "recall-requested", "note": "y"},
                ],
            )
        await migrate.upgrade(engine, REVISION)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(RECALLS).order_by(RECALLS.c.document_id, RECALLS.c.unit)
                )
            ).all()
        await migrate.downgrade(engine, BELOW)
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [
        (901, "HU-CAMLO", ASKED, None),
        (901, "TX-DONGHA", ASKED, None),
    ]
