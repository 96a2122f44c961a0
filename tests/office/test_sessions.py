"""Staff sessions: the way to the sign-in page, cookies, idle and absolute timeouts, sign-out,
and the form tokens that keep another site from posting as a signed-in user."""

from __future__ import annotations

import secrets
import ssl
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from keys.models import SignInFailures, User
from keys.throttle import ACCOUNT, WEB
from office.node.app import RunningNode, start_node
from office.web.models import WebSession
from office.web.sessions import token_hash
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.web import Page, StaffAccount, StaffBrowser, new_account, refusal_text

CSRF_TITLE = "<h1>Biểu mẫu không hợp lệ</h1>"
CSRF_MESSAGE = (
    "Biểu mẫu thiếu mã bảo vệ hoặc mã không hợp lệ (có thể trang đã mở quá lâu). "
    "Không có thay đổi nào được thực hiện. Vui lòng tải lại trang rồi thử lại."
)


async def sessions_of(node: RunningNode, username: str) -> list[WebSession]:
    async with node.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        return list(
            (await session.scalars(select(WebSession).where(WebSession.user_id == user_id))).all()
        )


async def age_session(node: RunningNode, token: str, **ago: timedelta) -> None:
    """Move a session's times into the past, as if it had been opened or used that long ago."""
    now = datetime.now(UTC)
    async with node.sessions() as session, session.begin():
        await session.execute(
            update(WebSession)
            .where(WebSession.token_hash == token_hash(token))
            .values({column: now - delta for column, delta in ago.items()})
        )


def assert_cookie_dropped(page: Page) -> None:
    assert page.set_cookies["congvan_session"]["max-age"] == "0"


async def test_pages_send_the_visitor_to_sign_in_but_health_and_styles_stay_open(
    browser: StaffBrowser,
) -> None:
    root = await browser.get("/")
    assert (root.status, root.location) == (303, "/login")
    deep = await browser.get("/incoming?nam=2026")
    assert (deep.status, deep.location) == (303, "/login?notice=required&next=/incoming?nam%3D2026")
    form = await browser.get(deep.location or "")
    assert "Vui lòng đăng nhập để tiếp tục." in form.text
    assert 'name="next" value="/incoming?nam=2026"' in form.text
    unknown = await browser.get("/khong-co-trang-nay")
    assert (unknown.status, unknown.location) == (
        303,
        "/login?notice=required&next=/khong-co-trang-nay",
    )
    health = await browser.get("/healthz")
    assert health.status == 200 and '"status": "ok"' in health.text
    css = await browser.get("/static/congvan.css")
    assert css.status == 200


