"""Thông tin phục vụ lãnh đạo over HTTP on the province's node: each unit's document handling
(its own units counted live, the districts as their figures arrived, with their age, stale ones
marked, the silent ones said to be so), sorting by any column through links, one unit in
detail, and in the leader's own unit each person's work, down to the documents, within the
leader's clearance. Whoever may not read reports gets the unknown page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from exchange.ledger import VIETNAM
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support.documents import enter_paper, make_pdf
from tests.support.handling import (
    cells,
    deadline_passed,
    directed,
    now,
    received,
    row,
    rows,
    snapshot,
)
from tests.support.web import StaffBrowser, account_id, main_part, signed_in

#: Figures the sorting test gives three districts: Gio Linh most overdue, then Cam Lộ.
OVERDUE = {"HU-GIOLINH": 12, "HU-CAMLO": 7, "TX-DONGHA": 3}


@contextmanager
def clock_at(node: RunningNode, moment: datetime) -> Iterator[None]:
    """The reports' clock stopped at ``moment``: the ages the pages write are exact."""
    assert node.reports is not None
    before = node.reports.clock
    node.reports.clock = lambda: moment
    try:
        yield
    finally:
        node.reports.clock = before


def figures_of(page_text: str, unit: str) -> dict[str, int]:
    return {
        column: int(value)
        for column, value in cells(page_text, unit).items()
        if value.isdigit() and column != "age"
    }


def total_row(page_text: str) -> str:
    return page_text.split('id="unit-total"', 1)[1].split("</tr>", 1)[0]


