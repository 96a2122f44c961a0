"""aiohttp middleware every listener shares: a request id on every log line, errors as JSON.

Only :class:`CongvanError` is turned into an answer here; anything else is a bug and is logged
with its traceback as a 500.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from config.database import database_busy
from config.errors import Busy, CongvanError, PeerRefused
from config.logging import bind_request_id, get_logger

REQUEST_ID_HEADER = "X-Request-ID"
#: Routes whose name ends so carry a secret in their path (a calendar feed's token): the
#: request log shows the route's pattern instead of the path.
HIDDEN_PATH_SUFFIX = ".hidden_path"

log = get_logger("congvan.http")


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id, log one line per request (path without its query), time it."""
    structlog.contextvars.clear_contextvars()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = bind_request_id(incoming if incoming.isalnum() and len(incoming) <= 64 else None)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as error:
        status = error.status
        error.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        log.info(
            "http.request",
            method=request.method,
            path=_logged_path(request),
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )


def _logged_path(request: web.Request) -> str:
    route = request.match_info.route
    if route.name and route.name.endswith(HIDDEN_PATH_SUFFIX) and route.resource is not None:
        return route.resource.canonical
    return request.path


@web.middleware
async def error_responses(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place errors become answers: a refusal with its code, a database too busy to
    answer in time as ``busy`` (503 and Retry-After: the transaction was rolled back, the same
    request will do later), a bug as a bare 500."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except CongvanError as error:
        return _refusal(error)
    except Exception as error:
        if database_busy(error):
            log.warning("http.database_busy", error=type(error).__name__)
            return _refusal(Busy("cơ sở dữ liệu đang bận; xin gửi lại sau ít phút"))
        log.exception("http.failed")
        return web.json_response(
            {"error": "internal", "message": "lỗi hệ thống; đã ghi nhật ký"}, status=500
        )


def _refusal(error: CongvanError) -> web.Response:
    log.warning("http.refused", code=error.code, reason=error.message)
    body: dict[str, Any] = {"error": error.code, "message": error.message}
    if isinstance(error, PeerRefused) and error.answer is not None:
        body["receipt"] = error.answer
    response = web.json_response(body, status=error.http_status)
    if isinstance(error, Busy):
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response
