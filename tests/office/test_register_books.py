"""The registers' two books over HTTP: the secret book (sổ mật) is a page, a print and an Excel
export of its own, marked in its title and its file name, never mixed with the ordinary one
(Decree 30/2020 Art. 20-22), and closed to whoever holds no clearance; the workbooks store
numbers as numbers and days as dates."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from exchange.ledger import VIETNAM
from office.node.app import RunningNode
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.office.test_outgoing import _account_in, issue, new_draft
from tests.support.documents import (
    enter_paper,
    make_pdf,
    pdf_text,
)
from tests.support.web import StaffBrowser

PLAIN_IN = "Công văn về lịch tiếp công dân tháng 12"
SECRET_IN = "Báo cáo mật về tình hình an ninh nội bộ"
PLAIN_OUT = "Thông báo kết luận giao ban tuần"
SECRET_OUT = "Kế hoạch mật bảo vệ đại hội"
#: Every path a book is read by: the page, its print, its Excel export.
BOOK_PATHS = (
    "/incoming?book=secret",
    "/incoming/register.pdf?book=secret",
    "/incoming/register.xlsx?book=secret",
    "/outgoing?book=secret",
    "/outgoing/register.pdf?book=secret",
    "/outgoing/register.xlsx?book=secret",
)


async def download(browser: StaffBrowser, path: str) -> tuple[bytes, str]:
    async with browser.http.get(f"{browser.base_url}{path}") as answer:
        assert answer.status == 200, path
        return await answer.read(), answer.headers["Content-Disposition"]


def sheet_of(body: bytes) -> Worksheet:
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert isinstance(sheet, Worksheet)
    return sheet


def register_part(html: str) -> str:
    return html.split('id="register-title"', 1)[1]


async def test_the_secret_books_print_and_export_apart_with_their_mark(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=2)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        pdf = make_pdf(tmp_path, "den.pdf", "Công văn")
        await enter_paper(browser, pdf, PLAIN_IN)
        await enter_paper(browser, pdf, SECRET_IN, secrecy="1")
        plain = await new_draft(browser, tmp_path, summary=PLAIN_OUT, recipients=("BTC",))
        secret = await new_draft(
            browser, tmp_path, summary=SECRET_OUT, recipients=("BTC",), secrecy="2"
        )
        for document_id in (plain, secret):
            assert (await issue(browser, document_id, node=tu)).status == 303

        for direction, own, other in (
            ("incoming", PLAIN_IN, SECRET_IN),
            ("outgoing", PLAIN_OUT, SECRET_OUT),
        ):
            ordinary = await browser.get(f"/{direction}")
            assert 'id="book-secret"' in ordinary.text
            assert own in register_part(ordinary.text)
            assert other not in register_part(ordinary.text)
            book = await browser.get(f"/{direction}?book=secret")
            assert "(sổ mật)</h2>" in book.text
            assert other in register_part(book.text) and own not in register_part(book.text)

        stems = {"incoming": "so-van-ban-den", "outgoing": "so-van-ban-di"}
        for direction, own, other in (
            ("incoming", PLAIN_IN, SECRET_IN),
            ("outgoing", PLAIN_OUT, SECRET_OUT),
        ):
            for book, shown, hidden, suffix in (
                ("", own, other, ""),
                ("?book=secret", other, own, "-mat"),
            ):
                body, disposition = await download(browser, f"/{direction}/register.xlsx{book}")
                assert f'filename="{stems[direction]}{suffix}.xlsx"' in disposition
                sheet = sheet_of(body)
                assert str(sheet["A1"].value).endswith("(sổ mật)") == bool(suffix)
                cells = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
                assert shown in cells and hidden not in cells
                body, disposition = await download(browser, f"/{direction}/register.pdf{book}")
                assert f'filename="{stems[direction]}{suffix}.pdf"' in disposition
                (tmp_path / "book.pdf").write_bytes(body)
                printed = " ".join(pdf_text(tmp_path / "book.pdf").split())
                assert ("(SỔ MẬT)" in printed.upper()) == bool(suffix)
                assert shown in printed and hidden not in printed


async def test_the_secret_book_is_closed_to_whom_holds_no_clearance(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    top = "Tờ trình tối mật về nhân sự chủ chốt"
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(await make_account(role="clerk", clearance=2))
        await enter_paper(browser, make_pdf(tmp_path, "m.pdf"), SECRET_IN, secrecy="1")
        await enter_paper(browser, make_pdf(tmp_path, "t.pdf"), top, secrecy="2")
    # A Mật clerk opens the secret book, without its Tối mật rows.
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(await make_account(role="clerk", clearance=1))
        book = await browser.get("/incoming?book=secret")
        assert SECRET_IN in book.text and top not in book.text
        body, _disposition = await download(browser, "/incoming/register.xlsx?book=secret")
        cells = " ".join(str(v) for row in sheet_of(body).iter_rows(values_only=True) for v in row)
        assert SECRET_IN in cells and top not in cells
    for account in (
        await make_account(role="clerk", clearance=0),
        await make_account(role="leader", clearance=0),
        await make_account(role="admin", clearance=0),
    ):
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(account)
            assert 'id="book-secret"' not in (await browser.get("/incoming")).text
            for path in BOOK_PATHS:
                refused = await browser.get(path)
                assert refused.status == 404, (path, account)
                assert "<h1>Không tìm thấy trang</h1>" in refused.text
                assert SECRET_IN not in refused.text and "sổ mật" not in refused.text
    # Another unit's clerk, cleared for every level, opens a secret book without this one's.
    board = await _account_in(tu, "BTC", "clerk", 3, secrets_seen)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(board)
        book = await browser.get("/incoming?book=secret")
        assert book.status == 200 and SECRET_IN not in book.text
        body, _disposition = await download(browser, "/incoming/register.xlsx?book=secret")
        cells = [v for row in sheet_of(body).iter_rows(min_row=4, values_only=True) for v in row]
        assert cells == []


async def test_the_workbooks_store_numbers_as_numbers_and_days_as_dates(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        await enter_paper(
            browser, make_pdf(tmp_path, "so.pdf"), "Công văn có ngày", issued_on="03/11/2026"
        )
        issued = await new_draft(
            browser, tmp_path, summary="Văn bản đi có ngày", recipients=("BTC",)
        )
        assert (await issue(browser, issued, node=tu)).status == 303
        incoming_body, _ = await download(browser, "/incoming/register.xlsx")
        outgoing_body, _ = await download(browser, "/outgoing/register.xlsx")

    sheet = sheet_of(incoming_body)
    (row,) = [r for r in sheet.iter_rows(min_row=4) if "Công văn có ngày" in str(r[5].value)]
    received, number, issued_on = row[0], row[1], row[4]
    assert received.data_type == "d" or received.is_date
    assert isinstance(received.value, datetime) and received.number_format == "dd/mm/yyyy"
    assert isinstance(number.value, int) and number.data_type == "n"
    assert issued_on.is_date and issued_on.value == datetime(2026, 11, 3)
    assert issued_on.number_format == "dd/mm/yyyy"

    sheet = sheet_of(outgoing_body)
    (row,) = [r for r in sheet.iter_rows(min_row=4) if "Văn bản đi có ngày" in str(r[2].value)]
    day, copies, sent, receipts = row[1], row[6], row[7], row[8]
    assert day.is_date and day.number_format == "dd/mm/yyyy"
    assert (
        isinstance(day.value, datetime) and day.value.date() <= datetime.now(VIETNAM).date()
    )  # the register's day
    assert isinstance(copies.value, int) and copies.value == 1 and copies.data_type == "n"
    assert isinstance(receipts.value, int) and receipts.data_type == "n"
    assert sent.value is None or (sent.is_date and sent.number_format == "dd/mm/yyyy hh:mm")
