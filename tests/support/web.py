"""A member of staff at the web e-office over HTTP: pages, forms, cookies, and TOTP codes made by
``oathtool`` from the account's secret, as an authenticator app on their phone would."""

from __future__ import annotations

import re
import secrets
import ssl
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from http.cookies import Morsel, SimpleCookie
from typing import Any

import aiohttp
from sqlalchemy import delete, select

from keys import accounts
from keys.keystore import node_passphrase
from keys.models import SignInFailures, User
from keys.sealing import SecretBox
from office.node.app import RunningNode

FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
STEP_SECONDS = 30


def oathtool(secret: str, at: float | None = None) -> str:
    """The code an authenticator shows at ``at`` (now by default)."""
    when = [] if at is None else ["--now", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))]
    return subprocess.run(
        ["oathtool", "--totp", "-b", *when, secret], capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass(frozen=True)
class StaffAccount:
    username: str
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)
    unit: str
    full_name: str

    def code(self, at: float | None = None) -> str:
        return oathtool(self.totp_secret, at)


async def new_account(
    node: RunningNode,
    *,
    role: str = "clerk",
    clearance: int = 1,
    full_name: str = "Nguyễn Thị Lan",
    unit: str | None = None,
) -> StaffAccount:
    """A fresh account in the node's first unit (or ``unit``, another it hosts), enrolled for
    TOTP, with a strong password."""
    settings = node.settings
    username = f"cb.{uuid.uuid4().hex[:10]}"
    password = f"Thanh-Co {secrets.token_urlsafe(12)}"
    unit = unit or settings.node.units[0]
    box = SecretBox(node_passphrase(settings), settings.node.name)
    async with node.sessions() as session, session.begin():
        await accounts.add_user(
            session, username, password, unit, role, clearance, settings.node.units, full_name
        )
        enrolment = await accounts.enrol_totp(session, username, box)
    return StaffAccount(username, password, enrolment.secret, unit, full_name)


async def account_id(node: RunningNode, account: StaffAccount) -> int:
    """The account's id, as the pages' forms name people."""
    async with node.sessions() as session:
        found = await session.scalar(select(User.id).where(User.username == account.username))
    assert found is not None
    return found


async def forget_sign_in_failures(node: RunningNode) -> None:
    """Start a test with no failed sign-ins held against any address or name: the database is
    the module's, so earlier tests' failures from 127.0.0.1 would make this one wait."""
    async with node.sessions() as session, session.begin():
        await session.execute(delete(SignInFailures))


@dataclass(frozen=True)
class Page:
    status: int
    location: str | None
    text: str
    headers: Any
    set_cookies: dict[str, Morsel[str]]

    @property
    def form_token(self) -> str:
        found = FORM_TOKEN.search(self.text)
        assert found, f"no form token on the page (status {self.status})"
        return found.group(1)


class StaffBrowser:
    """One browser: its own cookie jar, no automatic redirects (tests look at each answer)."""

    def __init__(
        self,
        base_url: str,
        ssl_context: ssl.SSLContext | None = None,
        source: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """``source``: the loopback address (127.0.0.2…) the browser connects from, to be
        another client to the node's sign-in throttling than one at 127.0.0.1; ``headers``
        go with every request (as a proxy in front would add them)."""
        self.base_url = base_url
        self.ssl_context = ssl_context
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            connector=aiohttp.TCPConnector(local_addr=(source, 0)) if source else None,
            headers=headers,
        )

    async def __aenter__(self) -> StaffBrowser:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.http.close()

    async def _page(self, response: aiohttp.ClientResponse) -> Page:
        cookies: dict[str, Morsel[str]] = {}
        for header in response.headers.getall("Set-Cookie", []):
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(header)
            cookies.update(parsed)
        return Page(
            status=response.status,
            location=response.headers.get("Location"),
            text=await response.text(),
            headers=response.headers,
            set_cookies=cookies,
        )

    async def get(self, path: str) -> Page:
        async with self.http.get(
            self.base_url + path, allow_redirects=False, ssl=self.ssl_context or True
        ) as response:
            return await self._page(response)

    async def post(self, path: str, form: dict[str, str] | aiohttp.FormData) -> Page:
        async with self.http.post(
            self.base_url + path, data=form, allow_redirects=False, ssl=self.ssl_context or True
        ) as response:
            return await self._page(response)

    async def sign_in(
        self, username: str, password: str, code: str, next_path: str | None = None
    ) -> Page:
        """Open the sign-in page (for its form token), then send the form."""
        form_page = await self.get("/login")
        assert form_page.status == 200
        form = {
            "csrf_token": form_page.form_token,
            "username": username,
            "password": password,
            "totp": code,
        }
        if next_path is not None:
            form["next"] = next_path
        return await self.post("/login", form)

    async def sign_in_as(self, account: StaffAccount, at: float | None = None) -> Page:
        page = await self.sign_in(account.username, account.password, account.code(at))
        assert page.status == 303, page.text
        return page

    async def sign_out(self) -> Page:
        home = await self.get("/")
        assert home.status == 200
        return await self.post("/logout", {"csrf_token": home.form_token})

    def cookie(self, name: str) -> str | None:
        for cookie in self.http.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None


@asynccontextmanager
async def signed_in(
    node: RunningNode, *people: StaffAccount
) -> AsyncIterator[tuple[StaffBrowser, ...]]:
    """One browser per account, in order, each signed in to ``node``; closed on leaving."""
    async with AsyncExitStack() as stack:
        browsers = [await stack.enter_async_context(StaffBrowser(node.web_url)) for _ in people]
        for browser, account in zip(browsers, people, strict=True):
            await browser.sign_in_as(account)
        yield tuple(browsers)


def refusal_text(page: Page) -> str:
    """The text of the page's alert box."""
    found = re.search(r'<p class="alert" role="alert">(.*?)</p>', page.text, re.S)
    assert found, f"no refusal on the page (status {page.status})"
    return found.group(1).strip()


def main_part(html: str) -> str:
    """A page's content without its header and footer (the footer links back to the page's
    own path, so two pages' content is compared by this)."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
