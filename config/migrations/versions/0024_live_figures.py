"""Live figures of document handling: the latest snapshot each unit on another node sent up in
a ``figures`` dispatch, and the kind of each dispatch in the reports' arrival log.

Arrivals logged before this migration were all ``report`` dispatches, which the column's
default says.

Revision ID: 0024
Revises: 0023
Create Date: 2027-01-18
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_figures",
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", name=op.f("pk_live_figures")),
    )
    with op.batch_alter_table("report_arrivals") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="report"))


def downgrade() -> None:
    with op.batch_alter_table("report_arrivals") as batch:
        batch.drop_column("kind")
    op.drop_table("live_figures")
