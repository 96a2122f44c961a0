"""Calendar feeds over HTTP: a phone's calendar app fetches ``/calendar/<token>.ics`` without
signing in; the feed reads in two independent iCalendar parsers, in Vietnam's time zone, with
stable UIDs and rising SEQUENCEs, and holds only what its owner may see. Every bad token gets
the same 404."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import vobject
from sqlalchemy import update

from keys import accounts
from keys.models import Unit
from office.formats import local_time
from office.node.app import RunningNode
from office.schedules.models import (
    CANCELLED,
    DRAFT,
    PUBLISHED,
    ScheduleAttendee,
    ScheduleEntry,
    ScheduleWeek,
)
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.web import StaffAccount, StaffBrowser

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
NEW_URL = re.compile(r'id="new-feed-url"[^>]*value="([^"]+)"')
#: The demo network seeds this week; each test writes its own week further ahead.
_weeks_ahead: Iterator[int] = itertools.count(2)


@dataclass(frozen=True)
class Line:
    content: str
    weekday: int = 0
    start: time = time(7, 30)
    end: time = time(9, 0)
    chair: int | None = None
    attendees: tuple[int, ...] = ()
    secrecy: int = 0
    status: str = "active"
    place: str = "Phòng họp số 1"
    attendees_text: str = "Các ban"
    prepared_by: str = "Văn phòng"
    notes: str = ""


async def user_id(node: RunningNode, account: StaffAccount) -> int:
    async with node.sessions() as session:
        found = await accounts.hosted_user_id(session, account.username, node.settings.node.units)
    assert found is not None
    return found


async def add_week(
    node: RunningNode, lines: list[Line], *, state: str = PUBLISHED, source_unit: str = ""
) -> tuple[date, list[str]]:
    """A week of the node's first unit, a few weeks ahead (its own week), and its UIDs."""
    today = local_time(datetime.now(UTC)).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=next(_weeks_ahead))
    now = datetime.now(UTC)
    uids = []
    async with node.sessions() as session, session.begin():
        week = ScheduleWeek(
            unit_code=node.settings.node.units[0],
            week_start=monday,
            source_unit=source_unit,
            state=state,
            version=1 if state == PUBLISHED else 0,
            published_at=now if state == PUBLISHED else None,
        )
        session.add(week)
        await session.flush()
        for line in lines:
            entry = ScheduleEntry(
                week_id=week.id,
                uid=uuid.uuid4().hex,
                day=monday + timedelta(days=line.weekday),
                start_time=line.start,
                end_time=line.end,
                content=line.content,
                chair_user_id=line.chair,
                chair_text="" if line.chair else "Chánh Văn phòng",
                attendees_text=line.attendees_text,
                place=line.place,
                prepared_by=line.prepared_by,
                notes=line.notes,
                secrecy=line.secrecy,
                status=line.status,
            )
            session.add(entry)
            await session.flush()
            session.add_all(ScheduleAttendee(entry_id=entry.id, user_id=u) for u in line.attendees)
            uids.append(entry.uid)
    return monday, uids


async def feed_url(
    node: RunningNode, account: StaffAccount, scope: str, secrets_seen: SecretsSeen
) -> str:
    """Sign in, ask for the feed's address, read it off the page (shown once)."""
    async with StaffBrowser(node.web_url) as browser:
        await browser.sign_in_as(account)
        return await renew(browser, scope, secrets_seen)


async def renew(browser: StaffBrowser, scope: str, secrets_seen: SecretsSeen) -> str:
    page = await browser.get("/calendar")
    assert page.status == 200
    answer = await browser.post("/calendar/renew", {"csrf_token": page.form_token, "scope": scope})
    assert answer.status == 200, answer.text
    found = NEW_URL.search(answer.text)
    assert found, "no new address on the page"
    url = found.group(1)
    secrets_seen.add(url.rsplit("/", 1)[1].removesuffix(".ics"))
    return url


