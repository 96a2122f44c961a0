"""Full-text search over documents: typing ``cong van dong ha`` finds "Công văn Đông Hà".

Staff type without diacritics, in any case, and expect what they meant. Both the indexed text
and the query are folded in Python by :func:`fold` (lower case, no diacritics, đ -> d, words of
letters and digits), and neither database splits or normalises words again: SQLite and
PostgreSQL index exactly the same words, so they give the same answers, and neither needs an
extension (``unaccent`` may not be installed).

A search is an AND of words, the last one a prefix while it is short enough to be a syllable
still being typed (:data:`MAX_PREFIX`). There are no phrases, so a document is indexed as its
*distinct* words: order and repeats would carry nothing, and a long PDF repeats itself.

The index is one table, made by migration 0010 and left out of the SQLAlchemy metadata because
its shape differs per database:

- SQLite: an FTS5 virtual table ``document_search(body)`` whose rowid is the document's id, with
  an index for each prefix length. FTS5 cannot hold a foreign key: whoever deletes a document
  calls :func:`forget_document`.
- PostgreSQL: ``document_search(document_id, words tsvector)`` with a foreign key
  (``ON DELETE CASCADE``) and a GIN index on ``words``. The tsvector is made from our words by
  ``array_to_tsvector`` (no parser, no dictionary), with extra lexemes: ``ha*`` for each prefix,
  as FTS5's prefix indexes (a GIN prefix match ``ha:*`` merges the lists of every word it
  begins), and the id's bucket ``#12`` (see :func:`_search_postgresql`).

The query is user input. Folding leaves only letters, digits and spaces, so no FTS5 or tsquery
operator survives; each word is quoted as well, and the query travels as a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    TableClause,
    Text,
    and_,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy import table as table_clause
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from config.text import fold
from keys.signin import StaffMember
from office.documents.access import assigned_or_drafted, visible_to
from office.documents.models import Document

#: Longer "words" are base64, hashes or a PDF extractor's run-on text: nobody types them.
MAX_WORD = 60
#: The last word of a query matches as a prefix up to this length: every proper prefix of a
#: Vietnamese syllable (``nghieng`` has seven letters). A longer one is matched whole, so each
#: prefix search is one indexed list (FTS5 ``prefix='1 2 3 4 5 6'``, the ``ha*`` lexemes).
MAX_PREFIX = 6
#: UTF-8 bytes of words and prefixes indexed per document: PostgreSQL refuses a tsvector whose
#: lexemes pass 1 MB. Counted the same way on both databases so both index the same words.
MAX_INDEXED_BYTES = 500_000
#: PostgreSQL's id buckets hold 2**BUCKET_BITS documents each.
BUCKET_BITS = 14

#: SQLite's FTS5 table; ``rowid`` is the document's id.
_fts = table_clause("document_search", column("rowid", Integer), column("body", Text))
#: PostgreSQL's table.
_pg = table_clause(
    "document_search", column("document_id", Integer), column("words", postgresql.TSVECTOR)
)


def _prefixes(word: str) -> list[str]:
    return [word[:length] for length in range(1, min(len(word), MAX_PREFIX) + 1)]


def index_words(texts: Sequence[str]) -> list[str]:
    """The distinct folded words of ``texts`` in first-seen order, up to the size limit."""
    words: dict[str, None] = {}
    prefixes: set[str] = set()
    size = 0
    for piece in texts:
        for word in fold(piece).split():
            if len(word) > MAX_WORD or word in words:
                continue
            new = [prefix for prefix in _prefixes(word) if prefix not in prefixes]
            size += sum(len(lexeme.encode()) + 1 for lexeme in (word, *new))
            if size > MAX_INDEXED_BYTES:
                return list(words)
            words[word] = None
            prefixes.update(new)
    return list(words)


def _bucket_lexeme(bucket: int) -> str:
    return f"#{bucket}"


def _lexemes(document_id: int, words: Sequence[str]) -> list[str]:
    """PostgreSQL's lexemes for a document: its words, ``p*`` for each prefix, and its id's
    bucket. Words never hold ``*`` or ``#``, so none of these can be mistaken for a word."""
    prefixes = {prefix + "*" for word in words for prefix in _prefixes(word)}
    return [*words, *sorted(prefixes), _bucket_lexeme(document_id >> BUCKET_BITS)]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def index_document(session: AsyncSession, document_id: int, texts: Sequence[str]) -> None:
    """(Re)index a document from its searchable texts: summary, number and symbol, sender, the
    text of its PDFs. Replaces what was indexed before; runs in the caller's transaction, so the
    index changes with the document or not at all."""
    await _store(session, [(document_id, index_words(texts))])


