"""Hub store-and-forward: pull nodes, deliveries through the hub, relayed dispatches.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(sa.Column("pull", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("via", sa.String(32), nullable=True))
    with op.batch_alter_table("outbound_dispatches") as batch:
        batch.add_column(sa.Column("origin_node", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_dispatches") as batch:
        batch.drop_column("origin_node")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("via")
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("pull")
