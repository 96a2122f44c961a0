"""Weekly work schedules, their entries and attendees, and calendar feed tokens.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _user(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "schedule_weeks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("source_unit", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_weeks"),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
            name="fk_schedule_weeks_unit_code_units",
            ondelete="RESTRICT",
        ),
        _user("submitted_by", "schedule_weeks", "SET NULL"),
        _user("approved_by", "schedule_weeks", "SET NULL"),
        sa.UniqueConstraint(
            "unit_code", "week_start", "source_unit", name="uq_schedule_weeks_week"
        ),
    )
    op.create_table(
        "schedule_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("week_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("chair_user_id", sa.Integer(), nullable=True),
        sa.Column("chair_text", sa.String(255), nullable=False),
        sa.Column("attendees_text", sa.Text(), nullable=False),
        sa.Column("place", sa.String(255), nullable=False),
        sa.Column("prepared_by", sa.String(255), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("secrecy", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("adjusted", sa.Boolean(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_entries"),
        sa.ForeignKeyConstraint(
            ["week_id"],
            ["schedule_weeks.id"],
            name="fk_schedule_entries_week_id_schedule_weeks",
            ondelete="CASCADE",
        ),
        _user("chair_user_id", "schedule_entries", "SET NULL"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_schedule_entries_document_id_documents",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("uid", name="uq_schedule_entries_uid"),
    )
    op.create_index(
        "ix_schedule_entries_week_day", "schedule_entries", ["week_id", "day", "start_time"]
    )
    op.create_table(
        "schedule_attendees",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "user_id", name="pk_schedule_attendees"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["schedule_entries.id"],
            name="fk_schedule_attendees_entry_id_schedule_entries",
            ondelete="CASCADE",
        ),
        _user("user_id", "schedule_attendees", "CASCADE"),
    )
    op.create_index("ix_schedule_attendees_user_id", "schedule_attendees", ["user_id"])
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_feeds"),
        _user("user_id", "calendar_feeds", "CASCADE"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feeds_token_hash"),
    )
    op.create_index("ix_calendar_feeds_user_id", "calendar_feeds", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_calendar_feeds_user_id", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
    op.drop_index("ix_schedule_attendees_user_id", table_name="schedule_attendees")
    op.drop_table("schedule_attendees")
    op.drop_index("ix_schedule_entries_week_day", table_name="schedule_entries")
    op.drop_table("schedule_entries")
    op.drop_table("schedule_weeks")