async def test_the_table_counts_the_documents_of_the_units_hosted_here(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    leader = await make_account(role="leader", full_name="Trần Văn Bình")
    handler = await make_account(role="staff", full_name="Lê Thị Hoa")
    pdf = make_pdf(tmp_path, "a.pdf", "Công văn")
    async with signed_in(tu, clerk, leader) as (as_clerk, as_leader):
        before = await as_leader.get("/dashboard")
        assert before.status == 200
        assert "<h1>Thông tin phục vụ lãnh đạo</h1>" in before.text
        was, board_was = figures_of(before.text, "TU"), figures_of(before.text, "BTC")
        leader_id = await account_id(tu, leader)
        # One waits for the leader's direction; one is directed, then its deadline passes.
        await enter_paper(as_clerk, pdf, "Thông báo lịch họp", leader=str(leader_id))
        late = await directed(
            tu,
            as_clerk,
            as_leader,
            leader_id,
            await account_id(tu, handler),
            pdf,
            "Kế hoạch kiểm tra",
        )
        due = tu.reports.today() - timedelta(days=400)
        await deadline_passed(tu, late, due)
        after = await as_leader.get("/dashboard")
    counted = figures_of(after.text, "TU")
    for column, more in {
        "received": 2,
        "registered": 2,
        "waiting_direction": 1,
        "in_progress": 1,
        "overdue": 1,
    }.items():
        assert counted[column] == was[column] + more, column
    assert counted["done"] == was["done"] and counted["issued"] == was["issued"]
    assert cells(after.text, "TU")["oldest_overdue"] == f"{due:%d/%m/%Y}"
    assert figures_of(after.text, "BTC") == board_was
    # A unit hosted here is counted as the page is made.
    assert cells(after.text, "TU")["age"] == "trực tiếp"
    # The total adds up the units that have figures.
    total = re.findall(r'data-column="overdue">(\d+)<', total_row(after.text))
    assert total == [str(counted["overdue"] + board_was["overdue"])]
    # The row's chart says its months in words.
    chart = re.search(r'<svg class="chart spark"[^>]*aria-label="([^"]+)"', row(after.text, "TU"))
    assert chart and chart.group(1).startswith("Tỉnh uỷ Quảng Trị, 12 tháng gần nhất: ")
    this_month = tu.reports.today()
    assert f"{this_month:%m/%Y}: nhận " in chart.group(1)


async def test_a_unit_never_heard_from_says_so_and_received_figures_show_their_age(
    tu: RunningNode, make_account: NewAccount
) -> None:
    leader = await make_account(role="leader")
    moment = now()
    await received(
        tu,
        snapshot(
            "HU-TRIEUPHONG",
            moment - timedelta(minutes=20),
            received=9,
            in_progress=4,
            overdue=2,
            history=((3, 2, 0), (5, 4, 1)),
        ),
        moment - timedelta(minutes=15),
    )
    # Hải Lăng's node fell silent five hours ago: its last figures are stale.
    await received(
        tu,
        snapshot("HU-HAILANG", moment - timedelta(hours=5), received=6, overdue=1),
        moment - timedelta(hours=5),
    )
    with clock_at(tu, moment):
        async with signed_in(tu, leader) as (browser,):
            page = await browser.get("/dashboard")
            silent = await browser.get("/dashboard/unit/HU-DAKRONG")
            stale = await browser.get("/dashboard/unit/HU-HAILANG")
            fresh = await browser.get("/dashboard/unit/HU-TRIEUPHONG")
    # Đakrông never sent figures: no zeros pretending to be figures.
    never = row(page.text, "HU-DAKRONG")
    assert "Chưa có số liệu" in never and "chưa nhận được số liệu" in never
    assert 'data-column="overdue"' not in never
    assert "Chưa nhận được số liệu nào của đơn vị này" in silent.text
    assert 'id="unit-incoming"' not in silent.text
    # Triệu Phong's arrived a quarter of an hour ago.
    arrived = moment - timedelta(minutes=15)
    shown = cells(page.text, "HU-TRIEUPHONG")
    assert shown["age"] == f"15 phút trước {arrived.astimezone(VIETNAM):%d/%m/%Y %H:%M}"
    assert (shown["received"], shown["in_progress"], shown["overdue"]) == ("9", "4", "2")
    assert 'class="stale"' not in row(page.text, "HU-TRIEUPHONG")
    assert "nhận được lúc" in fresh.text and "15 phút trước" in fresh.text
    assert re.search(r'id="fact-in_progress"><dt[^>]*>Đang xử lý</dt><dd>4</dd>', fresh.text)
    # The twelve months, named, in the large chart and its table.
    month = moment.astimezone(VIETNAM)
    assert '<svg class="chart months"' in fresh.text
    assert f">{month:%m/%Y}</text>" in fresh.text
    assert f'<th scope="row">{month:%m/%Y}</th><td class="num">5</td>' in fresh.text
    # Hải Lăng's is over twice the sending interval old (60 minutes by default).
    assert '<tr id="unit-HU-HAILANG" class="stale">' in page.text
    assert "số liệu cũ" in row(page.text, "HU-HAILANG")
    assert cells(page.text, "HU-HAILANG")["age"].startswith("5 giờ trước ")
    assert 'id="unit-stale"' in stale.text and "Quá 120 phút" in stale.text


async def test_sorting_by_overdue_orders_the_rows_both_ways(
    tu: RunningNode, make_account: NewAccount
) -> None:
    leader = await make_account(role="leader")
    moment = now()
    for unit, overdue in OVERDUE.items():
        await received(tu, snapshot(unit, moment, overdue=overdue), moment)
    async with signed_in(tu, leader) as (browser,):
        first = await browser.get("/dashboard")
        link = re.search(r'<a href="([^"]+)" id="sort-overdue">', first.text)
        assert link and link.group(1) == "/dashboard?sort=overdue&amp;order=desc"
        down = await browser.get("/dashboard?sort=overdue&order=desc")
        up = await browser.get("/dashboard?sort=overdue&order=asc")
        by_name = await browser.get("/dashboard?sort=unit")
    order = rows(down.text)
    assert [u for u in order if u in OVERDUE] == ["HU-GIOLINH", "HU-CAMLO", "TX-DONGHA"]
    values = [cells(down.text, u).get("overdue") for u in order]
    counted = [int(v) for v in values if v is not None]
    assert counted == sorted(counted, reverse=True)
    # The units without figures come last, whichever the order.
    assert all(v is None for v in values[len(counted) :])
    assert [u for u in rows(up.text) if u in OVERDUE] == ["TX-DONGHA", "HU-CAMLO", "HU-GIOLINH"]
    assert rows(up.text)[-1] == order[-1]
    # The column sorted now says so, and its link turns it the other way.
    assert 'aria-sort="descending"' in down.text
    assert '<a href="/dashboard?sort=overdue&amp;order=asc" id="sort-overdue">' in down.text
    names = rows(by_name.text)
    assert names.index("HU-CAMLO") < names.index("TX-DONGHA") < names.index("TU")


async def test_a_sort_column_or_order_that_is_not_offered_is_refused(
    tu: RunningNode, make_account: NewAccount
) -> None:
    leader = await make_account(role="leader")
    async with signed_in(tu, leader) as (browser,):
        column = await browser.get("/dashboard?sort=password")
        order = await browser.get("/dashboard?sort=overdue&order=sideways")
    assert column.status == 400 and "Không sắp xếp được theo “password”" in column.text
    assert order.status == 400 and "Thứ tự sắp xếp “sideways” không hợp lệ" in order.text


async def test_a_leader_follows_their_own_unit_person_by_person_within_their_clearance(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=3)
    head = await make_account(role="leader", clearance=3, full_name="Nguyễn Văn Trưởng")
    deputy = await make_account(role="leader", clearance=0, full_name="Phạm Thị Phó")
    handler = await make_account(role="staff", clearance=3, full_name="Hồ Văn Xử")
    other = await make_account(role="staff", unit="BTC", full_name="Ban Tổ Chức")
    admin = await make_account(role="admin")
    pdf = make_pdf(tmp_path, "p.pdf", "Công văn")
    head_id, handler_id = await account_id(tu, head), await account_id(tu, handler)
    async with signed_in(tu, clerk, head, deputy, admin) as (
        as_clerk,
        as_head,
        as_deputy,
        as_admin,
    ):
        ordinary = await directed(
            tu, as_clerk, as_head, head_id, handler_id, pdf, "Báo cáo sơ kết công tác"
        )
        secret = await directed(
            tu,
            as_clerk,
            as_head,
            head_id,
            handler_id,
            pdf,
            "Phương án bảo vệ tuyệt đối",
            secrecy="1",
        )
        today = tu.reports.today()
        await deadline_passed(tu, ordinary, today - timedelta(days=9))
        await deadline_passed(tu, secret, today - timedelta(days=3))
        unit = await as_deputy.get("/dashboard/unit/TU")
        person_path = f"/dashboard/unit/TU/person/{handler_id}"
        mine = await as_deputy.get(person_path)
        for_head = await as_head.get(person_path)
        other_id = await account_id(tu, other)
        refused = [
            await as_deputy.get(f"/dashboard/unit/TU/person/{other_id}"),
            await as_deputy.get(f"/dashboard/unit/BTC/person/{other_id}"),
            await as_deputy.get("/dashboard/unit/TU/person/999999999"),
            await as_deputy.get("/dashboard/unit/KHONG-CO"),
            await as_admin.get(person_path),
        ]
        for_admin = await as_admin.get("/dashboard/unit/TU")
        missing = await as_deputy.get("/khong-co")
    # The unit's page lists each person with their figures, linking to their work.
    person = unit.text.split(f'id="person-{handler_id}"', 1)[1].split("</tr>", 1)[0]
    assert f'<a href="{person_path}">Hồ Văn Xử</a>' in person
    numbers = re.findall(r'<td class="num[^"]*">(\d+)</td>', person)
    assert numbers[:2] == ["2", "2"]  # both open, both overdue
    assert f"{today - timedelta(days=9):%d/%m/%Y}" in person
    # The person's work: the ordinary document named, linked, and how late it is.
    assert mine.status == 200 and "Việc đang xử lý của Hồ Văn Xử" in mine.text
    assert f'<a href="/incoming/{ordinary}">' in mine.text
    assert "Báo cáo sơ kết công tác" in mine.text and ">9 ngày</strong>" in mine.text
    # The secret one is counted, with its deadline, but not named for a lower clearance.
    assert "Phương án bảo vệ tuyệt đối" not in mine.text
    assert f"/incoming/{secret}" not in mine.text
    assert "Văn bản mật" in mine.text and ">3 ngày</strong>" in mine.text
    assert "2 việc đang xử lý, 2 việc quá hạn." in mine.text
    # The head, cleared for it, sees it.
    assert "Phương án bảo vệ tuyệt đối" in for_head.text
    assert f'<a href="/incoming/{secret}">' in for_head.text
    # Another unit's person, a crafted id, an unknown unit, the administrator: not here.
    for page in refused:
        assert page.status == 404
        assert main_part(page.text) == main_part(missing.text)
    # The administrator sees the unit's figures, not its people (they read no documents).
    assert for_admin.status == 200 and 'id="unit-incoming"' in for_admin.text
    assert 'id="unit-people"' not in for_admin.text


async def test_a_leader_sees_no_people_of_another_unit(
    tu: RunningNode, make_account: NewAccount
) -> None:
    leader = await make_account(role="leader")
    async with signed_in(tu, leader) as (browser,):
        own = await browser.get("/dashboard/unit/TU")
        board = await browser.get("/dashboard/unit/BTC")
    assert 'id="unit-people"' in own.text
    assert board.status == 200 and 'id="unit-people"' not in board.text


async def test_clerks_and_staff_get_the_unknown_page(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk, staff = await make_account(role="clerk"), await make_account(role="staff")
    staff_id = await account_id(tu, staff)
    async with signed_in(tu, clerk, staff) as browsers:
        for browser in browsers:
            missing = await browser.get("/khong-co")
            for path in (
                "/dashboard",
                "/dashboard?sort=overdue&order=desc",
                "/dashboard/unit/TU",
                f"/dashboard/unit/TU/person/{staff_id}",
            ):
                page = await browser.get(path)
                assert page.status == 404, path
                assert main_part(page.text) == main_part(missing.text)
            home = await browser.get("/")
            assert 'href="/dashboard"' not in home.text


async def test_a_page_without_a_session_asks_to_sign_in(tu: RunningNode) -> None:
    async with StaffBrowser(tu.web_url) as browser:
        page = await browser.get("/dashboard/unit/TU")
    assert page.status in (302, 303)
    assert page.location is not None and page.location.startswith("/login")
