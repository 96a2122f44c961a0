"""PDF texts read after commit: the words of each PDF by its SHA-256, and the documents whose
search entry waits for a PDF's text or a received PDF's signature check.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pdf_texts",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_pdf_texts")),
    )
    op.create_table(
        "search_pending",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("leased_until", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_search_pending_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_search_pending")),
    )


def downgrade() -> None:
    op.drop_table("search_pending")
    op.drop_table("pdf_texts")
