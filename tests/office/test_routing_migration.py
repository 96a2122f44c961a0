"""Migration 0023 on a database with documents in it: a document directed before presenting
existed stays with the leader who directed it (only the leader a document is presented to
directs it again); one still waiting is presented to nobody, for the clerk to present; going
down and up again keeps every document and assignment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy import select

from config import migrate
from config.database import UTCDateTime, create_engine, open_database
from config.settings import Settings
from office.documents.models import Assignment, Document

OLD_USERS = sa.table(
    "users",
    *(sa.column(name, sa.String) for name in ("username", "full_name", "unit_code", "role")),
    *(sa.column(name, sa.String) for name in ("password_hash",)),
    *(sa.column(name, sa.Integer) for name in ("clearance", "failed_logins")),
    sa.column("disabled", sa.Boolean),
    sa.column("created_at", UTCDateTime()),
)
OLD_DOCUMENTS = sa.table(
    "documents",
    sa.column("id", sa.Integer),
    *(
        sa.column(name, sa.String)
        for name in (
            "unit_code",
            "direction",
            "state",
            "doc_type",
            "number_symbol",
            "summary",
            "sender_name",
            "signer_name",
            "direction_note",
            "recipients",
            "note",
        )
    ),
    *(sa.column(name, sa.Integer) for name in ("secrecy", "urgency", "version")),
    sa.column("created_at", UTCDateTime()),
)
OLD_ASSIGNMENTS = sa.table(
    "assignments",
    *(sa.column(name, sa.Integer) for name in ("document_id", "user_id", "assigned_by")),
    *(sa.column(name, sa.String) for name in ("part", "state")),
    sa.column("due_on", sa.Date),
    sa.column("assigned_at", UTCDateTime()),
)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def person(username: str, role: str) -> dict[str, object]:
    return {
        "username": username,
        "full_name": username,
        "unit_code": "TU",
        "role": role,
        "password_hash": "x",
        "clearance": 1,
        "failed_logins": 0,
        "disabled": False,
        "created_at": NOW,
    }


def incoming(document_id: int, state: str) -> dict[str, object]:
    return {
        "id": document_id,
        "unit_code": "TU",
        "direction": "incoming",
        "state": state,
        "doc_type": "CV",
        **{name: "" for name in ("number_symbol", "sender_name", "signer_name", "recipients")},
        "summary": f"Văn bản {document_id}",
        "direction_note": "",
        "note": "",
        "secrecy": 0,
        "urgency": 0,
        "version": 2,
        "created_at": NOW,
    }


async def test_migration_0023_leaves_directed_documents_with_the_leader_who_directed_them(
    province: Settings,
) -> None:
    engine = create_engine(province)
    try:
        await migrate.downgrade(engine, "0019")
        async with engine.begin() as connection:
            await connection.execute(
                OLD_USERS.insert(),
                [person("ld.truoc", "leader"), person("ld.sau", "leader"), person("cv", "staff")],
            )
            ids = dict((await connection.execute(sa.text("SELECT username, id FROM users"))).all())
            await connection.execute(
                OLD_DOCUMENTS.insert(),
                [incoming(9001, "assigned"), incoming(9002, "registered")],
            )
            await connection.execute(
                OLD_ASSIGNMENTS.insert(),
                [
                    {
                        "document_id": 9001,
                        "user_id": ids["cv"],
                        "assigned_by": leader,
                        "part": "lead",
                        "state": state,
                        "due_on": date(2026, 12, 10),
                        "assigned_at": NOW,
                    }
                    for leader, state in ((ids["ld.truoc"], "replaced"), (ids["ld.sau"], "open"))
                ],
            )
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()

    async with open_database(province) as sessions, sessions() as session:
        presented = dict((await session.execute(select(Document.id, Document.presented_to))).all())
        assert presented == {9001: ids["ld.sau"], 9002: None}

    engine = create_engine(province)
    try:
        await migrate.downgrade(engine, "0019")
        async with engine.connect() as connection:
            kept = (await connection.execute(sa.text("SELECT count(*) FROM assignments"))).scalar()
            documents = (
                await connection.execute(sa.text("SELECT count(*) FROM documents"))
            ).scalar()
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    assert (kept, documents) == (2, 2)
    async with open_database(province) as sessions, sessions() as session:
        assert len((await session.scalars(select(Assignment))).all()) == 2
