"""The exchange layer's sending side: outbound dispatches and their deliveries per node.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_dispatches",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("sender", sa.String(32), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_dispatches"),
    )
    op.create_index("ix_outbound_dispatches_sender", "outbound_dispatches", ["sender"])
    op.create_index("ix_outbound_dispatches_ref", "outbound_dispatches", ["ref"])
    op.create_table(
        "deliveries",
        sa.Column("dispatch_id", sa.String(36), nullable=False),
        sa.Column("node", sa.String(32), nullable=False),
        sa.Column("units", sa.Text(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("dispatch_id", "node", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["dispatch_id"],
            ["outbound_dispatches.id"],
            name="fk_deliveries_dispatch_id_outbound_dispatches",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_outbound_dispatches_ref", table_name="outbound_dispatches")
    op.drop_index("ix_outbound_dispatches_sender", table_name="outbound_dispatches")
    op.drop_table("outbound_dispatches")
