"""Business statuses reported back by the recipients of a dispatch (edXML codes).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch_statuses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.String(20), nullable=False),
        sa.Column("status_dispatch_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dispatch_statuses"),
        sa.UniqueConstraint("status_dispatch_id", name="uq_dispatch_statuses_status_dispatch_id"),
    )
    op.create_index("ix_dispatch_statuses_dispatch_id", "dispatch_statuses", ["dispatch_id"])


def downgrade() -> None:
    op.drop_index("ix_dispatch_statuses_dispatch_id", table_name="dispatch_statuses")
    op.drop_table("dispatch_statuses")