async def test_a_post_without_a_session_changes_nothing_and_goes_to_sign_in(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    other = StaffBrowser(tu.web_url)
    try:
        await other.sign_in_as(account)
        home = await other.get("/")
    finally:
        await other.__aexit__()
    page = await browser.post("/logout", {"csrf_token": home.form_token})
    assert (page.status, page.location) == (303, "/login?notice=required")
    assert len(await sessions_of(tu, account.username)) == 1


async def test_after_sign_in_the_user_comes_back_to_the_page_they_asked_for(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    page = await browser.sign_in(account.username, account.password, account.code(), "/search")
    assert (page.status, page.location) == (303, "/search")
    search = await browser.get("/search")
    assert search.status == 200
    assert "<h1>Tìm kiếm</h1>" in search.text
    again = await browser.get("/login?next=/incoming")
    assert (again.status, again.location) == (303, "/incoming")


@pytest.mark.parametrize(
    "next_path", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
async def test_the_page_after_sign_in_is_never_on_another_site(
    browser: StaffBrowser, make_account: NewAccount, next_path: str
) -> None:
    account = await make_account()
    page = await browser.sign_in(account.username, account.password, account.code(), next_path)
    assert (page.status, page.location) == (303, "/")


async def test_the_session_cookie_is_http_only_same_site_and_not_secure_over_plain_http(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    form = await browser.get("/login")
    form_cookie = form.set_cookies["congvan_signin"]
    assert form_cookie["httponly"] and form_cookie["samesite"] == "Lax"
    page = await browser.sign_in_as(account)
    cookie = page.set_cookies["congvan_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]
    assert not cookie["max-age"]  # gone when the browser closes; the server ends it anyway
    assert page.set_cookies["congvan_signin"]["max-age"] == "0"
    assert "Strict-Transport-Security" not in page.headers


@pytest.fixture
async def tu_over_https(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    """The province with its staff listener on HTTPS (the node's certificate, for the test)."""
    settings = fast_settings(
        demo_network,
        "TU",
        CONGVAN_WEB_TLS_CERT="pki/node.pem",
        CONGVAN_WEB_TLS_KEY="pki/node.key",
    )
    node = await start_node(settings)
    yield node
    await node.stop()


async def test_cookies_are_secure_when_the_staff_listener_serves_https(
    tu_over_https: RunningNode, secrets_seen: SecretsSeen
) -> None:
    node = tu_over_https
    account = await new_account(node)
    secrets_seen.add(account.password, account.totp_secret)
    assert node.web_url.startswith("https://")
    context = ssl.create_default_context(cafile=node.settings.pki_dir / "ca.pem")
    async with StaffBrowser(node.web_url, context) as browser:
        form = await browser.get("/login")
        assert form.set_cookies["congvan_signin"]["secure"] is True
        page = await browser.sign_in_as(account)
        cookie = page.set_cookies["congvan_session"]
        assert cookie["secure"] is True and cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        home = await browser.get("/")
        assert home.status == 200 and "Xin chào" in home.text


async def test_sign_out_deletes_the_session_and_the_cookie(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    await browser.sign_in_as(account)
    token = browser.cookie("congvan_session")
    assert token is not None and len(await sessions_of(tu, account.username)) == 1
    page = await browser.sign_out()
    assert (page.status, page.location) == (303, "/login?notice=signed-out")
    assert_cookie_dropped(page)
    assert await sessions_of(tu, account.username) == []
    notice = await browser.get("/login?notice=signed-out")
    assert '<p class="notice" role="status">Bạn đã đăng xuất.</p>' in notice.text
    # The old cookie, replayed, opens nothing.
    async with StaffBrowser(tu.web_url) as thief:
        thief.http.cookie_jar.update_cookies({"congvan_session": token})
        assert (await thief.get("/")).status == 303


async def test_a_session_idle_longer_than_the_setting_expires(
    demo_network: DemoNetwork, secrets_seen: SecretsSeen
) -> None:
    node = await start_node(fast_settings(demo_network, "TU", CONGVAN_WEB_SESSION_MINUTES="5"))
    try:
        account = await new_account(node)
        secrets_seen.add(account.password, account.totp_secret)
        async with StaffBrowser(node.web_url) as browser:
            await browser.sign_in_as(account)
            token = browser.cookie("congvan_session")
            assert token is not None
            await age_session(node, token, last_seen_at=timedelta(minutes=4))
            assert (await browser.get("/")).status == 200  # and the visit keeps it alive
            [alive] = await sessions_of(node, account.username)
            assert datetime.now(UTC) - alive.last_seen_at < timedelta(seconds=30)

            await age_session(node, token, last_seen_at=timedelta(minutes=5, seconds=1))
            page = await browser.get("/incoming")
            assert (page.status, page.location) == (
                303,
                "/login?notice=expired&next=/incoming",
            )
            assert_cookie_dropped(page)
            assert await sessions_of(node, account.username) == []
            form = await browser.get(page.location or "")
            assert "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại." in form.text
    finally:
        await node.stop()


async def test_a_session_ends_after_its_lifetime_however_busy(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    await browser.sign_in_as(account)
    token = browser.cookie("congvan_session")
    assert token is not None
    await age_session(tu, token, created_at=timedelta(hours=11, minutes=59))
    assert (await browser.get("/")).status == 200
    await age_session(tu, token, created_at=timedelta(hours=12))
    page = await browser.get("/")
    assert (page.status, page.location) == (303, "/login?notice=expired")


async def test_signing_in_clears_away_sessions_nobody_can_use_any_more(
    tu: RunningNode, make_account: NewAccount
) -> None:
    first, second = await make_account(), await make_account()
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(first)
        token = browser.cookie("congvan_session")
        assert token is not None
    await age_session(tu, token, last_seen_at=timedelta(hours=1))
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(second)
    assert await sessions_of(tu, first.username) == []


# Form tokens (CSRF)


async def signed_in(tu: RunningNode, account: StaffAccount) -> StaffBrowser:
    browser = StaffBrowser(tu.web_url)
    await browser.sign_in_as(account)
    return browser


async def test_a_post_without_its_form_token_is_refused_and_changes_nothing(
    tu: RunningNode, make_account: NewAccount
) -> None:
    account = await make_account()
    browser = await signed_in(tu, account)
    try:
        for form in ({}, {"csrf_token": ""}, {"csrf_token": secrets.token_urlsafe(32)}):
            page = await browser.post("/logout", form)
            assert page.status == 403
            assert CSRF_TITLE in page.text
            assert refusal_text(page) == CSRF_MESSAGE
            assert page.headers["Content-Type"].startswith("text/html")
        assert len(await sessions_of(tu, account.username)) == 1
        assert (await browser.get("/")).status == 200
    finally:
        await browser.__aexit__()


async def test_the_form_token_of_another_session_is_refused(
    tu: RunningNode, make_account: NewAccount
) -> None:
    mine, theirs = await make_account(), await make_account()
    browser, other = await signed_in(tu, mine), await signed_in(tu, theirs)
    try:
        their_token = (await other.get("/")).form_token
        my_token = (await browser.get("/")).form_token
        assert their_token != my_token
        page = await browser.post("/logout", {"csrf_token": their_token})
        assert page.status == 403 and refusal_text(page) == CSRF_MESSAGE
        assert len(await sessions_of(tu, mine.username)) == 1
        assert (await browser.post("/logout", {"csrf_token": my_token})).status == 303
    finally:
        await browser.__aexit__()
        await other.__aexit__()


async def test_a_sign_in_without_its_form_token_is_refused_before_anything_is_checked(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    code = account.code()
    credentials = {"username": account.username, "password": account.password, "totp": code}
    await browser.get("/login")  # the form's cookie, but no token in the form
    missing = await browser.post("/login", credentials)
    forged = await browser.post("/login", {**credentials, "csrf_token": "gia-mao"})
    for page in (missing, forged):
        assert page.status == 403 and refusal_text(page) == CSRF_MESSAGE
        assert "congvan_session" not in page.set_cookies
    # A token from a page fetched by someone else's browser (no form cookie here) is refused.
    async with StaffBrowser(tu.web_url) as attacker:
        token = (await attacker.get("/login")).form_token
    async with StaffBrowser(tu.web_url) as victim:
        page = await victim.post("/login", {**credentials, "csrf_token": token})
        assert page.status == 403
    async with tu.sessions() as session:
        user = await session.scalar(select(User).where(User.username == account.username))
        assert user is not None and user.totp_last_step is None
        # A refused form is no sign-in attempt: nothing was counted.
        assert await session.get(SignInFailures, (WEB, ACCOUNT, account.username)) is None
        user_sessions = await session.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.user_id == user.id)
        )
    assert user_sessions == 0
    assert (await browser.sign_in(account.username, account.password, code)).status == 303


async def test_a_page_asked_for_with_vietnamese_letters_is_reached_after_sign_in(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    asked = await browser.get("/tìm-kiếm?q=công văn")
    assert asked.status == 303 and asked.location is not None
    assert asked.location.isascii()
    form = await browser.get(asked.location)
    assert 'name="next" value="/t%C3%ACm-ki%E1%BA%BFm?q=c%C3%B4ng+v%C4%83n"' in form.text
    page = await browser.sign_in(
        account.username, account.password, account.code(), "/tìm-kiếm?q=công văn"
    )
    assert (page.status, page.location) == (303, "/t%C3%ACm-ki%E1%BA%BFm?q=c%C3%B4ng+v%C4%83n")


async def test_signing_in_again_in_the_same_browser_replaces_its_session(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    account = await make_account()
    form = await browser.get("/login")  # a second tab's form, kept open
    nonce = browser.cookie("congvan_signin")
    assert nonce is not None
    now = time.time()
    await browser.sign_in_as(account, now)
    first = browser.cookie("congvan_session")
    browser.http.cookie_jar.update_cookies({"congvan_signin": nonce})
    page = await browser.post(
        "/login",
        {
            "csrf_token": form.form_token,
            "username": account.username,
            "password": account.password,
            "totp": account.code(now + 30),
        },
    )
    assert page.status == 303
    second = browser.cookie("congvan_session")
    assert second is not None and second != first
    [only] = await sessions_of(tu, account.username)
    assert only.token_hash == token_hash(second)
