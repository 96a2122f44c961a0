"""The administrator's pages: the accounts of the units this node hosts, ending a lock-out,
handing over a new second factor, disabling and re-enabling an account. Each test talks HTTP
to a running provincial node; codes come from ``oathtool``."""

from __future__ import annotations

import html
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from keys import throttle, totp
from keys.models import SignInFailures, User
from office.admin.web.accounts import qr_data_uri
from office.formats import VIETNAM_TIME
from office.node.app import RunningNode
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.web import (
    STEP_SECONDS,
    Page,
    StaffAccount,
    StaffBrowser,
    main_part,
    oathtool,
    refusal_text,
)

WRONG = "Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng. Vui lòng kiểm tra và thử lại."
LOCKED = "Đăng nhập sai quá nhiều lần từ địa chỉ mạng này."
#: Where the browsers that fail sign-ins come from: 127.0.0.1 is the others' address.
STRANGER = "127.0.0.2"
DISABLED = "Tài khoản đã bị vô hiệu hoá. Vui lòng liên hệ quản trị viên của đơn vị."
FORGED = "Biểu mẫu thiếu mã bảo vệ hoặc mã không hợp lệ"
ACTIONS = ("unlock", "totp", "disable", "enable")
#: A unit of the demo network that another node (Cam Lộ's) hosts.
OTHER_NODES_UNIT = "HU-CAMLO"


async def user_row(node: RunningNode, username: str) -> User:
    async with node.sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


async def lock_out(node: RunningNode, browser: StaffBrowser, account: StaffAccount) -> None:
    """A wrong password for the account from the browser's address (``STRANGER``), as if it
    were its twentieth: the address must wait [web] lockout_minutes."""
    async with node.sessions() as session, session.begin():
        session.add(
            SignInFailures(
                service=throttle.WEB,
                scope=throttle.ADDRESS,
                key=STRANGER,
                failures=19,
                last_failure_at=datetime.now(UTC),
                last_user=account.username,
            )
        )
    page = await browser.sign_in(account.username, "không phải mật khẩu", account.code())
    assert refusal_text(page).startswith(LOCKED)


async def stranger_waits_until(node: RunningNode) -> datetime | None:
    async with node.sessions() as session:
        row = await session.get(SignInFailures, (throttle.WEB, throttle.ADDRESS, STRANGER))
    return None if row is None else row.wait_until


async def add_user_of_another_node(tu: RunningNode, username: str) -> None:
    """An account row for a unit this node does not host (as a restored backup could hold):
    ``add_user`` refuses to make one."""
    async with tu.sessions() as session, session.begin():
        session.add(
            User(
                username=username,
                full_name="Lê Văn Hải",
                unit_code=OTHER_NODES_UNIT,
                role="clerk",
                clearance=0,
                password_hash="$argon2id$không-dùng",
                failed_logins=0,
                disabled=False,
            )
        )


def row_of(page: Page, username: str) -> str:
    found = re.search(rf'<tr id="user-{re.escape(username)}">(.*?)</tr>', page.text, re.S)
    assert found, f"{username} is not listed"
    return found.group(1)


def cells(row: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
    ]


async def post_action(browser: StaffBrowser, username: str, action: str) -> Page:
    """Press an action's button: the form token comes from the page the browser last had."""
    home = await browser.get("/")
    assert home.status == 200
    return await browser.post(f"/admin/users/{username}/{action}", {"csrf_token": home.form_token})


