"""Routing an incoming document inside its unit, over HTTP: presenting it to a chosen leader
(the unit's head by default) who alone directs it, departments that take a part and whose head
shares it out among its members, and "để biết" readers who read and do not handle. Each
refusal is tried by the people it keeps out: another leader, another department's head, a
member below the document's level, another unit's staff, crafted form values."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import select

from keys import organisation
from office.documents.models import Assignment, DepartmentAssignment, Document, DocumentReader
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support import documents
from tests.support.documents import (
    form_id,
    make_pdf,
    paper_fields,
    stored_document,
    upload,
)
from tests.support.web import (
    Page,
    StaffAccount,
    StaffBrowser,
    account_id,
    refusal_text,
    signed_in,
)


async def enter_paper(browser: StaffBrowser, pdf: Path, summary: str, **extra: str) -> int:
    """Enter and register a paper document through the form; its id."""
    return documents.id_from_path(await documents.enter_paper(browser, pdf, summary, **extra))


async def step(
    node: RunningNode, browser: StaffBrowser, document_id: int, name: str, **fields: str
) -> Page:
    """A step posted as a crafted form would be: a fresh form id and the document's current
    version, whether or not the page offers the form to this person."""
    token = (await browser.get("/")).form_token
    async with node.sessions() as session:
        current = await session.get(Document, document_id)
    assert current is not None
    values = {
        "csrf_token": token,
        "form_id": secrets.token_urlsafe(24),
        "version": str(current.version),
        **fields,
    }
    return await browser.post(f"/incoming/{document_id}/{name}", values)


async def set_head(node: RunningNode, leader: StaffAccount | None) -> None:
    async with node.sessions() as session, session.begin():
        await organisation.set_unit_head(
            session, "TU", leader.username if leader else None, node.settings.node.units
        )


def section(html: str, section_id: str) -> str:
    return html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]


async def test_a_document_goes_to_the_leader_it_is_presented_to_and_only_they_direct_it(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=2)
    chosen = await make_account(role="leader", full_name="Lãnh Đạo Được Trình")
    other = await make_account(role="leader", full_name="Lãnh Đạo Khác")
    head = await make_account(role="leader", full_name="Bí Thư Đơn Vị")
    handler = await make_account(role="staff", full_name="Chuyên Viên Đề Xuất")
    low_leader = await make_account(role="leader", clearance=0)
    clerk_btc = await make_account(role="clerk", unit="BTC")
    leader_btc = await make_account(role="leader", unit="BTC")
    pdf = make_pdf(tmp_path, "trinh.pdf", "Công văn")
    ids = {a.username: await account_id(tu, a) for a in (chosen, other, head, handler, leader_btc)}
    await set_head(tu, head)
    async with signed_in(tu, clerk, chosen, other, head, clerk_btc) as (
        as_clerk,
        as_chosen,
        as_other,
        as_head,
        as_btc,
    ):
        # The paper form offers the unit's leaders, its head chosen unless the clerk changes it.
        form = await as_clerk.get("/incoming/new")
        assert f'<option value="{ids[head.username]}" selected>' in form.text
        summary = f"Về việc trình lãnh đạo {uuid.uuid4().hex[:6]}"
        presented = await enter_paper(
            as_clerk,
            pdf,
            summary,
            leader=str(ids[chosen.username]),
            proposed_lead=str(ids[handler.username]),
        )
        found = await stored_document(tu, presented)
        assert (found.presented_to, found.proposed_lead) == (
            ids[chosen.username],
            str(ids[handler.username]),
        )

        # "Văn bản trình tôi" comes first on the chosen leader's home page, and on /incoming.
        home = (await as_chosen.get("/")).text
        assert summary in section(home, "home-presented")
        assert home.index('id="home-presented"') < home.index('id="figures"')
        assert summary in section((await as_chosen.get("/incoming")).text, "presented")
        for browser in (as_other, as_head):
            assert summary not in section((await browser.get("/")).text, "home-presented")
        # Another leader may read it (their clearance allows) but neither directs nor adds
        # readers: the form is not offered, and a crafted one is refused.
        seen = await as_other.get(f"/incoming/{presented}")
        assert seen.status == 200 and 'id="direct-form"' not in seen.text
        assert 'id="presented-to">Lãnh Đạo Được Trình' in seen.text
        refused = await step(
            tu,
            as_other,
            presented,
            "direct",
            note="Tôi giao",
            lead=str(ids[handler.username]),
            days="5",
        )
        assert refused.status == 403
        assert "được trình đồng chí Lãnh Đạo Được Trình" in refusal_text(refused)
        refused = await step(tu, as_other, presented, "readers", reader=str(ids[handler.username]))
        assert refused.status == 403
        # The chosen leader's form starts from the clerk's proposal.
        page = await as_chosen.get(f"/incoming/{presented}")
        assert f'<option value="{ids[handler.username]}" selected>' in section(
            page.text, "direct-form"
        )
        assert 'id="proposed-lead-name">Chuyên Viên Đề Xuất' in page.text
        directed = await step(
            tu,
            as_chosen,
            presented,
            "direct",
            note="Giao chuyên viên",
            lead=str(ids[handler.username]),
            days="5",
        )
        assert directed.status == 303, directed.text
        assert summary not in section((await as_chosen.get("/")).text, "home-presented")

        # Without a choice it goes to the unit's head.
        to_head = await enter_paper(as_clerk, pdf, f"Trình mặc định {uuid.uuid4().hex[:6]}")
        assert (await stored_document(tu, to_head)).presented_to == ids[head.username]
        # The head passes it to another leader (the clerk may too); it leaves their list.
        passed = await step(tu, as_head, to_head, "present", leader=str(ids[other.username]))
        assert passed.status == 303, passed.text
        assert (await stored_document(tu, to_head)).presented_to == ids[other.username]
        assert (
            await step(tu, as_head, to_head, "present", leader=str(ids[head.username]))
        ).status == (403)
        assert 'id="direct-form"' in (await as_other.get(f"/incoming/{to_head}")).text

        # With no head and no choice, it waits on the clerk's home page, not presented; no
        # leader may direct it until the clerk presents it.
        await set_head(tu, None)
        waiting_summary = f"Chưa trình {uuid.uuid4().hex[:6]}"
        waiting = await enter_paper(as_clerk, pdf, waiting_summary)
        assert (await stored_document(tu, waiting)).presented_to is None
        assert waiting_summary in section((await as_clerk.get("/")).text, "routing-not_presented")
        refused = await step(
            tu, as_chosen, waiting, "direct", note="x", lead=str(ids[handler.username]), days="5"
        )
        assert refused.status == 403 and "chưa được trình" in refusal_text(refused)

        # Crafted presentations: a member of staff, another unit's leader, a leader below the
        # document's level, nonsense; and the present step by another unit's clerk.
        secret = await enter_paper(as_clerk, pdf, "Tài liệu mật trình", secrecy="2")
        for leader_value in (
            str(ids[handler.username]),
            str(ids[leader_btc.username]),
            str(await account_id(tu, low_leader)),
            "999999999",
        ):
            bad = await step(tu, as_clerk, secret, "present", leader=leader_value)
            assert bad.status == 400, (leader_value, bad.text)
            assert "lãnh đạo của đơn vị" in refusal_text(bad)
        for value in ("1; DROP TABLE users", "d:abc", "-1", "１２"):
            bad = await step(tu, as_clerk, secret, "present", leader=str(ids[chosen.username]),
                             proposed_lead=value)  # fmt: skip
            assert bad.status == 400, (value, bad.text)
        assert (await stored_document(tu, secret)).presented_to is None
        assert (
            await step(tu, as_btc, secret, "present", leader=str(ids[chosen.username]))
        ).status == (404)
        # The registering form refuses a leader who may not read the document, and registers
        # nothing.
        form = await as_clerk.get("/incoming/new")
        bad_paper = await upload(
            as_clerk,
            "/incoming/new",
            {
                "form_id": form_id(form),
                "leader": str(await account_id(tu, low_leader)),
                **paper_fields("Không đủ độ mật", secrecy="2"),
            },
            {"file": (pdf.name, pdf.read_bytes(), "application/pdf")},
            form.form_token,
        )
        assert bad_paper.status == 400 and "lãnh đạo của đơn vị" in refusal_text(bad_paper)
        async with tu.sessions() as session:
            assert (
                await session.scalar(
                    select(Document.id).where(Document.summary == "Không đủ độ mật")
                )
                is None
            )


async def make_department(
    node: RunningNode, name: str, head: StaffAccount, *members: StaffAccount
) -> tuple[str, int]:
    """A department of TU with its head and members: its code and id."""
    code = f"P{uuid.uuid4().hex[:6].upper()}"
    units = node.settings.node.units
    async with node.sessions() as session, session.begin():
        added = await organisation.add_department(session, "TU", code, name, units)
        await organisation.set_department_head(session, "TU", code, head.username, units)
        for member in members:
            await organisation.set_member(session, member.username, code, units)
        return code, added.id


async def test_a_department_head_shares_out_the_part_given_to_the_department(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=2)
    leader = await make_account(role="leader", clearance=2)
    head_th = await make_account(role="staff", clearance=1, full_name="Trưởng Phòng Tổng Hợp")
    member = await make_account(role="staff", clearance=1, full_name="Chuyên Viên Tổng Hợp")
    member_low = await make_account(role="staff", clearance=0, full_name="Chuyên Viên Chưa Mật")
    head_vp = await make_account(role="staff", clearance=1, full_name="Trưởng Phòng Hành Chính")
    outsider = await make_account(role="staff", clearance=3)
    btc_staff = await make_account(role="staff", clearance=3, unit="BTC")
    head_low = await make_account(role="staff", clearance=0)
    pdf = make_pdf(tmp_path, "phong.pdf", "Kế hoạch")
    _th, th_id = await make_department(tu, "Phòng Tổng hợp", head_th, member, member_low)
    _vp, vp_id = await make_department(tu, "Phòng Hành chính", head_vp)
    _low, low_id = await make_department(tu, "Phòng Chưa Mật", head_low)
    ids = {a.username: await account_id(tu, a) for a in (member, member_low, head_vp, leader)}
    async with signed_in(
        tu, clerk, leader, head_th, member, member_low, head_vp, outsider, btc_staff
    ) as (
        as_clerk,
        as_leader,
        as_head_th,
        as_member,
        as_member_low,
        as_head_vp,
        as_outsider,
        as_btc,
    ):
        summary = f"Kế hoạch giao phòng {uuid.uuid4().hex[:6]}"
        doc = await enter_paper(
            as_clerk,
            pdf,
            summary,
            secrecy="1",
            leader=str(ids[leader.username]),
            proposed_lead=f"d:{th_id}",
        )
        page = await as_leader.get(f"/incoming/{doc}")
        direct_form = section(page.text, "direct-form")
        # The departments are offered beside the people, the clerk's proposal chosen; a
        # department whose head may not read the document is not offered, and refused.
        assert f'<option value="d:{th_id}" selected>Phòng Tổng hợp</option>' in direct_form
        assert f'value="d:{low_id}"' not in direct_form
        refused = await step(
            tu, as_leader, doc, "direct", note="Giao phòng", lead=f"d:{low_id}", days="5"
        )
        assert refused.status == 400 and "Phòng Chưa Mật" in refusal_text(refused)
        for crafted in ("d:999999", "d:", "d:1x", "x:1"):
            bad = await step(tu, as_leader, doc, "direct", note="Giao", lead=crafted, days="5")
            assert bad.status == 400, (crafted, bad.text)
        directed = await step(
            tu,
            as_leader,
            doc,
            "direct",
            note="Giao Phòng Tổng hợp chủ trì, Phòng Hành chính phối hợp.",
            lead=f"d:{th_id}",
            co=f"d:{vp_id}",
            days="5",
        )
        assert directed.status == 303, directed.text
        # A Mật document: in the secret book (sổ mật).
        register = (await as_clerk.get("/incoming?book=secret")).text
        assert "Phòng Tổng hợp" in register.split(summary, 1)[1].split("</tr>", 1)[0]

        # The department's members see it; one below its level does not, nor do others.
        assert (await as_member.get(f"/incoming/{doc}")).status == 200
        assert summary in (await as_member.get("/incoming?book=secret")).text
        for browser in (as_member_low, as_outsider, as_btc):
            assert (await browser.get(f"/incoming/{doc}")).status == 404
            for book in ("", "?book=secret"):
                assert summary not in (await browser.get(f"/incoming{book}")).text
        # The head is asked to share it out, and is offered only members cleared for it.
        assert summary in section((await as_head_th.get("/")).text, "home-department-parts")
        page = await as_head_th.get(f"/incoming/{doc}")
        async with tu.sessions() as session:
            parts = {
                p.department_id: p.id
                for p in await session.scalars(
                    select(DepartmentAssignment).where(DepartmentAssignment.document_id == doc)
                )
            }
        share_form = section(page.text, f"share-out-{parts[th_id]}")
        assert "Chuyên Viên Tổng Hợp" in share_form
        assert "Chuyên Viên Chưa Mật" not in share_form
        assert f'id="share-out-{parts[vp_id]}"' not in page.text

        # Refused: the head of another department, the leader, a member below the level,
        # someone outside the department, a part of another document, another unit's staff.
        by_other_head = await step(
            tu, as_head_vp, doc, "share-out", part=str(parts[th_id]), lead=str(ids[member.username])
        )
        assert by_other_head.status == 403
        assert "trưởng phòng" in refusal_text(by_other_head).lower()
        by_leader = await step(
            tu, as_leader, doc, "share-out", part=str(parts[th_id]), lead=str(ids[member.username])
        )
        assert by_leader.status == 403
        for person in (member_low, head_vp, leader):
            bad = await step(
                tu,
                as_head_th,
                doc,
                "share-out",
                part=str(parts[th_id]),
                lead=str(ids[person.username]),
            )
            assert bad.status == 400, (person.full_name, bad.text)
        bad = await step(
            tu, as_head_th, doc, "share-out", part=str(parts[vp_id]), lead=str(ids[member.username])
        )
        assert bad.status == 403
        assert (
            await step(
                tu, as_btc, doc, "share-out", part=str(parts[th_id]), lead=str(ids[member.username])
            )
        ).status == 404

        shared = await step(
            tu, as_head_th, doc, "share-out", part=str(parts[th_id]), lead=str(ids[member.username])
        )
        assert shared.status == 303, shared.text
        tasks = section((await as_member.get("/")).text, "home-tasks")
        assert summary in tasks and "Chủ trì" in tasks
        assert 'id="home-department-parts"' not in (await as_head_th.get("/")).text
        done = await step(tu, as_member, doc, "finish", note="Đã xây dựng kế hoạch.")
        assert done.status == 303, done.text

    found = await stored_document(tu, doc)
    assert found.state == "done"
    async with tu.sessions() as session:
        states = {
            p.department_id: p.state
            for p in await session.scalars(
                select(DepartmentAssignment).where(DepartmentAssignment.document_id == doc)
            )
        }
        given = (
            await session.scalars(
                select(Assignment).where(
                    Assignment.document_id == doc, Assignment.state != "replaced"
                )
            )
        ).all()
    assert states == {th_id: "done", vp_id: "open"}
    assert [(a.user_id, a.part, a.state, a.department_assignment_id) for a in given] == [
        (ids[member.username], "lead", "done", parts[th_id])
    ]


async def test_readers_for_information_read_and_mark_read_but_do_not_handle(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=1)
    leader = await make_account(role="leader", clearance=1)
    other_leader = await make_account(role="leader", clearance=1)
    reader = await make_account(role="staff", clearance=1, full_name="Người Để Biết")
    handler = await make_account(role="staff", clearance=1, full_name="Người Xử Lý Chính")
    low = await make_account(role="staff", clearance=0)
    stranger = await make_account(role="staff", clearance=1)
    btc_staff = await make_account(role="staff", clearance=3, unit="BTC")
    pdf = make_pdf(tmp_path, "de-biet.pdf", "Thông báo")
    ids = {
        a.username: await account_id(tu, a)
        for a in (leader, reader, handler, low, btc_staff, other_leader)
    }
    async with signed_in(tu, clerk, leader, other_leader, reader, stranger) as (
        as_clerk,
        as_leader,
        as_other_leader,
        as_reader,
        as_stranger,
    ):
        summary = f"Thông báo để biết {uuid.uuid4().hex[:6]}"
        doc = await enter_paper(
            as_clerk, pdf, summary, doc_type="TB", secrecy="1", leader=str(ids[leader.username])
        )
        assert (await as_reader.get(f"/incoming/{doc}")).status == 404
        directed = await step(
            tu, as_leader, doc, "direct", note="Xử lý", lead=str(ids[handler.username]), days="5"
        )
        assert directed.status == 303
        # Readers below the level, of another unit, unknown, or given by another leader.
        for person in (low, btc_staff):
            bad = await step(tu, as_leader, doc, "readers", reader=str(ids[person.username]))
            assert bad.status == 400, bad.text
        for value in ("abc", "999999999", ""):
            assert (await step(tu, as_leader, doc, "readers", reader=value)).status == 400, value
        # A crafted form naming hundreds of people is refused before any is looked up.
        for name, field in (("readers", "reader"), ("direct", "co")):
            many = aiohttp.FormData()
            many.add_field("csrf_token", (await as_leader.get("/")).form_token)
            many.add_field("form_id", secrets.token_urlsafe(24))
            many.add_field("version", str((await stored_document(tu, doc)).version))
            many.add_field("note", "Nhiều người")
            many.add_field("lead", str(ids[handler.username]))
            for _ in range(201):
                many.add_field(field, str(ids[reader.username]))
            assert (await as_leader.post(f"/incoming/{doc}/{name}", many)).status == 400
        refused = await step(tu, as_other_leader, doc, "readers", reader=str(ids[reader.username]))
        assert refused.status == 403
        async with tu.sessions() as session:
            assert not (
                await session.scalars(
                    select(DocumentReader).where(DocumentReader.document_id == doc)
                )
            ).all()
        added = await step(tu, as_leader, doc, "readers", reader=str(ids[reader.username]))
        assert added.status == 303, added.text

        # The reader sees it on their home page and its page, with "Đã đọc" and no handling.
        assert summary in section((await as_reader.get("/")).text, "home-to-read")
        page = await as_reader.get(f"/incoming/{doc}")
        assert page.status == 200 and 'id="read-form"' in page.text
        for form in ("finish-form", "direct-form", "present-form", "readers-form"):
            assert f'id="{form}"' not in page.text
        assert "Chưa đọc" in section(page.text, "readers-card")
        for name, fields in (
            ("progress", {"note": "Tôi xử lý"}),
            ("finish", {"note": "Tôi xong"}),
            ("direct", {"note": "x", "lead": str(ids[reader.username]), "days": "5"}),
            ("present", {"leader": str(ids[leader.username])}),
            ("readers", {"reader": str(ids[reader.username])}),
        ):
            refused = await step(tu, as_reader, doc, name, **fields)
            assert refused.status == 403, (name, refused.text)
        # Someone who is not among its readers cannot mark it (nor see it).
        assert (await step(tu, as_stranger, doc, "read")).status == 404
        read = await step(tu, as_reader, doc, "read")
        assert read.status == 303, read.text
        assert (await step(tu, as_reader, doc, "read")).status == 303  # again: the first time kept
        assert 'id="home-to-read"' not in (await as_reader.get("/")).text
        # The leader sees who read it, and when.
        seen = section((await as_leader.get(f"/incoming/{doc}")).text, "readers-card")
        assert "Người Để Biết" in seen and "Đã đọc lúc" in seen

    found = await stored_document(tu, doc)
    assert found.state == "assigned"
    async with tu.sessions() as session:
        marks = (
            await session.scalars(select(DocumentReader).where(DocumentReader.document_id == doc))
        ).all()
        handlers = (
            await session.scalars(select(Assignment.user_id).where(Assignment.document_id == doc))
        ).all()
    assert [(m.user_id, m.read_at is not None) for m in marks] == [(ids[reader.username], True)]
    assert handlers == [ids[handler.username]]
