"""Outgoing numbers as the rules require: a counter per document type and period (committee
term, congress or year) instead of one per year, the terms and congresses of each unit, the
period each outgoing number was taken in, and an index to read the outgoing book in the order it
was issued (its numbers no longer order it).

Nothing already issued is renumbered. A Party-style unit's outgoing documents were numbered in
one sequence per year for every type; its new counters (one per series and type, in the
implicit term that runs until the unit sets one) start at the highest number already issued for
that type, so the next number never repeats a symbol. A state-style unit keeps its yearly
sequence for every type, and the incoming book its yearly counters, as they were. Downgrading
gives each unit back one outgoing counter per series and year, at the highest number issued that
year whatever the type.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

#: ``office.documents.numbering``'s values, as of this revision.
OUTGOING, STATE_STYLE = "outgoing", "state"
NO_TERM_SET = "term:1970-01-01"

documents = sa.table(
    "documents",
    sa.column("unit_code", sa.String),
    sa.column("direction", sa.String),
    sa.column("doc_type", sa.String),
    sa.column("register_year", sa.Integer),
    sa.column("register_series", sa.String),
    sa.column("register_number", sa.Integer),
    sa.column("register_period", sa.String),
)
styles = sa.table(
    "numbering_styles", sa.column("unit_code", sa.String), sa.column("style", sa.String)
)
issued = sa.and_(documents.c.direction == OUTGOING, documents.c.register_number.is_not(None))


def _counters(*key: sa.Column[Any]) -> sa.Table:
    return op.create_table(
        "register_counters",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("book", sa.String(length=8), nullable=False),
        sa.Column("series", sa.String(length=8), nullable=False),
        *key,
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "unit_code",
            "book",
            "series",
            *(column.name for column in key),
            name="pk_register_counters",
        ),
    )


def upgrade() -> None:
    connection = op.get_bind()
    state_units = set(
        connection.execute(sa.select(styles.c.unit_code).where(styles.c.style == STATE_STYLE))
        .scalars()
        .all()
    )
    old = connection.execute(
        sa.text("SELECT unit_code, book, series, year, last_number FROM register_counters")
    ).all()
    per_type = connection.execute(
        sa.select(
            documents.c.unit_code,
            documents.c.register_series,
            documents.c.doc_type,
            sa.func.max(documents.c.register_number),
        )
        .where(issued)
        .group_by(documents.c.unit_code, documents.c.register_series, documents.c.doc_type)
    ).all()
    op.drop_table("register_counters")
    counters = _counters(
        sa.Column("doc_type", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=24), nullable=False),
    )
    yearly = [
        {
            "unit_code": unit,
            "book": book,
            "series": series,
            "doc_type": "",
            "period": f"year:{year}",
            "last_number": last,
        }
        for unit, book, series, year, last in old
        if book != OUTGOING or unit in state_units
    ]
    by_type = [
        {
            "unit_code": unit,
            "book": OUTGOING,
            "series": series,
            "doc_type": doc_type,
            "period": NO_TERM_SET,
            "last_number": highest,
        }
        for unit, series, doc_type, highest in per_type
        if unit not in state_units
    ]
    op.bulk_insert(counters, yearly + by_type)

    op.create_table(
        "numbering_periods",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint(
            "unit_code", "kind", "starts_on", name=op.f("pk_numbering_periods")
        ),
    )
    op.add_column("documents", sa.Column("register_period", sa.String(length=24), nullable=True))
    op.create_index(
        "ix_documents_issued",
        "documents",
        ["unit_code", "direction", "register_year", "registered_at"],
        unique=False,
    )
    state_unit = documents.c.unit_code.in_(
        sa.select(styles.c.unit_code).where(styles.c.style == STATE_STYLE)
    )
    connection.execute(
        documents.update().where(issued, ~state_unit).values(register_period=NO_TERM_SET)
    )
    connection.execute(
        documents.update()
        .where(issued, state_unit)
        .values(register_period=sa.literal("year:") + sa.cast(documents.c.register_year, sa.String))
    )


def downgrade() -> None:
    connection = op.get_bind()
    incoming = connection.execute(
        sa.text(
            "SELECT unit_code, book, series, period, last_number FROM register_counters "
            "WHERE book <> :outgoing"
        ),
        {"outgoing": OUTGOING},
    ).all()
    per_year = connection.execute(
        sa.select(
            documents.c.unit_code,
            documents.c.register_series,
            documents.c.register_year,
            sa.func.max(documents.c.register_number),
        )
        .where(issued)
        .group_by(documents.c.unit_code, documents.c.register_series, documents.c.register_year)
    ).all()
    op.drop_index("ix_documents_issued", table_name="documents")
    # Not in a batch: on SQLite a batch copies the table and drops the old one, and the drop
    # would cascade to every document's files, events and assignments. SQLite (3.35 on) drops
    # a plain column in place.
    op.execute("ALTER TABLE documents DROP COLUMN register_period")
    op.drop_table("numbering_periods")
    op.drop_table("register_counters")
    counters = _counters(sa.Column("year", sa.Integer(), nullable=False))
    op.bulk_insert(
        counters,
        [
            {
                "unit_code": unit,
                "book": book,
                "series": series,
                "year": int(period.removeprefix("year:")),
                "last_number": last,
            }
            for unit, book, series, period, last in incoming
        ]
        + [
            {
                "unit_code": unit,
                "book": OUTGOING,
                "series": series,
                "year": year,
                "last_number": highest,
            }
            for unit, series, year, highest in per_year
        ],
    )
