"""Văn bản đến over HTTP: paper entry and registration with gap-free numbers, the leader's
direction and the handlers' work, access by role and clearance, and every refusal."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from office.documents import incoming
from office.documents.fields import DocumentFields
from office.documents.models import Assignment, Document, DocumentEvent
from office.node.app import RunningNode, start_node
from tests.office.conftest import NewAccount
from tests.support.documents import (
    enter_paper,
    files_under,
    form_id,
    indexed,
    make_pdf,
    paper_fields,
    pdf_text,
    upload,
    upload_named,
    version,
)
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.web import StaffBrowser, account_id, main_part, new_account, signed_in


@pytest.fixture
async def small_uploads(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(
        fast_settings(demo_network, "TU", CONGVAN_OFFICE_MAX_UPLOAD_BYTES="20000")
    )
    yield node
    await node.stop()


async def received(node: RunningNode, count: int, summary: str = "Báo cáo") -> list[int]:
    """Documents as the network hands them over: waiting in the clerk's queue."""
    ids = []
    async with node.sessions() as session, session.begin():
        for index in range(count):
            created = await incoming.receive(
                session,
                ["TU"],
                DocumentFields("BC", f"{summary} {index}", f"{index + 1}-BC/HU", "Huyện uỷ Cam Lộ"),
                [],
                dispatch_id=str(uuid.uuid4()),
                sender_unit="HU-CAMLO",
                now=node.desk.now() if node.desk else None,  # type: ignore[arg-type]
            )
            ids.extend(document.id for document in created)
    return ids


async def last_number(node: RunningNode, series: str) -> int:
    """The module's node keeps its register between tests: numbers are checked from here."""
    async with node.sessions() as session:
        found = await session.scalar(
            select(func.max(Document.register_number)).where(Document.register_series == series)
        )
    return found or 0


async def register(browser: StaffBrowser, document_id: int, **extra: str) -> StaffBrowser:
    page = await browser.get(f"/incoming/{document_id}")
    assert page.status == 200
    return await browser.post(
        f"/incoming/{document_id}/register",
        {
            "csrf_token": page.form_token,
            "form_id": form_id(page),
            "version": version(page),
            **paper_fields(f"Văn bản {document_id}", **extra),
        },
    )