async def test_the_administrator_sees_the_accounts_of_the_units_this_node_hosts(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin = await make_account(role="admin", full_name="Phạm Quản Trị")
    clerk = await make_account(role="clerk", clearance=2, full_name="Hoàng Thị Mai")
    await add_user_of_another_node(tu, "cb.camlo.ngoai")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(admin)
        page = await browser.get("/admin")
    assert page.status == 200
    assert "<h1>Quản trị tài khoản</h1>" in page.text
    assert "<script" not in page.text
    assert page.headers["Cache-Control"] == "no-store"
    headings = re.findall(r"<th>([^<]+)</th>", page.text)
    assert headings == [
        "Tên đăng nhập",
        "Họ và tên",
        "Đơn vị",
        "Vai trò",
        "Mức mật được xem",
        "Xác thực hai lớp",
        "Khoá đến",
        "Trạng thái",
        "Chức vụ, nhiệm vụ",
        "Thao tác",
    ]
    shown = cells(row_of(page, clerk.username))
    assert shown[:8] == [
        clerk.username,
        "Hoàng Thị Mai",
        "TU",
        "Văn thư",
        "Tối mật",
        "Đã đăng ký",
        "",
        "Đang hoạt động",
    ]
    assert cells(row_of(page, admin.username))[3] == "Quản trị hệ thống"
    assert "cb.camlo.ngoai" not in page.text  # Cam Lộ's node manages Cam Lộ's accounts
    # Every action is a form that carries the token first; an administrator cannot disable
    # their own account from here.
    for form in re.findall(r'<form method="post" action="/admin/[^"]*">\s*<input[^>]*>', page.text):
        assert 'name="csrf_token"' in form
    clerk_row, admin_row = row_of(page, clerk.username), row_of(page, admin.username)
    assert f'action="/admin/users/{clerk.username}/disable"' in clerk_row
    assert f'action="/admin/users/{clerk.username}/totp"' in clerk_row
    assert "/unlock" not in clerk_row  # not locked
    assert "/disable" not in admin_row


async def test_any_other_role_finds_no_admin_page_and_changes_nothing(
    tu: RunningNode, make_account: NewAccount
) -> None:
    target = await make_account()
    async with StaffBrowser(tu.web_url, source=STRANGER) as stranger:
        await lock_out(tu, stranger, target)
    before = await user_row(tu, target.username)
    waiting = await stranger_waits_until(tu)
    for role in ("clerk", "leader", "staff"):
        account = await make_account(role=role)
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(account)
            missing = await browser.get("/khong-co")
            assert missing.status == 404
            assert main_part((await browser.get("/admin")).text) == main_part(missing.text)
            for action in ACTIONS:
                page = await post_action(browser, target.username, action)
                assert (page.status, main_part(page.text)) == (404, main_part(missing.text)), (
                    role,
                    action,
                )
    after = await user_row(tu, target.username)
    assert (after.totp_secret, after.disabled) == (before.totp_secret, before.disabled)
    assert waiting is not None and await stranger_waits_until(tu) == waiting


async def test_an_account_locked_by_wrong_sign_ins_signs_in_again_once_unlocked(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin, target = await make_account(role="admin"), await make_account()
    async with (
        StaffBrowser(tu.web_url) as as_admin,
        StaffBrowser(tu.web_url, source=STRANGER) as as_target,
    ):
        await lock_out(tu, as_target, target)
        code = target.code()
        assert refusal_text(
            await as_target.sign_in(target.username, target.password, code)
        ).startswith(LOCKED)

        await as_admin.sign_in_as(admin)
        listed = await as_admin.get("/admin")
        locked_until = await stranger_waits_until(tu)
        assert locked_until is not None
        row = row_of(listed, target.username)
        shown = cells(row)[6]
        assert shown == locked_until.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")
        assert f'action="/admin/users/{target.username}/unlock"' in row

        done = await post_action(as_admin, target.username, "unlock")
        back_to_list = f"/admin?notice=unlocked&user={target.username}"
        assert (done.status, done.location) == (303, back_to_list)
        assert await stranger_waits_until(tu) is None
        after = await as_admin.get(back_to_list)
        assert f"Đã mở khoá tài khoản {target.username}" in after.text
        assert cells(row_of(after, target.username))[6] == ""

        # The code refused while locked was not used up: it opens a session now.
        assert (await as_target.sign_in(target.username, target.password, code)).status == 303
        # Unlocking again does no harm.
        assert (await post_action(as_admin, target.username, "unlock")).status == 303


async def test_a_new_second_factor_is_shown_once_and_ends_the_users_sessions(
    tu: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen, log_dir: Path
) -> None:
    admin = await make_account(role="admin", full_name="Phạm Quản Trị")
    target = await make_account()
    now = time.time()
    async with (
        StaffBrowser(tu.web_url) as as_admin,
        StaffBrowser(tu.web_url) as old_browser,
        StaffBrowser(tu.web_url) as new_browser,
    ):
        await old_browser.sign_in_as(target, now)
        await as_admin.sign_in_as(admin)
        page = await post_action(as_admin, target.username, "totp")
        assert page.status == 200
        assert page.headers["Cache-Control"] == "no-store"
        assert "<h1>Mã xác thực mới</h1>" in page.text
        assert "chỉ hiện một lần" in page.text and "trao tận tay" in page.text
        secret_shown = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page.text)
        assert secret_shown
        secret = secret_shown.group(1).replace(" ", "")
        secrets_seen.add(secret)
        assert len(secret) == 32
        image = re.search(r'<img id="totp-qr" src="([^"]+)"', page.text)
        assert image
        source = html.unescape(image.group(1))
        assert source.startswith("data:image/svg+xml")
        # The QR code is the otpauth link of the shown secret, for this account.
        assert source == qr_data_uri(totp.provisioning_uri(secret, target.username))
        sealed = (await user_row(tu, target.username)).totp_secret
        assert sealed is not None and secret not in sealed

        # The user's open session has ended.
        ended = await old_browser.get("/")
        assert ended.status == 303 and ended.location is not None
        assert ended.location.startswith("/login")
        # The old authenticator no longer works; the new one does, at once.
        old = await new_browser.sign_in(target.username, target.password, target.code())
        assert refusal_text(old) == WRONG
        new = await new_browser.sign_in(target.username, target.password, oathtool(secret))
        assert new.status == 303
        assert (await new_browser.get("/")).status == 200

        listed = await as_admin.get("/admin")
        assert cells(row_of(listed, target.username))[5] == "Đã đăng ký"

    events = [
        json.loads(line)
        for line in (log_dir / "in-process.log").read_text(encoding="utf-8").splitlines()
        if '"admin.totp_reset"' in line
    ]
    mine = [event for event in events if event.get("user") == target.username]
    assert len(mine) == 1
    assert mine[0]["admin"] == admin.username and mine[0]["sessions_ended"] == 1
    assert secret not in (log_dir / "in-process.log").read_text(encoding="utf-8")


async def test_a_forged_or_missing_form_token_changes_nothing(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin, other_admin = await make_account(role="admin"), await make_account(role="admin")
    target = await make_account()
    async with (
        StaffBrowser(tu.web_url) as as_admin,
        StaffBrowser(tu.web_url) as as_other,
        StaffBrowser(tu.web_url, source=STRANGER) as stranger,
    ):
        await lock_out(tu, stranger, target)
        before = await user_row(tu, target.username)
        waiting = await stranger_waits_until(tu)
        await as_admin.sign_in_as(admin)
        await as_other.sign_in_as(other_admin)
        # Another session's token is no good either: tokens are bound to their session.
        others_token = (await as_other.get("/admin")).form_token
        for action in ACTIONS:
            path = f"/admin/users/{target.username}/{action}"
            for form in ({"csrf_token": "giả-mạo"}, {}, {"csrf_token": others_token}):
                page = await as_admin.post(path, form)
                assert page.status == 403, (action, form)
                assert refusal_text(page).startswith(FORGED)
    after = await user_row(tu, target.username)
    assert (after.totp_secret, after.disabled) == (before.totp_secret, before.disabled)
    assert waiting is not None and await stranger_waits_until(tu) == waiting


async def test_a_get_changes_nothing(tu: RunningNode, make_account: NewAccount) -> None:
    admin, target = await make_account(role="admin"), await make_account()
    async with StaffBrowser(tu.web_url) as as_admin:
        await as_admin.sign_in_as(admin)
        for action in ACTIONS:
            page = await as_admin.get(f"/admin/users/{target.username}/{action}")
            assert page.status == 405
            assert page.headers["Allow"] == "POST"
    after = await user_row(tu, target.username)
    assert not after.disabled and after.totp_last_step is None


async def test_an_account_of_another_nodes_unit_is_not_found_here(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin = await make_account(role="admin")
    await add_user_of_another_node(tu, "cb.camlo.khac")
    before = await user_row(tu, "cb.camlo.khac")
    async with StaffBrowser(tu.web_url) as as_admin:
        await as_admin.sign_in_as(admin)
        for username in ("cb.camlo.khac", "khong.ton.tai", "KHÔNG hợp lệ"):
            for action in ACTIONS:
                page = await post_action(as_admin, username, action)
                assert page.status == 404, (username, action)
                assert "<h1>Không tìm thấy tài khoản</h1>" in page.text
                assert refusal_text(page) == html.escape(
                    f"Không có tài khoản «{username}» trong các đơn vị do máy chủ này quản lý. "
                    "Tài khoản của đơn vị khác được quản trị trên máy chủ của đơn vị đó."
                )
    after = await user_row(tu, "cb.camlo.khac")
    assert (after.disabled, after.totp_secret) == (before.disabled, before.totp_secret)


async def test_disabling_ends_the_users_sessions_and_enabling_lets_them_back(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin, target = await make_account(role="admin"), await make_account()
    now = time.time()
    async with StaffBrowser(tu.web_url) as as_admin, StaffBrowser(tu.web_url) as as_target:
        await as_target.sign_in_as(target, now)
        await as_admin.sign_in_as(admin)

        done = await post_action(as_admin, target.username, "disable")
        back_to_list = f"/admin?notice=disabled&user={target.username}"
        assert (done.status, done.location) == (303, back_to_list)
        listed = await as_admin.get(back_to_list)
        assert "Đã vô hiệu hoá tài khoản" in listed.text
        row = row_of(listed, target.username)
        assert cells(row)[7] == "Đã vô hiệu hoá"
        assert f'action="/admin/users/{target.username}/enable"' in row
        ended = await as_target.get("/")
        assert ended.status == 303 and (ended.location or "").startswith("/login")
        code = target.code(now + STEP_SECONDS)
        refused = await as_target.sign_in(target.username, target.password, code)
        assert refusal_text(refused) == DISABLED

        assert (await post_action(as_admin, target.username, "enable")).status == 303
        # The refused code was not used up (the account was disabled): it works now.
        back = await as_target.sign_in(target.username, target.password, code)
        assert back.status == 303

        # An administrator cannot lock themselves out.
        own = await post_action(as_admin, admin.username, "disable")
        assert own.status == 409
        assert refusal_text(own).startswith("Không thể tự vô hiệu hoá tài khoản đang đăng nhập.")
    assert not (await user_row(tu, admin.username)).disabled


async def test_a_notice_is_shown_only_for_a_listed_account(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin = await make_account(role="admin")
    async with StaffBrowser(tu.web_url) as as_admin:
        await as_admin.sign_in_as(admin)
        page = await as_admin.get("/admin?notice=unlocked&user=ke.gia.mao")
        assert page.status == 200
        assert 'id="admin-notice"' not in page.text
        page = await as_admin.get(f"/admin?notice=khac&user={admin.username}")
        assert 'id="admin-notice"' not in page.text


async def test_the_administrator_sets_a_title_and_the_review_and_signing_duties(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin, leader = await make_account(role="admin"), await make_account(role="leader")
    async with StaffBrowser(tu.web_url) as as_admin:
        await as_admin.sign_in_as(admin)
        page = await as_admin.get("/admin")
        done = await as_admin.post(
            f"/admin/users/{leader.username}/duties",
            {"csrf_token": page.form_token, "title": "  Phó  Bí thư ", "may_sign": "1"},
        )
        assert (done.status, done.location) == (
            303,
            f"/admin?notice=duties&user={leader.username}",
        )
        row = row_of(await as_admin.get("/admin"), leader.username)
        assert 'value="Phó Bí thư"' in row
        assert 'name="may_sign" value="1" checked' in row
        assert 'name="may_review" value="1" checked' not in row
        # An administrator reads no documents: no duty for their own kind.
        refused = await as_admin.post(
            f"/admin/users/{admin.username}/duties",
            {"csrf_token": page.form_token, "may_sign": "1"},
        )
        assert refused.status == 403
    stored = await user_row(tu, leader.username)
    assert (stored.title, stored.may_review, stored.may_sign) == ("Phó Bí thư", False, True)
    assert not (await user_row(tu, admin.username)).may_sign
