"""Signing persons' own keys and certificates from the provincial CA, sealed under their
activation code and then their signing PIN (``keys.signers``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("serial", sa.String(40), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("not_after", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_person_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_keys")),
        sa.UniqueConstraint("serial", name=op.f("uq_person_keys_serial")),
    )
    op.create_index("ix_person_keys_user_id", "person_keys", ["user_id"])
    op.create_index(
        "uq_person_keys_current",
        "person_keys",
        ["user_id", "state"],
        unique=True,
        sqlite_where=sa.text("state != 'replaced'"),
        postgresql_where=sa.text("state != 'replaced'"),
    )


def downgrade() -> None:
    op.drop_index("uq_person_keys_current", table_name="person_keys")
    op.drop_index("ix_person_keys_user_id", table_name="person_keys")
    op.drop_table("person_keys")