async def index_rows(session: AsyncSession, rows: Sequence[tuple[int, str]]) -> None:
    """(Re)index many documents at once, ``(document_id, text)`` each, in the caller's
    transaction: for bulk loads (rebuilding the index, seeding a benchmark), one statement per
    batch rather than per document."""
    await _store(session, [(document_id, index_words([text])) for document_id, text in rows])


async def _store(session: AsyncSession, entries: Sequence[tuple[int, list[str]]]) -> None:
    if not entries:
        return
    if _dialect(session) == "postgresql":
        upsert = postgresql.insert(_pg).values(
            document_id=bindparam("id"),
            words=func.array_to_tsvector(bindparam("lexemes", type_=postgresql.ARRAY(Text))),
        )
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=[_pg.c.document_id], set_={"words": upsert.excluded.words}
            ),
            [{"id": id_, "lexemes": _lexemes(id_, words)} for id_, words in entries],
        )
        return
    # An FTS5 table has no upsert, but its REPLACE takes a rowid's old entry out first: one
    # statement, not a delete and an insert (two of a received document's few).
    await session.execute(
        insert(_fts).prefix_with("OR REPLACE"),
        [{"rowid": id_, "body": " ".join(words)} for id_, words in entries],
    )


async def forget_document(session: AsyncSession, document_id: int) -> None:
    """Drop a document from the index, in the caller's transaction.

    Needed on SQLite, where nothing ties an FTS5 row to its document; on PostgreSQL the foreign
    key already cascades, and this is harmless. Call it wherever a document is deleted.
    """
    if _dialect(session) == "postgresql":
        await session.execute(delete(_pg).where(_pg.c.document_id == document_id))
    else:
        await session.execute(delete(_fts).where(_fts.c.rowid == document_id))


def _fts5_query(words: Sequence[str]) -> str:
    """``"cong" "van" "h"*``: each word an FTS5 string, so ``NEAR``, ``AND``, ``-`` or ``:``
    would only be text; FTS5 ANDs adjacent terms."""
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    if len(words[-1]) <= MAX_PREFIX:
        quoted[-1] += "*"
    return " ".join(quoted)


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery(words: Sequence[str]) -> str:
    """``'cong' & 'van' & 'h*'``: each word a quoted lexeme, the last one its prefix's."""
    *whole, last = words
    lexemes = [*whole, last + "*" if len(last) <= MAX_PREFIX else last]
    return " & ".join(map(_quoted, lexemes))


@dataclass(frozen=True)
class Bound:
    """Where a page of results starts: the matches older than ``older_than`` (the next page),
    or newer than ``newer_than`` (the previous one), or, with neither, the newest. A page reads
    its ``limit`` matches from there through the index, never the matches before it."""

    older_than: int | None = None
    newer_than: int | None = None

    def clause(self, key: ColumnElement[int]) -> ColumnElement[bool] | None:
        if self.newer_than is not None:
            return key > self.newer_than
        if self.older_than is not None:
            return key < self.older_than
        return None


NEWEST = Bound()


async def search_documents(
    session: AsyncSession,
    query: str,
    staff: StaffMember,
    *,
    limit: int = 50,
    bound: Bound = NEWEST,
) -> list[int]:
    """Ids of the documents matching every word of ``query`` that ``staff`` may see (see
    :func:`office.documents.access.visible_to`), the nearest to ``bound`` first: newest first,
    or, for the matches newer than ``bound.newer_than``, oldest first (the caller turns them
    round: :func:`office.documents.paging.keyed_page`).

    The index finds the matches and the access rule is applied in the same statement, so a page
    holds ``limit`` documents the member of staff may see. ``[]`` for a query with no words.
    """
    words = fold(query).split()
    if not words or limit <= 0:
        return []
    visible = visible_to(staff)
    if _dialect(session) == "postgresql":
        # A prepared statement's generic plan cannot see the query, guesses it common and walks
        # the table: seconds for a rare word. (LOCAL: until the caller's transaction ends.)
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        mine = assigned_or_drafted(staff)
        if mine is None:
            return await _search_postgresql(session, words, visible, limit, bound)
        return await _search_among(session, words, visible, mine, limit, bound)
    matches: ColumnElement[bool] = literal_column("document_search").bool_op("MATCH")(
        _fts5_query(words)
    )
    within = bound.clause(_fts.c.rowid)
    if within is not None:
        matches = and_(matches, within)
    # Ordered by the index's rowid: FTS5 then hands matches over in that order and the LIMIT
    # stops it early, where ordering by ``documents.id`` would sort every match first.
    statement = _nearest(_fts, _fts.c.rowid, matches, visible, limit, bound)
    return list((await session.scalars(statement)).all())


