"""The reporting module: who signed in each month, the units' periodic forms, the monthly
figures other nodes send up, and the log of report dispatches received and sent.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_active",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("month", "unit", "user", name="pk_usage_active"),
    )
    op.create_table(
        "report_forms",
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("staff_total", sa.Integer(), nullable=False),
        sa.Column("staff_computer_literate", sa.Integer(), nullable=False),
        sa.Column("computers", sa.Integer(), nullable=False),
        sa.Column("servers", sa.Integer(), nullable=False),
        sa.Column("lan_state", sa.Text(), nullable=False),
        sa.Column("connection_state", sa.Text(), nullable=False),
        sa.Column("incidents", sa.Text(), nullable=False),
        sa.Column("proposals", sa.Text(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("entered_by", sa.String(255), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", "period", name="pk_report_forms"),
    )
    op.create_table(
        "report_months",
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("accesses", "bytes_in", "bytes_out")
        ),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "documents_sent",
                "documents_received",
                "incoming_registered",
                "incoming_done",
                "incoming_overdue",
                "mails_sent",
            )
        ),
        sa.Column("active_people", sa.Text(), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", "month", name="pk_report_months"),
    )
    op.create_table(
        "report_arrivals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=False),
        sa.Column("sender", sa.String(32), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_arrivals"),
    )
    op.create_index("ix_report_arrivals_unit_period", "report_arrivals", ["unit_code", "period"])
    op.create_table(
        "report_sends",
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("with_form", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", "period", name="pk_report_sends"),
    )


def downgrade() -> None:
    op.drop_table("report_sends")
    op.drop_index("ix_report_arrivals_unit_period", table_name="report_arrivals")
    op.drop_table("report_arrivals")
    op.drop_table("report_months")
    op.drop_table("report_forms")
    op.drop_table("usage_active")
