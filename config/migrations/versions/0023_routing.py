"""Routing incoming documents inside a unit: the unit's head (the default leader documents are
presented to), departments (phòng, ban) and their members and heads, the leader a document was
presented to and the clerk's proposed lead handler, assignments to departments, and "để biết"
readers.

Revision ID: 0023
Revises: 0022
Create Date: 2027-01-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.database import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("head_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
            name=op.f("fk_departments_unit_code_units"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["head_user_id"],
            ["users.id"],
            name=op.f("fk_departments_head_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
    )
    op.create_index("uq_departments_unit_code", "departments", ["unit_code", "code"], unique=True)
    op.create_table(
        "unit_heads",
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
            name=op.f("fk_unit_heads_unit_code_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_unit_heads_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("unit_code", name=op.f("pk_unit_heads")),
    )
    # Columns added in place, without foreign keys (see 0019: SQLite cannot drop a column that
    # has one without copying the table, and that copy's drop would cascade).
    op.add_column("users", sa.Column("department_id", sa.Integer(), nullable=True))
    op.add_column("documents", sa.Column("presented_to", sa.Integer(), nullable=True))
    op.add_column(
        "documents", sa.Column("proposed_lead", sa.String(16), nullable=False, server_default="")
    )
    op.add_column("assignments", sa.Column("department_assignment_id", sa.Integer(), nullable=True))
    op.create_table(
        "department_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(8), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_department_assignments_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_department_assignments_department_id_departments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name=op.f("fk_department_assignments_assigned_by_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department_assignments")),
    )
    op.create_index(
        op.f("ix_department_assignments_document_id"), "department_assignments", ["document_id"]
    )
    op.create_index(
        "ix_department_assignments_department",
        "department_assignments",
        ["department_id", "state"],
    )
    op.create_table(
        "document_readers",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_readers_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_document_readers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name=op.f("fk_document_readers_added_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("document_id", "user_id", name="pk_document_readers"),
    )
    op.create_index("ix_document_readers_user", "document_readers", ["user_id", "read_at"])
    # A document directed before presentation existed stays with the leader who directed it
    # last: only the leader it is presented to may direct it again.
    op.execute(
        """
        UPDATE documents SET presented_to = (
            SELECT a.assigned_by FROM assignments a
            WHERE a.document_id = documents.id ORDER BY a.id DESC LIMIT 1
        )
        WHERE direction = 'incoming' AND presented_to IS NULL
          AND EXISTS (SELECT 1 FROM assignments a WHERE a.document_id = documents.id)
        """
    )


def downgrade() -> None:
    op.drop_index("ix_document_readers_user", table_name="document_readers")
    op.drop_table("document_readers")
    op.drop_index("ix_department_assignments_department", table_name="department_assignments")
    op.drop_index(
        op.f("ix_department_assignments_document_id"), table_name="department_assignments"
    )
    op.drop_table("department_assignments")
    # Dropped in place (SQLite 3.35 on), for the reason given in upgrade().
    for table, column in (
        ("assignments", "department_assignment_id"),
        ("documents", "proposed_lead"),
        ("documents", "presented_to"),
        ("users", "department_id"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("unit_heads")
    op.drop_index("uq_departments_unit_code", table_name="departments")
    op.drop_table("departments")
