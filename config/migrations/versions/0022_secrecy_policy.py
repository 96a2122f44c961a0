"""Files found by their SHA-256: the exchange asks, for every dispatch sealed for another node,
whether any file it carries is a file of a secret document here (or of an earlier version of a
secret draft), so both file tables are indexed by digest.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-20
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_document_files_sha256"), "document_files", ["sha256"])
    op.create_index(op.f("ix_document_version_files_sha256"), "document_version_files", ["sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_document_version_files_sha256"), table_name="document_version_files")
    op.drop_index(op.f("ix_document_files_sha256"), table_name="document_files")
