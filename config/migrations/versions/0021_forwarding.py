"""Forwarding (chuyển tiếp): a district passes a received document down to its communes as a
new dispatch. The district keeps each forward (to whom, as which dispatch, when it left); the
commune's copy names the unit that forwarded it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, never in a batch (see 0019: a batch on SQLite copies and drops the table, and
    # the drop would cascade to every document's files and events).
    op.add_column(
        "documents", sa.Column("forwarded_by", sa.String(255), nullable=False, server_default="")
    )
    op.create_table(
        "document_forwards",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("forwarded_by", sa.Integer(), nullable=True),
        sa.Column("forwarded_at", UTCDateTime(), nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_forwards_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["forwarded_by"],
            ["users.id"],
            name=op.f("fk_document_forwards_forwarded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_forwards")),
        sa.UniqueConstraint("dispatch_id", name=op.f("uq_document_forwards_dispatch_id")),
    )
    op.create_index(op.f("ix_document_forwards_document_id"), "document_forwards", ["document_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_document_forwards_document_id"), table_name="document_forwards")
    op.drop_table("document_forwards")
    # Dropped in place (SQLite 3.35 on), for the reason given in upgrade().
    op.execute("ALTER TABLE documents DROP COLUMN forwarded_by")
