"""The staff pages say a service's refusal in the reader's language: with the UI switched to
English, the schedule, report-form and mail pages show their refusals in English, not a
Vietnamese letter in them; switched back, the same refusal reads in Vietnamese as before. A
password refusal, which only the command line shows today, reads in either language too."""

from __future__ import annotations

import html
import re

import pytest

from config.errors import Invalid
from keys.passwords import check_password_strength
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.office.test_report_pages import post_form
from tests.support.schedules import a_week, post_line, step
from tests.support.web import Page, StaffBrowser, refusal_text
from tests.support.webmail import send, signed_in
from tests.test_refusals import VIETNAMESE


async def speak(browser: StaffBrowser, language: str) -> None:
    chosen = await browser.get(f"/language/{language}?next=/")
    assert chosen.status == 303, chosen.text


def english(page: Page) -> str:
    """The page's refusal, checked to have no Vietnamese letter in it."""
    text = html.unescape(refusal_text(page))
    assert not VIETNAMESE.search(text), text
    return text


def vietnamese(page: Page) -> str:
    return html.unescape(refusal_text(page))


async def test_the_schedule_refuses_in_english_and_in_vietnamese_as_before(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    week = a_week()
    await speak(browser, "en")
    # A line's checks (office.schedules.entries), with the field they name.
    backwards = await post_line(browser, week, start_time="14:00", end_time="13:30")
    assert backwards.status == 400
    assert english(backwards) == "The end time (13:30) must be after the start time (14:00)."
    no_time = await post_line(browser, week, start_time="25:00")
    assert english(no_time) == (
        "The start time is missing or wrong (hours:minutes, for example 08:00)."
    )
    # The page's own (office.schedules.web.week): a form without its revision.
    no_revision = await post_line(browser, week, revision="")
    assert no_revision.status == 400
    assert english(no_revision) == "The form has no revision. Please reload the page."
    # The week's steps (office.schedules.weeks, rules), on the error page.
    empty = await step(browser, week, "submit")
    assert empty.status == 400 and english(empty) == "This week has no work schedule yet."
    assert (await post_line(browser, week)).status == 303
    refused = await step(browser, week, "approve")
    assert refused.status == 403
    assert english(refused) == "Only a leader may approve the work schedule."
    # A clash is a warning, said in English too (the clashing line's content is as typed).
    clash = await post_line(browser, week, content="Hội nghị")
    assert clash.status == 409
    assert "Phòng họp số 1 already has an entry at 08:00: Giao ban Thường trực Tỉnh uỷ" in (
        html.unescape(clash.text)
    )

    await speak(browser, "vi")
    again = await post_line(browser, week, start_time="14:00", end_time="13:30")
    assert vietnamese(again) == "Giờ kết thúc (13:30) phải sau giờ bắt đầu (14:00)."
    assert vietnamese(await step(browser, week, "approve")) == (
        "Chỉ lãnh đạo được duyệt lịch công tác."
    )
    clash = await post_line(browser, week, content="Hội nghị")
    assert "Phòng họp số 1 đã có lịch lúc 08:00: Giao ban Thường trực Tỉnh uỷ" in clash.text


async def test_the_report_form_refuses_in_english_and_in_vietnamese_as_before(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    unit = tu.settings.node.units[0]
    period = "2024-07"  # its own period: the node's database is shared by the module
    await speak(browser, "en")
    # The form's checks (office.reports.forms), naming the field as the form labels it.
    negative = await post_form(browser, period, computers="-3")
    assert negative.status == 400
    assert english(negative) == "Computers: must not be negative (-3)."
    more = await post_form(browser, period, staff_total="10", staff_computer_literate="11")
    assert english(more) == (
        "Staff who can use a computer (11) cannot outnumber the staff in total (10)."
    )
    # The period (office.reports.periods), on the form's page.
    future = await browser.get("/reports/form?period=2999-01")
    assert future.status == 400
    assert english(future).startswith("Period 2999-01 has not begun yet (today is ")
    # The page's own (office.reports.web.forms): a form without its revision.
    no_revision = await post_form(browser, period, revision="")
    assert english(no_revision) == "The form has no revision. Please reload the page."
    # The reporting desk (office.reports.service): a unit with nowhere to send its report.
    nowhere = await post_form(browser, "2024-08", send="1")
    assert nowhere.status == 400
    assert english(nowhere) == f"Unit {unit} has nowhere on another server to send its report to."

    await speak(browser, "vi")
    again = await post_form(browser, period, computers="-3")
    assert vietnamese(again) == "Số máy tính: không được là số âm (-3)."
    nowhere = await post_form(browser, "2024-08", send="1")
    assert vietnamese(nowhere) == f"Đơn vị {unit} không có nơi nhận báo cáo ở máy chủ khác."


async def test_the_mail_pages_refuse_in_english_and_in_vietnamese_as_before(
    tu: RunningNode, make_account: NewAccount
) -> None:
    async with await signed_in(tu, await make_account(role="staff")) as browser:
        await speak(browser, "en")
        # The gateway's checks (mailgw.gateway).
        outside = await send(browser, "ai.do@gmail.com", "Ra ngoài mạng")
        assert outside.status == 400
        assert english(outside) == (
            "ai.do@gmail.com is not at any unit of the network; mail is not relayed outside it."
        )
        # Writing the message (mailgw.composing), naming the field as the form does.
        bad = await send(browser, "khong hop le", "Địa chỉ sai")
        assert bad.status == 400
        assert re.fullmatch(r"The address “.*” in the To field is not valid\.", english(bad))
        # The mailbox (mailgw.mailbox), on the error page.
        missing = await browser.get("/mail/999999999")
        assert missing.status == 404 and english(missing) == "The message was not found."

        await speak(browser, "vi")
        outside = await send(browser, "ai.do@gmail.com", "Ra ngoài mạng")
        assert vietnamese(outside) == (
            "ai.do@gmail.com không thuộc đơn vị nào trong mạng; không chuyển tiếp ra ngoài."
        )
        bad = await send(browser, "khong hop le", "Địa chỉ sai")
        assert re.fullmatch(r"Địa chỉ “.*” ở ô Người nhận không hợp lệ\.", vietnamese(bad))
        assert vietnamese(await browser.get("/mail/999999999")) == "Không tìm thấy thư."


@pytest.mark.parametrize(
    ("password", "in_english", "in_vietnamese"),
    [
        (
            "Ab1!xyz9",
            "the password is too short: it needs at least 10 characters",
            "mật khẩu quá ngắn: cần ít nhất 10 ký tự",
        ),
        (
            "matkhau123",
            "the password is too common, easy to guess",
            "mật khẩu quá phổ biến, dễ đoán",
        ),
        (
            "aaaaaaaaaaaa",
            "the password is easy to guess: use a longer phrase",
            "mật khẩu dễ đoán: dùng một cụm từ dài hơn",
        ),
    ],
)
def test_a_weak_password_is_refused_in_either_language(
    password: str, in_english: str, in_vietnamese: str
) -> None:
    with pytest.raises(Invalid) as refused:
        check_password_strength(password)
    assert refused.value.text("en") == in_english
    assert not VIETNAMESE.search(refused.value.text("en"))
    assert refused.value.message == refused.value.text("vi") == in_vietnamese
