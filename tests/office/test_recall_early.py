"""A recall request that overtakes its document on the WAN still reaches it (Decree 30/2020
Art. 18): Cam Lộ's node keeps the request and, when the document arrives, files it already
marked "Nơi gửi đề nghị thu hồi", once however often the request came, and only if the unit
that asked is the one that sent it. Its clerk then answers as for any request.

On Cam Lộ's real node: the province's dispatches are sealed with its keys and delivered over the
peer API (mutual TLS) in the order a slow network may bring them.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.database import utcnow
from exchange.envelope import Header
from exchange.handlers import ReceivedDispatch
from exchange.models import EarlyRecall, InboundDispatch
from exchange.peer_client import PeerClient
from office.documents.models import Document, DocumentEvent
from office.node.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.support.dispatches import node_context, seal_document, seal_status
from tests.support.documents import form_id, version
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.waiting import wait_for
from tests.support.web import StaffBrowser, forget_sign_in_failures, new_account, refusal_text

REASON = "Ban hành nhầm đối tượng; thay bằng văn bản 13-CV/TU."
SUMMARY = "Về việc kiểm tra công tác văn thư năm 2026"
REPLACEMENT = "Về việc kiểm tra công tác văn thư năm 2026 (thay thế)"


@pytest.fixture
async def camlo(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(fast_settings(demo_network, "HU-CAMLO"))
    await forget_sign_in_failures(node)
    yield node
    await node.stop()


def a_document(
    network: DemoNetwork, folder: Path, summary: str = SUMMARY, symbol: str = "12-CV/TU"
) -> Header:
    return seal_document(
        network,
        folder,
        metadata={
            "doc_type": "CV",
            "summary": summary,
            "number_symbol": symbol,
            "issued_on": date.today().isoformat(),
            "sender_name": "Tỉnh uỷ Quảng Trị",
        },
    )


def a_recall(
    network: DemoNetwork,
    folder: Path,
    recalled: Header,
    replacement: Header | None = None,
    *,
    unit: str = "TU",
) -> Header:
    """The request (status 13) as ``unit``'s node sends it, naming ``replacement``."""
    details: dict[str, Any] = {"code": "13", "note": REASON}
    if replacement is not None:
        details["replacement"] = {
            "dispatch_id": replacement.id,
            "number_symbol": "13-CV/TU",
            "issued_on": date.today().isoformat(),
            "summary": REPLACEMENT,
        }
    return seal_status(
        network, folder, ref=recalled.id, metadata=details, sender_node=unit, sender_unit=unit
    )


async def deliver(
    network: DemoNetwork, node: RunningNode, folder: Path, *, by: str = "TU"
) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, node.peer_url, node_context(network, by))
        receipt = await client.deliver(folder)
    assert receipt["body"]["status"] == "accepted", receipt
    return receipt


async def kept(node: RunningNode, dispatch_id: str) -> int:
    async with node.sessions() as session:
        return (
            await session.scalar(select(func.count()).where(EarlyRecall.dispatch_id == dispatch_id))
            or 0
        )


async def copy_of(node: RunningNode, dispatch_id: str) -> Document | None:
    async with node.sessions() as session:
        return await session.scalar(select(Document).where(Document.dispatch_id == dispatch_id))


async def marked(node: RunningNode, dispatch_id: str) -> Document:
    async def requested() -> bool:
        found = await copy_of(node, dispatch_id)
        return found is not None and found.recall_state == "requested"

    await wait_for(requested)
    found = await copy_of(node, dispatch_id)
    assert found is not None
    return found


async def requests_logged(node: RunningNode, document_id: int) -> int:
    async with node.sessions() as session:
        return (
            await session.scalar(
                select(func.count()).where(
                    DocumentEvent.document_id == document_id,
                    DocumentEvent.action == "recall-requested",
                )
            )
            or 0
        )


