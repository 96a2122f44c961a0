"""Server-rendered pages: the Jinja2 environment, its helpers, and rendering with the context
every page shares (who is signed in, the form token, the catalogue)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from office.messages import Translator, format_date, format_datetime
from office.site import FORM_TOKEN, SITE, STAFF

STATIC_DIR = Path(str(files("office").joinpath("static")))
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


def setup_templates(app: web.Application, translate: Translator) -> jinja2.Environment:
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("office", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
        filters={"date": format_date, "datetime": format_datetime},
    )
    urls = static_urls()
    environment.globals.update(_=translate, lang=translate.language, static=urls.__getitem__)
    return environment


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    shared = {
        "node_name": request.app[SITE].node_name,
        "staff": request.get(STAFF),
        "form_token": request.get(FORM_TOKEN, ""),
    }
    return aiohttp_jinja2.render_template(
        template, request, {**shared, **(context or {})}, status=status
    )


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "error.html", {"title": title, "message": message}, status=status)
