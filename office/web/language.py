"""Which catalogue a request's pages speak: Vietnamese unless the visitor chose English.

The choice is a cookie set by ``/language/{code}`` (a link at the foot of every page, the
sign-in page included); it is a preference, not a secret, and changes nothing else. What a
service refuses is read in the chosen language too (:mod:`config.refusals`).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from office.web.messages import DEFAULT_LANGUAGE
from office.web.redirects import safe_next, see_other
from office.web.site import SITE, TRANSLATOR

LANGUAGE_COOKIE = "congvan_lang"
LANGUAGE_PREFIX = "/language/"
YEAR_SECONDS = 365 * 24 * 3600


@web.middleware
async def choose_language(request: web.Request, handler: Handler) -> web.StreamResponse:
    translators = request.app[SITE].translators
    chosen = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    request[TRANSLATOR] = translators.get(chosen, translators[DEFAULT_LANGUAGE])
    return await handler(request)


async def set_language(request: web.Request) -> web.Response:
    language = request.match_info["language"]
    if language not in request.app[SITE].translators:
        raise web.HTTPNotFound()
    response = see_other(safe_next(request.query.get("next"), sign_in_page=True))
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=YEAR_SECONDS,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.app[SITE].settings.https,
    )
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get(LANGUAGE_PREFIX + "{language}", set_language, name="language")
