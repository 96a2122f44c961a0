"""The signing-key page and the delegations page over HTTP, on a real node: a leader activates
the key the CA issued with its activation code and a PIN of their choice, then changes the PIN;
a wrong code, two PINs that differ, a short PIN and a wrong current PIN each change nothing; a
signer delegates signing for a period and ends it, and the delegate sees whose drafts they may
sign."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from keys import accounts
from keys.models import PersonKey
from office.documents.models import SigningDelegation
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support.approval import install_signing_key, member_of
from tests.support.documents import form_id
from tests.support.web import Page, StaffBrowser, refusal_text

NAME, TITLE = "Đặng Văn Khoá", "Bí thư"


async def post_key(browser: StaffBrowser, **fields: str) -> Page:
    page = await browser.get("/signing-key")
    assert page.status == 200, page.text
    return await browser.post("/signing-key", {"csrf_token": page.form_token, **fields})


async def key_state(node: RunningNode, user_id: int) -> list[tuple[str, bytes]]:
    async with node.sessions() as session:
        rows = await session.execute(
            select(PersonKey.state, PersonKey.sealed_key)
            .where(PersonKey.user_id == user_id)
            .order_by(PersonKey.id)
        )
    return [(state, sealed) for state, sealed in rows]


async def test_a_leader_activates_their_key_and_changes_its_pin_on_the_page(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser
) -> None:
    leader = await make_account(role="leader", full_name=NAME)
    code = await install_signing_key(tu, leader, full_name=NAME, title=TITLE)
    member = await member_of(tu, leader.username)
    await browser.sign_in_as(leader)
    page = await browser.get("/signing-key")
    assert 'id="activate-form"' in page.text and "Chờ kích hoạt" in page.text
    pending = await key_state(tu, member.id)

    for fields, said in (
        ({"activation_code": "AAAAA-BBBBB-CCCCC-DDDDD", "new_pin": "135790"}, "Mã kích hoạt"),
        ({"activation_code": code, "new_pin": "13579"}, "quá ngắn"),
    ):
        refused = await post_key(
            browser, action="activate", new_pin_again=fields["new_pin"], **fields
        )
        assert refused.status in (400, 403), refused.text
        assert said in refusal_text(refused)
    differ = await post_key(
        browser,
        action="activate",
        activation_code=code,
        new_pin="135790",
        new_pin_again="135791",
    )
    assert differ.status == 400 and "không giống nhau" in refusal_text(differ)
    assert await key_state(tu, member.id) == pending

    done = await post_key(
        browser, action="activate", activation_code=code, new_pin="135790", new_pin_again="135790"
    )
    assert (done.status, done.location) == (303, "/signing-key?notice=activated")
    [(state, sealed)] = await key_state(tu, member.id)
    assert state == "active" and sealed != pending[0][1]
    page = await browser.get("/signing-key")
    assert 'id="pin-form"' in page.text and 'id="activate-form"' not in page.text

    wrong = await post_key(
        browser, action="change-pin", pin="000000", new_pin="246802", new_pin_again="246802"
    )
    assert wrong.status == 403 and "Mã PIN ký không đúng" in refusal_text(wrong)
    assert (await key_state(tu, member.id))[0][1] == sealed
    changed = await post_key(
        browser, action="change-pin", pin="135790", new_pin="246802", new_pin_again="246802"
    )
    assert (changed.status, changed.location) == (303, "/signing-key?notice=pin-changed")
    assert (await key_state(tu, member.id))[0][1] != sealed


async def test_a_signer_delegates_signing_for_a_period_and_ends_it(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser
) -> None:
    signer = await make_account(role="leader", full_name="Ngô Văn Giao")
    deputy = await make_account(role="leader", full_name="Vũ Thị Nhận")
    staff = await make_account(role="staff", full_name="Chuyên Viên Không Ký")
    for account in (signer, deputy):
        async with tu.sessions() as session, session.begin():
            await accounts.set_duties(session, account.username, title=TITLE, may_sign=True)
    deputy_id = (await member_of(tu, deputy.username)).id
    staff_id = (await member_of(tu, staff.username)).id
    assert tu.desk is not None
    today = tu.desk.today()
    await browser.sign_in_as(signer)

    async def delegate(to: int, starts: str, ends: str) -> Page:
        page = await browser.get("/delegations")
        assert page.status == 200, page.text
        return await browser.post(
            "/delegations",
            {
                "csrf_token": page.form_token,
                "form_id": form_id(page),
                "to": str(to),
                "starts_on": starts,
                "ends_on": ends,
            },
        )

    week = (today + timedelta(days=7)).isoformat()
    refused = await delegate(staff_id, today.isoformat(), week)
    assert refused.status == 400 and "lãnh đạo khác" in refusal_text(refused)
    backwards = await delegate(deputy_id, week, today.isoformat())
    assert backwards.status == 400 and "không hợp lệ" in refusal_text(backwards)
    async with tu.sessions() as session:
        assert not (await session.scalars(select(SigningDelegation))).all()

    given = await delegate(deputy_id, today.isoformat(), week)
    assert (given.status, given.location) == (303, "/delegations")
    listed = await browser.get("/delegations")
    assert "Vũ Thị Nhận" in listed.text
    async with tu.sessions() as session:
        row = await session.scalar(select(SigningDelegation))
    assert row is not None and (row.to_user_id, row.ends_on.isoformat()) == (deputy_id, week)

    async with StaffBrowser(tu.web_url) as other:
        await other.sign_in_as(deputy)
        assert "Ngô Văn Giao" in (await other.get("/delegations")).text

    page = await browser.get("/delegations")
    ended = await browser.post(
        "/delegations",
        {"csrf_token": page.form_token, "form_id": form_id(page), "cancel": str(row.id)},
    )
    assert ended.status == 303
    async with tu.sessions() as session:
        cancelled = await session.get(SigningDelegation, row.id)
    assert cancelled is not None and cancelled.cancelled_at is not None
