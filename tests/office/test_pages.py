"""The signed-in pages: the home page by role, refusals as Vietnamese pages, security headers,
the usage ledger, and the one catalogue every interface string comes from."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exchange.models import UsageEvent
from office.formats import format_date, format_datetime
from office.node.app import RunningNode
from office.node.features import FEATURES
from office.web.messages import MESSAGES, translators
from tests.office.conftest import NewAccount
from tests.support.web import StaffBrowser, main_part

OFFICE = Path(str(files("office")))
#: The node's catalogues, as its web app assembles them.
TRANSLATORS = translators(feature.messages for feature in FEATURES)
VI = TRANSLATORS["vi"].catalogue
SECTIONS = [section for feature in FEATURES for section in feature.sections]


async def test_the_home_page_links_the_sections_the_role_may_open(
    tu: RunningNode, make_account: NewAccount
) -> None:
    clerk, admin = await make_account(role="clerk"), await make_account(role="admin")
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_admin:
        await as_clerk.sign_in_as(clerk)
        await as_admin.sign_in_as(admin)
        clerk_home, admin_home = await as_clerk.get("/"), await as_admin.get("/")
        for path in ("/incoming", "/outgoing", "/schedule", "/mail", "/search"):
            assert f'href="{path}"' in clerk_home.text and f'href="{path}"' in admin_home.text
        assert 'href="/admin"' in admin_home.text
        assert 'href="/admin"' not in clerk_home.text
        assert "<dd>Quản trị hệ thống</dd>" in admin_home.text

        schedule = await as_clerk.get("/schedule")
        assert schedule.status == 200
        assert "<h1>Lịch công tác tuần</h1>" in schedule.text
        assert 'id="nav-schedule"' in clerk_home.text
        # A page the role may not open answers as if it did not exist.
        hidden, missing = await as_clerk.get("/admin"), await as_clerk.get("/khong-co")
        for page in (hidden, missing):
            assert page.status == 404
            assert "<h1>Không tìm thấy trang</h1>" in page.text
        assert main_part(hidden.text) == main_part(missing.text)
        assert (await as_admin.get("/admin")).status == 200


async def test_pages_carry_headers_that_keep_them_out_of_caches_and_frames(
    browser: StaffBrowser,
) -> None:
    page = await browser.get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"


async def test_a_wrong_method_gets_a_vietnamese_page(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    await browser.sign_in_as(await make_account())
    page = await browser.get("/logout")
    assert page.status == 405
    assert page.headers["Allow"] == "POST"
    assert "<h1>Thao tác không hợp lệ</h1>" in page.text


async def test_sign_ins_and_page_views_go_to_the_usage_ledger_with_unit_and_user(
    tu: RunningNode, browser: StaffBrowser, make_account: NewAccount
) -> None:
    assert tu.ledger is not None
    account = await make_account()
    await tu.ledger.flush()
    async with tu.sessions() as session:
        start = await session.scalar(select(func.coalesce(func.max(UsageEvent.id), 0)))

    await browser.sign_in(account.username, "sai mật khẩu rồi", account.code())
    await browser.sign_in("khong.ai.ca", account.password, account.code())
    await browser.sign_in_as(account)
    await browser.get("/")
    await browser.get("/incoming")
    await browser.get("/static/congvan.css")  # a style sheet is not an access
    await tu.ledger.flush()

    async with tu.sessions() as session:
        events = (
            await session.execute(
                select(UsageEvent.kind, UsageEvent.unit, UsageEvent.user, UsageEvent.bytes)
                .where(UsageEvent.id > start)
                .order_by(UsageEvent.id)
            )
        ).all()
    sign_ins = [(kind, unit, user) for kind, unit, user, _size in events if "login" in kind]
    # Only the sign-in that succeeded is an access (login); a wrong password is a refusal
    # counted for its unit, an unknown name a refusal of no unit, neither named.
    assert sign_ins == [
        ("login-failed", "TU", ""),
        ("login-failed", "", ""),
        ("login", "TU", account.username),
    ]
    views = [(unit, user, size) for kind, unit, user, size in events if kind == "web"]
    anonymous = [view for view in views if view[1] == ""]
    theirs = [view for view in views if view[1] == account.username]
    # Three sign-in pages and two refused sign-ins, before anyone is known.
    assert len(anonymous) == 5 and all(unit == "" for unit, _user, _size in anonymous)
    # The sign-in that succeeded (a redirect, no body), then two pages with their bytes.
    assert [(unit, size > 0) for unit, _user, size in theirs] == [
        ("TU", False),
        ("TU", True),
        ("TU", True),
    ]
    assert len(views) == 8


def test_every_message_a_template_or_a_view_names_is_in_the_catalogue() -> None:
    named: set[str] = set()
    for template in OFFICE.rglob("templates/*.html"):
        named |= set(
            re.findall(r'_\("([a-z0-9_.-]+)"\s*[,)]', template.read_text(encoding="utf-8"))
        )
    for module in OFFICE.rglob("*.py"):
        named |= set(re.findall(r'translate\("([a-z0-9_.-]+)"\s*[,)]', module.read_text()))
    assert len(named) >= 25, f"found only {sorted(named)}: the pattern is wrong"
    assert sorted(named - set(VI)) == []
    # Keys built from a value: every value has its message.
    built = {f"section.{s.key}" for s in SECTIONS} | {f"section.{s.key}.about" for s in SECTIONS}
    built |= {f"role.{role}" for role in ("admin", "clerk", "leader", "staff")}
    built |= {f"clearance.{level}" for level in range(4)}
    built |= {f"signin.notice.{notice}" for notice in ("expired", "signed-out", "required")}
    built |= {
        f"signin.refused.{why}" for why in ("bad-credentials", "locked", "disabled", "no-totp")
    }
    assert sorted(built - set(VI)) == []


def test_a_missing_message_is_a_programming_error_not_an_empty_string() -> None:
    translate = TRANSLATORS["vi"]
    assert translate("signin.refused.locked", minutes=15).endswith(
        "sau 15 phút hoặc liên hệ quản trị viên."
    )
    try:
        translate("khong.co")
    except KeyError:
        return
    raise AssertionError("an unknown key was answered")


def test_dates_are_day_month_year_in_vietnam_time() -> None:
    late_evening_utc = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)
    assert format_date(late_evening_utc) == "01/01/2027"
    assert format_datetime(late_evening_utc) == "01/01/2027 01:30"
    assert format_date(datetime(2026, 3, 5, 1, 0, tzinfo=UTC)) == "05/03/2026"


async def test_a_visitor_may_read_the_pages_in_english_and_back_in_vietnamese(
    browser: StaffBrowser, make_account: NewAccount
) -> None:
    chosen = await browser.get("/language/en?next=/login")
    assert (chosen.status, chosen.location) == (303, "/login")
    assert chosen.set_cookies["congvan_lang"]["httponly"]
    page = await browser.get("/login")
    assert '<html lang="en">' in page.text and "<h1>Sign in</h1>" in page.text
    await browser.sign_in_as(await make_account(role="clerk"))
    assert "<h1>Incoming documents</h1>" in (await browser.get("/incoming")).text
    assert (await browser.get("/language/xx")).status == 404
    offsite = await browser.get("/language/vi?next=https://evil.example/")
    assert offsite.location == "/"
    assert "<h1>Văn bản đến</h1>" in (await browser.get("/incoming")).text


@pytest.mark.parametrize(
    "messages",
    [MESSAGES, *(feature.messages for feature in FEATURES)],
    ids=["web", *(feature.name for feature in FEATURES)],
)
def test_each_feature_has_its_english_messages_with_the_same_keys_and_placeholders(
    messages: Mapping[str, Mapping[str, str]],
) -> None:
    def fields(text: str) -> set[str]:
        return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name}

    vietnamese, english = messages["vi"], messages["en"]
    assert set(english) == set(vietnamese)
    assert [key for key in vietnamese if fields(vietnamese[key]) != fields(english[key])] == []


def test_two_features_defining_one_message_is_refused() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        translators([{"vi": {"app.name": "Trùng"}}])
