"""The payload version each peer node said it reads, so a dispatch is sealed with binary parts
(payload version 2) only for nodes that read them. A peer not listed reads version 1.

Revision ID: 0025
Revises: 0024
Create Date: 2027-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_payload_versions",
        sa.Column("node", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("announced_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_peer_payload_versions")),
    )


def downgrade() -> None:
    op.drop_table("peer_payload_versions")