async def test_a_recall_that_comes_first_marks_its_document_on_arrival_once_and_only_its_senders(
    demo_network: DemoNetwork, camlo: RunningNode, secrets_seen: SecretsSeen, tmp_path: Path
) -> None:
    document = a_document(demo_network, tmp_path / "document")
    replacement = a_document(demo_network, tmp_path / "replacement", REPLACEMENT, "13-CV/TU")
    request = a_recall(demo_network, tmp_path / "request", document, replacement)
    repeated = a_recall(demo_network, tmp_path / "repeated", document, replacement)
    forged = a_recall(demo_network, tmp_path / "forged", document, unit="TX-DONGHA")

    first = await deliver(demo_network, camlo, tmp_path / "request")
    # The same status again (its sender in doubt) gets the same receipt and is kept once.
    assert await deliver(demo_network, camlo, tmp_path / "request") == first
    await deliver(demo_network, camlo, tmp_path / "repeated")
    await deliver(demo_network, camlo, tmp_path / "forged", by="TX-DONGHA")
    assert await kept(camlo, document.id) == 3
    assert await copy_of(camlo, document.id) is None

    await deliver(demo_network, camlo, tmp_path / "document")

    arrived = await marked(camlo, document.id)
    assert await requests_logged(camlo, arrived.id) == 1  # two requests, one mark
    assert await kept(camlo, document.id) == 0
    account = await new_account(camlo, role="clerk")
    secrets_seen.add(account.password, account.totp_secret)
    async with StaffBrowser(camlo.web_url) as browser:
        await browser.sign_in_as(account)
        queue = (await browser.get("/incoming")).text.split('id="queue"')[1].split("</table>")[0]
        row = queue.split(SUMMARY)[1].split("</tr>")[0]
        assert "Nơi gửi đề nghị thu hồi" in row
        page = await browser.get(f"/incoming/{arrived.id}")
        assert REASON in page.text and 'id="recall-forms"' in page.text
        # The replacement has not arrived: named in words, not linked.
        assert "13-CV/TU" in page.text and "chưa nhận được" in page.text
        assert 'class="replacement-link"' not in page.text

        agreed = await browser.post(
            f"/incoming/{arrived.id}/recall/agree",
            {"csrf_token": page.form_token, "form_id": form_id(page), "version": version(page)},
        )
        assert agreed.status == 303, agreed.text
        listed = (await browser.get("/incoming")).text
        assert SUMMARY not in listed.split('id="register"')[0]  # out of the queue
        page = await browser.get(f"/incoming/{arrived.id}")
        assert 'id="register-form"' not in page.text
        cancelled = await copy_of(camlo, document.id)
        assert cancelled is not None and cancelled.recall_state == "agreed"
        refused = await browser.post(  # a crafted registration
            f"/incoming/{arrived.id}/register",
            {
                "csrf_token": page.form_token,
                "form_id": secrets.token_urlsafe(24),
                "version": str(cancelled.version),
                "summary": SUMMARY,
                "doc_type": "CV",
                "number_symbol": "12-CV/TU",
                "sender_name": "Tỉnh uỷ Quảng Trị",
            },
        )
        assert refused.status == 409 and "đã được thu hồi" in refusal_text(refused)

        await deliver(demo_network, camlo, tmp_path / "replacement")
        copy = await copy_of(camlo, replacement.id)
        assert copy is not None and copy.recall_state is None
        page = await browser.get(f"/incoming/{arrived.id}")
        assert f'href="/incoming/{copy.id}" class="replacement-link"' in page.text
        assert "chưa nhận được" not in page.text
    assert request.id != repeated.id != forged.id


async def disk_full(_session: AsyncSession, _dispatch: ReceivedDispatch) -> None:
    raise OSError(28, "No space left on device")


async def test_a_recall_that_comes_while_its_document_waits_to_be_filed_applies_when_it_is(
    demo_network: DemoNetwork, camlo: RunningNode, tmp_path: Path
) -> None:
    """Accepted but not yet filed (its first hand-over failed): a request that came then is
    kept, and the hand-over that files the document applies it."""
    assert camlo.desk is not None and camlo.sweeper is not None
    document = a_document(demo_network, tmp_path / "document", "Về việc chờ lưu")
    a_recall(demo_network, tmp_path / "request", document)
    filing = camlo.handlers.replace("document", disk_full)
    assert filing is not None
    await deliver(demo_network, camlo, tmp_path / "document")
    assert await copy_of(camlo, document.id) is None

    await deliver(demo_network, camlo, tmp_path / "request")
    assert await kept(camlo, document.id) == 1

    camlo.handlers.replace("document", filing)
    async with camlo.sessions() as session, session.begin():
        # As if accepted a check's lease ago: the sweep hands it over again.
        await session.execute(
            update(InboundDispatch)
            .where(InboundDispatch.id == document.id)
            .values(decided_at=utcnow() - timedelta(hours=1))
        )
    await camlo.sweeper.sweep_once()
    arrived = await marked(camlo, document.id)
    assert await requests_logged(camlo, arrived.id) == 1
    assert await kept(camlo, document.id) == 0
