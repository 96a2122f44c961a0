"""Signing in to the web e-office: password and TOTP code, no replays, throttling by address and
by account, disabled accounts, TOTP re-enrolment. Each test talks HTTP to a running provincial
node with accounts of its own; codes come from ``oathtool``. A browser at 127.0.0.2 (or .3…) is
another client address to the node than one at 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from keys import accounts, passwords, throttle
from keys.models import SignInFailures, User
from office.formats import VIETNAM_TIME
from office.node.app import RunningNode, start_node
from office.web.models import WebSession
from office.web.sessions import token_hash
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.cli import Cli
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.web import (
    STEP_SECONDS,
    StaffAccount,
    StaffBrowser,
    forget_sign_in_failures,
    new_account,
    oathtool,
    refusal_text,
)

WRONG = "Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng. Vui lòng kiểm tra và thử lại."
LOCKED = re.compile(r"^Đăng nhập sai quá nhiều lần từ địa chỉ mạng này\. .*sau (\d+) phút")
STRANGER = "127.0.0.2"


async def user_row(node: RunningNode, username: str) -> User:
    async with node.sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


async def counted(node: RunningNode, scope: str, key: str) -> SignInFailures | None:
    """The web sign-in's count against an address or a user name."""
    async with node.sessions() as session:
        return await session.get(SignInFailures, (throttle.WEB, scope, key))


async def failures_of(node: RunningNode, scope: str, key: str) -> int:
    row = await counted(node, scope, key)
    return 0 if row is None else row.failures


async def wait_out_if_waiting(node: RunningNode, address: str) -> None:
    """Sleep until the address may try again."""
    row = await counted(node, throttle.ADDRESS, address)
    if row is not None and row.wait_until is not None:
        await asyncio.sleep(max(0.0, (row.wait_until - datetime.now(UTC)).total_seconds()) + 0.05)


async def fail_seven_times(node: RunningNode, browser: StaffBrowser, account: StaffAccount) -> None:
    """Wrong passwords from the browser's address, each after the wait the one before started:
    the seventh failure makes the address wait 4 s."""
    for _ in range(7):
        await wait_out_if_waiting(node, STRANGER)
        await browser.sign_in(account.username, "không phải mật khẩu", account.code())


async def set_failures(node: RunningNode, scope: str, key: str, failures: int) -> None:
    """As if ``failures`` had been counted just now (what else takes minutes of waits)."""
    async with node.sessions() as session, session.begin():
        await session.merge(
            SignInFailures(
                service=throttle.WEB,
                scope=scope,
                key=key,
                failures=failures,
                last_failure_at=datetime.now(UTC),
                wait_until=None,
                last_user="",
            )
        )


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
    assert await failures_of(tu, throttle.ACCOUNT, account.username) == 3
    assert await failures_of(tu, throttle.ACCOUNT, "khong.ton.tai") == 1
    assert await failures_of(tu, throttle.ADDRESS, "127.0.0.1") == 4
    # The code was never accepted, so it still works; the account's count starts again, and
    # the address keeps its failures (a success takes back only its own attempt).
    await browser.sign_in_as(account)
    assert await failures_of(tu, throttle.ACCOUNT, account.username) == 0
    assert await failures_of(tu, throttle.ADDRESS, "127.0.0.1") == 4


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


async def test_from_the_fifth_failure_an_address_waits_twice_as_long_each_time(
    tu: RunningNode, make_account: NewAccount
) -> None:
    account = await make_account()
    async with StaffBrowser(tu.web_url, source=STRANGER) as browser:
        for _ in range(4):
            page = await browser.sign_in(account.username, "không phải mật khẩu", account.code())
            assert refusal_text(page) == WRONG
        waits = []
        for _ in range(3):
            await wait_out_if_waiting(tu, STRANGER)
            page = await browser.sign_in(account.username, "không phải mật khẩu", account.code())
            waiting = LOCKED.match(refusal_text(page))
            assert waiting and waiting.group(1) == "1"  # minutes, rounded up
            row = await counted(tu, throttle.ADDRESS, STRANGER)
            assert row is not None and row.wait_until is not None
            waits.append(round((row.wait_until - row.last_failure_at).total_seconds()))
        assert waits == [1, 2, 4]
        assert await failures_of(tu, throttle.ADDRESS, STRANGER) == 7
        # While it waits even the right password and code are refused, unchecked and
        # uncounted, and the code is not used up.
        code = account.code()
        right = await browser.sign_in(account.username, account.password, code)
        assert LOCKED.match(refusal_text(right))
        assert browser.cookie("congvan_session") is None
        assert await failures_of(tu, throttle.ADDRESS, STRANGER) == 7

        # The waits stop at [web] lockout_minutes.
        await set_failures(tu, throttle.ADDRESS, STRANGER, 40)
        before = datetime.now(UTC)
        page = await browser.sign_in(account.username, "không phải mật khẩu", account.code())
        waiting = LOCKED.match(refusal_text(page))
        assert waiting and waiting.group(1) == "15"
        row = await counted(tu, throttle.ADDRESS, STRANGER)
        assert row is not None and row.wait_until is not None
        assert timedelta(minutes=14) < row.wait_until - before <= timedelta(minutes=15, seconds=5)

        async with tu.sessions() as session, session.begin():
            await session.execute(
                update(SignInFailures)
                .where(SignInFailures.key == STRANGER)
                .values(wait_until=datetime.now(UTC) - timedelta(seconds=1))
            )
        after_wait = await browser.sign_in(account.username, account.password, code)
        assert after_wait.status == 303
    assert await failures_of(tu, throttle.ACCOUNT, account.username) == 0


