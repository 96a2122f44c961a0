"""The top menu on every staff page: Văn bản đến, Văn bản đi, Tìm kiếm, Lịch, Thư, with the
page's own section marked, and without what the role cannot use (the administrator reads no
documents and no schedules). Every page the staff site serves at a fixed address is opened by
each role, so a page added later is checked too."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from office.node.app import RunningNode
from office.web.site import SITE
from tests.office.conftest import NewAccount
from tests.support.documents import (
    enter_paper,
    make_pdf,
)
from tests.support.web import StaffBrowser

MENU = re.compile(r'<nav class="topnav"[^>]*>(.*?)</nav>', re.S)
ITEM = re.compile(r'<a href="([^"]+)" id="(nav-[a-z-]+)"( aria-current="page")?>([^<]*)')
#: The work menu, in its order: (address, id, text).
WORK = [
    ("/incoming", "nav-incoming", "Văn bản đến"),
    ("/outgoing", "nav-outgoing", "Văn bản đi"),
    ("/search", "nav-search", "Tìm kiếm"),
    ("/schedule", "nav-schedule", "Lịch"),
]
MAIL = ("/mail", "nav-mail", "Thư")
#: Which item a page marks, by the start of its address (the longest start wins).
MARKS = {
    "/incoming": "nav-incoming",
    "/documents": "",
    "/outgoing": "nav-outgoing",
    "/search": "nav-search",
    "/schedule": "nav-schedule",
    "/calendar": "nav-schedule",
    "/mail": "nav-mail",
    "/dashboard": "nav-dashboard",
    "/reports": "nav-reports",
    "/reports/form": "nav-report-form",
}
#: Not staff pages: the sign-in, the feeds, files and prints, the report's frame.
NOT_PAGES = re.compile(
    r"^/(login|logout|language|healthz|static|calendar/|ca\.pem|reports/view/frame)"
    r"|\.(pdf|xlsx|ics)$|/download$"
)


def staff_app(node: RunningNode) -> web.Application:
    (app,) = [runner.app for runner in node.runners if SITE in runner.app]
    return app


def fixed_pages(node: RunningNode) -> list[str]:
    """Every GET address of the staff site with no variable part, that is a page."""
    paths = set()
    for route in staff_app(node).router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if route.method == "GET" and "path" in info and not NOT_PAGES.search(info["path"]):
            paths.add(info["path"])
    return sorted(paths)


def expected_mark(path: str) -> str:
    starts = [start for start in MARKS if path == start or path.startswith(start + "/")]
    return MARKS[max(starts, key=len)] if starts else ""


def menu_of(html: str) -> list[tuple[str, str, bool, str]]:
    found = MENU.search(html)
    assert found, "no top menu"
    return [
        (href, id_, bool(mark), text.strip()) for href, id_, mark, text in ITEM.findall(found[1])
    ]


async def test_every_staff_page_has_the_top_menu_with_its_section_marked(
    tu: RunningNode, make_account: NewAccount, tmp_path: Path
) -> None:
    pages = fixed_pages(tu)
    assert {"/", "/incoming", "/outgoing", "/search", "/schedule", "/mail", "/calendar"} <= set(
        pages
    )
    with_mail = tu.mail is not None
    checked = 0
    for role in ("clerk", "leader", "staff", "admin"):
        async with StaffBrowser(tu.web_url) as browser:
            await browser.sign_in_as(await make_account(role=role, clearance=1))
            extra = ["/khong-co"]
            if role == "clerk":
                pdf = make_pdf(tmp_path, "d.pdf")
                document = await enter_paper(browser, pdf, "Công văn có menu")
                extra += [document, "/outgoing/mine", "/outgoing/to-sign"]
            for path in [*pages, *extra]:
                page = await browser.get(path)
                if page.status in (301, 302, 303) or "text/html" not in page.headers.get(
                    "Content-Type", ""
                ):
                    continue
                items = menu_of(page.text)
                shown = [(href, id_, text) for href, id_, _mark, text in items]
                work = [] if role == "admin" else WORK
                assert shown[: len(work)] == work, (role, path, shown)
                assert (MAIL in shown) == with_mail, (role, path)
                if role == "admin":
                    assert not {href for href, _id, _text in shown} & {w[0] for w in WORK}
                marked = [id_ for _href, id_, mark, _text in items if mark]
                wanted = expected_mark(path)
                assert marked == ([wanted] if wanted in {i for _h, i, _t in shown} else []), (
                    role,
                    path,
                    marked,
                )
                checked += 1
    assert checked >= 4 * 12, checked


async def test_the_calendar_pages_mark_the_schedule_and_a_refused_form_keeps_the_menu(
    tu: RunningNode, make_account: NewAccount
) -> None:
    staff = await make_account(role="staff")
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(staff)
        for path in ("/calendar", "/schedule/mine"):
            marked = [id_ for _h, id_, mark, _t in menu_of((await browser.get(path)).text) if mark]
            assert marked == ["nav-schedule"], path
        # A refused form is a staff page too: its menu keeps "Thư" (no count on a POST).
        refused = await browser.post("/calendar/renew", {"scope": "unit", "csrf_token": "x"})
        assert refused.status == 403
        assert [id_ for _h, id_, _m, _t in menu_of(refused.text)][:4] == [
            "nav-incoming",
            "nav-outgoing",
            "nav-search",
            "nav-schedule",
        ]
