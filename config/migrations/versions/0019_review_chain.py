"""The way of an outgoing draft to its signer: who reviews and who signs (users' title and
duties), who holds a draft now and the authority it was signed under, every step's version with
its files, and signing delegations.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns added in place, never in a batch: on SQLite a batch copies the table and drops
    # the old one, and that drop would cascade to every row that refers to it (a user's keys
    # and sessions, a document's files and events). For the same reason ``holder_id`` has no
    # foreign key: SQLite cannot drop a column that has one without copying the table.
    op.add_column("users", sa.Column("title", sa.String(128), nullable=False, server_default=""))
    op.add_column(
        "users", sa.Column("may_review", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "users", sa.Column("may_sign", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("documents", sa.Column("holder_id", sa.Integer(), nullable=True))
    op.add_column(
        "documents", sa.Column("authority", sa.String(128), nullable=False, server_default="")
    )
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_document_versions_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"],
            ["users.id"],
            name=op.f("fk_document_versions_to_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
    )
    op.create_index(
        "ix_document_versions_document", "document_versions", ["document_id", "seq"], unique=True
    )
    op.create_table(
        "document_version_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_document_version_files_version_id_document_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_version_files")),
    )
    op.create_index(
        op.f("ix_document_version_files_version_id"), "document_version_files", ["version_id"]
    )
    op.create_table(
        "signing_delegations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("to_user_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_user_id"],
            ["users.id"],
            name=op.f("fk_signing_delegations_from_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"],
            ["users.id"],
            name=op.f("fk_signing_delegations_to_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_delegations")),
    )
    op.create_index("ix_signing_delegations_to", "signing_delegations", ["to_user_id", "starts_on"])


def downgrade() -> None:
    op.drop_index("ix_signing_delegations_to", table_name="signing_delegations")
    op.drop_table("signing_delegations")
    op.drop_index(op.f("ix_document_version_files_version_id"), table_name="document_version_files")
    op.drop_table("document_version_files")
    op.drop_index("ix_document_versions_document", table_name="document_versions")
    op.drop_table("document_versions")
    # Dropped in place (SQLite 3.35 on), for the reason given in upgrade().
    for table, column in (
        ("documents", "authority"),
        ("documents", "holder_id"),
        ("users", "may_sign"),
        ("users", "may_review"),
        ("users", "title"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
