"""Chuyển tiếp: a district forwards a provincial document to its commune as a dispatch of its
own, the files (the province's signed PDF among them) byte for byte, the original issuer named;
the commune registers it as from the district and sees the issuer; what the commune does with
it comes back to the district's copy, per commune. Each refusal has its test (a unit that is
not a subordinate, a role that does not send, a recalled, a secret or an unregistered
document, a second forward to the same commune).

Real nodes on loopback: the province, Cam Lộ and a commune node onboarded under Cam Lộ
(:mod:`tests.support.commune`), talking through the exchange; people act through the pages."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exchange.envelope import Attachment, Draft
from exchange.models import OutboundDispatch
from exchange.statuses import timeline
from keys.signin import StaffMember
from office.documents import directing, forwarding, incoming, presenting, recall
from office.documents.fields import from_metadata
from office.documents.handlers import PERSON, Handler
from office.documents.models import Document, DocumentForward
from office.documents.pdf_issue import issue_and_sign_as_unit
from office.node.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.support.approval import member_of
from tests.support.cli import Cli
from tests.support.commune import COMMUNE, COMMUNE_NAME, add_commune, commune_settings
from tests.support.databases import DatabasePool
from tests.support.documents import (
    arrived,
    form_id,
    indexed,
    make_pdf,
    paper_fields,
    stored_document,
    stored_files,
    version,
)
from tests.support.keys import keyring
from tests.support.network import DemoNetwork
from tests.support.nodes import start_camlo
from tests.support.waiting import wait_for
from tests.support.web import StaffAccount, StaffBrowser, new_account

SUMMARY = "Nghị quyết về chuyển đổi số trong hệ thống chính trị năm 2026"
SYMBOL = "05-NQ/TU"
PROVINCE = "Tỉnh uỷ Quảng Trị"
DISTRICT = "Huyện uỷ Cam Lộ"
NOTE = "Đề nghị các đảng uỷ xã triển khai thực hiện."
#: Each provincial document of the module its own number: one Cam Lộ registers them all, and a
#: number drawn at random met an earlier one's now and then ("Có thể trùng").
NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def commune_dir(
    cli: Cli, databases: DatabasePool, demo_network: DemoNetwork, secrets_seen: SecretsSeen
) -> Path:
    return add_commune(cli, databases, demo_network, secrets_seen)


@pytest.fixture
async def camlo(demo_network: DemoNetwork, commune_dir: Path) -> AsyncIterator[RunningNode]:
    node = await start_camlo(demo_network)
    yield node
    await node.stop()


async def account(
    node: RunningNode,
    secrets_seen: SecretsSeen,
    role: str,
    clearance: int = 1,
    full_name: str = "Nguyễn Thị Lan",
) -> StaffAccount:
    made = await new_account(node, role=role, clearance=clearance, full_name=full_name)
    secrets_seen.add(made.password, made.totp_secret)
    return made


def signed_by_the_province(network: DemoNetwork, folder: Path) -> Path:
    """The province's issued resolution: its PDF with the number and date stamped and the
    unit's signature, as the province's clerk issues it (blocking: pyHanko runs a loop)."""
    ring = keyring(network, "TU")
    keys = ring.unit("TU")
    source = make_pdf(folder, "du-thao.pdf", "ĐẢNG CỘNG SẢN VIỆT NAM", SUMMARY)
    target = folder / "05-NQ-TU.pdf"
    issue_and_sign_as_unit(
        source,
        target,
        keys.signing_key,
        keys.signing_certificate,
        (ring.ca_certificate,),
        number_line=f"Số {SYMBOL}",
        date_line="Quảng Trị, ngày 02 tháng 12 năm 2026",
        unit_name=PROVINCE,
        reason=f"Phát hành văn bản số {SYMBOL}",
    )
    return target


async def register(browser: StaffBrowser, document_id: int, **fields: str) -> None:
    page = await browser.get(f"/incoming/{document_id}")
    registered = await browser.post(
        f"/incoming/{document_id}/register",
        {
            "csrf_token": page.form_token,
            "form_id": form_id(page),
            "version": version(page),
            **paper_fields(SUMMARY, number_symbol=SYMBOL, issued_on="02/12/2026", **fields),
            "doc_type": "NQ",
        },
    )
    assert registered.status == 303, registered.text


async def forward(browser: StaffBrowser, document_id: int, *units: str) -> tuple[int, str]:
    """Post the forward form as the page shows it, choosing ``units``."""
    page = await browser.get(f"/incoming/{document_id}")
    return await post_forward(browser, document_id, page.form_token, version(page), *units)


async def post_forward(
    browser: StaffBrowser, document_id: int, token: str, shown: str, *units: str
) -> tuple[int, str]:
    """Post a forward form (a fresh form id), with the document's version ``shown``."""
    form = [
        ("csrf_token", token),
        ("form_id", secrets.token_urlsafe(24)),
        ("version", shown),
        ("note", NOTE),
        *(("unit", unit) for unit in units),
    ]
    async with browser.http.post(
        f"{browser.base_url}/incoming/{document_id}/forward", data=form, allow_redirects=False
    ) as answer:
        return answer.status, await answer.text()


