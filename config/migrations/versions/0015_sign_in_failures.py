"""Failed sign-ins counted per client address and per user name, for the web and for mail
clients alike (``keys.throttle``), instead of per account in ``users``.

``users.failed_logins`` and ``users.locked_until`` stay, unused: a downgrade could add them
back only at the end of the table on PostgreSQL, not where they were.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("service", sa.String(8), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.Column("wait_until", UTCDateTime(), nullable=True),
        sa.Column("last_user", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("service", "scope", "key", name="pk_sign_in_failures"),
    )
    op.create_index("ix_sign_in_failures_last_failure_at", "sign_in_failures", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_last_failure_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
