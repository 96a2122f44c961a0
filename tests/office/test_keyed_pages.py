"""The register's and the search's pager links over HTTP: following "next" and then "previous"
shows every entry the clerk may see once, and the same pages back; a secret entry never shows
to a clerk without a clearance, on any page."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import delete, insert, select

from office.documents import search
from office.documents.models import Document
from office.documents.paging import PAGE_ROWS
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support.web import StaffBrowser

#: More than two pages, across two years; every seventh secret (độ mật 1).
ENTRIES = [(2025, number) for number in range(70, 0, -1)] + [(2024, n) for n in range(60, 0, -1)]
MARK = "Phân trang theo khoá"


async def _add_documents(node: RunningNode) -> dict[tuple[int, int], bool]:
    """The entries above in unit TU's incoming book, indexed, the oldest first (so the search's
    order, newest id first, is the book's); whether each is secret."""
    secret = {entry: index % 7 == 3 for index, entry in enumerate(ENTRIES)}
    async with node.sessions() as session, session.begin():
        for (year, number), is_secret in reversed(secret.items()):
            document_id = await session.scalar(
                insert(Document)
                .values(
                    unit_code="TU",
                    direction="incoming",
                    state="registered",
                    secrecy=1 if is_secret else 0,
                    doc_type="CV",
                    summary=f"{MARK} {year} số {number}",
                    register_year=year,
                    register_series="normal",
                    register_number=number,
                )
                .returning(Document.id)
            )
            assert document_id is not None
            await search.index_document(session, document_id, [f"{MARK} {year} số {number}"])
    return secret


async def _remove_documents(node: RunningNode) -> None:
    async with node.sessions() as session, session.begin():
        ids = list(
            await session.scalars(select(Document.id).where(Document.summary.startswith(MARK)))
        )
        for document_id in ids:
            await search.forget_document(session, document_id)
        await session.execute(delete(Document).where(Document.id.in_(ids)))


def _shown(html: str) -> list[tuple[int, int]]:
    return [(int(y), int(n)) for y, n in re.findall(rf"{MARK} (\d+) số (\d+)", html)]


def _link(html: str, name: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*)" id="page-{name}"', html)
    return unescape(found.group(1)) if found else None


async def _walk(browser: StaffBrowser, path: str) -> tuple[list[list[tuple[int, int]]], str]:
    """The pages from ``path`` by "next", and the last page's address."""
    pages = []
    while True:
        page = await browser.get(path)
        assert page.status == 200, path
        pages.append(_shown(page.text))
        following = _link(page.text, "older")
        if following is None:
            return pages, path
        path = path.split("?", 1)[0] + following


async def _walk_back(browser: StaffBrowser, path: str) -> list[list[tuple[int, int]]]:
    pages = []
    while True:
        page = await browser.get(path)
        pages.append(_shown(page.text))
        previous = _link(page.text, "newer")
        if previous is None:
            return pages[::-1]
        path = path.split("?", 1)[0] + previous


async def test_next_and_previous_links_walk_the_register_and_the_search(
    tu: RunningNode, make_account: NewAccount
) -> None:
    secret = await _add_documents(tu)
    try:
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(await make_account(role="clerk", clearance=0))
            visible = [entry for entry in ENTRIES if not secret[entry]]
            for start in ("/incoming?type=CV", "/search?q=phan+trang+theo+khoa"):
                pages, last = await _walk(browser, start)
                assert [entry for page in pages for entry in page] == visible, start
                assert len(pages) >= len(visible) // PAGE_ROWS + 1, start
                assert await _walk_back(browser, last) == pages, start
    finally:
        await _remove_documents(tu)