async def test_a_district_forwards_a_provincial_document_to_its_commune_and_hears_back(
    tu: RunningNode,
    camlo: RunningNode,
    commune_dir: Path,
    demo_network: DemoNetwork,
    secrets_seen: SecretsSeen,
    tmp_path: Path,
) -> None:
    commune = await start_node(commune_settings(commune_dir))
    try:
        assert tu.outbox is not None
        signed = await asyncio.to_thread(signed_by_the_province, demo_network, tmp_path)
        appendix = make_pdf(tmp_path, "phu-luc.pdf", "Phụ lục: danh mục nhiệm vụ")
        original = await tu.outbox.send(
            "TU",
            Draft(
                recipients=("HU-CAMLO",),
                kind="document",
                metadata={
                    "doc_type": "NQ",
                    "summary": SUMMARY,
                    "number_symbol": SYMBOL,
                    "issued_on": "2026-12-02",
                    "signer_name": "Nguyễn Văn Hùng",
                    "urgency": 1,
                    "secrecy": 0,
                    "sender_name": PROVINCE,
                },
                attachments=(
                    Attachment(signed.name, signed, "application/pdf"),
                    Attachment(appendix.name, appendix, "application/pdf"),
                ),
                urgency=1,
            ),
        )
        at_district = await arrived(camlo, original.id)

        district_clerk = await account(camlo, secrets_seen, role="clerk")
        async with StaffBrowser(camlo.web_url) as browser:
            await browser.sign_in_as(district_clerk)
            page = await browser.get(f"/incoming/{at_district.id}")
            assert 'id="forward-form"' not in page.text  # not registered yet
            await register(browser, at_district.id, sender_name=PROVINCE)
            page = await browser.get(f"/incoming/{at_district.id}")
            offered = page.text.split('id="forward-form"')[1].split("</form>")[0]
            assert f'value="{COMMUNE}"' in offered and COMMUNE_NAME in offered
            assert 'value="TX-DONGHA"' not in offered and 'value="TU"' not in offered
            status, _body = await forward(browser, at_district.id, COMMUNE)
            assert status == 303

        async with camlo.sessions() as session:
            made = await session.scalar(
                select(DocumentForward).where(DocumentForward.document_id == at_district.id)
            )
        assert made is not None and made.recipients == COMMUNE and made.sent_at is not None
        at_commune = await arrived(commune, made.dispatch_id)
        assert (at_commune.sender_unit, at_commune.forwarded_by) == ("HU-CAMLO", DISTRICT)
        assert (at_commune.sender_name, at_commune.number_symbol) == (PROVINCE, SYMBOL)
        assert (at_commune.issued_on, at_commune.doc_type) == (date(2026, 12, 2), "NQ")
        assert at_commune.note == NOTE

        # The files are those the province sent, byte for byte, in their order; the PDF's
        # signature is the province's, and valid.
        sent = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (signed, appendix)]
        assert [f.sha256 for f in await stored_files(camlo, at_district.id)] == sent
        files = await stored_files(commune, at_commune.id)
        assert [f.sha256 for f in files] == sent
        assert [f.role for f in files] == ["main", "attachment"]
        assert commune.desk is not None
        assert commune.desk.blobs.path(files[0].sha256).read_bytes() == signed.read_bytes()
        await indexed(commune)
        main = (await stored_files(commune, at_commune.id))[0]
        assert main.signature_state == "valid" and "TU" in main.signature_signer

        commune_clerk = await account(commune, secrets_seen, role="clerk")
        commune_leader = await account(commune, secrets_seen, role="leader")
        handler = await account(commune, secrets_seen, role="staff", full_name="Lê Văn Xã")
        handler_id = (await member_of(commune, handler.username)).id
        async with StaffBrowser(commune.web_url) as browser:
            await browser.sign_in_as(commune_clerk)
            queue = (await browser.get("/incoming")).text.split('id="queue"')[1]
            row = queue.split(SUMMARY)[0].rsplit("<tr", 1)[1]
            assert PROVINCE in row and f"Chuyển tiếp bởi {DISTRICT}" in row
            page = await browser.get(f"/incoming/{at_commune.id}")
            assert 'id="forwarded-by">' + DISTRICT in page.text
            assert 'id="forward-signatures"' in page.text and "signature-valid" in page.text
            leader_id = (await member_of(commune, commune_leader.username)).id
            await register(
                browser, at_commune.id, sender_name=PROVINCE, note=NOTE, leader=str(leader_id)
            )
        async with StaffBrowser(commune.web_url) as browser:
            await browser.sign_in_as(commune_leader)
            page = await browser.get(f"/incoming/{at_commune.id}")
            directed = await browser.post(
                f"/incoming/{at_commune.id}/direct",
                {
                    "csrf_token": page.form_token,
                    "form_id": form_id(page),
                    "version": version(page),
                    "note": "Giao văn phòng đảng uỷ tham mưu triển khai",
                    "lead": str(handler_id),
                    "days": "5",
                },
            )
            assert directed.status == 303, directed.text
        async with StaffBrowser(commune.web_url) as browser:
            await browser.sign_in_as(handler)
            page = await browser.get(f"/incoming/{at_commune.id}")
            finished = await browser.post(
                f"/incoming/{at_commune.id}/finish",
                {"csrf_token": page.form_token, "form_id": form_id(page), "note": "Đã triển khai"},
            )
            assert finished.status == 303, finished.text

        async def reported() -> list[str]:
            async with camlo.sessions() as session:
                return [view.code for view in await timeline(session, made.dispatch_id)]

        async def all_back() -> bool:
            return await reported() == ["03", "04", "06"]

        try:
            await wait_for(all_back)
        except AssertionError:
            raise AssertionError(f"reported: {await reported()}") from None
        async with StaffBrowser(camlo.web_url) as browser:
            await browser.sign_in_as(district_clerk, at=time.time() + 30)  # the last code was used
            page = await browser.get(f"/incoming/{at_district.id}")
            line = page.text.split(f'data-unit="{COMMUNE}"')[1].split("</tr>")[0]
            assert COMMUNE_NAME in line
            for label in ("Đã đến", "Đã vào sổ", "Đã phân công", "Hoàn thành"):
                assert label in line
            # Offered no more: the one commune has it.
            assert 'id="forward-form"' not in page.text
        # The province hears from Cam Lộ only: the commune answers whoever sent it the document.
        async with tu.sessions() as session:
            units = {view.unit for view in await timeline(session, original.id)}
        assert units == {"HU-CAMLO"}
    finally:
        await commune.stop()


