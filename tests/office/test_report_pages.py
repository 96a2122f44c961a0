"""Báo cáo pages over HTTP on a running provincial node: a leader reads and downloads the IT
report (PDF, DOCX), a clerk keeps the unit's periodic form, leaders see the units' IT use; and
every refusal (wrong role, bad or future period, negative or contradictory figures, stale form,
missing form token) changes nothing."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import docx
from sqlalchemy import select

from office.node.app import RunningNode
from office.reports.aggregate import due_date
from office.reports.models import ReportArrival, ReportSend, UnitFormRecord
from office.reports.periods import month_period
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.documents import pdf_text
from tests.support.network import DemoNetwork
from tests.support.nodes import start_camlo
from tests.support.waiting import wait_for
from tests.support.web import Page, StaffBrowser, main_part, new_account, refusal_text

FORM = {
    "staff_total": "42",
    "staff_computer_literate": "39",
    "computers": "35",
    "servers": "2",
    "lan_state": "Mạng LAN hoạt động ổn định",
    "connection_state": "Đường truyền cáp quang 20 Mbps",
    "incidents": "Mất điện ngày 12, máy chủ tự khởi động lại",
    "proposals": "Đề nghị trang bị thêm bộ lưu điện",
}


def last_month(node: RunningNode) -> str:
    today = node.reports.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


async def stored_form(node: RunningNode, period: str) -> UnitFormRecord | None:
    async with node.sessions() as session:
        return await session.get(UnitFormRecord, (node.settings.node.units[0], period))


async def post_form(browser: StaffBrowser, period: str, **changes: str) -> Page:
    """The form as the page shows it, with ``changes`` typed in, sent."""
    page = await browser.get(f"/reports/form?period={period}")
    assert page.status == 200, page.text
    revision = re.search(r'name="revision" value="(\d+)"', page.text)
    form_id = re.search(r'name="form_id" value="([^"]+)"', page.text)
    assert revision and form_id
    form = {
        "csrf_token": page.form_token,
        "form_id": form_id.group(1),
        "period": period,
        "revision": revision.group(1),
        **FORM,
        **changes,
    }
    return await browser.post("/reports/form", form)


async def download(browser: StaffBrowser, query: str) -> tuple[int, dict[str, str], bytes]:
    async with browser.http.get(f"{browser.base_url}/reports/download?{query}") as response:
        return response.status, dict(response.headers), await response.read()


async def test_a_leader_downloads_the_report_as_pdf_and_docx(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    await browser.sign_in_as(await make_account(role="leader"))
    period = last_month(tu)
    chooser = await browser.get("/reports")
    assert chooser.status == 200
    assert f'name="period" type="text" required maxlength="24" value="{period}"' in chooser.text
    assert 'placeholder="11/2005, Quý IV/2005 hoặc 2005"' in chooser.text
    assert '<option value="TU" selected>Tỉnh uỷ Quảng Trị</option>' in chooser.text
    assert '<option value="BTC">Ban Tổ chức Tỉnh uỷ</option>' in chooser.text

    status, headers, body = await download(browser, f"unit=TU&period={period}&format=pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert body.startswith(b"%PDF")
    assert headers["Content-Disposition"] == f'attachment; filename="bao-cao-TU-{period}.pdf"'
    (tmp_path / "report.pdf").write_bytes(body)
    printed = pdf_text(tmp_path / "report.pdf")
    assert "Tỉnh uỷ Quảng Trị".upper() in printed.upper() and "Ban Tổ chức Tỉnh uỷ" in printed

    status, headers, body = await download(browser, f"unit=BTC&period={period}&format=docx")
    assert status == 200
    assert headers["Content-Type"].endswith("wordprocessingml.document")
    assert headers["Content-Disposition"] == f'attachment; filename="bao-cao-BTC-{period}.docx"'
    words = "\n".join(p.text for p in docx.Document(io.BytesIO(body)).paragraphs)
    year, month = period.split("-")
    assert f"tháng {month} năm {year}" in words


async def test_the_report_shows_in_the_page_in_a_frame_with_its_own_policy(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="admin"))
    period = last_month(tu)
    page = await browser.get(f"/reports/view?unit=TU&period={period}")
    assert page.status == 200
    frame = f"/reports/view/frame?unit=TU&amp;period={period}"
    assert f'<iframe id="report-frame" src="{frame}"' in page.text
    assert f"/reports/download?unit=TU&amp;period={period}&amp;format=docx" in page.text
    framed = await browser.get(frame.replace("&amp;", "&"))
    assert framed.status == 200 and "Tình hình ứng dụng công nghệ thông tin" in framed.text
    policy = framed.headers["Content-Security-Policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy and framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    # A unit this node does not host has no report here.
    assert (await browser.get(f"/reports/view?unit=HU-CAMLO&period={period}")).status == 404


async def test_a_future_or_malformed_period_is_said_on_the_form_and_nothing_is_downloaded(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="leader"))
    future = f"{tu.reports.today().year + 1}-01"
    status, headers, body = await download(browser, f"unit=TU&period={future}&format=pdf")
    assert status == 400 and "Content-Disposition" not in headers
    assert headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert "chưa bắt đầu" in page and 'id="report-choose"' in page
    assert f'value="{future}"' in page  # the form keeps what was typed
    for query in ("period=2005-13&format=pdf", f"period={last_month(tu)}&format=exe"):
        status, headers, body = await download(browser, f"unit=TU&{query}")
        assert status == 400 and "Content-Disposition" not in headers
        assert 'class="alert"' in body.decode()
    viewed = await browser.get(f"/reports/view?unit=TU&period={future}")
    assert viewed.status == 400 and "chưa bắt đầu" in refusal_text(viewed)


async def test_staff_and_the_wrong_roles_get_the_unknown_page_answer(
    tu: RunningNode, make_account: NewAccount
) -> None:
    staff, leader = await make_account(role="staff"), await make_account(role="leader")
    period = last_month(tu)
    async with StaffBrowser(tu.web_url) as as_staff, StaffBrowser(tu.web_url) as as_leader:
        await as_staff.sign_in_as(staff)
        await as_leader.sign_in_as(leader)
        missing = await as_staff.get("/khong-co")
        for path in (
            "/reports",
            f"/reports/download?unit=TU&period={period}&format=pdf",
            f"/reports/view?unit=TU&period={period}",
            f"/reports/view/frame?unit=TU&period={period}",
            "/dashboard",
            "/dashboard/unit/TU",
            "/reports/usage",
            "/reports/form",
        ):
            hidden = await as_staff.get(path)
            assert hidden.status == 404, path
            assert main_part(hidden.text) == main_part(missing.text)
        # A leader reads reports but does not keep the unit's form.
        assert (await as_leader.get("/reports/form")).status == 404
        home = await as_staff.get("/")
        assert 'href="/dashboard"' not in home.text and 'href="/reports' not in home.text


async def test_a_clerk_saves_the_form_and_finds_it_again(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    clerk = await make_account(role="clerk")
    await browser.sign_in_as(clerk)
    home = await browser.get("/")
    assert 'href="/reports/form"' in home.text and 'href="/dashboard"' not in home.text
    period = last_month(tu)
    empty = await browser.get("/reports/form")
    assert f'name="period" value="{period}"' in empty.text
    assert 'name="revision" value="0"' in empty.text
    for name in ("staff_total", "staff_computer_literate", "computers", "servers"):
        assert f'name="{name}" type="number" min="0"' in empty.text
    # The province reports to nobody: there is no sending button.
    assert 'name="send"' not in empty.text

    saved = await post_form(browser, period)
    assert saved.status == 303
    assert saved.location == f"/reports/form?period={period}&done=saved"
    again = await browser.get(saved.location)
    assert f"Đã lưu biểu mẫu kỳ {period}." in again.text
    assert 'name="staff_total" type="number" min="0" step="1" required value="42"' in again.text
    assert ">Đề nghị trang bị thêm bộ lưu điện</textarea>" in again.text
    assert 'name="revision" value="1"' in again.text
    record = await stored_form(tu, period)
    assert record is not None
    assert (record.staff_total, record.staff_computer_literate, record.servers) == (42, 39, 2)
    assert record.entered_by == clerk.username and record.revision == 1

    # A second save builds on the first.
    changed = await post_form(browser, period, servers="3")
    assert changed.status == 303
    record = await stored_form(tu, period)
    assert record is not None and (record.servers, record.revision) == (3, 2)


async def test_negative_or_contradictory_figures_are_refused_and_nothing_is_saved(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    period = "2024-03"  # each test keeps its own period: the node's database is shared
    negative = await post_form(browser, period, computers="-3")
    assert negative.status == 400
    assert refusal_text(negative) == "Số máy tính: không được là số âm (-3)."
    assert 'name="computers" type="number" min="0" step="1" required value="-3"' in negative.text
    assert ">Mất điện ngày 12, máy chủ tự khởi động lại</textarea>" in negative.text

    more = await post_form(browser, period, staff_total="10", staff_computer_literate="11")
    assert more.status == 400
    assert refusal_text(more) == (
        "Số người biết sử dụng vi tính (11) không thể lớn hơn tổng số cán bộ (10)."
    )
    words = await post_form(browser, period, servers="hai")
    assert words.status == 400 and refusal_text(words) == "Số máy chủ: phải là một số nguyên."
    assert await stored_form(tu, period) is None


async def test_a_form_saved_over_a_newer_one_is_refused(
    tu: RunningNode, make_account: NewAccount
) -> None:
    period = "2024-04"
    async with StaffBrowser(tu.web_url) as first, StaffBrowser(tu.web_url) as second:
        await first.sign_in_as(await make_account(role="clerk"))
        await second.sign_in_as(await make_account(role="admin"))
        opened = await second.get(f"/reports/form?period={period}")
        assert (await post_form(first, period)).status == 303
        late = await second.post(
            "/reports/form",
            {
                "csrf_token": opened.form_token,
                "form_id": "f" * 32,
                "period": period,
                "revision": "0",
                **FORM,
                "computers": "99",
            },
        )
    assert late.status == 409
    assert "người khác sửa" in refusal_text(late)
    assert 'required value="99"' in late.text
    record = await stored_form(tu, period)
    assert record is not None and (record.computers, record.revision) == (35, 1)


async def test_a_form_without_its_token_is_refused(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="clerk"))
    period = "2024-Q2"
    page = await browser.get(f"/reports/form?period={period}")
    form_id = re.search(r'name="form_id" value="([^"]+)"', page.text)
    assert form_id
    fields = {"form_id": form_id.group(1), "period": period, "revision": "0", **FORM}
    for token in ({}, {"csrf_token": "giả-mạo"}):
        refused = await browser.post("/reports/form", {**fields, **token})
        assert refused.status == 403
        assert "mã bảo vệ" in refused.text
    assert await stored_form(tu, period) is None


def due_months(node: RunningNode) -> list[str]:
    """The months of the dashboard's year whose report is due by today."""
    today = node.reports.today()
    year = int(last_month(node)[:4])
    months = [f"{year:04d}-{month:02d}" for month in range(1, 13)]
    settings = node.settings.reports
    return [m for m in months if due_date(month_period(m), settings) <= today]


