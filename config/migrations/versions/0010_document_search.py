"""Full-text search over documents: one index table, a different one per database.

SQLite gets an FTS5 virtual table whose rowid is the document's id; PostgreSQL a table of one
tsvector per document with a GIN index. Neither is in the SQLAlchemy metadata (their shapes
differ); ``office.documents.search`` reads and writes them and says why.

Nothing is backfilled: the words are folded in Python, from the PDFs too, not in SQL.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # tokenize=ascii: fold() in Python has already made the words, lower case and without
        # diacritics, separated by spaces; ascii splits at exactly those spaces (unicode61's
        # own Unicode tables disagree with Python's on a few letters). detail=none: no
        # positions, which only phrase and NEAR queries read; a search is an AND of words.
        # prefix: the last word of a query is a prefix of up to six letters; without these
        # indexes FTS5 would merge the lists of every word it begins. columnsize=0: no token
        # counts, which only ranking reads; results are ordered by id.
        op.execute(
            "CREATE VIRTUAL TABLE document_search USING fts5(body, tokenize = 'ascii', "
            "detail = none, prefix = '1 2 3 4 5 6', columnsize = 0)"
        )
        return
    op.create_table(
        "document_search",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("words", postgresql.TSVECTOR(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_document_search_document_id_documents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name="pk_document_search"),
    )
    op.create_index(
        "ix_document_search_words", "document_search", ["words"], postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_table("document_search")