async def received_at_district(
    node: RunningNode, clerk: StaffMember, *, secrecy: int = 0, registered: bool = True
) -> Document:
    """A provincial document as the exchange hands it to Cam Lộ, registered by its clerk."""
    assert node.desk is not None
    async with node.desk.transaction() as session:
        [document] = await incoming.receive(
            session,
            ["HU-CAMLO"],
            from_metadata(
                {"summary": SUMMARY, "number_symbol": f"{next(NUMBERS)}-CV/TU"},
                PROVINCE,
            ),
            [],
            dispatch_id=str(uuid.uuid4()),
            sender_unit="TU",
            now=node.desk.now(),
        )
    if not registered:
        return document
    async with node.desk.transaction() as session:
        done, _ = await incoming.register(
            session,
            clerk,
            document.id,
            document.version,
            from_metadata(
                {
                    "summary": SUMMARY,
                    "number_symbol": document.number_symbol,
                    "secrecy": secrecy,
                },
                PROVINCE,
            ),
            node.desk.now(),
            year=node.desk.today().year,
        )
    return done


async def forwards_made(node: RunningNode, document_id: int) -> int:
    async with node.sessions() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(DocumentForward)
                .where(DocumentForward.document_id == document_id)
            )
            or 0
        )


async def test_forwarding_is_refused_outside_its_rules(
    camlo: RunningNode, secrets_seen: SecretsSeen
) -> None:
    clerk = await account(camlo, secrets_seen, role="clerk", clearance=2)
    clerk_member = await member_of(camlo, clerk.username)
    plain = await received_at_district(camlo, clerk_member)

    async with StaffBrowser(camlo.web_url) as browser:
        await browser.sign_in_as(clerk)
        # Units that are not Cam Lộ's subordinates, crafted into the form: refused, none sent.
        for stray in ("TX-DONGHA", "TU", "HU-CAMLO", "XA-KHONGCO"):
            status, body = await forward(browser, plain.id, COMMUNE, stray)
            assert status == 400 and "đơn vị trực thuộc" in body, (stray, status)
        status, body = await forward(browser, plain.id)
        assert status == 400 and "Chưa chọn đơn vị" in body
        assert await forwards_made(camlo, plain.id) == 0

        # A document not yet in the register.
        waiting = await received_at_district(camlo, clerk_member, registered=False)
        page = await browser.get(f"/incoming/{waiting.id}")
        assert 'id="forward-form"' not in page.text
        status, body = await forward(browser, waiting.id, COMMUNE)
        assert status == 409 and "đã vào sổ" in body

        # A secret document does not travel: no form, the reason shown, a crafted post refused.
        secret = await received_at_district(camlo, clerk_member, secrecy=1)
        page = await browser.get(f"/incoming/{secret.id}")
        assert 'id="forward-form"' not in page.text and 'id="forward-refusal"' in page.text
        status, body = await forward(browser, secret.id, COMMUNE)
        assert status == 400 and "bản giấy" in body
        assert await forwards_made(camlo, secret.id) == 0
    # A clerk not cleared for it is answered as if it did not exist.
    uncleared = await account(camlo, secrets_seen, role="clerk", clearance=0)
    async with StaffBrowser(camlo.web_url) as browser:
        await browser.sign_in_as(uncleared)
        page = await browser.get(f"/incoming/{secret.id}")
        assert page.status == 404
        shown = str((await stored_document(camlo, secret.id)).version)
        status, _body = await post_forward(browser, secret.id, page.form_token, shown, COMMUNE)
        assert status == 404

    async with StaffBrowser(camlo.web_url) as browser:
        await browser.sign_in_as(clerk, at=time.time() + 30)  # the last code was used

        # A recalled document: cancelled here (Decree 30 Art. 18), passed on to no one; and
        # while the recall is only asked, it waits for the clerk's answer.
        recalled = await received_at_district(camlo, clerk_member)
        assert camlo.desk is not None and recalled.dispatch_id is not None
        async with camlo.desk.transaction() as session:
            await recall.mark_requested(
                session, recalled.dispatch_id, "HU-CAMLO", "Ban hành nhầm", camlo.desk.now()
            )
        status, body = await forward(browser, recalled.id, COMMUNE)
        assert status == 409 and "đề nghị thu hồi" in body
        async with camlo.desk.transaction() as session:
            await recall.agree_recall(
                session,
                clerk_member,
                recalled.id,
                (await stored_document(camlo, recalled.id)).version,
                "",
                camlo.desk.now(),
            )
        page = await browser.get(f"/incoming/{recalled.id}")
        assert 'id="forward-form"' not in page.text
        shown = str((await stored_document(camlo, recalled.id)).version)
        status, body = await post_forward(browser, recalled.id, page.form_token, shown, COMMUNE)
        assert status == 409 and "thu hồi" in body
        assert await forwards_made(camlo, recalled.id) == 0

    # Staff who were given the document, and the leader, see it but do not send it.
    for role in ("staff", "leader"):
        person = await account(camlo, secrets_seen, role=role)
        if role == "staff":
            assert camlo.desk is not None
            director = await account(camlo, secrets_seen, role="leader")
            leader = await member_of(camlo, director.username)
            async with camlo.desk.transaction() as session:
                await presenting.present(
                    session,
                    clerk_member,
                    plain.id,
                    (await stored_document(camlo, plain.id)).version,
                    leader_id=leader.id,
                    proposal=None,
                    now=camlo.desk.now(),
                )
            async with camlo.desk.transaction() as session:
                await directing.direct(
                    session,
                    leader,
                    camlo.desk.calendar,
                    plain.id,
                    (await stored_document(camlo, plain.id)).version,
                    note="Giao xử lý",
                    lead=Handler(PERSON, (await member_of(camlo, person.username)).id),
                    co=[],
                    working_days=5,
                    today=camlo.desk.today(),
                    now=camlo.desk.now(),
                )
        async with StaffBrowser(camlo.web_url) as browser:
            await browser.sign_in_as(person)
            page = await browser.get(f"/incoming/{plain.id}")
            assert page.status == 200 and 'id="forward-form"' not in page.text
            shown = str((await stored_document(camlo, plain.id)).version)
            status, body = await post_forward(browser, plain.id, page.form_token, shown, COMMUNE)
            assert status == 403 and "chuyển tiếp" in body, (role, status)
    assert await forwards_made(camlo, plain.id) == 0


