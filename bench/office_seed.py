"""A million registered documents in a node's database in a minute or two, each with its search
entry as the node would index it.

The node's own path (ORM inserts, :func:`office.documents.search.index_rows`) took 290 s a
million on SQLite and over 500 s on PostgreSQL on this machine, most of it folding the same
few words again and again in Python, and the whole ``python -m bench`` must stay under 15
minutes. So the words are folded once per *template* (topic, place, type, sender: a few
thousand) in Python, by :func:`index_words` and :func:`_lexemes`, and the database makes the
documents from a series of numbers: each document a template (picked by a hash of its serial)
and its own number, the only word that differs; its search entry the template's words and
that number. On PostgreSQL the two tables' secondary indexes are dropped first and built again
from their own definitions, so the database ends as the migrations left it.

:func:`seed_sqlite` and :func:`seed_postgresql` then compare the stored entries of a sample of
documents with what the node's indexing makes of their stored rows.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections.abc import Sequence
from datetime import date

from config.database import DATABASE_FILE
from config.settings import Settings
from config.text import fold
from office.documents.fields import DOC_TYPES
from office.documents.search import MAX_PREFIX, _lexemes, index_words

PER_YEAR = 100_000
#: Documents written per statement.
BATCH = 100_000
#: Documents whose search entries are compared with the node's indexing.
SAMPLE = 50
PLACES = ("Đông Hà", "Cam Lộ", "Gio Linh", "Hải Lăng", "Triệu Phong", "Vĩnh Linh", "Hướng Hóa")
TOPICS = (
    "chuyển đổi số",
    "công tác cán bộ",
    "xây dựng Đảng",
    "ứng dụng công nghệ thông tin",
    "phòng chống thiên tai",
    "kiểm tra giám sát",
    "tuyên giáo",
    "dân vận",
)
SENDERS = tuple(f"Huyện uỷ {place}" for place in PLACES)
STATES = ("registered", "assigned", "done", "done", "done")
URGENCIES = (0, 0, 0, 1, 2)

Template = tuple[int, str, str, str, str, str, str, list[str]]


def _templates() -> list[Template]:
    """Per template: id, topic, place, type, sender, its words before the number and after it
    (space-separated, as FTS5 gets them), and PostgreSQL's lexemes for those words.

    A document's text is ``V/v {topic} tại {place} (lần {n})``, ``{n}-{type}/HU`` and its
    sender: its words in first-seen order are the template's with ``n`` after ``lan`` (``n``
    is digits, so neither it nor its prefixes are one of the template's)."""
    made = []
    combinations = itertools.product(TOPICS, PLACES, DOC_TYPES, SENDERS)
    for number, (topic, place, doc_type, sender) in enumerate(combinations):
        words = index_words([f"V/v {topic} tại {place} (lần) -{doc_type}/HU {sender}"])
        lan = words.index("lan") + 1
        lexemes = [lexeme for lexeme in _lexemes(0, words) if not lexeme.startswith("#")]
        before, after = " ".join(words[:lan]), " ".join(words[lan:])
        made.append((number, topic, place, doc_type, sender, before, after, lexemes))
    return made


def _choice(values: Sequence[str | int], factor: int) -> str:
    """SQL picking one of ``values`` (this module's constants) by a hash of the serial ``i``."""
    quoted = [f"'{value}'" if isinstance(value, str) else str(value) for value in values]
    picks = " ".join(f"WHEN {i} THEN {value}" for i, value in enumerate(quoted))
    return f"CASE (i * {factor} / 7) % {len(values)} {picks} END"


NUMBER = f"(i % {PER_YEAR} + 1)"
COLUMNS = (
    "id, unit_code, direction, state, secrecy, urgency, doc_type, number_symbol, summary, "
    "sender_name, signer_name, issued_on, received_at, register_year, register_series, "
    "register_number, registered_at, direction_note, recipients, note, created_at, version"
)


def _documents(source: str, today: date, first_id: int, templates: int, at: str, day: str) -> str:
    """INSERT of the documents of the serials ``i`` of ``source``: ``at`` is the SQL of their
    moment of receipt, ``day`` of the day they were issued (two days before), per database,
    from ``year`` and ``minutes``. Every piece is this module's own: nothing from outside."""
    year = f"({today.year} - i / {PER_YEAR})"
    minutes = f"({NUMBER} * 3 % 525000)"
    at, day = (sql.format(year=year, minutes=minutes) for sql in (at, day))
    return f"""
        INSERT INTO documents ({COLUMNS})
        SELECT {first_id} + i, 'TU', 'incoming', {_choice(STATES, 40503)},
               CASE WHEN (i * 7919) % 100 < 5 THEN 1 ELSE 0 END,
               {_choice(URGENCIES, 104729)}, t.doc_type, {NUMBER} || '-' || t.doc_type || '/HU',
               'V/v ' || t.topic || ' tại ' || t.place || ' (lần ' || {NUMBER} || ')',
               t.sender, '', {day}, {at}, {year}, 'normal', {NUMBER}, {at}, '', '', '', {at}, 1
        FROM {source} JOIN seed_templates AS t ON t.id = {_template(templates)}
    """  # noqa: S608


def _template(templates: int) -> str:
    return f"(i * 2654435761 / 65536) % {templates}"


