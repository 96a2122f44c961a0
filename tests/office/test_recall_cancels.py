"""A recall the receiving unit agrees to cancels the document there (Decree 30/2020 Art. 18):
out of the clerk's queue and every task list, its open assignments closed, every further step
refused with a clear reason, and "Đã thu hồi" in the register, its print and its export; while
the recall is only asked, the queue, the home page and the document mark it, with the sender's
reason. On a real node; the dispatch and the sender's request arrive as the exchange hands
them over."""

from __future__ import annotations

import io
import secrets
import uuid

import openpyxl
import pytest
from sqlalchemy import select

from config.errors import CongvanError
from keys import organisation
from keys.signin import StaffMember
from office.documents import directing, incoming, presenting, recall
from office.documents.fields import from_metadata
from office.documents.handlers import DEPARTMENT, PERSON, Handler
from office.documents.models import Assignment, DepartmentAssignment, Document
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support.approval import member_of
from tests.support.documents import (
    form_id,
    stored_document,
    version,
)
from tests.support.web import StaffAccount, StaffBrowser, refusal_text

REASON = "Văn bản ban hành nhầm đối tượng; sẽ có văn bản thay thế."
RECALLED = "Văn bản đã được thu hồi theo đề nghị của nơi gửi"


async def arrived(node: RunningNode, summary: str) -> Document:
    """A document dispatch from Cam Lộ, handed over as the exchange does."""
    assert node.desk is not None
    async with node.desk.transaction() as session:
        [document] = await incoming.receive(
            session,
            ["TU"],
            from_metadata({"summary": summary, "number_symbol": "07-CV/HU"}, "Huyện uỷ Cam Lộ"),
            [],
            dispatch_id=str(uuid.uuid4()),
            sender_unit="HU-CAMLO",
            now=node.desk.now(),
        )
    return document


async def asked_back(node: RunningNode, document: Document) -> None:
    """The sender's recall request (status 13), as the exchange hands it to the desk."""
    assert node.desk is not None and document.dispatch_id is not None
    async with node.desk.transaction() as session:
        await recall.mark_requested(session, document.dispatch_id, "TU", REASON, node.desk.now())


async def agree(browser: StaffBrowser, document_id: int) -> None:
    page = await browser.get(f"/incoming/{document_id}")
    assert page.status == 200 and REASON in page.text and 'id="recall-forms"' in page.text
    agreed = await browser.post(
        f"/incoming/{document_id}/recall/agree",
        {"csrf_token": page.form_token, "form_id": form_id(page), "version": version(page)},
    )
    assert agreed.status == 303, agreed.text


@pytest.fixture
async def people(
    tu: RunningNode, make_account: NewAccount
) -> tuple[StaffAccount, StaffMember, StaffMember, StaffAccount]:
    clerk = await make_account(role="clerk")
    leader = await make_account(role="leader")
    handler = await make_account(role="staff", full_name="Người Xử Lý")
    return (
        clerk,
        await member_of(tu, clerk.username),
        await member_of(tu, leader.username),
        handler,
    )


