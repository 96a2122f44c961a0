"""The mail gateway: the queue of accepted mail, the mailboxes, and aliases.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_queue",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("blob_sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mail_from", sa.String(320), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mail_queue"),
    )
    op.create_index("ix_mail_queue_due", "mail_queue", ["state", "next_attempt_at"])
    op.create_table(
        "mailbox_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(16), nullable=False),
        sa.Column("queue_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("from_text", sa.Text(), nullable=False),
        sa.Column("to_text", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("blob_sha256", sa.String(64), nullable=False),
        sa.Column("has_attachments", sa.Boolean(), nullable=False),
        sa.Column("seen", sa.Boolean(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mailbox_messages"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_mailbox_messages_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("user_id", "folder", "queue_id", name="uq_mailbox_messages_delivery"),
    )
    op.create_index(
        "ix_mailbox_messages_folder", "mailbox_messages", ["user_id", "folder", "received_at"]
    )
    op.create_table(
        "mail_aliases",
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_mail_aliases"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_mail_aliases_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_mail_aliases_user_id", "mail_aliases", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_mail_aliases_user_id", table_name="mail_aliases")
    op.drop_table("mail_aliases")
    op.drop_index("ix_mailbox_messages_folder", table_name="mailbox_messages")
    op.drop_table("mailbox_messages")
    op.drop_index("ix_mail_queue_due", table_name="mail_queue")
    op.drop_table("mail_queue")
