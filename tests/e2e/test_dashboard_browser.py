"""The leaders' dashboard in a real browser (Debian's chromium, JavaScript off), on a desktop
screen and on a phone's, over a province with a year of work: its own units' documents in the
registers, most districts' figures received (one of them hours ago), a few never heard from.

The table fits the phone by scrolling inside its card (the page itself is no wider than the
screen); the charts are drawn. With ``CONGVAN_SCREENSHOTS=1`` the screenshots are written to
``docs/screenshots/`` (the ones docs/reports.md shows), else to the test's folder.
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from office.node.app import RunningNode, start_node
from office.reports.aggregate import subtree
from tests.conftest import SecretsSeen
from tests.support.handling import district_figures, now, received, seed_year
from tests.support.network import DemoNetwork
from tests.support.nodes import fast_settings
from tests.support.web import StaffAccount, account_id, forget_sign_in_failures, new_account

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: The province's handlers, as the screenshots show them.
HANDLERS = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Quang Cường", "Phạm Thị Dung", "Hồ Văn Em")
#: Units whose node never sent figures, and the one that fell silent hours ago.
SILENT = ("HU-CONCO", "DU-CAOSU", "BAO-QT")
STALE = "HU-HUONGHOA"


@pytest.fixture
async def province(
    demo_network: DemoNetwork, secrets_seen: SecretsSeen
) -> AsyncIterator[tuple[RunningNode, StaffAccount]]:
    """The province's node with a year of work, and the leader who reads the dashboard."""
    node = await start_node(fast_settings(demo_network, "TU"))
    await forget_sign_in_failures(node)
    try:
        leader = await new_account(node, role="leader", clearance=3, full_name="Lê Văn Lãnh")
        secrets_seen.add(leader.password, leader.totp_secret)
        people = []
        for name in HANDLERS:
            account = await new_account(node, role="staff", clearance=2, full_name=name)
            secrets_seen.add(account.password, account.totp_secret)
            people.append(await account_id(node, account))
        rng = random.Random("dashboard")  # the same figures each run
        assert node.reports is not None
        today = node.reports.today()
        leader_id = await account_id(node, leader)
        await seed_year(node, "TU", people, leader_id, today, rng)
        await seed_year(node, "BTC", people[:2], leader_id, today, rng)
        async with node.sessions() as session:
            units = subtree(await node.reports.units(session), "TU")
        moment = now()
        for unit in units:
            if unit.code in node.reports.hosted or unit.code in SILENT:
                continue
            minutes = 180 if unit.code == STALE else rng.randint(2, 50)
            late = timedelta(minutes=minutes)
            await received(node, district_figures(unit.code, moment - late, rng), moment - late)
        yield node, leader
    finally:
        await node.stop()


def shots_folder(tmp_path: Path) -> Path:
    if os.environ.get("CONGVAN_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SHOTS
    return tmp_path


async def screenshot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


async def sign_in(browser: Browser, web_url: str, leader: StaffAccount) -> BrowserContext:
    context = await browser.new_context(java_script_enabled=False, viewport=DESKTOP, locale="vi-VN")
    page = await context.new_page()
    await page.goto(f"{web_url}/login")
    await page.fill("#username", leader.username)
    await page.fill("#password", leader.password)
    await page.fill("#totp", leader.code())
    await page.click("button[type=submit]")
    assert page.url == f"{web_url}/"
    await page.close()
    return context


async def charts_drawn(page: Page) -> int:
    """How many of the page's charts the browser drew with bars of some size."""
    sizes = await page.eval_on_selector_all(
        "svg.chart",
        "charts => charts.map(c => [c.getBoundingClientRect().width,"
        " c.getBoundingClientRect().height, c.querySelectorAll('rect').length])",
    )
    return sum(1 for width, height, bars in sizes if width > 50 and height > 20 and bars)


async def test_the_dashboard_reads_on_a_desktop_and_on_a_phone(
    province: tuple[RunningNode, StaffAccount], tmp_path: Path
) -> None:
    node, leader = province
    folder = shots_folder(tmp_path)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            desktop = await sign_in(browser, node.web_url, leader)
            page = await desktop.new_page()
            await page.goto(f"{node.web_url}/dashboard?sort=overdue&order=desc")
            assert await page.locator("h1").inner_text() == "Thông tin phục vụ lãnh đạo"
            rows = page.locator("#units-table tbody tr")
            assert await rows.count() == 22
            # Every unit with figures, and the total, has its chart drawn.
            assert await charts_drawn(page) == 22 - len(SILENT) + 1
            assert "số liệu cũ" in await page.locator(f"#unit-{STALE}").inner_text()
            for unit in SILENT:
                said = await page.locator(f"#unit-{unit}").inner_text()
                assert "chưa nhận được số liệu" in said
            await screenshot(page, folder, "dashboard-desktop")

            # The unit's page: its months named, and its people.
            await page.click("#unit-TU th a")
            assert await page.locator("h1").inner_text() == "Tỉnh uỷ Quảng Trị"
            assert await charts_drawn(page) == 1
            assert await page.locator("#unit-people tbody tr").count() >= len(HANDLERS)
            await screenshot(page, tmp_path, "unit-desktop")
            # A person with overdue work: their documents, linked.
            await page.click("#unit-people tr.overdue th a")
            assert (await page.locator("h1").inner_text()).startswith("Việc đang xử lý của ")
            assert await page.locator("#person-work tr.overdue a[href^='/incoming/']").count()
            await screenshot(page, tmp_path, "person-desktop")

            phone = await browser.new_context(
                java_script_enabled=False,
                viewport=PHONE,
                is_mobile=True,
                has_touch=True,
                locale="vi-VN",
            )
            await phone.add_cookies(await desktop.cookies())
            small = await phone.new_page()
            await small.goto(f"{node.web_url}/dashboard?sort=overdue&order=desc")
            # Nothing wider than the phone's screen: the table scrolls inside its card.
            assert await small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            frame = small.locator("#dashboard-units .scroll")
            inside = await frame.evaluate("f => [f.clientWidth, f.scrollWidth]")
            assert inside[0] <= PHONE["width"] < inside[1]
            box = await small.locator("#units-table tbody tr th").first.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert await charts_drawn(small) >= 1
            await screenshot(small, folder, "dashboard-phone")
            await small.goto(f"{node.web_url}/dashboard/unit/TU")
            assert await small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            await screenshot(small, tmp_path, "unit-phone")
        finally:
            await browser.close()