async def test_the_usage_page_shows_units_late_reports_and_to_admins_the_arrivals(
    tu: RunningNode, make_account: NewAccount
) -> None:
    async with tu.sessions() as session, session.begin():
        session.add_all(
            [
                ReportArrival(
                    dispatch_id="7b0d1f2e-0000-4000-8000-000000000001",
                    sender="HU-CAMLO",
                    unit_code="HU-GIOLINH",
                    period="2026-10",
                    accepted=False,
                    reason="Đơn vị HU-CAMLO gửi báo cáo thay cho đơn vị HU-GIOLINH",
                    received_at=datetime.now(UTC),
                ),
                ReportArrival(
                    dispatch_id="7b0d1f2e-0000-4000-8000-000000000002",
                    kind="figures",
                    sender="TX-DONGHA",
                    unit_code="TX-DONGHA",
                    accepted=False,
                    reason="Số liệu xử lý văn bản không đúng dạng (phần months).",
                    received_at=datetime.now(UTC),
                ),
            ]
        )
    leader, admin = await make_account(role="leader"), await make_account(role="admin")
    async with StaffBrowser(tu.web_url) as as_leader, StaffBrowser(tu.web_url) as as_admin:
        await as_leader.sign_in_as(leader)
        await as_admin.sign_in_as(admin)
        home = await as_leader.get("/")
        assert 'href="/dashboard"' in home.text and 'href="/reports"' in home.text
        assert 'href="/reports/form"' not in home.text
        # The dashboard links to the usage page, and so does the report's chooser.
        dashboard = await as_leader.get("/dashboard")
        assert 'href="/reports/usage" id="usage-link"' in dashboard.text
        chooser = await as_leader.get("/reports")
        assert 'href="/reports/usage" id="usage-link"' in chooser.text
        page = await as_leader.get("/reports/usage")
        assert page.status == 200
        assert "<h1>Tình hình ứng dụng công nghệ thông tin của các đơn vị</h1>" in page.text
        today = tu.reports.today()
        assert f"tháng {today.month:02d} năm {today.year}" in page.text
        for name in ("Tỉnh uỷ Quảng Trị", "Ban Tổ chức Tỉnh uỷ", "Huyện uỷ Cam Lộ"):
            assert f"<td>{name}</td>" in page.text
        late = page.text.split('id="usage-late"', 1)[1].split("</section>", 1)[0]
        due = due_months(tu)
        if due:  # every district and board of the year has sent nothing
            first = date.fromisoformat(due[0] + "-01")
            assert "<strong>Huyện uỷ Cam Lộ</strong>: chưa báo cáo" in late
            assert f"{first:%m/%Y}" in late
        assert 'id="usage-idle"' in page.text and 'id="usage-overdue"' in page.text
        assert 'id="usage-arrivals' not in page.text
        for_admin = await as_admin.get("/reports/usage")
        reports = for_admin.text.split('id="usage-arrivals-report"', 1)[1].split("</section>")[0]
        assert "Từ chối: Đơn vị HU-CAMLO gửi báo cáo thay cho đơn vị HU-GIOLINH" in reports
        assert "Huyện uỷ Cam Lộ" in reports and "TX-DONGHA" not in reports
        figures = for_admin.text.split('id="usage-arrivals-figures"', 1)[1].split("</section>")[0]
        assert "Từ chối: Số liệu xử lý văn bản không đúng dạng (phần months)." in figures
        assert "Thị uỷ Đông Hà" in figures and "Huyện uỷ Cam Lộ" not in figures


