"""The two registers' filters, and their print and Excel export: one book at a time (the
ordinary book or the secret one, :mod:`office.documents.books`), in the register's columns
(Decree 30/2020/NĐ-CP, Appendix IV), with the filters of the register's page."""

from __future__ import annotations

from aiohttp import web

from office.documents import listing, outgoing_register, refusals
from office.documents.desk import DESK
from office.documents.fields import text
from office.documents.paging import Entry
from office.documents.web.register_export import (
    MAX_EXPORT_ROWS,
    Cell,
    RegisterTable,
    book_file_stem,
    book_title,
    export_response,
)
from office.documents.web.requests import common_filters, page_number, register_book
from office.formats import format_datetime, local_time
from office.web.site import SITE, STAFF, translator

#: The states the incoming register may be filtered by.
INCOMING_STATES = ("registered", "assigned", "done", "returned")

INCOMING_COLUMNS = (
    ("incoming.col.received", 11),
    ("incoming.col.number", 8),
    ("incoming.col.sender", 22),
    ("incoming.col.symbol", 14),
    ("incoming.col.issued", 11),
    ("incoming.col.summary", 45),
    ("incoming.col.handler", 20),
    ("incoming.col.due", 11),
    ("incoming.col.state", 12),
    ("incoming.col.note", 20),
)

OUTGOING_COLUMNS = (
    ("outgoing.col.symbol", 14),
    ("outgoing.col.issued", 11),
    ("outgoing.col.summary", 45),
    ("outgoing.col.signer", 18),
    ("outgoing.col.recipients", 30),
    ("outgoing.col.keeper", 18),
    ("outgoing.col.copies", 8),
    ("outgoing.col.sent", 14),
    ("outgoing.col.receipts", 8),
    ("outgoing.col.note", 20),
)


def incoming_filter(request: web.Request) -> listing.RegisterFilter:
    query = request.query
    state = query.get("state", "")
    after = Entry.parse(query.get("after"))
    return listing.RegisterFilter(
        book=register_book(request),
        sender=text(query.get("sender"), refusals.SENDER, 255),
        state=state if state in INCOMING_STATES else "",
        after=after,
        before=None if after is not None else Entry.parse(query.get("before")),
        **common_filters(query),
    )


def outgoing_filter(request: web.Request) -> outgoing_register.OutgoingFilter:
    state = request.query.get("state", "")
    return outgoing_register.OutgoingFilter(
        book=register_book(request),
        state=state if state in outgoing_register.REGISTER_STATES else "",
        page=page_number(request.query),
        **common_filters(request.query),
    )


def _table(
    request: web.Request,
    register: str,
    book: str,
    columns: tuple[tuple[str, int], ...],
    rows: list[list[Cell]],
) -> RegisterTable:
    translate = translator(request)
    return RegisterTable(
        title=book_title(translate, register, book),
        subtitle=translate("incoming.export.printed", at=format_datetime(request.app[DESK].now())),
        columns=[translate(key) for key, _width in columns],
        rows=rows,
        widths=[width for _key, width in columns],
    )


async def export_incoming(request: web.Request) -> web.Response:
    """The filtered incoming book as a spreadsheet or a printed book (up to the export
    limit)."""
    site, staff = request.app[SITE], request[STAFF]
    translate = translator(request)
    wanted = incoming_filter(request)
    async with site.sessions() as session:
        page = await listing.incoming_register(
            session, staff, wanted, request.app[DESK].today(), page_rows=MAX_EXPORT_ROWS
        )
    cells: list[list[Cell]] = [
        [
            local_time(row.received_at).date() if row.received_at else None,
            row.register_number,
            row.sender_name,
            row.number_symbol,
            row.issued_on,
            f"{translate(f'doctype.{row.doc_type}')}: {row.summary}",
            row.handler,
            row.due_on,
            translate(f"state.{row.shown_state}"),
            row.note,
        ]
        for row in page.rows
    ]
    table = _table(request, "incoming.register", wanted.book, INCOMING_COLUMNS, cells)
    stem = book_file_stem("so-van-ban-den", wanted.book)
    return await export_response(
        request, table, request.match_info["format"], staff.unit_name, stem
    )


async def export_outgoing(request: web.Request) -> web.Response:
    """The filtered outgoing book as a spreadsheet or a printed book."""
    site, staff = request.app[SITE], request[STAFF]
    translate = translator(request)
    wanted = outgoing_filter(request)
    async with site.sessions() as session:
        rows, _more = await outgoing_register.outgoing_register(
            session, staff, wanted, request.app[DESK].unit_name, page_rows=MAX_EXPORT_ROWS
        )
    cells: list[list[Cell]] = [
        [
            row.number_symbol,
            row.issued_on,
            f"{translate(f'doctype.{row.doc_type}')}: {row.summary}",
            row.signer_name,
            "; ".join(row.recipients),
            row.keeper,
            row.copies,
            row.sent_at,
            row.receipted,
            row.note,
        ]
        for row in rows
    ]
    table = _table(request, "outgoing.register", wanted.book, OUTGOING_COLUMNS, cells)
    stem = book_file_stem("so-van-ban-di", wanted.book)
    return await export_response(
        request, table, request.match_info["format"], staff.unit_name, stem
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/incoming/register.{format:xlsx|pdf}", export_incoming)
    app.router.add_get(r"/outgoing/register.{format:xlsx|pdf}", export_outgoing)
