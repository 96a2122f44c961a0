"""Lịch công tác over HTTP on a running node: a clerk drafts the week, a leader approves it
(which publishes it), staff see it in the unit's week and in their own; changes after
publishing are marked điều chỉnh and mailed to the people concerned; and every refusal (end
before start, outside the week, stale form, clash unconfirmed, wrong role, secrecy) changes
nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from keys.models import User
from mailgw.models import INBOX, MailboxMessage
from office.node.app import RunningNode
from office.schedules.models import ScheduleEntry, ScheduleWeek
from tests.office.conftest import NewAccount
from tests.support.documents import (
    enter_paper,
    make_pdf,
    pdf_text,
)
from tests.support.schedules import a_week, entry_ids, post_line, step
from tests.support.waiting import wait_for
from tests.support.web import StaffAccount, StaffBrowser, refusal_text, signed_in

#: An afternoon slot that clashes with nothing the default line books.
LATER = {"start_time": "14:00", "end_time": "16:00", "place": "Phòng tiếp dân"}


async def user_id(node: RunningNode, account: StaffAccount) -> int:
    async with node.sessions() as session:
        found = await session.scalar(select(User.id).where(User.username == account.username))
    assert found is not None
    return found


async def week_of(node: RunningNode, week: date) -> tuple[ScheduleWeek, list[ScheduleEntry]]:
    async with node.sessions() as session:
        row = await session.scalar(
            select(ScheduleWeek).where(
                ScheduleWeek.week_start == week, ScheduleWeek.source_unit == ""
            )
        )
        assert row is not None
        entries = await session.scalars(
            select(ScheduleEntry).where(ScheduleEntry.week_id == row.id).order_by(ScheduleEntry.id)
        )
        return row, list(entries.all())


async def entry_count(node: RunningNode, week: date) -> int:
    async with node.sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(ScheduleEntry)
            .join(ScheduleWeek, ScheduleWeek.id == ScheduleEntry.week_id)
            .where(ScheduleWeek.week_start == week, ScheduleWeek.source_unit == "")
        )
    return int(found or 0)


async def test_a_clerk_drafts_a_leader_approves_and_staff_see_it_in_their_week(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk, leader = await make_account(role="clerk"), await make_account(role="leader")
    staff = await make_account(role="staff", full_name="Trần Văn Bình")
    week = a_week()
    async with signed_in(tu, clerk, leader, staff) as (as_clerk, as_leader, as_staff):
        saved = await post_line(as_clerk, week, attendee=[str(await user_id(tu, staff))])
        assert saved.status == 303, saved.text
        assert saved.location == f"/schedule?week={week.isoformat()}"
        draft = await as_clerk.get(saved.location)
        assert "Giao ban Thường trực Tỉnh uỷ" in draft.text and "Đang soạn" in draft.text
        assert "Trần Văn Bình; Lãnh đạo Văn phòng" in draft.text

        # Before publishing, staff see nothing of it.
        unpublished = await as_staff.get(f"/schedule?week={week.isoformat()}")
        assert "chưa được công bố" in unpublished.text
        assert "Giao ban" not in unpublished.text
        assert "Giao ban" not in (await as_staff.get(f"/schedule/mine?week={week}")).text

        assert (await step(as_clerk, week, "submit")).status == 303
        waiting = await as_leader.get(f"/schedule?week={week.isoformat()}")
        assert "Chờ lãnh đạo duyệt" in waiting.text and 'id="step-approve"' in waiting.text
        assert (await step(as_leader, week, "approve")).status == 303

        published = await as_staff.get(f"/schedule?week={week.isoformat()}")
        assert "Đã công bố" in published.text and "Phiên bản 1" in published.text
        assert "Giao ban Thường trực Tỉnh uỷ" in published.text
        assert 'id="add-entry"' not in published.text
        mine = await as_staff.get(f"/schedule/mine?week={week.isoformat()}")
        assert "Giao ban Thường trực Tỉnh uỷ" in mine.text
        # Someone who attends nothing has an empty week of their own.
        assert "Giao ban" not in (await as_leader.get(f"/schedule/mine?week={week}")).text

        # Previous and next weeks are a click away.
        assert f"/schedule?week={(week - timedelta(days=7)).isoformat()}" in published.text
        assert f"/schedule?week={(week + timedelta(days=7)).isoformat()}" in published.text
        async with as_staff.http.get(
            f"{tu.web_url}/schedule/print.pdf?week={week.isoformat()}"
        ) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/pdf"
            (tmp_path / "week.pdf").write_bytes(await response.read())
    printed = pdf_text(tmp_path / "week.pdf")
    assert "LỊCH CÔNG TÁC TUẦN" in printed and "Giao ban Thường trực Tỉnh uỷ" in printed
    assert "Thứ Ba" in printed and "Phòng họp số 1" in printed


async def test_an_end_before_its_start_is_refused(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    week = a_week()
    page = await post_line(browser, week, start_time="14:00", end_time="13:30")
    assert page.status == 400
    assert refusal_text(page) == "Giờ kết thúc (13:30) phải sau giờ bắt đầu (14:00)."
    # The form comes back as typed.
    assert "Giao ban Thường trực Tỉnh uỷ" in page.text
    assert await entry_count(tu, week) == 0


async def test_a_day_outside_its_week_is_refused(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    week = a_week()
    page = await post_line(browser, week, day=(week + timedelta(days=7)).isoformat())
    assert page.status == 400
    assert refusal_text(page).startswith(
        f"Ngày {week + timedelta(days=7):%d/%m/%Y} không thuộc tuần này"
    )
    bad_time = await post_line(browser, week, start_time="25:00")
    assert bad_time.status == 400
    assert "giờ bắt đầu" in refusal_text(bad_time)
    no_content = await post_line(browser, week, content="   ")
    assert refusal_text(no_content) == "Chưa nhập nội dung."
    assert await entry_count(tu, week) == 0


async def test_a_second_editor_of_the_same_week_is_told_and_changes_nothing(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk, leader = await make_account(role="clerk"), await make_account(role="leader")
    week = a_week()
    async with StaffBrowser(tu.web_url) as first, StaffBrowser(tu.web_url) as second:
        await first.sign_in_as(clerk)
        await second.sign_in_as(leader)
        assert (await post_line(first, week, content="Họp chi bộ")).status == 303
        form_one = await first.get(f"/schedule/entries/new?week={week.isoformat()}")
        form_two = await second.get(f"/schedule/entries/new?week={week.isoformat()}")
        saved = await post_line(first, week, form_page=form_one, content="Làm việc với Sở", **LATER)
        assert saved.status == 303
        late = await post_line(
            second,
            week,
            form_page=form_two,
            content="Tiếp công dân",
            start_time="16:00",
            end_time="17:00",
            place="Phòng 5",
        )
        assert late.status == 409
        assert "vừa được người khác thay đổi" in refusal_text(late)
    _row, entries = await week_of(tu, week)
    assert sorted(e.content for e in entries) == ["Họp chi bộ", "Làm việc với Sở"]


async def test_a_person_or_a_room_booked_twice_is_warned_and_saved_only_when_confirmed(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    busy = await make_account(role="leader", full_name="Lê Văn Chính")
    busy_id = str(await user_id(tu, busy))
    week = a_week()
    assert (await post_line(browser, week, chair_user_id=busy_id)).status == 303

    person = await post_line(
        browser,
        week,
        content="Tiếp đoàn công tác",
        place="Hội trường",
        attendee=[busy_id],
        start_time="09:00",
        end_time="11:00",
    )
    assert person.status == 409
    assert "Lê Văn Chính đã có lịch lúc 08:00: Giao ban Thường trực Tỉnh uỷ" in person.text
    room = await post_line(browser, week, content="Hội nghị", place="phòng họp  SỐ 1")
    assert room.status == 409
    assert "Phòng họp số 1 đã có lịch lúc 08:00" in room.text
    assert await entry_count(tu, week) == 1

    # Back to back is no clash; a confirmed clash is saved.
    after = await post_line(browser, week, content="Họp tổ", start_time="10:00", end_time="11:00")
    assert after.status == 303
    confirmed = await post_line(browser, week, content="Hội nghị", confirm_clash="1")
    assert confirmed.status == 303
    assert await entry_count(tu, week) == 3


async def test_a_clash_with_a_line_above_the_editor_s_clearance_keeps_its_content_hidden(
    tu: RunningNode, make_account: NewAccount
) -> None:
    cleared = await make_account(role="clerk", clearance=3)
    uncleared = await make_account(role="clerk", clearance=0)
    busy = await make_account(role="leader", clearance=3, full_name="Lê Văn Chính")
    busy_id = str(await user_id(tu, busy))
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_cleared, StaffBrowser(tu.web_url) as as_uncleared:
        await as_cleared.sign_in_as(cleared)
        await as_uncleared.sign_in_as(uncleared)
        secret = await post_line(
            as_cleared,
            week,
            content="Họp Ban Thường vụ về nhân sự",
            secrecy="2",
            chair_user_id=busy_id,
        )
        assert secret.status == 303, secret.text
        person = await post_line(
            as_uncleared,
            week,
            content="Tiếp đoàn công tác",
            place="Hội trường",
            attendee=[busy_id],
        )
        room = await post_line(as_uncleared, week, content="Hội nghị")
    assert person.status == room.status == 409
    assert "Lê Văn Chính đã có lịch lúc 08:00 (nội dung mật)" in person.text
    assert "Phòng họp số 1 đã có lịch lúc 08:00 (nội dung mật)" in room.text
    assert "nhân sự" not in person.text + room.text
    assert await entry_count(tu, week) == 1


async def test_a_change_after_publishing_is_a_new_version_marked_adjusted_and_mailed(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk, leader = await make_account(role="clerk"), await make_account(role="leader")
    staff = await make_account(role="staff", full_name="Phạm Thị Dung")
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_leader:
        await as_clerk.sign_in_as(clerk)
        await as_leader.sign_in_as(leader)
        attendee = [str(await user_id(tu, staff))]
        assert (await post_line(as_clerk, week, attendee=attendee)).status == 303
        second = await post_line(
            as_clerk,
            week,
            content="Họp Ban Thường vụ",
            attendee=attendee,
            start_time="14:00",
            end_time="16:00",
        )
        assert second.status == 303
        await step(as_clerk, week, "submit")
        await step(as_leader, week, "approve")
        page = await as_clerk.get(f"/schedule?week={week.isoformat()}")
        first_id, second_id = entry_ids(page)
        assert "Điều chỉnh" not in page.text

        moved = await post_line(
            as_clerk, week, first_id, attendee=attendee, start_time="07:30", end_time="09:00"
        )
        assert moved.status == 303, moved.text
        cancel_form = re.search(
            rf'/schedule/entries/{second_id}/cancel".*?name="form_id" value="([^"]+)".*?'
            r'name="revision" value="(\d+)"',
            (page := await as_clerk.get(f"/schedule?week={week.isoformat()}")).text,
            re.S,
        )
        assert cancel_form is not None
        cancelled = await as_clerk.post(
            f"/schedule/entries/{second_id}/cancel",
            {
                "csrf_token": page.form_token,
                "form_id": cancel_form.group(1),
                "week": week.isoformat(),
                "revision": cancel_form.group(2),
            },
        )
        assert cancelled.status == 303
        adjusted = await as_leader.get(f"/schedule?week={week.isoformat()}")
        assert "Phiên bản 3" in adjusted.text
        assert adjusted.text.count('<span class="badge adjusted">Điều chỉnh</span>') == 2
        assert "Hoãn/huỷ</span> <s>Họp Ban Thường vụ</s>" in adjusted.text
    week_row, listed = await week_of(tu, week)
    entries = {e.id: e for e in listed}
    assert week_row.version == 3
    assert (entries[first_id].sequence, entries[first_id].adjusted) == (1, True)
    assert (entries[second_id].status, entries[second_id].sequence) == ("cancelled", 1)

    async def inbox(account: StaffAccount) -> list[str]:
        owner = await user_id(tu, account)
        async with tu.sessions() as session:
            found = await session.scalars(
                select(MailboxMessage.subject).where(
                    MailboxMessage.user_id == owner, MailboxMessage.folder == INBOX
                )
            )
            return list(found.all())

    wanted = {
        f"Lịch công tác tuần {week:%d/%m/%Y} được điều chỉnh",
        f"Lịch công tác tuần {week:%d/%m/%Y} được hoãn/huỷ",
    }

    async def mailed() -> bool:
        return wanted <= set(await inbox(staff))

    await wait_for(mailed)
    # The person who made the change is not told of it.
    assert not wanted & set(await inbox(clerk))


async def test_staff_may_not_draft_and_only_a_leader_approves(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk, staff = await make_account(role="clerk"), await make_account(role="staff")
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_staff:
        await as_clerk.sign_in_as(clerk)
        await as_staff.sign_in_as(staff)
        assert (await as_staff.get(f"/schedule/entries/new?week={week}")).status == 404
        empty = await step(as_clerk, week, "submit")
        assert empty.status == 400 and "chưa có lịch" in refusal_text(empty)
        assert (await post_line(as_clerk, week)).status == 303
        refused = await step(as_clerk, week, "approve")
        assert refused.status == 403
        assert refusal_text(refused) == "Chỉ lãnh đạo được duyệt lịch công tác."
        assert (await step(as_clerk, week, "submit")).status == 303
        locked = await post_line(as_clerk, week, content="Thêm sau khi trình", **LATER)
        assert locked.status == 400 and "đang chờ lãnh đạo duyệt" in refusal_text(locked)
    assert (await week_of(tu, week))[0].state == "submitted"
    assert await entry_count(tu, week) == 1


async def test_a_line_above_a_reader_s_clearance_is_hidden_and_cannot_be_written(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk = await make_account(role="clerk", clearance=2)
    leader = await make_account(role="leader", clearance=0)
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_leader:
        await as_clerk.sign_in_as(clerk)
        await as_leader.sign_in_as(leader)
        assert (await post_line(as_clerk, week, content="Họp mật", secrecy="2")).status == 303
        too_high = await post_line(as_clerk, week, content="Tuyệt mật", secrecy="3")
        assert too_high.status == 400
        assert "độ mật cao hơn" in refusal_text(too_high)
        page = await as_leader.get(f"/schedule?week={week.isoformat()}")
        assert page.status == 200 and "Họp mật" not in page.text
        [hidden] = entry_ids(await as_clerk.get(f"/schedule?week={week.isoformat()}"))
        assert (await as_leader.get(f"/schedule/entries/{hidden}")).status == 404


async def test_a_chair_or_attendee_not_cleared_for_the_line_s_secrecy_is_refused(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk", clearance=3))
    cleared = await make_account(role="leader", clearance=2, full_name="Lê Văn Chính")
    below = await make_account(role="staff", clearance=1, full_name="Trần Văn Bình")
    cleared_id, below_id = str(await user_id(tu, cleared)), str(await user_id(tu, below))
    week = a_week()
    attending = await post_line(
        browser, week, content="Họp về nhân sự", secrecy="2", attendee=[cleared_id, below_id]
    )
    assert attending.status == 400
    assert refusal_text(attending) == (
        "Người dự Trần Văn Bình không được xem lịch có độ mật «Tối mật»."
    )
    chairing = await post_line(
        browser, week, content="Họp về nhân sự", secrecy="2", chair_user_id=below_id
    )
    assert chairing.status == 400
    assert refusal_text(chairing) == (
        "Người chủ trì Trần Văn Bình không được xem lịch có độ mật «Tối mật»."
    )
    assert await entry_count(tu, week) == 0
    # Cleared for exactly the line's level is enough.
    at_level = await post_line(
        browser,
        week,
        content="Họp chi bộ",
        secrecy="1",
        chair_user_id=cleared_id,
        attendee=[below_id],
    )
    assert at_level.status == 303, at_level.text
    assert await entry_count(tu, week) == 1


async def test_a_secret_line_s_notice_never_reaches_someone_no_longer_cleared_for_it(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk = await make_account(role="clerk", clearance=3)
    leader = await make_account(role="leader", clearance=3)
    kept = await make_account(role="staff", clearance=2, full_name="Lê Văn Chính")
    lowered = await make_account(role="staff", clearance=2, full_name="Trần Văn Bình")
    kept_id, lowered_id = await user_id(tu, kept), await user_id(tu, lowered)
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_leader:
        await as_clerk.sign_in_as(clerk)
        await as_leader.sign_in_as(leader)
        attendees = [str(kept_id), str(lowered_id)]
        saved = await post_line(
            as_clerk, week, content="Họp Ban Thường vụ về nhân sự", secrecy="2", attendee=attendees
        )
        assert saved.status == 303, saved.text
        await step(as_clerk, week, "submit")
        assert (await step(as_leader, week, "approve")).status == 303
        # The second attendee's clearance is lowered; the clerk takes them off the line.
        async with tu.sessions() as session, session.begin():
            await session.execute(update(User).where(User.id == lowered_id).values(clearance=1))
        [entry_id] = entry_ids(await as_clerk.get(f"/schedule?week={week.isoformat()}"))
        moved = await post_line(
            as_clerk,
            week,
            entry_id,
            content="Họp Ban Thường vụ về nhân sự (đổi giờ)",
            secrecy="2",
            attendee=[str(kept_id)],
            start_time="07:30",
            end_time="09:00",
        )
        assert moved.status == 303, moved.text

    async def mail_of(owner: int) -> list[str]:
        async with tu.sessions() as session:
            found = await session.scalars(
                select(MailboxMessage.subject).where(MailboxMessage.user_id == owner)
            )
            return list(found.all())

    notice = f"Lịch công tác tuần {week:%d/%m/%Y} được điều chỉnh"

    async def told() -> bool:
        return notice in await mail_of(kept_id)

    await wait_for(told)
    # One message went to everyone told: had it gone to the lowered attendee, it is there now.
    assert notice not in await mail_of(lowered_id)


async def test_a_meeting_invitation_becomes_a_line_in_one_step(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    week = a_week()
    pdf = make_pdf(tmp_path, "gm.pdf", "GIẤY MỜI")
    summary = "Mời dự Hội nghị sơ kết công tác chuyển đổi số"
    document_path = await enter_paper(browser, pdf, summary, doc_type="GM")
    document = await browser.get(document_path)
    assert 'id="to-schedule"' in document.text
    meeting_day = week + timedelta(days=3)
    form = await browser.get(
        f"/schedule/entries/new?document={document_path.rsplit('/', 1)[1]}&day={meeting_day}"
    )
    assert form.status == 200
    assert summary in form.text and f'value="{meeting_day.isoformat()}"' in form.text
    saved = await post_line(
        browser,
        week,
        form_page=form,
        content=summary,
        day=meeting_day.isoformat(),
        document=document_path.rsplit("/", 1)[1],
    )
    assert saved.status == 303, saved.text
    [entry] = (await week_of(tu, week))[1]
    assert entry.document_id == int(document_path.rsplit("/", 1)[1])
    # A document that is not a giấy mời offers no such step.
    other = await browser.get(await enter_paper(browser, pdf, "Công văn thường"))
    assert 'id="to-schedule"' not in other.text


async def test_a_leader_returns_a_submitted_week_and_the_clerk_may_change_it_again(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk, leader = await make_account(role="clerk"), await make_account(role="leader")
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_leader:
        await as_clerk.sign_in_as(clerk)
        await as_leader.sign_in_as(leader)
        assert (await post_line(as_clerk, week)).status == 303
        assert (await step(as_clerk, week, "submit")).status == 303
        refused = await step(as_clerk, week, "return")
        assert refused.status == 403
        assert refusal_text(refused) == "Chỉ lãnh đạo được trả lại lịch đã trình."
        assert (await step(as_leader, week, "return")).status == 303
        assert (await week_of(tu, week))[0].state == "draft"
        assert (await post_line(as_clerk, week, content="Bổ sung", **LATER)).status == 303
        # Approving a week that is not submitted is refused.
        early = await step(as_leader, week, "approve")
        assert early.status == 400 and refusal_text(early) == "Chỉ duyệt được lịch đã trình."
    assert await entry_count(tu, week) == 2


async def test_a_form_sent_twice_saves_one_line(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    week = a_week()
    form = await browser.get(f"/schedule/entries/new?week={week.isoformat()}")
    first = await post_line(browser, week, form_page=form)
    again = await post_line(browser, week, form_page=form)
    assert (first.status, again.status) == (303, 303)
    assert first.location == again.location
    assert await entry_count(tu, week) == 1


async def test_a_chair_from_another_unit_or_a_line_of_another_week_is_refused(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    week = a_week()
    outsider = await post_line(browser, week, chair_user_id="999999")
    assert outsider.status == 400
    assert refusal_text(outsider) == "Người chủ trì không phải cán bộ của đơn vị."
    assert (await post_line(browser, week)).status == 303
    [entry_id] = entry_ids(await browser.get(f"/schedule?week={week.isoformat()}"))
    other_week = week + timedelta(days=7)
    misplaced = await post_line(
        browser,
        other_week,
        entry_id,
        form_page=await browser.get(f"/schedule/entries/{entry_id}"),
        day=(other_week + timedelta(days=1)).isoformat(),
    )
    assert misplaced.status == 409  # the other week's revision is not this form's
    assert (await browser.get("/schedule/entries/999999")).status == 404
    assert await entry_count(tu, other_week) == 0


async def test_the_printed_week_marks_adjusted_and_cancelled_lines(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk, leader = await make_account(role="clerk"), await make_account(role="leader")
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_leader:
        await as_clerk.sign_in_as(clerk)
        await as_leader.sign_in_as(leader)
        await post_line(as_clerk, week, content="Họp giao ban")
        await post_line(as_clerk, week, content="Tiếp khách", **LATER)
        await step(as_clerk, week, "submit")
        await step(as_leader, week, "approve")
        first, second = entry_ids(await as_clerk.get(f"/schedule?week={week.isoformat()}"))
        assert (
            await post_line(as_clerk, week, first, content="Họp giao ban mở rộng")
        ).status == 303
        page = await as_clerk.get(f"/schedule?week={week.isoformat()}")
        cancel = re.search(
            rf'/schedule/entries/{second}/cancel".*?name="form_id" value="([^"]+)".*?'
            r'name="revision" value="(\d+)"',
            page.text,
            re.S,
        )
        assert cancel is not None
        stale = await as_clerk.post(
            f"/schedule/entries/{second}/cancel",
            {
                "csrf_token": page.form_token,
                "form_id": cancel.group(1) + "-old",
                "week": week.isoformat(),
                "revision": str(int(cancel.group(2)) - 1),
            },
        )
        assert stale.status == 409 and "vừa được người khác thay đổi" in refusal_text(stale)
        await as_clerk.post(
            f"/schedule/entries/{second}/cancel",
            {
                "csrf_token": page.form_token,
                "form_id": cancel.group(1),
                "week": week.isoformat(),
                "revision": cancel.group(2),
            },
        )
        async with as_clerk.http.get(
            f"{tu.web_url}/schedule/print.pdf?week={week.isoformat()}"
        ) as response:
            (tmp_path / "week.pdf").write_bytes(await response.read())
    printed = " ".join(pdf_text(tmp_path / "week.pdf").split())
    assert "(Điều chỉnh) Họp giao ban mở rộng" in printed
    assert "(Hoãn/huỷ) (Điều chỉnh) Tiếp khách" in printed
    assert "phiên bản 3" in printed


async def test_the_week_names_its_public_holidays_and_reads_in_english(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="staff"))
    new_year = date(2027, 1, 1)
    page = await browser.get(f"/schedule?week={new_year.isoformat()}")
    assert page.status == 200
    assert "Thứ Sáu 01/01/2027" in page.text and 'id="holidays"' in page.text
    assert "Lịch công tác tuần này chưa được công bố." in page.text
    await browser.get("/language/en?next=/schedule")
    english = await browser.get("/schedule/mine")
    assert "<h1>My week</h1>" in english.text
