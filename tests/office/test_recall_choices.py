"""Thu hồi from the recipients the sender chooses, naming the document that replaces the recalled
one (Decree 30/2020 Art. 18), between real nodes on loopback: the province (TU) sends a letter to
Cam Lộ and Đông Hà, recalls it from Cam Lộ only, naming its replacement from the list; Cam Lộ's
copy links to the replacement it received and is cancelled once its clerk agrees, while Đông
Hà's copy is left alone until it is asked in turn (by the replacement's number). The sender's
page shows each recipient's recall. Every refusal (another unit's clerk, a specialist, a
recipient not sent to or asked already, a replacement that is not the sender's own issued
document) changes nothing and sends nothing.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from exchange.models import OutboundDispatch
from office.documents import incoming
from office.documents.fields import from_metadata
from office.documents.models import Document, DocumentRecall
from office.node.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.office.test_outgoing import _account_in, codes, issue, new_draft
from tests.support.documents import arrived, form_id, stored_document, version
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.waiting import wait_for
from tests.support.web import Page, StaffBrowser, new_account, refusal_text

REASON = "Ban hành nhầm đối tượng thực hiện"
BOTH = ("HU-CAMLO", "TX-DONGHA")


@pytest.fixture
async def dongha(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(fast_settings(demo_network, "TX-DONGHA"))
    yield node
    await node.stop()


async def sent(
    browser: StaffBrowser,
    tu: RunningNode,
    tmp_path: Path,
    summary: str,
    recipients: Sequence[str] = BOTH,
) -> Document:
    """A letter drafted, signed by the unit's signer, issued and sent by the clerk."""
    document_id = await new_draft(browser, tmp_path, summary=summary, recipients=recipients)
    assert (await issue(browser, document_id, node=tu)).status == 303
    found = await stored_document(tu, document_id)
    assert found.state == "sent" and found.dispatch_id is not None
    return found


async def ask(
    browser: StaffBrowser,
    document_id: int,
    recipients: Sequence[str],
    *,
    replacement: str = "",
    number: str = "",
    note: str = REASON,
    page: Page | None = None,
) -> Page:
    """The recall form as a browser posts it: the recipients ticked, one field each."""
    page = page or await browser.get(f"/outgoing/{document_id}")
    form = aiohttp.FormData()
    form.add_field("csrf_token", page.form_token)
    form.add_field("form_id", secrets.token_urlsafe(24))
    form.add_field("version", version(page) if 'name="version"' in page.text else "1")
    for unit in recipients:
        form.add_field("recipient", unit)
    form.add_field("note", note)
    form.add_field("replacement", replacement)
    form.add_field("replacement_number", number)
    return await browser.post(f"/outgoing/{document_id}/recall", form)


async def requests_sent(node: RunningNode, dispatch_id: str) -> list[OutboundDispatch]:
    """The recall requests (statuses about our own dispatch) that went out."""
    async with node.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(OutboundDispatch).where(OutboundDispatch.ref == dispatch_id)
                )
            ).all()
        )


async def recalls_of(node: RunningNode, document_id: int) -> list[DocumentRecall]:
    async with node.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(DocumentRecall).where(DocumentRecall.document_id == document_id)
                )
            ).all()
        )


async def copy_on(node: RunningNode, dispatch_id: str | None) -> Document:
    assert dispatch_id is not None
    return await arrived(node, dispatch_id)


async def recall_state(node: RunningNode, document_id: int) -> str | None:
    return (await stored_document(node, document_id)).recall_state


def line_of(page: Page, unit: str) -> str:
    """The sender's timeline row of one recipient."""
    return page.text.split(f'<tr data-unit="{unit}">')[1].split("</tr>")[0]


def recall_section(page: Page) -> str:
    return page.text.split('id="recall-form"')[1].split("</form>")[0]


