"""In a real browser on the running demo network: Debian's chromium, JavaScript off, a phone's
screen. The province's clerk signs in with a code from ``oathtool``, sees the home page, and
signs out. Screenshots are kept in the test's folder to be looked at."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.demo import running_demo
from tests.support.web import oathtool

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def screenshot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    return path


def test_a_clerk_signs_in_with_a_totp_code_sees_the_home_page_and_signs_out(
    cli: Cli, databases: DatabasePool, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with (
        running_demo(cli, databases, tmp_path / "demo", secrets_seen) as demo,
        sync_playwright() as playwright,
    ):
        clerk = demo.account("TU", "clerk")
        web_url = demo.node("TU")["web_url"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = browser.new_context(
                java_script_enabled=False,  # the pages must work without it
                viewport=PHONE,
                is_mobile=True,
                has_touch=True,
                locale="vi-VN",
            )
            page = context.new_page()

            page.goto(f"{web_url}/incoming")
            assert page.url == f"{web_url}/login?notice=required&next=/incoming"
            assert page.locator("h1").inner_text() == "Đăng nhập"
            assert page.get_attribute("#totp", "autocomplete") == "one-time-code"
            screenshot(page, shots, "1-sign-in-phone")

            page.fill("#username", clerk["username"])
            page.fill("#password", clerk["password"])
            page.fill("#totp", oathtool(clerk["totp_secret"]))
            page.click("button[type=submit]")
            # Back to the page asked for first, then home through the brand link.
            assert page.url == f"{web_url}/incoming"
            assert page.locator("h1").inner_text() == "Văn bản đến"
            page.click("a.brand")
            assert page.url == f"{web_url}/"
            assert page.locator("h1").inner_text() == "Xin chào, Văn thư TU"
            assert "Tỉnh uỷ Quảng Trị (TU)" in page.locator(".facts").first.inner_text()
            assert page.locator(".tiles li").count() == 5
            [session_cookie] = [c for c in context.cookies() if c["name"] == "congvan_session"]
            assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax"
            # Nothing wider than the phone's screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            screenshot(page, shots, "2-home-phone")
            page.set_viewport_size(DESKTOP)
            screenshot(page, shots, "3-home-desktop")

            page.click("text=Đăng xuất")
            assert page.url == f"{web_url}/login?notice=signed-out"
            assert page.locator(".notice").inner_text() == "Bạn đã đăng xuất."
            assert not [c for c in context.cookies() if c["name"] == "congvan_session"]
            screenshot(page, shots, "4-signed-out-desktop")
            page.goto(f"{web_url}/")
            assert page.url == f"{web_url}/login"
        finally:
            browser.close()
