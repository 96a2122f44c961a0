"""A document's PDF text reaches the search index after its step commits, read by a worker in
a child process under a time cap: a PDF made to be slow holds up no one's write, and a crash
between the commit and the reading loses nothing."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select

from config.database import create_engine, create_session_factory
from office.documents import search
from office.documents.models import TEXT_READ, TEXT_UNREADABLE, PdfText, SearchPending
from office.node.app import RunningNode, start_node
from tests.support.documents import (
    enter_paper,
    indexed,
    make_pdf,
    slow_pdf,
)
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.waiting import wait_for
from tests.support.web import StaffBrowser, new_account

#: The worker's cap in these tests: the slow PDF of 600 pages takes pypdf minutes, so it is
#: still being read this long after the worker took it, whatever the machine's load.
TEXT_SECONDS = 20


@pytest.fixture
async def capped(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(
        fast_settings(demo_network, "TU", CONGVAN_OFFICE_TEXT_SECONDS=str(TEXT_SECONDS))
    )
    yield node
    await node.stop()


async def text_state(node: RunningNode, content: bytes) -> str | None:
    async with node.sessions() as session:
        return await session.scalar(
            select(PdfText.state).where(PdfText.sha256 == hashlib.sha256(content).hexdigest())
        )


async def leased(node: RunningNode, document_path: str) -> bool:
    """Whether a worker has taken the document's reading and not yet finished it."""
    async with node.sessions() as session:
        found = await session.get(SearchPending, int(document_path.rsplit("/", 1)[1]))
    return found is not None and found.leased_until is not None


async def test_a_pdf_made_to_be_slow_holds_up_no_other_write(
    capped: RunningNode, tmp_path: Path
) -> None:
    """A clerk enters a PDF that keeps pypdf busy for minutes; while the worker reads it,
    another enters a document, and that write is done before the reading ends (it used to wait
    for the reading, then fail with "database is locked"); the slow PDF ends up given up at the
    cap (or read), never in the way."""
    slow = tmp_path / "cong-van-quet.pdf"
    slow.write_bytes(slow_pdf(pages=600))
    other_pdf = make_pdf(tmp_path, "khac.pdf", "Kế hoạch diễn tập phòng cháy chữa cháy")
    clerk = await new_account(capped, role="clerk")
    other = await new_account(capped, role="clerk")
    async with StaffBrowser(capped.web_url) as as_clerk, StaffBrowser(capped.web_url) as as_other:
        await as_clerk.sign_in_as(clerk)
        await as_other.sign_in_as(other)
        slow_path = await enter_paper(as_clerk, slow, "Công văn quét rất chậm")

        async def being_read() -> bool:
            return await leased(capped, slow_path)

        await wait_for(being_read, seconds=TEXT_SECONDS)
        other_path = await enter_paper(as_other, other_pdf, "Kế hoạch diễn tập")
        # Still being read once the other write went through: that write did not wait for it.
        assert await leased(capped, slow_path)

        await indexed(capped, seconds=TEXT_SECONDS + 30)
        # Given up at the cap; a fast machine may read it whole first.
        assert await text_state(capped, slow.read_bytes()) in (TEXT_UNREADABLE, TEXT_READ)
        assert await text_state(capped, other_pdf.read_bytes()) == TEXT_READ
        # Found by its fields; the other by its PDF's text.
        assert f'href="{slow_path}"' in (await as_clerk.get("/search?q=cong van quet")).text
        found = await as_other.get("/search?q=dien tap phong chay")
        assert f'href="{other_path}"' in found.text


async def test_a_document_left_pending_by_a_process_that_died_is_indexed_at_the_next_start(
    demo_network: DemoNetwork, tmp_path: Path
) -> None:
    """A process that died after the commit, its PDF not read yet, its lease run out: the
    next start reads the PDF and the document is found by its text."""
    settings = fast_settings(demo_network, "TU")
    pdf = make_pdf(tmp_path, "lut-bao.pdf", "Phương án phòng chống lụt bão khu vực Gio Linh")
    node = await start_node(settings)
    try:
        clerk = await new_account(node, role="clerk")
        async with StaffBrowser(node.web_url) as browser:
            await browser.sign_in_as(clerk)
            path = await enter_paper(browser, pdf, "Báo cáo tháng mười hai")
        await indexed(node)
    finally:
        await node.stop()
    document_id = int(path.rsplit("/", 1)[1])
    sha256 = hashlib.sha256(pdf.read_bytes()).hexdigest()
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(delete(PdfText).where(PdfText.sha256 == sha256))
            await search.index_document(session, document_id, ["Báo cáo tháng mười hai"])
            await session.execute(
                insert(SearchPending).values(
                    document_id=document_id,
                    queued_at=datetime.now(UTC) - timedelta(minutes=5),
                    leased_until=datetime.now(UTC) - timedelta(seconds=1),
                )
            )
    finally:
        await engine.dispose()

    node = await start_node(settings)
    try:
        await indexed(node)
        async with StaffBrowser(node.web_url) as browser:
            await browser.sign_in_as(await new_account(node, role="clerk"))
            found = await browser.get("/search?q=phong chong lut bao gio linh")
        assert f'href="{path}"' in found.text
    finally:
        await node.stop()
