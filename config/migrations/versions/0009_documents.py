"""The document registers: documents, files, counters, numbering styles, assignments, events,
handled forms.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "numbering_styles",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("style", sa.String(length=8), nullable=False),
        sa.Column("issuer", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", name=op.f("pk_numbering_styles")),
    )
    op.create_table(
        "register_counters",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("book", sa.String(length=8), nullable=False),
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", "book", "series", "year", name="pk_register_counters"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("secrecy", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=8), nullable=False),
        sa.Column("number_symbol", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("sender_name", sa.String(length=255), nullable=False),
        sa.Column("sender_unit", sa.String(length=32), nullable=True),
        sa.Column("signer_name", sa.String(length=255), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("register_year", sa.Integer(), nullable=True),
        sa.Column("register_series", sa.String(length=8), nullable=True),
        sa.Column("register_number", sa.Integer(), nullable=True),
        sa.Column("registered_at", UTCDateTime(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("direction_note", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("dispatch_id", sa.String(length=36), nullable=True),
        sa.Column("recall_state", sa.String(length=16), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_documents_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
            name=op.f("fk_documents_unit_code_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_dispatch", "documents", ["dispatch_id"], unique=False)
    op.create_index(
        "ix_documents_duplicate",
        "documents",
        ["unit_code", "sender_name", "number_symbol", "issued_on"],
        unique=False,
    )
    op.create_index(
        "ix_documents_queue", "documents", ["unit_code", "direction", "state"], unique=False
    )
    op.create_index(
        "ix_documents_register",
        "documents",
        ["unit_code", "direction", "register_year", "register_number"],
        unique=False,
    )
    op.create_table(
        "form_submissions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=255), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_form_submissions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_form_submissions")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=8), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name=op.f("fk_assignments_assigned_by_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_assignments_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_assignments_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(
        op.f("ix_assignments_document_id"), "assignments", ["document_id"], unique=False
    )
    op.create_index("ix_assignments_user_state", "assignments", ["user_id", "state"], unique=False)
    op.create_table(
        "document_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_events_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_document_events_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_events")),
    )
    op.create_index(
        op.f("ix_document_events_document_id"), "document_events", ["document_id"], unique=False
    )
    op.create_table(
        "document_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("signature_state", sa.String(length=16), nullable=True),
        sa.Column("signature_signer", sa.String(length=255), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_files_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_files")),
    )
    op.create_index(
        op.f("ix_document_files_document_id"), "document_files", ["document_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_document_files_document_id"), table_name="document_files")
    op.drop_table("document_files")
    op.drop_index(op.f("ix_document_events_document_id"), table_name="document_events")
    op.drop_table("document_events")
    op.drop_index("ix_assignments_user_state", table_name="assignments")
    op.drop_index(op.f("ix_assignments_document_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("form_submissions")
    op.drop_index("ix_documents_register", table_name="documents")
    op.drop_index("ix_documents_queue", table_name="documents")
    op.drop_index("ix_documents_duplicate", table_name="documents")
    op.drop_index("ix_documents_dispatch", table_name="documents")
    op.drop_table("documents")
    op.drop_table("register_counters")
    op.drop_table("numbering_styles")
