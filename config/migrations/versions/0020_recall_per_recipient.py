"""Recall per recipient, with a named replacement, and recall requests that came early.

``document_recalls``: on the sender's side one row per recipient asked to recall a document,
on a receiver's side one row per document a request reached, each with the replacement the
sender named. ``early_recalls``: a recall request (status 13) kept until the dispatch it
recalls arrives.

Before this revision a recall went to every recipient at once: each outgoing document already
asked keeps that, as one row per recipient at the time of its first request, so none of them
is offered for asking again.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_documents = sa.table(
    "documents",
    sa.column("id", sa.Integer()),
    sa.column("direction", sa.String()),
    sa.column("recipients", sa.Text()),
    sa.column("recall_state", sa.String()),
)
_events = sa.table(
    "document_events",
    sa.column("document_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("at", UTCDateTime()),
)
_recalls = sa.table(
    "document_recalls",
    sa.column("document_id", sa.Integer()),
    sa.column("unit", sa.String()),
    sa.column("requested_at", UTCDateTime()),
    sa.column("replacement_number_symbol", sa.String()),
    sa.column("replacement_summary", sa.Text()),
)


def upgrade() -> None:
    op.create_table(
        "document_recalls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("replacement_dispatch_id", sa.String(36), nullable=True),
        sa.Column("replacement_number_symbol", sa.String(64), nullable=False),
        sa.Column("replacement_issued_on", sa.Date(), nullable=True),
        sa.Column("replacement_summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_recalls_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_recalls")),
    )
    op.create_index(
        "ix_document_recalls_unit", "document_recalls", ["document_id", "unit"], unique=True
    )
    op.create_table(
        "early_recalls",
        sa.Column("status_id", sa.String(36), nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=False),
        sa.Column("sender", sa.String(32), nullable=False),
        sa.Column("units", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_early_recalls")),
    )
    op.create_index("ix_early_recalls_dispatch_id", "early_recalls", ["dispatch_id"])
    _asked_before()


def _asked_before() -> None:
    """Every recipient of an outgoing document already asked, as asked at its first request."""
    connection = op.get_bind()
    first_asked = (
        sa.select(_events.c.document_id, sa.func.min(_events.c.at).label("at"))
        .where(_events.c.action == "recall-requested")
        .group_by(_events.c.document_id)
        .subquery()
    )
    asked = connection.execute(
        sa.select(_documents.c.id, _documents.c.recipients, first_asked.c.at)
        .join(first_asked, first_asked.c.document_id == _documents.c.id)
        .where(_documents.c.direction == "outgoing", _documents.c.recall_state.is_not(None))
    )
    rows = [
        {
            "document_id": document_id,
            "unit": unit,
            "requested_at": at,
            "replacement_number_symbol": "",
            "replacement_summary": "",
        }
        for document_id, recipients, at in asked
        for unit in dict.fromkeys(code for code in (recipients or "").split(",") if code)
    ]
    if rows:
        connection.execute(sa.insert(_recalls), rows)


def downgrade() -> None:
    op.drop_index("ix_early_recalls_dispatch_id", table_name="early_recalls")
    op.drop_table("early_recalls")
    op.drop_index("ix_document_recalls_unit", table_name="document_recalls")
    op.drop_table("document_recalls")