async def test_a_district_clerk_saves_the_form_and_sends_the_report_up(
    demo_network: DemoNetwork, tu: RunningNode, secrets_seen: SecretsSeen
) -> None:
    camlo = await start_camlo(demo_network)
    try:
        clerk = await new_account(camlo, role="clerk")
        secrets_seen.add(clerk.password, clerk.totp_secret)
        async with StaffBrowser(camlo.web_url) as browser:
            await browser.sign_in_as(clerk)
            page = await browser.get("/reports/form?period=2025-06")
            assert "Báo cáo được gửi lên Tỉnh uỷ Quảng Trị." in page.text
            assert '<button type="submit" class="button-quiet" name="send" value="1"' in page.text
            assert "Lưu và gửi báo cáo lên" in page.text
            sent = await post_form(browser, "2025-06", send="1")
            assert sent.status == 303
            assert sent.location == "/reports/form?period=2025-06&done=sent"
            notice = await browser.get(sent.location)
            assert "gửi báo cáo kỳ 2025-06 lên Tỉnh uỷ Quảng Trị" in notice.text
        async with camlo.sessions() as session:
            sends = list(await session.scalars(select(ReportSend)))
        assert [(s.unit_code, s.period, s.with_form) for s in sends] == [
            ("HU-CAMLO", "2025-06", True)
        ]

        async def arrived() -> bool:
            async with tu.sessions() as session:
                return await session.get(UnitFormRecord, ("HU-CAMLO", "2025-06")) is not None

        # The province has the form the district typed.
        await wait_for(arrived)
        async with tu.sessions() as session:
            record = await session.get(UnitFormRecord, ("HU-CAMLO", "2025-06"))
            arrival = await session.scalar(
                select(ReportArrival).where(ReportArrival.dispatch_id == sends[0].dispatch_id)
            )
        assert record is not None and (record.staff_total, record.source) == (42, "HU-CAMLO")
        assert arrival is not None and arrival.accepted
    finally:
        await camlo.stop()