async def test_an_agreed_recall_cancels_the_document_in_every_list_and_step(
    tu: RunningNode,
    people: tuple[StaffAccount, StaffMember, StaffMember, StaffAccount],
    browser: StaffBrowser,
) -> None:
    clerk, clerk_member, leader, handler = people
    assert tu.desk is not None
    waiting = await arrived(tu, "Về việc chưa vào sổ")
    handled = await arrived(tu, "Về việc đang xử lý")
    handler_id = (await member_of(tu, handler.username)).id
    # A department helps: its part is closed with the rest (its head is no longer asked).
    async with tu.sessions() as session, session.begin():
        department = await organisation.add_department(
            session, "TU", f"R{uuid.uuid4().hex[:6].upper()}", "Phòng Phối Hợp", ("TU",)
        )
        await organisation.set_department_head(
            session, "TU", department.code, handler.username, ("TU",)
        )
        department_id = department.id
    async with tu.desk.transaction() as session:
        registered, _ = await incoming.register(
            session,
            clerk_member,
            handled.id,
            handled.version,
            from_metadata({"summary": handled.summary, "number_symbol": "07-CV/HU"}, "HU"),
            tu.desk.now(),
            year=tu.desk.today().year,
        )
        await presenting.present_registered(
            session, clerk_member, registered, leader_id=leader.id, proposal=None, now=tu.desk.now()
        )
    async with tu.desk.transaction() as session:
        await directing.direct(
            session,
            leader,
            tu.desk.calendar,
            handled.id,
            (await stored_document(tu, handled.id)).version,
            note="Giao xử lý",
            lead=Handler(PERSON, handler_id),
            co=[Handler(DEPARTMENT, department_id)],
            working_days=5,
            today=tu.desk.today(),
            now=tu.desk.now(),
        )
    await asked_back(tu, waiting)
    await asked_back(tu, handled)

    await browser.sign_in_as(clerk)
    listed = (await browser.get("/incoming")).text
    queue = listed.split('id="queue"')[1].split("</table>")[0]
    assert "Về việc chưa vào sổ" in queue and "Nơi gửi đề nghị thu hồi" in queue
    home = (await browser.get("/")).text
    assert "Nơi gửi đề nghị thu hồi" in home

    await agree(browser, waiting.id)
    await agree(browser, handled.id)

    listed = (await browser.get("/incoming")).text
    assert "Về việc chưa vào sổ" not in listed.split('id="register"')[0]  # out of the queue
    row = listed.split("Về việc đang xử lý")[1].split("</tr>")[0]
    assert "Đã thu hồi" in row
    page = await browser.get(f"/incoming/{waiting.id}")
    assert 'id="register-form"' not in page.text and REASON in page.text
    # A crafted registration is refused with the reason, and numbers nothing.
    refused = await browser.post(
        f"/incoming/{waiting.id}/register",
        {
            "csrf_token": page.form_token,
            "form_id": secrets.token_urlsafe(24),
            "version": str((await stored_document(tu, waiting.id)).version),
            "summary": "Vẫn vào sổ",
            "doc_type": "CV",
            "number_symbol": "07-CV/HU",
            "sender_name": "Huyện uỷ Cam Lộ",
        },
    )
    assert refused.status == 409 and RECALLED in refusal_text(refused)
    assert (await stored_document(tu, waiting.id)).register_number is None

    async with tu.sessions() as session:
        states = (
            await session.scalars(
                select(Assignment.state).where(Assignment.document_id == handled.id)
            )
        ).all()
        parts = (
            await session.scalars(
                select(DepartmentAssignment.state).where(
                    DepartmentAssignment.document_id == handled.id
                )
            )
        ).all()
    assert states == ["recalled"] and parts == ["recalled"]
    async with StaffBrowser(tu.web_url) as handler_browser:
        await handler_browser.sign_in_as(handler)
        tasks = (await handler_browser.get("/")).text
        assert "Về việc đang xử lý" not in tasks
        assert 'id="home-department-parts"' not in tasks
    async with tu.desk.transaction() as session:
        with pytest.raises(CongvanError) as again:
            await directing.direct(
                session,
                leader,
                tu.desk.calendar,
                handled.id,
                (await stored_document(tu, handled.id)).version,
                note="Giao lại",
                lead=Handler(PERSON, handler_id),
                co=[],
                working_days=5,
                today=tu.desk.today(),
                now=tu.desk.now(),
            )
    assert again.value.code == "recalled"

    async with browser.http.get(f"{tu.web_url}/incoming/register.xlsx") as answer:
        assert answer.status == 200
        sheet = openpyxl.load_workbook(io.BytesIO(await answer.read())).active
    assert sheet is not None
    rows = [row for row in sheet.iter_rows(values_only=True) if "Về việc đang xử lý" in str(row)]
    assert rows and "Đã thu hồi" in rows[0]
    assert registered.id == handled.id