async def test_a_commune_is_sent_a_document_once(
    camlo: RunningNode, secrets_seen: SecretsSeen
) -> None:
    """The commune node is not running: the dispatch waits in Cam Lộ's outbox, the forward is
    recorded and sent; a second forward to it, or another attempt, is refused."""
    clerk = await account(camlo, secrets_seen, role="clerk")
    document = await received_at_district(camlo, await member_of(camlo, clerk.username))
    async with StaffBrowser(camlo.web_url) as browser:
        await browser.sign_in_as(clerk)
        stale = await browser.get(f"/incoming/{document.id}")
        status, _body = await forward(browser, document.id, COMMUNE)
        assert status == 303
        # The same commune again, from a page shown before the first forward or after it.
        for shown in (version(stale), str((await stored_document(camlo, document.id)).version)):
            status, body = await post_forward(
                browser, document.id, stale.form_token, shown, COMMUNE
            )
            assert status == 409 and "đã được chuyển tiếp" in body
        async with camlo.sessions() as session:
            made = await session.scalar(
                select(DocumentForward).where(DocumentForward.document_id == document.id)
            )
        assert made is not None and made.sent_at is not None
        page = await browser.get(f"/incoming/{document.id}")
        resent = await browser.post(
            f"/incoming/{document.id}/forward/{made.id}/resend",
            {"csrf_token": page.form_token, "form_id": form_id(page)},
        )
        assert resent.status == 409
    assert await forwards_made(camlo, document.id) == 1