async def test_a_paper_document_is_entered_numbered_and_listed_in_the_register(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    pdf = make_pdf(tmp_path, "scan.pdf", "Công văn về việc triển khai mạng tin học")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        before = await last_number(tu, "normal")
        first = await enter_paper(browser, pdf, "Về việc triển khai mạng tin học Đông Hà")
        second = await enter_paper(
            browser, pdf, "Về việc báo cáo định kỳ", number_symbol="7-BC/HU", doc_type="BC"
        )
        page = await browser.get(first)
        assert page.status == 200
        assert f'id="register-number">{before + 1}/' in page.text
        assert f'id="register-number">{before + 2}/' in (await browser.get(second)).text
        register = await browser.get("/incoming")
        assert register.text.count("<th>") >= 10
        for column in ("Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Hạn giải quyết"):
            assert f"<th>{column}</th>" in register.text
        assert "Về việc triển khai mạng tin học Đông Hà" in register.text
        filtered = await browser.get("/incoming?type=BC")
        assert "Về việc báo cáo định kỳ" in filtered.text
        assert "Đông Hà" not in filtered.text
        file_page = await browser.get(first)
        link = file_page.text.split('href="/documents/', 1)[1].split('"', 1)[0]
        async with browser.http.get(f"{tu.web_url}/documents/{link}") as download:
            assert download.status == 200
            assert download.headers["Content-Type"] == "application/pdf"
            assert await download.read() == pdf.read_bytes()


async def test_fifty_clerks_registering_at_once_get_fifty_numbers_without_a_gap(
    tu: RunningNode, make_account: NewAccount
) -> None:
    ids = await received(tu, 50)
    before = await last_number(tu, "normal")
    clerk = await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        pages = await asyncio.gather(*(browser.get(f"/incoming/{i}") for i in ids))
        answers = await asyncio.gather(
            *(
                browser.post(
                    f"/incoming/{i}/register",
                    {
                        "csrf_token": page.form_token,
                        "form_id": form_id(page),
                        "version": version(page),
                        **paper_fields(f"Văn bản {i}", number_symbol=f"{i}-BC/HU"),
                    },
                )
                for i, page in zip(ids, pages, strict=True)
            )
        )
    assert [answer.status for answer in answers] == [303] * 50
    async with tu.sessions() as session:
        numbers = sorted(
            await session.scalars(select(Document.register_number).where(Document.id.in_(ids)))
        )
    assert numbers == list(range(before + 1, before + 51))


async def test_a_secret_document_is_numbered_in_its_own_book(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=2)
    pdf = make_pdf(tmp_path, "mat.pdf", "Tài liệu mật")
    normal, secret_before = await last_number(tu, "normal"), await last_number(tu, "secret")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        await enter_paper(browser, pdf, "Thường 1", number_symbol="1-CV/HU")
        secret = await enter_paper(browser, pdf, "Mật 1", number_symbol="2-CV/HU", secrecy="1")
        await enter_paper(browser, pdf, "Thường 2", number_symbol="3-CV/HU")
        assert f'id="register-number">{secret_before + 1}/' in (await browser.get(secret)).text
    async with tu.sessions() as session:
        rows = await session.execute(
            select(Document.summary, Document.register_series, Document.register_number).where(
                Document.summary.in_(("Thường 1", "Mật 1", "Thường 2"))
            )
        )
        found = {(row[0], row[1], row[2]) for row in rows}
    assert found == {
        ("Thường 1", "normal", normal + 1),
        ("Mật 1", "secret", secret_before + 1),
        ("Thường 2", "normal", normal + 2),
    }


async def test_a_stale_form_is_refused_and_a_double_submit_is_done_once(
    tu: RunningNode, make_account: NewAccount
) -> None:
    [document_id] = await received(tu, 1, "Lần một")
    before = await last_number(tu, "normal")
    clerk, other = await make_account(role="clerk"), await make_account(role="clerk")
    async with StaffBrowser(tu.web_url) as first, StaffBrowser(tu.web_url) as second:
        await first.sign_in_as(clerk)
        await second.sign_in_as(other)
        mine, theirs = (
            await first.get(f"/incoming/{document_id}"),
            await second.get(f"/incoming/{document_id}"),
        )
        form = {
            "csrf_token": mine.form_token,
            "form_id": form_id(mine),
            "version": version(mine),
            **paper_fields("Lần một"),
        }
        once, again = (
            await first.post(f"/incoming/{document_id}/register", form),
            await first.post(f"/incoming/{document_id}/register", form),
        )
        assert once.status == again.status == 303
        assert once.location == again.location == f"/incoming/{document_id}"
        stale = await second.post(
            f"/incoming/{document_id}/return",
            {
                "csrf_token": theirs.form_token,
                "form_id": form_id(theirs),
                "version": version(theirs),
                "reason": "Không đúng thẩm quyền",
            },
        )
        assert stale.status == 409
        assert "người khác thay đổi" in stale.text
        forged = await first.post(
            f"/incoming/{document_id}/return",
            {"csrf_token": "x" * 40, "form_id": form_id(mine), "version": "2", "reason": "x"},
        )
        assert forged.status == 403
    async with tu.sessions() as session:
        document = await session.get(Document, document_id)
        assert document is not None
        assert (document.state, document.register_number, document.version) == (
            "registered",
            before + 1,
            2,
        )
        registered = await session.scalars(
            select(DocumentEvent).where(
                DocumentEvent.document_id == document_id, DocumentEvent.action == "registered"
            )
        )
        assert len(registered.all()) == 1


async def test_a_duplicate_is_flagged_and_registered_again_only_when_confirmed(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    pdf = make_pdf(tmp_path, "a.pdf", "Bản giấy")
    number = await last_number(tu, "normal") + 1
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        await enter_paper(browser, pdf, "Bản giấy", number_symbol="9-CV/HU")
        form = await browser.get("/incoming/new")
        refused = await upload(
            browser,
            "/incoming/new",
            {"form_id": form_id(form), **paper_fields("Bản giấy lần hai", number_symbol="9-CV/HU")},
            {"file": ("a.pdf", pdf.read_bytes(), "application/pdf")},
            form.form_token,
        )
        assert refused.status == 409
        assert "Có thể trùng" in refused.text and f"số đến {number}/" in refused.text
        confirmed = await upload(
            browser,
            "/incoming/new",
            {
                "form_id": form_id(form),
                "confirm_duplicate": "1",
                **paper_fields("Bản giấy lần hai", number_symbol="9-CV/HU"),
            },
            {"file": ("a.pdf", pdf.read_bytes(), "application/pdf")},
            form.form_token,
        )
        assert confirmed.status == 303


async def test_a_leader_assigns_and_the_handlers_finish_within_working_days(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    leader = await make_account(role="leader", full_name="Trần Văn Bình")
    lead = await make_account(role="staff", full_name="Lê Thị Hoa")
    helper = await make_account(role="staff", full_name="Phạm Văn Nam")
    outsider = await make_account(role="staff", full_name="Ngô Văn Khác")
    pdf = make_pdf(tmp_path, "b.pdf", "Kế hoạch")
    async with signed_in(tu, clerk, leader, lead, helper, outsider) as (
        as_clerk,
        as_leader,
        as_lead,
        as_helper,
        as_outsider,
    ):
        path = await enter_paper(
            as_clerk,
            pdf,
            "Kế hoạch chuyển đổi số",
            number_symbol="3-KH/HU",
            leader=str(await account_id(tu, leader)),
        )
        assert (await as_lead.get(path)).status == 404  # not assigned yet
        page = await as_leader.get(path)
        ids = {name: value for value, name in _options(page.text)}
        directed = await as_leader.post(
            f"{path}/direct",
            {
                "csrf_token": page.form_token,
                "form_id": form_id(page),
                "version": version(page),
                "note": "Giao Văn phòng chủ trì, báo cáo kết quả.",
                "lead": ids["Lê Thị Hoa"],
                "co": ids["Phạm Văn Nam"],
                "days": "5",
            },
        )
        assert directed.status == 303, directed.text
        seen = await as_lead.get(path)
        assert seen.status == 200 and 'id="finish-form"' in seen.text
        assert (await as_outsider.get(path)).status == 404
        assert (await as_helper.get(path)).status == 200
        done = await as_lead.post(
            f"{path}/finish",
            {"csrf_token": seen.form_token, "form_id": form_id(seen), "note": "Đã triển khai."},
        )
        assert done.status == 303
        final = await as_clerk.get(path)
        assert 'id="state">Hoàn thành' in final.text
        assert "Đã triển khai." in final.text
    async with tu.sessions() as session:
        document_id = int(path.rsplit("/", 1)[1])
        document = await session.get(Document, document_id)
        assert document is not None and document.due_on is not None and document.registered_at
        assert tu.desk is not None
        start = tu.desk.today()
        assert tu.desk.calendar.working_days_between(start, document.due_on) == 5
        parts = {
            a.part: a.state
            for a in await session.scalars(
                select(Assignment).where(Assignment.document_id == document_id)
            )
        }
        assert parts == {"lead": "done", "co": "open"}


def _options(html: str) -> list[tuple[str, str]]:
    import re

    select_html = html.split('id="lead"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="(\d+)">([^<]+)</option>', select_html)


async def test_a_document_is_hidden_from_those_its_level_or_role_keeps_out(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=2)
    low_leader = await make_account(role="leader", clearance=0)
    admin = await make_account(role="admin", clearance=3)
    pdf = make_pdf(tmp_path, "c.pdf", "Mật")
    async with signed_in(tu, clerk, low_leader, admin) as (as_clerk, as_leader, as_admin):
        path = await enter_paper(as_clerk, pdf, "Tài liệu tối mật", secrecy="2")
        for browser in (as_leader, as_admin):
            missing, hidden = await browser.get("/incoming/999999"), await browser.get(path)
            assert hidden.status == missing.status == 404
            assert main_part(hidden.text) == main_part(missing.text)
            assert "Tài liệu tối mật" not in (await browser.get("/incoming")).text


async def test_uploads_that_are_not_pdf_too_big_or_without_a_token_change_nothing(
    small_uploads: RunningNode, tmp_path: Path
) -> None:
    clerk = await new_account(small_uploads, role="clerk")
    async with small_uploads.sessions() as session:
        before = (await session.scalars(select(Document.id).order_by(Document.id))).all()
    async with StaffBrowser(small_uploads.web_url) as browser:
        await browser.sign_in_as(clerk)
        form = await browser.get("/incoming/new")
        fields = {"form_id": form_id(form), **paper_fields("Tệp sai")}
        not_pdf = await upload(
            browser,
            "/incoming/new",
            fields,
            {"file": ("scan.pdf", b"hello, not a pdf", "application/pdf")},
            form.form_token,
        )
        assert not_pdf.status == 400 and "không phải là tệp PDF" in not_pdf.text
        too_big = await upload(
            browser,
            "/incoming/new",
            fields,
            {"file": ("big.pdf", b"%PDF-" + b"0" * 30000, "application/pdf")},
            form.form_token,
        )
        assert too_big.status == 413 and "20.000 byte" in too_big.text
        no_token = await upload(
            browser,
            "/incoming/new",
            fields,
            {"file": ("a.pdf", make_pdf(tmp_path, "a.pdf").read_bytes(), "application/pdf")},
            None,
        )
        assert no_token.status == 403
    async with small_uploads.sessions() as session:
        assert (await session.scalars(select(Document.id).order_by(Document.id))).all() == before


async def test_a_refused_upload_leaves_no_file_on_disk(
    small_uploads: RunningNode, tmp_path: Path
) -> None:
    """Whatever refuses the form (the file, the size, a field, a duplicate), the files it
    brought are gone from the blob store and its staging folder."""
    clerk = await new_account(small_uploads, role="clerk")
    blobs = small_uploads.settings.blob_dir

    def new_pdf(name: str) -> tuple[str, bytes, str]:
        return name, make_pdf(tmp_path, name, f"Bản quét {name}").read_bytes(), "application/pdf"

    async with StaffBrowser(small_uploads.web_url) as browser:
        await browser.sign_in_as(clerk)
        await enter_paper(
            browser, make_pdf(tmp_path, "goc.pdf"), "Bản gốc", number_symbol="78-CV/HU"
        )
        before = files_under(blobs)
        refusals = [
            (400, {"file": ("scan.pdf", b"hello, not a pdf " * 100, "application/pdf")}, {}),
            (413, {"a": new_pdf("a.pdf"), "b": ("b.pdf", b"%PDF-" + b"0" * 30000, "a/b")}, {}),
            (400, {"file": new_pdf("c.pdf")}, {"summary": ""}),
            (409, {"file": new_pdf("d.pdf")}, {"number_symbol": "78-CV/HU"}),
        ]
        for status, files, changed in refusals:
            form = await browser.get("/incoming/new")
            fields = {"form_id": form_id(form), **paper_fields("Bị từ chối"), **changed}
            refused = await upload(browser, "/incoming/new", fields, files, form.form_token)
            assert refused.status == status, (files.keys(), refused.text)
            assert files_under(blobs) == before, files.keys()


async def test_a_file_name_with_line_breaks_nul_and_quotes_is_kept_clean_and_downloads(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    """A name a browser (or a hostile client) sends with CR, LF, NUL and quotes: stored
    without the control characters, Vietnamese letters kept, and downloaded under it."""
    clerk = await make_account(role="clerk")
    pdf = make_pdf(tmp_path, "quy-iv.pdf", "Báo cáo quý IV")
    sent_as = 'Báo cáo\r\n"quý IV"\x00 Đông Hà.pdf'
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        form = await browser.get("/incoming/new")
        fields = {"form_id": form_id(form), **paper_fields("Báo cáo quý IV")}
        entered = await upload_named(
            browser, "/incoming/new", fields, sent_as, pdf.read_bytes(), form.form_token
        )
        assert entered.status == 303, entered.text
        page = await browser.get(str(entered.location))
        link = page.text.split('href="/documents/', 1)[1].split('"', 1)[0]
        async with browser.http.get(f"{tu.web_url}/documents/{link}") as download:
            assert download.status == 200
            assert await download.read() == pdf.read_bytes()
            disposition = download.headers["Content-Disposition"]
        assert "Báo cáo &#34;quý IV&#34; Đông Hà.pdf" in page.text
    assert disposition == (
        'attachment; filename="Bao cao _quy IV_ Dong Ha.pdf"; '
        "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20%22qu%C3%BD%20IV%22%20%C4%90%C3%B4ng%20H%C3%A0.pdf"
    )


async def test_the_home_page_lists_my_tasks_and_deadlines_are_reminded_once_a_day(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    leader = await make_account(role="leader", full_name="Hoàng Văn Lãnh")
    handler = await make_account(role="staff", full_name="Đỗ Thị Xử Lý")
    pdf = make_pdf(tmp_path, "d.pdf", "Giấy mời")
    async with signed_in(tu, clerk, leader, handler) as (as_clerk, as_leader, as_handler):
        path = await enter_paper(
            as_clerk,
            pdf,
            "Giấy mời dự hội nghị tổng kết",
            doc_type="GM",
            leader=str(await account_id(tu, leader)),
        )
        waiting = await as_leader.get("/")
        assert 'id="home-presented"' in waiting.text
        assert "Giấy mời dự hội nghị tổng kết" in waiting.text
        page = await as_leader.get(path)
        ids = {name: value for value, name in _options(page.text)}
        await as_leader.post(
            f"{path}/direct",
            {
                "csrf_token": page.form_token,
                "form_id": form_id(page),
                "version": version(page),
                "note": "Đồng chí Xử Lý dự.",
                "lead": ids["Đỗ Thị Xử Lý"],
                "days": "1",
            },
        )
        home = await as_handler.get("/")
        tasks = home.text.split('id="home-tasks"', 1)[1].split("</section>", 1)[0]
        assert "Giấy mời dự hội nghị tổng kết" in tasks and "Sắp đến hạn" in tasks
        assert (
            "Giấy mời dự hội nghị tổng kết"
            in (await as_leader.get("/")).text.split('id="home-followed"', 1)[1]
        )
    assert tu.desk is not None
    assert await tu.desk.remind() >= 1
    assert await tu.desk.remind() == 0  # once a day
    async with tu.sessions() as session:
        reminded = await session.scalars(
            select(DocumentEvent.note).where(
                DocumentEvent.document_id == int(path.rsplit("/", 1)[1]),
                DocumentEvent.action == "reminded",
            )
        )
        assert [note.startswith("sắp đến hạn") for note in reminded] == [True]


async def test_the_register_prints_as_pdf_and_exports_as_a_spreadsheet(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk")
    pdf = make_pdf(tmp_path, "e.pdf", "Nghị quyết")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        await enter_paper(browser, pdf, "Nghị quyết về chuyển đổi số Quảng Trị", doc_type="NQ")
        for fmt in ("pdf", "xlsx"):
            async with browser.http.get(f"{tu.web_url}/incoming/register.{fmt}?type=NQ") as answer:
                assert answer.status == 200
                (tmp_path / f"register.{fmt}").write_bytes(await answer.read())
    printed = pdf_text(tmp_path / "register.pdf")
    assert "SỔ VĂN BẢN ĐẾN" in printed.upper()
    assert "Nghị quyết về chuyển đổi số" in " ".join(printed.split())
    workbook = openpyxl.load_workbook(tmp_path / "register.xlsx")
    sheet = workbook.active
    assert sheet is not None
    header = [cell.value for cell in sheet[3]]
    assert header[:2] == ["Ngày đến", "Số đến"] and len(header) == 10
    summaries = [row[5] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert "Nghị quyết: Nghị quyết về chuyển đổi số Quảng Trị" in summaries
    assert all(str(summary).startswith("Nghị quyết:") for summary in summaries)


async def test_search_finds_documents_without_diacritics_and_only_those_one_may_see(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    clerk = await make_account(role="clerk", clearance=1)
    staff = await make_account(role="staff", clearance=1)
    pdf = make_pdf(tmp_path, "f.pdf", "Nội dung: hội nghị sơ kết công tác dân vận khối Đông Hà")
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_staff:
        await as_clerk.sign_in_as(clerk)
        await as_staff.sign_in_as(staff)
        path = await enter_paper(
            as_clerk, pdf, "Công văn Đông Hà về việc sơ kết", sender_name="Thị uỷ Đông Hà"
        )
        await indexed(tu)  # the PDF's text, read after the entry committed
        for query in ("cong van dong ha", "CÔNG VĂN đông hà", "dong h", "dan van khoi"):
            found = await as_clerk.get(f"/search?q={query}")
            assert f'href="{path}"' in found.text, query
        missing = await as_clerk.get("/search?q=cong van hai lang xyz")
        assert 'id="no-results"' in missing.text
        hidden = await as_staff.get("/search?q=cong van dong ha")
        assert f'href="{path}"' not in hidden.text
