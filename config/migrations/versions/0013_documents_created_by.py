"""Index documents by who drafted them.

Staff other than clerks and leaders see what they were assigned or drafted; their search starts
from those ids (``office.documents.access.assigned_or_drafted``), and without this index finding
the drafts would read the whole register.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_created_by", "documents", ["created_by"])


def downgrade() -> None:
    op.drop_index("ix_documents_created_by", table_name="documents")