def _nearest(
    index: TableClause,
    key: ColumnElement[int],
    matches: ColumnElement[bool],
    visible: ColumnElement[bool],
    limit: int,
    bound: Bound,
    order: ColumnElement[int] | None = None,
) -> Select[int]:
    """The first ``limit`` visible matches by ``order`` (the index's ``key``) from ``bound``:
    newest first, or oldest first above ``bound.newer_than``."""
    by = key if order is None else order
    return (
        select(Document.id)
        .join_from(Document, index, key == Document.id)
        .where(matches, visible)
        .order_by(by if bound.newer_than is not None else by.desc())
        .limit(limit)
    )


async def _search_postgresql(
    session: AsyncSession,
    words: Sequence[str],
    visible: ColumnElement[bool],
    wanted: int,
    bound: Bound,
) -> list[int]:
    """The first ``wanted`` visible matches from ``bound``, one id range after another.

    GIN finds matches in no useful order. ``ORDER BY id LIMIT 50`` over common words would
    either fetch every match to sort them or walk the table from the bound testing each row;
    both grow with the table. So every document also carries its id's bucket (``#12``, 16384
    ids), and the two buckets nearest the bound are asked first (the newest two for the first
    page): GIN intersects the bucket's short list with the words' long ones, and a page of
    common words is found there. Only then is the rest of the table on that side asked, once,
    for the matches the buckets lacked.
    """
    newest = await session.scalar(select(func.max(_pg.c.document_id)))
    if newest is None:
        return []
    top = newest >> BUCKET_BITS
    document_id = _pg.c.document_id
    if bound.newer_than is None:
        start = newest if bound.older_than is None else min(newest, bound.older_than - 1)
        first = start >> BUCKET_BITS
        near = [bucket for bucket in (first, first - 1) if bucket >= 0]
        rest = document_id < (first - 1) << BUCKET_BITS if first >= 2 else None
    else:
        first = (bound.newer_than + 1) >> BUCKET_BITS
        near = [bucket for bucket in (first, first + 1) if bucket <= top]
        rest = document_id >= (first + 2) << BUCKET_BITS if first + 2 <= top else None
    tsquery = _tsquery(words)
    within = bound.clause(document_id)
    steps: list[tuple[str, ColumnElement[bool] | None, ColumnElement[int] | None]] = [
        (f"{tsquery} & {_quoted(_bucket_lexeme(bucket))}", within, None) for bucket in near
    ]
    if rest is not None:
        # Ordered by an expression no index gives: PostgreSQL has to collect the matches
        # through GIN and sort them, instead of walking the farther documents one by one,
        # which is what it guesses cheaper and is not when the words are rare among what
        # ``visible`` lets through.
        steps.append((tsquery, rest, document_id + 0))
    found: list[int] = []
    for step_query, where, order in steps:
        matches: ColumnElement[bool] = _pg.c.words.bool_op("@@")(
            cast(bindparam("query", step_query, type_=Text), postgresql.TSQUERY)
        )
        if where is not None:
            matches = and_(matches, where)
        statement = _nearest(_pg, document_id, matches, visible, wanted - len(found), bound, order)
        found.extend((await session.scalars(statement)).all())
        if len(found) >= wanted:
            break
    return found


async def _search_among(
    session: AsyncSession,
    words: Sequence[str],
    visible: ColumnElement[bool],
    mine: CompoundSelect[tuple[int]],
    wanted: int,
    bound: Bound,
) -> list[int]:
    """The first ``wanted`` visible matches from ``bound`` among ``mine``, the few documents a
    member of staff was assigned or drafted (:func:`office.documents.access.assigned_or_drafted`).

    Planned as for a clerk, PostgreSQL would walk GIN's matches (most of the table for a common
    word) and test the assignment of each: over a second at a million documents. A register
    holds millions, one person's assignments a few hundred, so here the ids come first
    (``MATERIALIZED``: collected once, not folded into the join) and only their own rows of
    the index are tested against the query, through its primary key.

    The test is ``ts_match_vq``, the function behind ``@@``, which GIN cannot serve: for
    several common words PostgreSQL multiplies their frequencies, guesses a handful of matches
    and goes back to GIN (33,000 rows, 600 ms, for ``cong tac can bo cam``). Testing a few
    hundred rows costs about the same whatever the words.
    """
    among = mine.cte("mine").prefix_with("MATERIALIZED")
    tsquery = cast(bindparam("query", _tsquery(words), type_=Text), postgresql.TSQUERY)
    matches = and_(
        func.ts_match_vq(_pg.c.words, tsquery, type_=Boolean),
        _pg.c.document_id.in_(select(among.c[0])),
    )
    within = bound.clause(_pg.c.document_id)
    if within is not None:
        matches = and_(matches, within)
    statement = _nearest(_pg, _pg.c.document_id, matches, visible, wanted, bound)
    return list((await session.scalars(statement)).all())
