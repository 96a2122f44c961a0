"""Tìm kiếm: one box over the registers, diacritics optional ("cong van dong ha" finds "Công
văn Đông Hà"), showing only what the member of staff may see. Its pages go by key (the links
carry ``?after=`` or ``?before=`` a document's id), so a later page costs the first one's."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from office.documents.models import Document
from office.documents.paging import KeyedPage, keyed_page
from office.documents.search import Bound, search_documents
from office.documents.web.choices import document_choices
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator

PAGE_ROWS = 50
MAX_QUERY = 200


def _document_id(value: str | None) -> int | None:
    """A page's edge from its link; anything else is none (the first page)."""
    return int(value) if value and value.isdigit() and len(value) <= 18 else None


async def search_page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    query = request.query.get("q", "")[:MAX_QUERY].strip()
    after = _document_id(request.query.get("after"))
    before = None if after is not None else _document_id(request.query.get("before"))
    page: KeyedPage[int, int] = keyed_page([], after, before, int, PAGE_ROWS)
    documents: list[Document] = []
    if query:
        async with site.sessions() as session:
            ids = await search_documents(
                session,
                query,
                staff,
                limit=PAGE_ROWS + 1,
                bound=Bound(older_than=after, newer_than=before),
            )
            page = keyed_page(ids, after, before, int, PAGE_ROWS)
            if page.rows:
                found = await session.scalars(select(Document).where(Document.id.in_(page.rows)))
                by_id = {document.id: document for document in found}
                documents = [by_id[i] for i in page.rows if i in by_id]
    return render(
        request,
        "documents/search.html",
        {
            "title": translator(request)("section.search"),
            "query": query,
            "documents": documents,
            "page": page,
            **document_choices(request),
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/search", search_page, name="search")
