"""Inbox leases: when an uploading offer was last touched, until when a verification is held.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_dispatches") as batch:
        batch.add_column(sa.Column("touched_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("verifying_until", UTCDateTime(), nullable=True))
    op.execute("UPDATE inbound_dispatches SET touched_at = offered_at")
    with op.batch_alter_table("inbound_dispatches") as batch:
        batch.alter_column("touched_at", existing_type=UTCDateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_dispatches") as batch:
        batch.drop_column("verifying_until")
        batch.drop_column("touched_at")
