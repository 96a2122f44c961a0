"""Signing in to the web e-office: password and TOTP code, no replays, lock-out, disabled
accounts, TOTP re-enrolment. Each test talks HTTP to a running provincial node with accounts
of its own; codes come from ``oathtool``."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from keys import accounts
from keys.models import User
from office.app import RunningNode
from office.messages import VIETNAM_TIME
from office.models import WebSession
from office.web_sessions import token_hash
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.cli import Cli
from tests.support.web import STEP_SECONDS, StaffBrowser, oathtool, refusal_text

WRONG = "Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng. Vui lòng kiểm tra và thử lại."
LOCKED = re.compile(r"^Tài khoản tạm thời bị khoá do đăng nhập sai nhiều lần\. .*sau (\d+) phút")


async def user_row(node: RunningNode, username: str) -> User:
    async with node.sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_the_sign_in_page_asks_for_user_password_and_code_with_autocomplete_hints(
    browser: StaffBrowser,
) -> None:
    page = await browser.get("/login")
    assert page.status == 200
    assert '<html lang="vi">' in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert "<h1>Đăng nhập</h1>" in page.text
    for name, hint in (
        ("username", "username"),
        ("password", "current-password"),
        ("totp", "one-time-code"),
    ):
        tag = re.search(rf'<input id="{name}" name="{name}"[^>]*>', page.text, re.S)
        assert tag, name
        assert f'autocomplete="{hint}"' in tag.group(0)
    assert 'inputmode="numeric"' in page.text
    assert "<script" not in page.text
    stylesheet = re.search(r'href="(/static/congvan\.css\?v=[0-9a-f]{12})"', page.text)
    assert stylesheet
    css = await browser.get(stylesheet.group(1))
    assert css.status == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert "@media (min-width" in css.text


async def test_a_right_password_and_code_open_a_session_and_the_home_page(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account(role="leader", clearance=3, full_name="Trần Văn Đông")
    page = await browser.sign_in(account.username, account.password, account.code())
    assert (page.status, page.location) == (303, "/")
    token = browser.cookie("congvan_session")
    assert token is not None
    async with tu.sessions() as session:
        stored = (await session.scalars(select(WebSession))).all()
    mine = [row for row in stored if row.user_id == (await user_row(tu, account.username)).id]
    assert [row.token_hash for row in mine] == [token_hash(token)]
    assert token not in {row.token_hash for row in stored}

    home = await browser.get("/")
    assert home.status == 200
    assert "Xin chào, Trần Văn Đông" in home.text
    assert "<dd>Tỉnh uỷ Quảng Trị (TU)</dd>" in home.text
    assert "<dd>Lãnh đạo</dd>" in home.text
    assert "<dd>Tuyệt mật</dd>" in home.text
    signed_in_at = re.search(r"<dt>Đăng nhập lúc</dt><dd>([^<]+)</dd>", home.text)
    assert signed_in_at
    shown = datetime.strptime(signed_in_at.group(1), "%d/%m/%Y %H:%M")  # dd/mm/yyyy
    assert abs(shown.replace(tzinfo=VIETNAM_TIME) - datetime.now(UTC)) < timedelta(minutes=2)
    assert '<button type="submit" class="button-quiet">Đăng xuất</button>' in home.text
    assert home.headers["Cache-Control"] == "no-store"


async def test_a_wrong_password_a_wrong_code_and_an_unknown_user_get_the_same_answer(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    code = account.code()
    wrong_password = await browser.sign_in(account.username, account.password + "x", code)
    wrong_code = await browser.sign_in(account.username, account.password, other_code(code))
    no_code = await browser.sign_in(account.username, account.password, "")
    unknown = await browser.sign_in("khong.ton.tai", account.password, code)
    for page in (wrong_password, wrong_code, no_code, unknown):
        assert page.status == 200
        assert refusal_text(page) == WRONG
        assert "congvan_session" not in page.set_cookies
    assert browser.cookie("congvan_session") is None
    assert f'value="{account.username}"' in wrong_code.text  # kept, so only the rest is retyped
    assert (await user_row(tu, account.username)).failed_logins == 3
    # The code was never accepted, so it still works; and the count starts again.
    await browser.sign_in_as(account)
    assert (await user_row(tu, account.username)).failed_logins == 0


async def test_a_code_is_never_accepted_twice(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    now = time.time()
    code = account.code(now)
    await browser.sign_in_as(account, now)
    assert (await browser.sign_out()).status == 303
    replayed = await browser.sign_in(account.username, account.password, code)
    assert refusal_text(replayed) == WRONG
    # The next step's code (one step of drift) is a new code: accepted.
    accepted = await browser.sign_in(
        account.username, account.password, account.code(now + STEP_SECONDS)
    )
    assert accepted.status == 303


async def test_the_same_code_sent_twice_at_once_opens_one_session(
    tu: RunningNode, make_account: NewAccount
) -> None:
    account = await make_account()
    code = account.code()
    browsers = [StaffBrowser(tu.web_url) for _ in range(4)]
    try:
        pages = await asyncio.gather(
            *(b.sign_in(account.username, account.password, code) for b in browsers)
        )
    finally:
        for b in browsers:
            await b.__aexit__()
    assert sorted(page.status for page in pages) == [200, 200, 200, 303]


async def test_five_failures_lock_the_account_for_fifteen_minutes(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    for _ in range(4):
        page = await browser.sign_in(account.username, "không phải mật khẩu", account.code())
        assert refusal_text(page) == WRONG
    before = datetime.now(UTC)
    fifth = await browser.sign_in(account.username, "không phải mật khẩu", account.code())
    locked = LOCKED.match(refusal_text(fifth))
    assert locked and locked.group(1) == "15"
    user = await user_row(tu, account.username)
    assert user.locked_until is not None
    assert timedelta(minutes=14) < user.locked_until - before <= timedelta(minutes=15, seconds=5)

    # Locked: even the right password and code are refused, and the code is not used up.
    code = account.code()
    right = await browser.sign_in(account.username, account.password, code)
    assert LOCKED.match(refusal_text(right))
    assert browser.cookie("congvan_session") is None

    async with tu.sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.username == account.username)
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    after_lock = await browser.sign_in(account.username, account.password, code)
    assert after_lock.status == 303
    user = await user_row(tu, account.username)
    assert (user.failed_logins, user.locked_until) == (0, None)


async def test_parallel_guesses_cannot_get_past_the_limit(
    tu: RunningNode, make_account: NewAccount
) -> None:
    account = await make_account()
    browsers = [StaffBrowser(tu.web_url) for _ in range(8)]
    try:
        pages = await asyncio.gather(
            *(
                b.sign_in(account.username, f"đoán-{n}", account.code())
                for n, b in enumerate(browsers)
            )
        )
    finally:
        for b in browsers:
            await b.__aexit__()
    answers = [refusal_text(page) for page in pages]
    wrong = answers.count(WRONG)
    assert wrong <= 5
    assert all(LOCKED.match(answer) for answer in answers if answer != WRONG)
    user = await user_row(tu, account.username)
    assert user.locked_until is not None and user.locked_until > datetime.now(UTC)


async def test_a_disabled_account_cannot_sign_in_and_its_open_session_ends(
    tu: RunningNode, make_account: NewAccount
) -> None:
    account = await make_account()
    now = time.time()
    async with StaffBrowser(tu.web_url) as before, StaffBrowser(tu.web_url) as after:
        await before.sign_in_as(account, now)
        async with tu.sessions() as session, session.begin():
            await accounts.set_disabled(session, account.username, True)

        page = await after.sign_in(
            account.username, account.password, account.code(now + STEP_SECONDS)
        )
        assert refusal_text(page) == (
            "Tài khoản đã bị vô hiệu hoá. Vui lòng liên hệ quản trị viên của đơn vị."
        )
        assert after.cookie("congvan_session") is None
        wrong = await after.sign_in(account.username, "sai mật khẩu rồi", account.code())
        assert refusal_text(wrong) == WRONG  # nothing told without the right password

        home = await before.get("/")
        assert (home.status, home.location) == (303, "/login?notice=expired")
    async with tu.sessions() as session:
        user_id = (await user_row(tu, account.username)).id
        left = await session.scalar(select(WebSession).where(WebSession.user_id == user_id))
    assert left is None


async def test_an_account_without_an_authenticator_is_told_to_ask_the_admin(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    async with tu.sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.username == account.username).values(totp_secret=None)
        )
    page = await browser.sign_in(account.username, account.password, "123456")
    assert refusal_text(page).startswith("Tài khoản chưa được đăng ký mã xác thực hai lớp.")
    wrong = await browser.sign_in(account.username, "sai mật khẩu rồi", "123456")
    assert refusal_text(wrong) == WRONG


async def test_user_names_are_taken_in_any_case_and_with_stray_spaces(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    typed = f"  {account.username.capitalize()} "
    page = await browser.sign_in(typed, account.password, account.code())
    assert page.status == 303


async def test_an_admin_re_enrols_a_users_authenticator_with_the_command(
    tu: RunningNode, cli: Cli, secrets_seen: SecretsSeen, make_account: NewAccount
) -> None:
    """``congvan users totp`` gives a new secret and forgets the last used step: the new
    authenticator works at once, even for the step the old one used last."""
    account = await make_account()
    now = time.time()
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(account, now + STEP_SECONDS)  # burns the next step
        await browser.sign_out()
        output = cli("users", "totp", account.username, "--dir", tu.settings.node_dir).stdout
        new_secret = parse_qs(urlsplit(output.splitlines()[0]).query)["secret"][0]
        secrets_seen.add(new_secret)
        assert (await user_row(tu, account.username)).totp_last_step is None

        old = await browser.sign_in(account.username, account.password, account.code())
        assert refusal_text(old) == WRONG
        new = await browser.sign_in(account.username, account.password, oathtool(new_secret, now))
        assert new.status == 303
