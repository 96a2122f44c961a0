"""A document from the network keeps the secrecy its sender's signed metadata gave it: the clerk
registering it may raise it, never lower it (only the originator declassifies), whether through
the service or a crafted form, so it cannot be opened up to staff the sender kept out.

Both nodes here let secrets travel (``[office] max_secrecy_on_network = 3``, as where the cipher
service's cryptography carries the network): with the default, neither would send or take one
(``tests/office/test_secrecy_network.py``)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from config.errors import Invalid
from keys.models import User
from keys.signin import StaffMember, staff_member
from office.documents import incoming
from office.documents.fields import from_metadata
from office.documents.models import Document
from office.node.app import RunningNode, start_node
from tests.office.conftest import NewAccount
from tests.support.documents import (
    arrived,
    form_id,
    make_pdf,
    paper_fields,
    sent_to_the_province,
    version,
)
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings, start_camlo
from tests.support.web import StaffAccount, StaffBrowser, forget_sign_in_failures

TOI_MAT, TUYET_MAT = 2, 3
SECRETS_TRAVEL = {"CONGVAN_OFFICE_MAX_SECRECY_ON_NETWORK": "3"}
SUMMARY = "Về công tác bảo vệ chính trị nội bộ"
SECRET_METADATA = {
    "doc_type": "CV",
    "summary": SUMMARY,
    "number_symbol": "12-CV/HU",
    "issued_on": "2026-11-20",
    "secrecy": TOI_MAT,
}


@pytest.fixture
async def tu(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(fast_settings(demo_network, "TU", **SECRETS_TRAVEL))
    await forget_sign_in_failures(node)
    yield node
    await node.stop()


async def received_from_camlo(tu: RunningNode, network: DemoNetwork, tmp_path: Path) -> Document:
    """A Tối mật document Cam Lộ sends over the network, waiting in the province's queue."""
    camlo = await start_camlo(network, SECRETS_TRAVEL)
    try:
        pdf = make_pdf(tmp_path, "mat.pdf", "Tài liệu tối mật")
        header = await sent_to_the_province(camlo, pdf, SECRET_METADATA)
        document = await arrived(tu, header.id)
    finally:
        await camlo.stop()
    assert document.secrecy == TOI_MAT
    return document


async def member(tu: RunningNode, account: StaffAccount) -> StaffMember:
    async with tu.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.username == account.username))
        assert user_id is not None
        found = await staff_member(session, user_id)
    assert found is not None
    return found


async def still_received(tu: RunningNode, document_id: int) -> tuple[str, int, int | None]:
    async with tu.sessions() as session:
        document = await session.get(Document, document_id)
    assert document is not None
    return document.state, document.secrecy, document.register_number


@pytest.mark.parametrize("lower", [0, 1])
async def test_the_register_service_refuses_a_secrecy_below_the_senders(
    tu: RunningNode,
    demo_network: DemoNetwork,
    make_account: NewAccount,
    tmp_path: Path,
    lower: int,
) -> None:
    document = await received_from_camlo(tu, demo_network, tmp_path)
    clerk = await member(tu, await make_account(role="clerk", clearance=TUYET_MAT))
    fields = dataclasses.replace(from_metadata(SECRET_METADATA, "Huyện uỷ Cam Lộ"), secrecy=lower)
    assert tu.desk is not None
    with pytest.raises(Invalid) as refused:
        async with tu.sessions() as session, session.begin():
            await incoming.register(
                session,
                clerk,
                document.id,
                document.version,
                fields,
                tu.desk.now(),
                year=tu.desk.today().year,
            )
    assert refused.value.code == "secrecy-lowered"
    assert await still_received(tu, document.id) == ("received", TOI_MAT, None)


def secrecy_options(html: str) -> list[str]:
    select_html = html.split('id="secrecy"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="(\d)"', select_html)


async def test_the_register_form_offers_no_lower_secrecy_refuses_a_crafted_one_and_may_raise_it(
    tu: RunningNode, demo_network: DemoNetwork, make_account: NewAccount, tmp_path: Path
) -> None:
    document = await received_from_camlo(tu, demo_network, tmp_path)
    clerk = await make_account(role="clerk", clearance=TUYET_MAT)
    path = f"/incoming/{document.id}"
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        page = await browser.get(path)
        assert secrecy_options(page.text) == [str(TOI_MAT), str(TUYET_MAT)]

        def form(secrecy: int) -> dict[str, str]:
            return {
                "csrf_token": page.form_token,
                "form_id": form_id(page),
                "version": version(page),
                **paper_fields(
                    SUMMARY,
                    number_symbol="12-CV/HU",
                    issued_on="20/11/2026",
                    secrecy=str(secrecy),
                ),
            }

        crafted = await browser.post(f"{path}/register", form(0))
        assert crafted.status == 400
        assert "Chỉ cơ quan ban hành" in crafted.text
        assert await still_received(tu, document.id) == ("received", TOI_MAT, None)

        raised = await browser.post(f"{path}/register", form(TUYET_MAT))
        assert raised.status == 303, raised.text
    async with tu.sessions() as session:
        registered = await session.get(Document, document.id)
    assert registered is not None
    assert (registered.state, registered.secrecy, registered.register_series) == (
        "registered",
        TUYET_MAT,
        "secret",
    )


@pytest.mark.parametrize(
    ("declared", "taken"),
    [(None, 0), (0, 0), (2, 2), ("3", 3), (" 1 ", 1), (4, 3), (-1, 3), ("Mật", 3), (True, 3),
     (2.0, 3), ([1], 3)],
)  # fmt: skip
def test_a_secrecy_the_receiver_cannot_read_is_taken_as_the_highest(
    declared: object, taken: int
) -> None:
    """Never "Không mật" for a level written oddly: the register's floor rests on it."""
    assert from_metadata({"secrecy": declared}, "Huyện uỷ Cam Lộ").secrecy == taken
