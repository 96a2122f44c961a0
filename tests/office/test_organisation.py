"""A unit's organisation as the routing of incoming documents needs it, set from the command
line and on the administrator's page: the unit's head, its departments (phòng, ban), their
heads and members; with every refusal (an unknown or another node's unit, a bad code, a head
who is not a leader, removing a department still in use)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from config.database import open_database
from config.settings import Settings
from keys import organisation
from keys.models import Department, UnitHead, User
from office.documents.models import INCOMING, DepartmentAssignment, Document
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support.cli import Cli
from tests.support.web import StaffBrowser, main_part


def test_an_administrator_sets_the_head_and_departments_from_the_command_line(
    cli: Cli, province: Settings, tmp_path: Path
) -> None:
    password = tmp_path / "password"
    password.write_text(f"Thanh-Co {secrets.token_urlsafe(12)}", encoding="utf-8")

    def run(*args: str, check: bool = True) -> tuple[int, str, str]:
        done = cli(*args, "--dir", province.node_dir, check=check)
        return done.returncode, done.stdout.strip(), done.stderr

    def add(username: str, role: str, *extra: str) -> str:
        return run(
            "users", "add", username, "--unit", "TU", "--role", role,
            "--password-file", str(password), *extra,
        )[1]  # fmt: skip

    add("lanhdao.a", "leader", "--full-name", "Lãnh Đạo A")
    add("tp.a", "staff", "--full-name", "Trưởng Phòng A")
    add("qt.a", "admin")
    assert run("units", "department", "add", "TU", "th", "Phòng Tổng hợp", "--head", "tp.a")[1] == (
        "TU: department TH Phòng Tổng hợp, head tp.a"
    )
    assert add("cv.a", "staff", "--department", "TH").endswith("department TH")
    listed = run("units", "department", "list", "TU")[1].splitlines()
    assert listed[1].split()[:3] == ["TH", "2", "Trưởng"] and listed[1].endswith("Phòng Tổng hợp")
    assert run("units", "head", "TU", "lanhdao.a")[1] == "TU: head lanhdao.a"

    for args, said in (
        (("units", "head", "TU", "cv.a"), "vai trò lãnh đạo"),
        (("units", "head", "HU-CAMLO", "lanhdao.a"), "không do máy chủ này quản lý"),
        (("units", "department", "add", "TU", "TH", "Trùng"), "đã có phòng, ban mã TH"),
        (("units", "department", "add", "TU", "T H", "Sai mã"), "không hợp lệ"),
        (("units", "department", "add", "TU", "VP", "   "), "Tên phòng, ban"),
        (("units", "department", "add", "HU-CAMLO", "VP", "Văn phòng"), "không do máy chủ"),
        (("units", "department", "remove", "TU", "TH"), "còn 2 người"),
        (("units", "department", "head", "TU", "TH", "khong.co"), "không thuộc đơn vị"),
        (("users", "department", "qt.a", "TH"), "Quản trị viên"),
        (("users", "department", "khong.co", "TH"), "Không có tài khoản khong.co"),
        (("users", "department", "cv.a", "KHONGCO"), "không có phòng, ban mã KHONGCO"),
    ):
        code, _out, err = run(*args, check=False)
        assert code == 1 and said in err, (args, err)
    # A department of the other hosted unit is not one the TU account may join.
    run("units", "department", "add", "BTC", "KT", "Phòng Kiểm tra")
    code, _out, err = run("users", "department", "cv.a", "KT", check=False)
    assert code == 1 and "không có phòng, ban mã KT" in err
    assert run("units", "head", "TU", "--none")[1] == "TU: head -"

    # Emptied, it may go; one a document was given to stays for the register's history.
    run("users", "department", "cv.a", "--none")
    run("users", "department", "tp.a", "--none")  # its head leaves: no longer its head
    assert run("units", "department", "list", "TU")[1].splitlines()[1].split()[:3] == [
        "TH",
        "0",
        "-",
    ]
    assert run("units", "department", "remove", "TU", "TH")[1] == "TU: department TH removed"
    run("units", "department", "add", "TU", "VP", "Văn phòng")
    department_given_a_document(province, "VP")
    code, _out, err = run("units", "department", "remove", "TU", "VP", check=False)
    assert code == 1 and "đã được giao văn bản" in err
    assert run("units", "department", "list", "TU")[1].splitlines()[1].startswith("VP")


def department_given_a_document(settings: Settings, code: str) -> None:
    async def give() -> None:
        async with open_database(settings) as sessions, sessions() as session, session.begin():
            department = await session.scalar(select(Department).where(Department.code == code))
            leader = await session.scalar(select(User).where(User.username == "lanhdao.a"))
            assert department is not None and leader is not None
            document = Document(
                unit_code="TU", direction=INCOMING, state="assigned", doc_type="CV", summary="x"
            )
            session.add(document)
            await session.flush()
            session.add(
                DepartmentAssignment(
                    document_id=document.id,
                    department_id=department.id,
                    part="lead",
                    due_on=date(2026, 12, 31),
                    assigned_by=leader.id,
                    assigned_at=datetime.now(UTC),
                )
            )

    asyncio.run(give())


async def test_the_organisation_page_is_the_administrator_s_and_refuses_what_the_cli_does(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin = await make_account(role="admin")
    leader = await make_account(role="leader", full_name="Lãnh Đạo Trang Quản Trị")
    staff = await make_account(role="staff", full_name="Cán Bộ Phòng")
    clerk = await make_account(role="clerk")
    code = f"Q{uuid.uuid4().hex[:5].upper()}"
    async with StaffBrowser(tu.web_url) as as_admin, StaffBrowser(tu.web_url) as as_clerk:
        await as_admin.sign_in_as(admin)
        await as_clerk.sign_in_as(clerk)
        page = await as_admin.get("/admin/organisation")
        assert page.status == 200 and 'id="unit-TU"' in page.text and 'id="unit-BTC"' in page.text
        token = page.form_token

        async def post(path: str, **fields: str) -> int:
            answer = await as_admin.post(path, {"csrf_token": token, **fields})
            return answer.status

        base = "/admin/organisation"
        assert await post(f"{base}/departments", unit="TU", code=code, name="Phòng Thử") == 303
        assert await post(f"{base}/departments/TU/{code}/head", username=staff.username) == 303
        assert await post(f"{base}/head", unit="TU", username=leader.username) == 303
        page = await as_admin.get(f"{base}?notice=head")
        assert "Đã lưu lãnh đạo đơn vị." in page.text
        row = page.text.split(f'id="department-TU-{code}"', 1)[1].split("</tr>", 1)[0]
        assert "Phòng Thử" in row and f'value="{staff.username}" selected' in row
        # Refused, changing nothing: a staff member as the unit's head, another node's unit,
        # a bad code, removing a department someone belongs to; and without the form token.
        assert await post(f"{base}/head", unit="TU", username=staff.username) == 400
        assert await post(f"{base}/departments", unit="HU-CAMLO", code="X", name="X") == 403
        assert await post(f"{base}/departments", unit="TU", code="<b>", name="X") == 400
        assert await post(f"{base}/departments/TU/{code}/remove") == 409
        no_token = await as_admin.post(f"{base}/head", {"unit": "TU", "username": ""})
        assert no_token.status == 403
        # Anyone else finds no such page, and changes nothing.
        missing = await as_clerk.get("/admin/no-such-page")
        assert main_part((await as_clerk.get(base)).text) == main_part(missing.text)
        home = await as_clerk.get("/")
        crafted = await as_clerk.post(
            f"{base}/head", {"csrf_token": home.form_token, "unit": "TU", "username": ""}
        )
        assert crafted.status == 404
    async with tu.sessions() as session:
        head = await session.get(UnitHead, "TU")
        member = await session.scalar(select(User).where(User.username == staff.username))
        department = await session.scalar(select(Department).where(Department.code == code))
        assert head is not None and department is not None and member is not None
        head_user = await session.get(User, head.user_id)
        assert head_user is not None and head_user.username == leader.username
        assert member.department_id == department.id == member.department_id
        assert department.head_user_id == member.id
        assert await organisation.unit_head_username(session, "TU") == leader.username