async def test_parallel_guesses_cannot_get_past_a_wait(
    tu: RunningNode, make_account: NewAccount
) -> None:
    account = await make_account()
    browsers = [StaffBrowser(tu.web_url) for _ in range(12)]
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
    assert all(answer == WRONG or LOCKED.match(answer) for answer in answers)
    # The first four failures are free; the fifth and each one checked after it make the
    # address wait 1, 2, 4… s and say so: twelve guesses at once cannot all be checked, and
    # every one checked was counted.
    assert answers.count(WRONG) == 4
    assert 5 <= await failures_of(tu, throttle.ADDRESS, "127.0.0.1") < 12
    row = await counted(tu, throttle.ADDRESS, "127.0.0.1")
    assert row is not None and row.wait_until is not None


async def test_a_strangers_failures_make_only_their_address_wait(
    tu: RunningNode, make_account: NewAccount
) -> None:
    target = await make_account()
    async with (
        StaffBrowser(tu.web_url, source=STRANGER) as stranger,
        StaffBrowser(tu.web_url) as owner,
    ):
        await fail_seven_times(tu, stranger, target)
        code = target.code()
        # From the stranger's address even the right password is refused...
        refused = await stranger.sign_in(target.username, target.password, code)
        assert LOCKED.match(refusal_text(refused))
        # ...while the owner, at their own address, signs in at once with the same code.
        page = await owner.sign_in(target.username, target.password, code)
        assert page.status == 303
        assert (await owner.get("/")).status == 200


async def test_an_unknown_name_gets_the_same_answers_for_the_same_cost(
    tu: RunningNode, make_account: NewAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong passwords for a name that exists and one that does not: the same answers, the
    wait message included, after one argon2 verification each (against a stand-in hash made
    with the node's own parameters for the unknown name)."""
    account = await make_account()
    verified: list[str] = []
    real_verify = passwords.verify_password

    def counting(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    answers: dict[str, list[str]] = {}
    hashes: dict[str, list[str]] = {}
    for name, source in ((account.username, "127.0.0.3"), ("khong.ton.tai", "127.0.0.4")):
        verified.clear()
        async with StaffBrowser(tu.web_url, source=source) as browser:
            pages = [
                await browser.sign_in(name, "không phải mật khẩu", account.code()) for _ in range(6)
            ]
        answers[name] = [refusal_text(page) for page in pages]
        hashes[name] = list(verified)
    assert answers[account.username] == answers["khong.ton.tai"]
    assert answers[account.username][:4] == [WRONG] * 4
    assert all(LOCKED.match(answer) for answer in answers[account.username][4:])
    # Five checked, one refused unchecked while its address waits, for either name.
    assert [len(hashes[name]) for name in hashes] == [5, 5]
    stored = (await user_row(tu, account.username)).password_hash
    assert hashes[account.username] == [stored] * 5
    stand_in = hashes["khong.ton.tai"]
    assert len(set(stand_in)) == 1 and stand_in[0] != stored
    assert stand_in[0].split("$")[:4] == stored.split("$")[:4]  # argon2id, same parameters


async def test_strangers_at_other_addresses_cannot_lock_out_an_administrator(
    tu: RunningNode, make_account: NewAccount
) -> None:
    admin = await make_account(role="admin")
    async with StaffBrowser(tu.web_url, source=STRANGER) as stranger:
        await fail_seven_times(tu, stranger, admin)
        assert LOCKED.match(
            refusal_text(await stranger.sign_in(admin.username, admin.password, admin.code()))
        )
    # Failures for the name from many addresses only hold its attempts a little: 11 already
    # held (twice [web] lockout_failures, plus one) make the next one wait 2 s, and then pass.
    await set_failures(tu, throttle.ACCOUNT, admin.username, 11)
    async with StaffBrowser(tu.web_url) as own:
        started = time.monotonic()
        page = await own.sign_in(admin.username, admin.password, admin.code())
        assert page.status == 303
        assert time.monotonic() - started >= 2
        assert (await own.get("/admin")).status == 200
    assert await failures_of(tu, throttle.ACCOUNT, admin.username) == 0


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


async def test_behind_a_trusted_proxy_the_address_it_forwards_is_counted(
    demo_network: DemoNetwork, secrets_seen: SecretsSeen
) -> None:
    """Behind nginx every request comes from the proxy: ``[web] trusted_proxies`` makes the
    node count the client the proxy names, and nobody else's X-Forwarded-For is believed."""
    node = await start_node(
        fast_settings(demo_network, "TU", CONGVAN_WEB_TRUSTED_PROXIES="127.0.0.1/32")
    )
    try:
        await forget_sign_in_failures(node)
        account = await new_account(node)
        secrets_seen.add(account.password, account.totp_secret)
        # The client wrote the first address itself; the proxy appended the one it saw.
        through_proxy = {"X-Forwarded-For": "198.51.100.7, 10.9.8.7"}
        lying = {"X-Forwarded-For": "10.9.8.6"}
        async with (
            StaffBrowser(node.web_url, headers=through_proxy) as proxied,
            StaffBrowser(node.web_url, source=STRANGER, headers=lying) as direct,
        ):
            for browser in (proxied, direct):
                page = await browser.sign_in(account.username, "sai mật khẩu", account.code())
                assert refusal_text(page) == WRONG
        counts = {
            address: await failures_of(node, throttle.ADDRESS, address)
            for address in ("10.9.8.7", STRANGER, "127.0.0.1", "198.51.100.7", "10.9.8.6")
        }
        assert counts == {
            "10.9.8.7": 1,
            STRANGER: 1,
            "127.0.0.1": 0,
            "198.51.100.7": 0,
            "10.9.8.6": 0,
        }
    finally:
        await node.stop()
