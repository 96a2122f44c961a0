"""Helpers for schedule tests: the week under test and a line sent through the real form."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta

from office.formats import local_time
from office.schedules.rules import monday_of
from tests.support.documents import form_id
from tests.support.web import Page, StaffBrowser

REVISION = re.compile(r'name="revision" value="(\d+)"')


def next_week() -> date:
    """Next week's Monday in Vietnam."""
    return monday_of(local_time(datetime.now(UTC)).date()) + timedelta(days=7)


def a_week() -> date:
    """A Monday some weeks ahead that no other test of the module's node uses (they share
    its database and its unit)."""
    return next_week() + timedelta(days=7 * (1 + secrets.randbelow(20_000)))


def revision(page: Page) -> str:
    found = REVISION.search(page.text)
    assert found, f"no revision on the page (status {page.status})"
    return found.group(1)


def line(week: date, **values: str | list[str]) -> dict[str, str | list[str]]:
    """A Tuesday-morning line of ``week`` unless told otherwise."""
    return {
        "day": (week + timedelta(days=1)).isoformat(),
        "start_time": "08:00",
        "end_time": "10:00",
        "content": "Giao ban Thường trực Tỉnh uỷ",
        "chair_text": "",
        "attendees_text": "Lãnh đạo Văn phòng",
        "place": "Phòng họp số 1",
        "prepared_by": "Văn phòng Tỉnh uỷ",
        "notes": "",
        "secrecy": "0",
        **values,
    }


def encoded(fields: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, one))
    return pairs


async def post_line(
    browser: StaffBrowser,
    week: date,
    entry_id: int | None = None,
    *,
    form_page: Page | None = None,
    **values: str | list[str],
) -> Page:
    """The line's form as a browser sends it, from a fresh form unless ``form_page`` is given
    (an old form: its revision may be stale)."""
    path = f"/schedule/entries/{entry_id}" if entry_id else "/schedule/entries/new"
    if form_page is None:
        form_page = await browser.get(path if entry_id else f"{path}?week={week.isoformat()}")
        assert form_page.status == 200, form_page.text
    fields = {
        "csrf_token": form_page.form_token,
        "form_id": form_id(form_page),
        "week": week.isoformat(),
        "revision": revision(form_page),
        **line(week, **values),
    }
    async with browser.http.post(
        browser.base_url + path, data=encoded(fields), allow_redirects=False
    ) as response:
        return await browser._page(response)


async def step(browser: StaffBrowser, week: date, name: str) -> Page:
    """Trình duyệt, duyệt or trả lại from the week's page."""
    page = await browser.get(f"/schedule?week={week.isoformat()}")
    assert page.status == 200, page.text
    found = re.search(
        rf'action="/schedule/{name}".*?name="form_id" value="([^"]+)".*?'
        r'name="revision" value="(\d+)"',
        page.text,
        re.S,
    )
    fields = {"csrf_token": page.form_token, "week": week.isoformat()}
    if found:
        fields |= {"form_id": found.group(1), "revision": found.group(2)}
    else:  # the button is not shown: send what a crafted request would
        fields |= {
            "form_id": "x" * 24,
            "revision": revision(page) if "revision" in page.text else "1",
        }
    return await browser.post(f"/schedule/{name}", fields)


def entry_ids(page: Page) -> list[int]:
    return [int(found) for found in re.findall(r'data-entry="(\d+)"', page.text)]