async def test_a_leader_writes_the_number_date_and_signer_on_the_report(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    await browser.sign_in_as(await make_account(role="leader"))
    period = last_month(tu)
    chooser = await browser.get("/reports")
    for name in ("number", "signed_on", "signer_authority", "signer_position", "signer_name"):
        assert f'name="{name}"' in chooser.text
    issue = {
        "number": "13",
        "signed_on": "2026-12-01",
        "signer_authority": "T/M Ban Thường vụ",
        "signer_position": "Phó Bí thư",
        "signer_name": "Nguyễn Văn A",
    }
    query = urlencode({"unit": "TU", "period": period, "format": "pdf", **issue})
    status, _headers, body = await download(browser, query)
    assert status == 200
    (tmp_path / "report.pdf").write_bytes(body)
    printed = pdf_text(tmp_path / "report.pdf")
    for words in (
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Số 13-BC/TU",
        "Quảng Trị, ngày 01 tháng 12 năm 2026",
        "T/M BAN THƯỜNG VỤ",
        "PHÓ BÍ THƯ",
        "Nguyễn Văn A",
        "Nơi nhận:",
    ):
        assert words in printed, words
    # The page shows the same report in its frame: the fields travel with it.
    view = await browser.get(f"/reports/view?{query}")
    assert view.status == 200
    frame = re.search(r'src="(/reports/view/frame[^"]+)"', view.text)
    assert frame is not None
    framed = await browser.get(frame.group(1).replace("&amp;", "&"))
    assert "Số 13-BC/TU" in framed.text and "Nguyễn Văn A" in framed.text


async def test_a_malformed_number_date_or_signer_is_refused_on_the_form(
    browser: StaffBrowser, tu: RunningNode, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account(role="leader"))
    period = last_month(tu)
    for field, value, said in (
        ("number", "13a", "Số báo cáo phải là số nguyên dương"),
        ("number", "0", "Số báo cáo phải là số nguyên dương"),
        ("signed_on", "2026-13-01", "Ngày ký không hợp lệ"),
        ("signer_name", "A" * 121, "dài tối đa 120 ký tự"),
    ):
        query = urlencode({"unit": "TU", "period": period, "format": "pdf", field: value})
        status, headers, body = await download(browser, query)
        assert status == 400 and headers["Content-Type"].startswith("text/html")
        assert said in body.decode("utf-8")
        shown = await browser.get(f"/reports/view?{query}")
        assert shown.status == 400 and said in shown.text
