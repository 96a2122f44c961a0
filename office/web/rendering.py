"""Server-rendered pages: the Jinja2 environment, its helpers, and rendering with the context
every page shares (who is signed in, the form token, the catalogue)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from office.formats import format_date, format_datetime, format_day, format_size
from office.web.messages import Translator
from office.web.site import FORM_TOKEN, SITE, STAFF, UNREAD_MAIL, translator

STATIC_DIR = Path(str(files("office.web").joinpath("static")))
STATIC_PREFIX = "/static/"
STATIC_ROUTE = "static"


def static_urls() -> dict[str, str]:
    """``name -> /static/name?v=digest``: a changed file gets a new URL, so it may be cached."""
    urls = {}
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            urls[path.name] = f"{STATIC_PREFIX}{path.name}?v={digest}"
    return urls


FILTERS: dict[str, Callable[..., str]] = {
    "date": format_date,
    "datetime": format_datetime,
    "date_only": format_day,
    "filesize": format_size,
}


def page_query(query: Mapping[str, str], page: int) -> str:
    """The register's query string with another page number (filters kept)."""
    return urlencode({**{k: v for k, v in query.items() if k != "page"}, "page": str(page)})


#: What a keyed pager adds to a register's query string (:mod:`office.documents.paging`).
PAGE_KEYS = ("page", "after", "before")


def keyed_query(query: Mapping[str, str], **entry: object) -> str:
    """The register's query string from a page's edge (``after=`` or ``before=`` an entry), or
    from its newest entry without one (exports: the filtered book from the top)."""
    kept = {k: v for k, v in query.items() if k not in PAGE_KEYS}
    return urlencode({**kept, **{name: str(value) for name, value in entry.items()}})


def setup_templates(
    app: web.Application, translate: Translator, features: Iterable[str]
) -> jinja2.Environment:
    """Templates by prefix: ``web/`` (the base page, errors, sign-in) and one per feature."""
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PrefixLoader(
            {name: jinja2.PackageLoader(f"office.{name}") for name in ("web", *features)}
        ),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
        filters=FILTERS,
        # Templates ship with the code: no stat() of every template file on every page.
        auto_reload=False,
    )
    urls = static_urls()
    environment.globals.update(
        _=translate,
        lang=translate.language,
        static=urls.__getitem__,
        page_query=page_query,
        keyed_query=keyed_query,
    )
    return environment


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    translate = translator(request)
    shared = {
        "_": translate,
        "lang": translate.language,
        "node_name": request.app[SITE].node_name,
        "here": request.path_qs,
        "staff": request.get(STAFF),
        "form_token": request.get(FORM_TOKEN, ""),
        "unread_mail": request.get(UNREAD_MAIL),
        # The menu's "Thư": the node has a mailbox (the count is read on GET pages only).
        "has_mail": request.app[SITE].mail is not None,
    }
    return aiohttp_jinja2.render_template(
        template, request, {**shared, **(context or {})}, status=status
    )


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "web/error.html", {"title": title, "message": message}, status=status)