async def fetch(url: str) -> tuple[int, str, Mapping[str, str]]:
    """As a calendar app: no cookie, no session."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text(), response.headers


async def calendar_of(url: str) -> icalendar.Calendar:
    status, body, headers = await fetch(url)
    assert status == 200, body
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(body)


def events(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]).split("@")[0]: event for event in calendar.walk("VEVENT")}


async def test_the_feed_reads_in_two_parsers_in_vietnam_time(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    leader = await make_account(role="leader", clearance=3, full_name="Lê Văn Thành")
    me = await user_id(tu, leader)
    monday, (uid,) = await add_week(tu, [Line("Giao ban Thường trực Tỉnh uỷ", chair=me)])
    url = await feed_url(tu, leader, "person", secrets_seen)
    status, body, headers = await fetch(url)
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in headers["Cache-Control"] and "private" in headers["Cache-Control"]

    calendar = icalendar.Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert calendar["X-WR-CALNAME"] == "Lịch công tác của Lê Văn Thành"
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Asia/Ho_Chi_Minh"
    event = events(calendar)[uid]
    async with tu.sessions() as session:
        unit = await session.get(Unit, tu.settings.node.units[0])
    assert unit is not None
    assert str(event["UID"]) == f"{uid}@{unit.mail_domain}"
    assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime.combine(monday, time(7, 30), VIETNAM)
    assert start.astimezone(UTC).time() == time(0, 30)
    assert end - start == timedelta(minutes=90)
    assert str(event["SUMMARY"]) == "Giao ban Thường trực Tỉnh uỷ"
    assert str(event["LOCATION"]) == "Phòng họp số 1"
    assert "Chủ trì: Lê Văn Thành" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == 0

    second = vobject.readOne(body)
    (read,) = [e for e in second.vevent_list if e.uid.value == str(event["UID"])]
    assert read.summary.value == "Giao ban Thường trực Tỉnh uỷ"
    assert read.dtstart.value.replace(tzinfo=None) == datetime.combine(monday, time(7, 30))
    assert read.dtstart.value.utcoffset() == timedelta(hours=7)
    assert read.dtend.value.astimezone(UTC) == end.astimezone(UTC)


async def test_a_uid_stays_and_the_sequence_rises_when_an_entry_changes(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    leader = await make_account(role="leader", clearance=3)
    me = await user_id(tu, leader)
    _monday, (uid,) = await add_week(tu, [Line("Làm việc với Ban Tổ chức", chair=me)])
    url = await feed_url(tu, leader, "person", secrets_seen)
    first, again = events(await calendar_of(url))[uid], events(await calendar_of(url))[uid]
    assert first["UID"] == again["UID"] and again["SEQUENCE"] == 0

    async with tu.sessions() as session, session.begin():
        await session.execute(
            update(ScheduleEntry)
            .where(ScheduleEntry.uid == uid)
            .values(
                start_time=time(14, 0),
                end_time=time(16, 30),
                sequence=ScheduleEntry.sequence + 1,
                adjusted=True,
                updated_at=datetime.now(UTC),
            )
        )
    changed = events(await calendar_of(url))[uid]
    assert changed["UID"] == first["UID"]
    assert changed["SEQUENCE"] == 1
    assert changed.decoded("DTSTART").time() == time(14, 0)
    assert "Điều chỉnh" in str(changed["DESCRIPTION"])


async def test_the_unit_feed_holds_schedules_received_from_other_units_under_their_domain(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    leader = await make_account(role="leader")
    _monday, (own,) = await add_week(tu, [Line("Giao ban Văn phòng")])
    _monday, (received,) = await add_week(
        tu, [Line("Hội nghị Ban Chấp hành Đảng bộ huyện")], source_unit="HU-CAMLO"
    )
    async with tu.sessions() as session:
        camlo = await session.get(Unit, "HU-CAMLO")
    assert camlo is not None
    calendar = await calendar_of(await feed_url(tu, leader, "unit", secrets_seen))
    async with tu.sessions() as session:
        own_unit = await session.get(Unit, leader.unit)
    assert own_unit is not None
    assert calendar["X-WR-CALNAME"] == f"Lịch công tác {own_unit.name}"
    found = events(calendar)
    assert own in found
    assert str(found[received]["UID"]) == f"{received}@{camlo.mail_domain}"


async def test_the_unit_feed_shows_a_received_schedule_only_to_whom_the_page_shows_it(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    staff, leader = await make_account(role="staff"), await make_account(role="leader")
    _monday, (own,) = await add_week(tu, [Line("Giao ban Văn phòng")])
    monday, (received,) = await add_week(
        tu, [Line("Hội nghị Ban Chấp hành Đảng bộ huyện", weekday=1)], source_unit="HU-CAMLO"
    )
    pages, feeds = {}, {}
    for role, account in (("staff", staff), ("leader", leader)):
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(account)
            page = await browser.get(f"/schedule?week={monday.isoformat()}")
            assert page.status == 200
            pages[role] = page.text
            feeds[role] = events(await calendar_of(await renew(browser, "unit", secrets_seen)))
    assert "Hội nghị Ban Chấp hành Đảng bộ huyện" not in pages["staff"]
    assert "Hội nghị Ban Chấp hành Đảng bộ huyện" in pages["leader"]
    of_staff, of_leader = feeds["staff"], feeds["leader"]
    assert own in of_staff and received not in of_staff
    assert own in of_leader and received in of_leader


async def test_a_cancelled_entry_is_marked_cancelled(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    clerk = await make_account(role="clerk", clearance=1)
    _monday, (kept, cancelled) = await add_week(
        tu, [Line("Tiếp công dân định kỳ"), Line("Kiểm tra cơ sở", weekday=2, status=CANCELLED)]
    )
    found = events(await calendar_of(await feed_url(tu, clerk, "unit", secrets_seen)))
    assert str(found[kept]["STATUS"]) == "CONFIRMED"
    assert str(found[cancelled]["STATUS"]) == "CANCELLED"
    assert "Kiểm tra cơ sở" in str(found[cancelled]["SUMMARY"])


async def test_a_secret_entry_shows_only_to_an_owner_cleared_for_it(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    staff = await make_account(role="staff", clearance=1)
    leader = await make_account(role="leader", clearance=2)
    _monday, (plain, secret) = await add_week(
        tu, [Line("Họp chi bộ"), Line("Họp Ban Thường vụ về nhân sự", weekday=1, secrecy=2)]
    )
    seen_by_staff = events(await calendar_of(await feed_url(tu, staff, "unit", secrets_seen)))
    seen_by_leader = events(await calendar_of(await feed_url(tu, leader, "unit", secrets_seen)))
    assert plain in seen_by_staff and secret not in seen_by_staff
    assert secret in seen_by_leader
    assert str(seen_by_leader[secret]["CLASS"]) == "CONFIDENTIAL"


#: Words of a Tối mật meeting that must stay on the node (Law 29/2018/QH14 Art. 5(6)).
SECRET_LINE = Line(
    "Họp Ban Thường vụ bàn phương án nhân sự khoá mới",
    weekday=2,
    start=time(8, 0),
    end=time(11, 30),
    secrecy=2,
    place="Phòng họp kín tầng ba",
    attendees_text="Uỷ viên Ban Thường vụ và Trưởng Ban Tổ chức",
    prepared_by="Ban Tổ chức Tỉnh uỷ",
    notes="Tài liệu phát tại phòng họp",
)
SECRET_WORDS = (
    SECRET_LINE.content,
    SECRET_LINE.place,
    SECRET_LINE.attendees_text,
    SECRET_LINE.prepared_by,
    SECRET_LINE.notes,
)


async def test_a_secret_line_goes_into_every_feed_as_lich_mat_and_its_time_only(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    chair = await make_account(role="leader", clearance=3, full_name="Hoàng Minh Chủ Toạ")
    guest = await make_account(role="staff", clearance=2, full_name="Phan Thị Dự Họp")
    clerk = await make_account(role="clerk", clearance=2)
    chair_id, guest_id = await user_id(tu, chair), await user_id(tu, guest)
    plain = Line("Giao ban Văn phòng", chair=chair_id, attendees=(guest_id,))
    secret = Line(**{**SECRET_LINE.__dict__, "chair": chair_id, "attendees": (guest_id,)})
    monday, (plain_uid, secret_uid) = await add_week(tu, [plain, secret])
    # The province's week as a district keeps it: the leaders' unit feed carries it.
    _monday, (received_uid,) = await add_week(tu, [SECRET_LINE], source_unit="HU-CAMLO")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(chair)
        page = await browser.get(f"/schedule?week={monday.isoformat()}")
        chairs, leaders = [
            await renew(browser, scope, secrets_seen) for scope in ("person", "unit")
        ]
    assert SECRET_LINE.content in page.text  # the page still shows it to the cleared

    feeds = {
        "the chair's own": (chairs, {secret_uid}),
        "an attendee's own": (await feed_url(tu, guest, "person", secrets_seen), {secret_uid}),
        "a leader's unit": (leaders, {secret_uid, received_uid}),
        "a clerk's unit": (
            await feed_url(tu, clerk, "unit", secrets_seen),
            {secret_uid, received_uid},
        ),
    }
    for kind, (url, secret_uids) in feeds.items():
        status, body, _headers = await fetch(url)
        assert status == 200, kind
        unfolded = body.replace("\r\n ", "")
        for words in SECRET_WORDS:
            assert words not in unfolded, (kind, words)
        found = events(icalendar.Calendar.from_ical(body))
        assert secret_uids <= set(found), kind
        for uid in secret_uids:
            event = found[uid]
            written = event.to_ical().decode()
            assert "Chủ Toạ" not in written and "Dự Họp" not in written, kind
            assert str(event["SUMMARY"]) == "Lịch mật", kind
            assert str(event["CLASS"]) == "CONFIDENTIAL", kind
            assert "LOCATION" not in event and "DESCRIPTION" not in event, kind
            assert event.decoded("DTSTART").time() == time(8, 0)
            assert event.decoded("DTEND").time() == time(11, 30)
            assert event.decoded("DTSTART").date() == event.decoded("DTEND").date()
        assert str(found[plain_uid]["SUMMARY"]) == "Giao ban Văn phòng", kind
        assert str(found[plain_uid]["LOCATION"]) == "Phòng họp số 1", kind


async def test_a_person_feed_holds_only_what_that_person_chairs_or_attends(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    chair, guest = await make_account(role="leader"), await make_account(role="staff")
    chair_id, guest_id = await user_id(tu, chair), await user_id(tu, guest)
    _monday, (chaired, attended, neither, both) = await add_week(
        tu,
        [
            Line("Giao ban", chair=chair_id),
            Line("Hội nghị quán triệt Nghị quyết", weekday=1, attendees=(guest_id,)),
            Line("Tiếp khách", weekday=2),
            Line("Giao ban chuyên đề", weekday=3, chair=chair_id, attendees=(guest_id,)),
        ],
    )
    await add_week(tu, [Line("Chưa duyệt", chair=chair_id)], state=DRAFT)
    of_chair = events(await calendar_of(await feed_url(tu, chair, "person", secrets_seen)))
    of_guest = events(await calendar_of(await feed_url(tu, guest, "person", secrets_seen)))
    assert set(of_chair) == {chaired, both}
    assert set(of_guest) == {attended, both}
    assert neither not in of_chair and neither not in of_guest


async def test_renewing_an_address_stops_the_old_one(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        old = await renew(browser, "unit", secrets_seen)
        assert (await fetch(old))[0] == 200
        page = await browser.get("/calendar")
        assert old not in page.text  # shown once, never again
        new = await renew(browser, "unit", secrets_seen)
    assert new != old
    assert (await fetch(old))[0] == 404
    assert (await fetch(new))[0] == 200


async def test_every_token_that_opens_nothing_gets_the_same_404(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    staff = await make_account(role="staff")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(staff)
        revoked = await renew(browser, "person", secrets_seen)
        await renew(browser, "person", secrets_seen)
    base = f"{tu.web_url}/calendar/"
    answers = [
        await fetch(base + "A" * 43 + ".ics"),  # unknown, well formed
        await fetch(base + "not-a-token.ics"),
        await fetch(base + "'%3Cscript%3E.ics"),
        await fetch(base + "A" * 43 + "B.ics"),
        await fetch(revoked),
    ]
    assert {status for status, _body, _headers in answers} == {404}
    assert len({body for _status, body, _headers in answers}) == 1
    assert "A" * 43 not in answers[0][1]


async def test_a_disabled_users_feed_answers_404(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    staff = await make_account(role="staff")
    url = await feed_url(tu, staff, "unit", secrets_seen)
    assert (await fetch(url))[0] == 200
    async with tu.sessions() as session, session.begin():
        await accounts.set_disabled(session, staff.username, True)
    status, body, _headers = await fetch(url)
    unknown = await fetch(f"{tu.web_url}/calendar/{'B' * 43}.ics")
    assert (status, body) == unknown[:2]


async def test_the_addresses_page_needs_a_session_and_its_form_a_token(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    async with StaffBrowser(tu.web_url) as anonymous:
        page = await anonymous.get("/calendar")
        assert page.status == 303 and page.location is not None
        assert page.location.startswith("/login")
        assert (await anonymous.post("/calendar/renew", {"scope": "unit"})).status == 303
    staff = await make_account(role="staff")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(staff)
        refused = await browser.post("/calendar/renew", {"scope": "unit", "csrf_token": "x"})
        assert refused.status == 403
        form = (await browser.get("/calendar")).form_token
        bad = await browser.post("/calendar/renew", {"scope": "all", "csrf_token": form})
        assert bad.status == 400
        page = await browser.get("/calendar")
        assert 'id="new-feed-url"' not in page.text
        assert "Tạo địa chỉ" in page.text


async def test_the_schedule_pages_lead_to_the_feed_addresses(
    tu: RunningNode, make_account: NewAccount
) -> None:
    staff = await make_account(role="staff")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(staff)
        for path in ("/schedule", "/schedule/mine"):
            page = await browser.get(path)
            assert page.status == 200
            assert 'id="calendar-feeds-link"' in page.text and 'href="/calendar"' in page.text