async def test_a_forwarded_copy_and_the_issuer_s_own_are_flagged_as_one_document(
    camlo: RunningNode, secrets_seen: SecretsSeen
) -> None:
    """The same document may reach a unit from its issuer and, forwarded, from a parent unit:
    told apart by the issuer's name, number/symbol and date, whichever came first."""
    clerk = await member_of(camlo, (await account(camlo, secrets_seen, role="clerk")).username)
    assert camlo.desk is not None
    for first_forwarded in (True, False):
        symbol = f"{next(NUMBERS)}-CV/TU"
        fields = from_metadata(
            {"summary": SUMMARY, "number_symbol": symbol, "issued_on": "2026-12-02"}, PROVINCE
        )
        copies = []
        for forwarded in (first_forwarded, not first_forwarded):
            async with camlo.desk.transaction() as session:
                [copy] = await incoming.receive(
                    session,
                    ["HU-CAMLO"],
                    fields,
                    [],
                    dispatch_id=str(uuid.uuid4()),
                    sender_unit="BTC" if forwarded else "TU",
                    now=camlo.desk.now(),
                    forwarded_by="Ban Tổ chức Tỉnh uỷ" if forwarded else "",
                )
            copies.append(copy)
        async with camlo.desk.transaction() as session:
            await incoming.register(
                session,
                clerk,
                copies[0].id,
                copies[0].version,
                fields,
                camlo.desk.now(),
                year=camlo.desk.today().year,
            )
        async with camlo.sessions() as session:
            second = await session.get(Document, copies[1].id)
            assert second is not None
            duplicate = await incoming.find_duplicate(session, second)
        assert duplicate is not None and duplicate.id == copies[0].id, first_forwarded


