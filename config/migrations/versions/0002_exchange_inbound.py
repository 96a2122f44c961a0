"""The exchange layer's receiving side: inbound dispatches, refusals, the evidence log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_dispatches",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("sender", sa.String(32), nullable=False),
        sa.Column("sender_node", sa.String(32), nullable=False),
        sa.Column("peer_node", sa.String(32), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("header", sa.Text(), nullable=False),
        sa.Column("header_signature", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("refusal_code", sa.String(32), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.Column("offered_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_dispatches"),
    )
    op.create_index("ix_inbound_dispatches_state", "inbound_dispatches", ["state"])
    op.create_table(
        "refusals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("peer", sa.String(64), nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_refusals"),
    )
    op.create_index("ix_refusals_at", "refusals", ["at"])
    op.create_index("ix_refusals_code", "refusals", ["code"])
    op.create_table(
        "evidence",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_evidence"),
        sa.UniqueConstraint("hash", name="uq_evidence_hash"),
    )
    op.create_index("ix_evidence_dispatch_id", "evidence", ["dispatch_id"])
    head = op.create_table(
        "evidence_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    op.drop_table("evidence_head")
    op.drop_index("ix_evidence_dispatch_id", table_name="evidence")
    op.drop_table("evidence")
    op.drop_index("ix_refusals_code", table_name="refusals")
    op.drop_index("ix_refusals_at", table_name="refusals")
    op.drop_table("refusals")
    op.drop_index("ix_inbound_dispatches_state", table_name="inbound_dispatches")
    op.drop_table("inbound_dispatches")