def _sample(first: int, count: int) -> list[int]:
    """The ids of the documents whose entries are compared: the first, the last, some between."""
    between = random.Random(23).sample(range(first, first + count), min(SAMPLE, count))
    return sorted({first, first + count - 1, *between})


def _expected_words(summary: str, number_symbol: str, sender: str) -> list[str]:
    return sorted(index_words([fold(f"{summary} {number_symbol} {sender}")]))


def seed_sqlite(settings: Settings, count: int, today: date) -> None:
    """Blocking: run it in a thread. Dates and moments as SQLAlchemy stores them on SQLite."""
    templates = _templates()
    source = (
        "(WITH RECURSIVE numbers(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM numbers "
        "WHERE i + 1 < ?) SELECT i FROM numbers) AS source"
    )
    connection = sqlite3.connect(settings.node_dir / DATABASE_FILE)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(
            "CREATE TEMP TABLE seed_templates (id INTEGER PRIMARY KEY, topic TEXT, place TEXT,"
            " doc_type TEXT, sender TEXT, before TEXT, after TEXT)"
        )
        connection.executemany(
            "INSERT INTO seed_templates VALUES (?, ?, ?, ?, ?, ?, ?)",
            [template[:7] for template in templates],
        )
        first = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM documents").fetchone()[0]
        documents = _documents(
            source,
            today,
            first,
            len(templates),
            at="strftime('%Y-%m-%d %H:%M:%S', printf('%04d-01-01', {year}), "
            "'+' || {minutes} || ' minutes') || '.000000'",
            day="date(printf('%04d-01-01', {year}), '+' || {minutes} || ' minutes', '-2 days')",
        )
        entries = f"""
            INSERT INTO document_search (rowid, body)
            SELECT {first} + i, t.before || ' ' || {NUMBER} || ' ' || t.after
            FROM {source} JOIN seed_templates AS t ON t.id = {_template(len(templates))}
        """  # noqa: S608
        for start in range(0, count, BATCH):
            bounds = (start, min(start + BATCH, count))
            connection.execute(documents, bounds)
            connection.execute(entries, bounds)
            connection.commit()
        connection.execute("ANALYZE")
        connection.commit()
        sample = [
            connection.execute(
                "SELECT summary, number_symbol, sender_name, body FROM documents"
                " JOIN document_search ON document_search.rowid = documents.id"
                " WHERE documents.id = ?",
                (document_id,),
            ).fetchone()
            for document_id in _sample(first, count)
        ]
    finally:
        connection.close()
    for summary, number_symbol, sender, body in sample:
        assert sorted(body.split()) == _expected_words(summary, number_symbol, sender), body


#: The secondary indexes of the seeded tables (those no constraint owns), to build after.
_INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename IN ('documents', 'document_search')
      AND NOT EXISTS (
        SELECT 1 FROM pg_constraint WHERE conindid = (quote_ident(indexname))::regclass
      )
"""


async def seed_postgresql(url: str, count: int, today: date) -> None:
    import asyncpg  # only the PostgreSQL runs need it

    templates = _templates()
    source = "generate_series($1::bigint, $2::bigint - 1) AS source(i)"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "CREATE TEMP TABLE seed_templates (id integer PRIMARY KEY, topic text, place text,"
            " doc_type text, sender text, before text, after text, lexemes text[])"
        )
        await connection.copy_records_to_table("seed_templates", records=templates)
        indexes = await connection.fetch(_INDEXES)
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        first = await connection.fetchval("SELECT coalesce(max(id), 0) + 1 FROM documents")
        documents = _documents(
            source,
            today,
            first,
            len(templates),
            at="(make_timestamptz({year}::int, 1, 1, 0, 0, 0, 'UTC')"
            " + {minutes} * interval '1 minute')",
            day="(make_timestamptz({year}::int, 1, 1, 0, 0, 0, 'UTC')"
            " + {minutes} * interval '1 minute' - interval '2 days')::date",
        )
        # _lexemes: the words, each word's prefixes of up to MAX_PREFIX letters with "*", and
        # the id's bucket.
        number = f"({NUMBER})::text"
        entries = f"""
            INSERT INTO document_search (document_id, words)
            SELECT {first} + i, array_to_tsvector(
                t.lexemes || {number}
                || ARRAY(SELECT left({number}, k) || '*'
                         FROM generate_series(1, least(length({number}), {MAX_PREFIX})) AS k)
                || ('#' || (({first} + i) >> 14)))
            FROM {source} JOIN seed_templates AS t ON t.id = {_template(len(templates))}
        """  # noqa: S608
        for start in range(0, count, BATCH):
            bounds = (start, min(start + BATCH, count))
            await connection.execute(documents, *bounds)
            await connection.execute(entries, *bounds)
        await connection.execute("SET maintenance_work_mem = '256MB'")
        for index in indexes:
            await connection.execute(index["indexdef"])
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('documents', 'id'), max(id)) FROM documents"
        )
        await connection.execute("ANALYZE")
        sample = await connection.fetch(
            "SELECT id, summary, number_symbol, sender_name FROM documents WHERE id = ANY($1)",
            _sample(first, count),
        )
        for row in sample:
            words = _expected_words(row["summary"], row["number_symbol"], row["sender_name"])
            same = await connection.fetchval(
                "SELECT words = array_to_tsvector($2::text[]) FROM document_search"
                " WHERE document_id = $1",
                row["id"],
                _lexemes(row["id"], words),
            )
            assert same, row
    finally:
        await connection.close()
