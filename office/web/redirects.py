"""Where a page sends the browser next: a 303 after a form, and a "next" path that stays on
this site (after signing in, or choosing a language)."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

SIGN_IN_PATH = "/login"
MAX_NEXT = 2000


def see_other(location: str | URL) -> web.Response:
    """303: after a POST the browser fetches ``location`` with GET (percent-encoded: a path
    may hold Vietnamese letters)."""
    url = location if isinstance(location, URL) else URL(location)
    return web.Response(status=303, headers={"Location": str(url)})


def safe_next(value: object, *, sign_in_page: bool = False) -> str:
    """Where to go after signing in (or choosing a language: ``sign_in_page`` may then be the
    way back): a path on this site only, never another host."""
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_NEXT
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and (sign_in_page or not value.startswith(SIGN_IN_PATH))
    ):
        return value
    return "/"