async def test_a_recall_from_one_recipient_names_the_replacement_and_leaves_the_other_copy(
    tu: RunningNode,
    camlo: RunningNode,
    dongha: RunningNode,
    make_account: NewAccount,
    secrets_seen: SecretsSeen,
    tmp_path: Path,
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        recalled = await sent(browser, tu, tmp_path, "Về việc báo cáo sơ kết (bản nhầm)")
        replacement = await sent(browser, tu, tmp_path, "Về việc báo cáo sơ kết (thay thế)")
        camlo_copy = await copy_on(camlo, recalled.dispatch_id)
        camlo_replacement = await copy_on(camlo, replacement.dispatch_id)
        dongha_copy = await copy_on(dongha, recalled.dispatch_id)
        await copy_on(dongha, replacement.dispatch_id)

        page = await browser.get(f"/outgoing/{recalled.id}")
        form = recall_section(page)
        for unit in BOTH:  # every recipient offered, ticked
            assert f'name="recipient" value="{unit}" checked' in form
        assert f'<option value="{replacement.id}">{replacement.number_symbol}' in form
        assert f'<option value="{recalled.id}">' not in form  # not itself
        asked = await ask(
            browser, recalled.id, ["HU-CAMLO"], replacement=str(replacement.id), page=page
        )
        assert asked.status == 303, asked.text

        [request] = await requests_sent(tu, recalled.dispatch_id or "")
        assert request.recipients == '["HU-CAMLO"]'  # Đông Hà is not asked
        [row] = await recalls_of(tu, recalled.id)
        assert (row.unit, row.replacement_number_symbol) == ("HU-CAMLO", replacement.number_symbol)
        page = await browser.get(f"/outgoing/{recalled.id}")
        camlo_line, dongha_line = line_of(page, "HU-CAMLO"), line_of(page, "TX-DONGHA")
        assert "Đã đề nghị thu hồi" in camlo_line and "status-13" in camlo_line
        assert f'href="/outgoing/{replacement.id}" class="replacement-link"' in camlo_line
        assert "recall-state" not in dongha_line and "status-13" not in dongha_line
        form = recall_section(page)
        assert 'value="TX-DONGHA" checked' in form and 'value="HU-CAMLO"' not in form
        assert "(1/2 nơi nhận)" in page.text

        async def asked_at_camlo() -> bool:
            return await recall_state(camlo, camlo_copy.id) == "requested"

        await wait_for(asked_at_camlo)
        district = await new_account(camlo, role="clerk")
        specialist = await new_account(camlo, role="staff")
        secrets_seen.add(district.password, district.totp_secret)
        secrets_seen.add(specialist.password, specialist.totp_secret)
        async with StaffBrowser(camlo.web_url) as other:
            await other.sign_in_as(specialist)
            home = await other.get("/")
            refused = await other.post(
                f"/incoming/{camlo_copy.id}/recall/agree",
                {
                    "csrf_token": home.form_token,
                    "form_id": secrets.token_urlsafe(24),
                    "version": str((await stored_document(camlo, camlo_copy.id)).version),
                },
            )
            assert refused.status in (403, 404)
        assert await recall_state(camlo, camlo_copy.id) == "requested"
        async with StaffBrowser(camlo.web_url) as district_browser:
            await district_browser.sign_in_as(district)
            shown = await district_browser.get(f"/incoming/{camlo_copy.id}")
            assert REASON in shown.text
            link = f'href="/incoming/{camlo_replacement.id}" class="replacement-link"'
            assert link in shown.text
            agreed = await district_browser.post(
                f"/incoming/{camlo_copy.id}/recall/agree",
                {
                    "csrf_token": shown.form_token,
                    "form_id": form_id(shown),
                    "version": version(shown),
                },
            )
            assert agreed.status == 303, agreed.text
        assert await recall_state(camlo, camlo_copy.id) == "agreed"
        assert await recall_state(dongha, dongha_copy.id) is None

        async def answered() -> bool:
            return "15" in await codes(tu, recalled.dispatch_id or "")

        await wait_for(answered)
        page = await browser.get(f"/outgoing/{recalled.id}")
        assert "Đã thu hồi" in line_of(page, "HU-CAMLO")
        assert 'id="recall-outcome">Đã thu hồi (1/2 nơi nhận)' in page.text

        # Đông Hà in turn, the replacement typed by its number.
        asked = await ask(
            browser, recalled.id, ["TX-DONGHA"], number=replacement.number_symbol, page=page
        )
        assert asked.status == 303, asked.text

        async def asked_at_dongha() -> bool:
            return await recall_state(dongha, dongha_copy.id) == "requested"

        await wait_for(asked_at_dongha)
        page = await browser.get(f"/outgoing/{recalled.id}")
        assert 'id="recall-form"' not in page.text  # everyone asked
        assert "nơi nhận)" not in page.text.split('id="recall-outcome"')[1].split("</p>")[0]
    assert {row.unit for row in await recalls_of(tu, recalled.id)} == set(BOTH)
    async with dongha.sessions() as session:
        [row] = (
            await session.scalars(
                select(DocumentRecall).where(DocumentRecall.document_id == dongha_copy.id)
            )
        ).all()
    assert row.replacement_dispatch_id == replacement.dispatch_id


async def test_a_recall_is_refused_to_others_and_for_units_or_replacements_not_its_own(
    tu: RunningNode,
    camlo: RunningNode,
    make_account: NewAccount,
    browser: StaffBrowser,
    secrets_seen: SecretsSeen,
    tmp_path: Path,
) -> None:
    assert tu.desk is not None
    clerk = await make_account(role="clerk")
    await browser.sign_in_as(clerk)
    recalled = await sent(browser, tu, tmp_path, "Về việc sẽ thu hồi", ["HU-CAMLO"])
    draft_id = await new_draft(browser, tmp_path, summary="Dự thảo chưa phát hành")
    assert recalled.dispatch_id is not None
    async with tu.desk.transaction() as session:
        [received] = await incoming.receive(
            session,
            ["TU"],
            from_metadata({"summary": "Văn bản đến", "number_symbol": "07-CV/HU"}, "HU"),
            [],
            dispatch_id=str(uuid.uuid4()),
            sender_unit="HU-CAMLO",
            now=tu.desk.now(),
        )
        # A letter the board (BTC, on the same node) sent, and a secret one of ours.
        others = {
            unit_code: Document(
                unit_code=unit_code,
                direction="outgoing",
                state="sent",
                secrecy=secrecy,
                doc_type="CV",
                summary=f"Văn bản của {unit_code}",
                number_symbol=symbol,
                recipients="HU-CAMLO",
                dispatch_id=str(uuid.uuid4()),
                registered_at=tu.desk.now(),
            )
            for unit_code, secrecy, symbol in (("BTC", 0, "03-CV/BTCTU"), ("TU", 1, "04-CV/TU"))
        }
        session.add_all(others.values())
    board, secret = others["BTC"], others["TU"]

    board_clerk = await _account_in(tu, "BTC", "clerk", 3, secrets_seen)
    specialist = await make_account(role="staff", clearance=3)
    async with StaffBrowser(tu.web_url) as outsider:
        await outsider.sign_in_as(board_clerk)
        home = await outsider.get("/")
        assert (await ask(outsider, recalled.id, ["HU-CAMLO"], page=home)).status == 404
    async with StaffBrowser(tu.web_url) as outsider:
        await outsider.sign_in_as(specialist)
        home = await outsider.get("/")
        assert (await ask(outsider, recalled.id, ["HU-CAMLO"], page=home)).status == 403

    for recipients, expected in (
        (["TX-DONGHA"], "Không đề nghị thu hồi được tại TX-DONGHA"),
        (["HU-CAMLO", "HU-GIOLINH"], "Không đề nghị thu hồi được tại HU-GIOLINH"),
        ([], "Chưa chọn nơi nhận cần thu hồi"),
    ):
        refused = await ask(browser, recalled.id, recipients)
        assert refused.status == 400 and expected in refusal_text(refused), recipients
    offered = recall_section(await browser.get(f"/outgoing/{recalled.id}"))
    for other in (board, secret):  # not offered: another unit's, or more secret
        assert f'<option value="{other.id}">' not in offered
    not_ours = "Văn bản thay thế phải là một văn bản đi đã phát hành của đơn vị"
    for choice in (
        {"replacement": str(received.id)},  # an incoming document
        {"replacement": str(draft_id)},  # not issued
        {"replacement": str(recalled.id)},  # itself
        {"replacement": str(board.id)},  # another unit's
        {"replacement": str(secret.id)},  # more secret than the recalled one
        {"replacement": "abc"},
        {"number": board.number_symbol},
        {"number": "99-CV/TU"},
    ):
        refused = await ask(browser, recalled.id, ["HU-CAMLO"], **choice)
        assert refused.status == 400 and not_ours in refusal_text(refused), choice
    both = await ask(browser, recalled.id, ["HU-CAMLO"], replacement="1", number="1-CV/TU")
    assert both.status == 400 and "không chọn cả hai" in refusal_text(both)
    assert await requests_sent(tu, recalled.dispatch_id) == []
    assert await recalls_of(tu, recalled.id) == []
    assert (await stored_document(tu, recalled.id)).recall_state is None

    assert (await ask(browser, recalled.id, ["HU-CAMLO"])).status == 303
    again = await ask(browser, recalled.id, ["HU-CAMLO"])
    assert again.status == 409 and "ở mọi nơi nhận" in refusal_text(again)
    assert len(await requests_sent(tu, recalled.dispatch_id)) == 1
    async with tu.sessions() as session:
        rows = await session.scalar(
            select(func.count()).where(DocumentRecall.document_id == recalled.id)
        )
    assert rows == 1