async def test_a_forward_the_node_did_not_send_is_sent_again(
    camlo: RunningNode, demo_network: DemoNetwork, secrets_seen: SecretsSeen
) -> None:
    """A node that stopped after recording a forward and before sealing it leaves the forward
    unsent: once its attempt's lease has passed, the clerk's "Gửi lại" sends the same dispatch."""
    clerk = await account(camlo, secrets_seen, role="clerk")
    member = await member_of(camlo, clerk.username)
    document = await received_at_district(camlo, member)
    assert camlo.desk is not None and camlo.outbox is not None
    earlier = camlo.desk.now() - timedelta(minutes=5)
    async with camlo.desk.transaction() as session:
        recorded = await forwarding.record_forward(
            session,
            member,
            document.id,
            document.version,
            [COMMUNE],
            [forwarding.ChildUnit(COMMUNE, COMMUNE_NAME)],
            NOTE,
            earlier,
            camlo.desk.network_limit,
        )
    async with StaffBrowser(camlo.web_url) as browser:
        await browser.sign_in_as(clerk)
        page = await browser.get(f"/incoming/{document.id}")
        assert "Chưa gửi được" in page.text
        action = f"/incoming/{document.id}/forward/{recorded.id}/resend"
        assert f'action="{action}"' in page.text
        resent = await browser.post(
            action, {"csrf_token": page.form_token, "form_id": form_id(page)}
        )
        assert resent.status == 303, resent.text
        async with camlo.sessions() as session:
            made = await session.get(DocumentForward, recorded.id)
            queued = await session.get(OutboundDispatch, recorded.dispatch_id)
        assert made is not None and made.sent_at is not None
        assert queued is not None and json.loads(queued.recipients) == [COMMUNE]
        page = await browser.get(f"/incoming/{document.id}")
        assert f'action="{action}"' not in page.text
        again = await browser.post(
            action, {"csrf_token": page.form_token, "form_id": form_id(page)}
        )
        assert again.status == 409
