"""A district sends a document through the network: it waits pre-filled in the province
clerk's queue with its signature checked, and each step of its handling goes back to the
district as a status on its timeline."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from exchange.statuses import timeline
from office.documents.models import DocumentFile
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support.cli import Cli
from tests.support.documents import (
    arrived,
    form_id,
    indexed,
    make_pdf,
    paper_fields,
    sent_to_the_province,
    version,
)
from tests.support.network import DemoNetwork
from tests.support.nodes import start_camlo
from tests.support.waiting import wait_for
from tests.support.web import StaffBrowser


async def test_a_district_document_is_queued_registered_and_reported_back(
    tu: RunningNode, demo_network: DemoNetwork, make_account: NewAccount, tmp_path: Path
) -> None:
    camlo = await start_camlo(demo_network)
    try:
        pdf = make_pdf(tmp_path, "bao-cao.pdf", "Báo cáo tình hình ứng dụng CNTT")
        header = await sent_to_the_province(
            camlo,
            pdf,
            {
                "doc_type": "BC",
                "summary": "Báo cáo tình hình ứng dụng công nghệ thông tin năm 2026",
                "number_symbol": "45-BC/HU",
                "issued_on": "2026-11-20",
                "signer_name": "Nguyễn Văn A",
                "urgency": 1,
                "secrecy": 0,
            },
            urgency=1,
        )
        document = await arrived(tu, header.id)
        assert (document.state, document.sender_unit, document.number_symbol) == (
            "received",
            "HU-CAMLO",
            "45-BC/HU",
        )
        await indexed(tu)  # its PDF's signature, checked after the arrival committed
        async with tu.sessions() as session:
            stored = await session.scalar(
                select(DocumentFile).where(DocumentFile.document_id == document.id)
            )
        assert stored is not None and stored.signature_state == "unsigned"

        clerk = await make_account(role="clerk")
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(clerk)
            queue = await browser.get("/incoming")
            assert "Báo cáo tình hình ứng dụng công nghệ thông tin năm 2026" in queue.text
            page = await browser.get(f"/incoming/{document.id}")
            assert 'value="45-BC/HU"' in page.text and "readonly" in page.text
            registered = await browser.post(
                f"/incoming/{document.id}/register",
                {
                    "csrf_token": page.form_token,
                    "form_id": form_id(page),
                    "version": version(page),
                    **paper_fields(
                        "Báo cáo tình hình ứng dụng công nghệ thông tin năm 2026",
                        number_symbol="45-BC/HU",
                        doc_type="BC",
                        issued_on="20/11/2026",
                    ),
                },
            )
            assert registered.status == 303, registered.text

        async def codes() -> list[str]:
            async with camlo.sessions() as session:
                return [view.code for view in await timeline(session, header.id)]

        async def reported() -> bool:
            return bool(await codes())

        await wait_for(reported)
        assert await codes() == ["03"]
    finally:
        await camlo.stop()


async def test_the_urgency_given_on_the_command_line_reaches_the_clerk_s_queue(
    tu: RunningNode, demo_network: DemoNetwork, cli: Cli, tmp_path: Path
) -> None:
    """`exchange send --urgency` signs it in the header only; the header is what counts."""
    camlo = await start_camlo(demo_network)
    try:
        pdf = make_pdf(tmp_path, "hoa-toc.pdf", "Công văn thượng khẩn")
        dispatch_id = cli(
            "exchange", "send", "--dir", demo_network.node_dir("HU-CAMLO"),
            "--from", "HU-CAMLO", "--to", "TU", "--file", pdf,
            "--summary", "Công văn thượng khẩn về phòng chống bão", "--urgency", "2",
        ).stdout.strip()  # fmt: skip
        document = await arrived(tu, dispatch_id)
    finally:
        await camlo.stop()
    assert (document.summary, document.urgency) == ("Công văn thượng khẩn về phòng chống bão", 2)
