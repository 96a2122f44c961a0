"""Tìm kiếm: one box over the registers, diacritics optional ("cong van dong ha" finds "Công
văn Đông Hà"), showing only what the member of staff may see."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from office.documents.models import Document
from office.documents.search import search_documents
from office.documents.web.choices import document_choices
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator

PAGE_ROWS = 50
MAX_QUERY = 200


async def search_page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    query = request.query.get("q", "")[:MAX_QUERY].strip()
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    documents: list[Document] = []
    more = False
    if query:
        async with site.sessions() as session:
            ids = await search_documents(
                session,
                query,
                staff,
                limit=PAGE_ROWS + 1,
                offset=(page - 1) * PAGE_ROWS,
            )
            more = len(ids) > PAGE_ROWS
            ids = ids[:PAGE_ROWS]
            if ids:
                found = await session.scalars(select(Document).where(Document.id.in_(ids)))
                by_id = {document.id: document for document in found}
                documents = [by_id[i] for i in ids if i in by_id]
    return render(
        request,
        "documents/search.html",
        {
            "title": translator(request)("section.search"),
            "query": query,
            "documents": documents,
            "page": page,
            "more": more,
            **document_choices(request),
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/search", search_page, name="search")
