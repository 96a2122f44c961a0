"""Logging: JSON events with the request id, secrets masked, one line per HTTP request."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config.errors import NotFound
from config.logging import (
    MASK,
    bind_request_id,
    configure_logging,
    get_logger,
    mask_secrets,
)
from config.settings import LogSettings
from config.web import REQUEST_ID_HEADER, error_responses, request_context

ClientFactory = Callable[[web.Application], Any]


class LogFile:
    """A JSON log file this test configured, read back as events."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def events(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def named(self, event: str) -> list[dict[str, Any]]:
        return [entry for entry in self.events() if entry.get("event") == event]

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8") if self.path.exists() else ""


@pytest.fixture
def restore_logging(log_dir: Path) -> Iterator[None]:
    """Put back the session's logging (see ``tests/conftest.py``) after a test changes it."""
    yield
    structlog.contextvars.clear_contextvars()
    configure_logging(LogSettings(format="json", file=str(log_dir / "in-process.log")))


@pytest.fixture
def json_log(log_dir: Path, restore_logging: None) -> LogFile:
    """JSON logging at debug level to a fresh file the session's secrets guard also reads."""
    path = log_dir / f"test-logging-{uuid.uuid4().hex[:8]}.log"
    structlog.contextvars.clear_contextvars()
    configure_logging(LogSettings(level="debug", format="json", file=str(path)))
    return LogFile(path)


# Masking


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "passphrase",
        "token",
        "secret",
        "totp",
        "new_password",
        "PASSWORD",
        "totp_secret",
        "app_password",
        "csrf_token",
        "private_key",
        "otp",
    ],
)
def test_mask_secrets_masks_a_field_whose_name_names_a_secret(key: str) -> None:
    event = {"event": "user.created", key: "hunter2-value", "username": "lan"}
    masked = mask_secrets(None, "info", event)
    assert masked[key] == MASK
    assert masked["username"] == "lan"
    assert masked["event"] == "user.created"


def test_mask_secrets_leaves_ordinary_fields_alone() -> None:
    event = {"event": "dispatch.sent", "dispatch_id": 7, "to": "HU-CAMLO", "bytes": 1024}
    assert mask_secrets(None, "info", dict(event)) == event


def test_mask_secrets_masks_values_of_any_type() -> None:
    masked = mask_secrets(None, "info", {"event": "x", "token": {"nested": "abc"}, "secret": 42})
    assert masked == {"event": "x", "token": MASK, "secret": MASK}


# JSON lines


def test_json_logging_writes_one_object_per_event_with_level_time_and_request_id(
    json_log: LogFile,
) -> None:
    request_id = bind_request_id("req42")
    assert request_id == "req42"
    get_logger("congvan.test").info("thing.happened", count=3)
    [entry] = json_log.named("thing.happened")
    assert entry["level"] == "info"
    assert entry["request_id"] == "req42"
    assert entry["count"] == 3
    assert entry["timestamp"].endswith("Z")
    assert entry["timestamp"][:4].isdigit()


def test_json_logging_masks_a_password_passed_as_a_field(json_log: LogFile) -> None:
    get_logger("congvan.test").info("user.created", username="lan", password="Tr0ub4dor-x9")
    [entry] = json_log.named("user.created")
    assert entry["password"] == MASK
    assert "Tr0ub4dor-x9" not in json_log.text()


def test_standard_library_records_become_json_with_the_request_id(json_log: LogFile) -> None:
    bind_request_id("std1")
    logging.getLogger("some.library").warning("plain %s message", "library")
    [entry] = json_log.named("plain library message")
    assert entry["level"] == "warning"
    assert entry["request_id"] == "std1"


def test_alembic_s_info_lines_stay_out_of_the_log_and_its_warnings_do_not(
    json_log: LogFile,
) -> None:
    """`init` and `db upgrade` printed a line for each Alembic plugin and step."""
    logging.getLogger("alembic.runtime.plugins").info("setup plugin alembic.autogenerate.schemas")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade  -> 0001")
    logging.getLogger("alembic.runtime.migration").warning("a migration worth a warning")
    events = [entry["event"] for entry in json_log.events()]
    assert events == ["a migration worth a warning"]


def test_a_new_request_id_replaces_the_previous_one(json_log: LogFile) -> None:
    bind_request_id("first")
    second = bind_request_id()
    assert second != "first"
    assert len(second) == 16
    assert all(c in "0123456789abcdef" for c in second)
    get_logger("congvan.test").info("after.rebind")
    [entry] = json_log.named("after.rebind")
    assert entry["request_id"] == second


def test_events_below_the_configured_level_are_dropped(
    log_dir: Path, restore_logging: None
) -> None:
    log = LogFile(log_dir / f"test-logging-{uuid.uuid4().hex[:8]}.log")
    configure_logging(LogSettings(level="warning", format="json", file=str(log.path)))
    get_logger("congvan.test").info("quiet.event")
    get_logger("congvan.test").warning("loud.event")
    assert [entry["event"] for entry in log.events()] == ["loud.event"]


def test_configuring_again_changes_the_level_of_a_logger_already_made(
    log_dir: Path, restore_logging: None
) -> None:
    log = get_logger("congvan.test")
    quiet = LogFile(log_dir / f"test-logging-{uuid.uuid4().hex[:8]}.log")
    loud = LogFile(log_dir / f"test-logging-{uuid.uuid4().hex[:8]}.log")
    configure_logging(LogSettings(level="warning", format="json", file=str(quiet.path)))
    log.info("first.quiet")
    configure_logging(LogSettings(level="debug", format="json", file=str(loud.path)))
    log.debug("then.heard")
    assert quiet.events() == []
    assert [entry["event"] for entry in loud.events()] == ["then.heard"]


def test_configuring_twice_keeps_one_handler_so_lines_are_not_doubled(
    json_log: LogFile,
) -> None:
    configure_logging(LogSettings(format="json", file=str(json_log.path)))
    get_logger("congvan.test").info("once.only")
    assert len(json_log.named("once.only")) == 1


def test_reconfiguring_closes_the_file_the_previous_configuration_opened(
    json_log: LogFile, log_dir: Path
) -> None:
    [before] = [h for h in logging.getLogger().handlers if getattr(h, "congvan", False)]
    first_file = before.stream  # type: ignore[attr-defined]
    second = log_dir / f"test-logging-{uuid.uuid4().hex[:8]}.log"
    configure_logging(LogSettings(format="json", file=str(second)))
    [after] = [h for h in logging.getLogger().handlers if getattr(h, "congvan", False)]
    assert first_file.closed
    assert after.stream.name == str(second)  # type: ignore[attr-defined]
    get_logger("congvan.test").info("to.second")
    assert json_log.named("to.second") == []
    assert "to.second" in second.read_text(encoding="utf-8")


# The web middleware


async def start(aiohttp_client: ClientFactory) -> TestClient[Any, Any]:
    """A test client for ``make_app``, served without aiohttp's access log, as the node does."""
    server = TestServer(make_app())
    await server.start_server(access_log=None)
    client: TestClient[Any, Any] = await aiohttp_client(server)
    return client


def make_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        get_logger("congvan.test").info("handler.ran")
        return web.Response(text="xin chào")

    async def missing(request: web.Request) -> web.Response:
        raise NotFound("Không tìm thấy văn bản")

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = web.Application(middlewares=[request_context, error_responses])
    app.router.add_get("/x", hello)
    app.router.add_get("/missing", missing)
    app.router.add_get("/broken", broken)
    return app


async def test_every_response_carries_a_request_id_that_its_log_lines_share(
    aiohttp_client: ClientFactory, json_log: LogFile
) -> None:
    client = await start(aiohttp_client)
    response = await client.get("/x")
    assert response.status == 200
    assert await response.text() == "xin chào"
    request_id = response.headers[REQUEST_ID_HEADER]
    assert len(request_id) == 16
    [handled] = json_log.named("handler.ran")
    [request] = json_log.named("http.request")
    assert handled["request_id"] == request["request_id"] == request_id
    assert request["method"] == "GET"
    assert request["status"] == 200
    assert isinstance(request["ms"], float | int)


async def test_two_requests_get_different_request_ids(
    aiohttp_client: ClientFactory, json_log: LogFile
) -> None:
    client = await start(aiohttp_client)
    first = (await client.get("/x")).headers[REQUEST_ID_HEADER]
    second = (await client.get("/x")).headers[REQUEST_ID_HEADER]
    assert first != second


async def test_a_well_formed_incoming_request_id_is_kept(
    aiohttp_client: ClientFactory, json_log: LogFile
) -> None:
    client = await start(aiohttp_client)
    response = await client.get("/x", headers={REQUEST_ID_HEADER: "fromTheHub42"})
    assert response.headers[REQUEST_ID_HEADER] == "fromTheHub42"
    assert json_log.named("http.request")[0]["request_id"] == "fromTheHub42"


@pytest.mark.parametrize("incoming", ["has space", "new\tline", "a-b", "x" * 65, ""])
async def test_a_malformed_incoming_request_id_is_replaced(
    aiohttp_client: ClientFactory, json_log: LogFile, incoming: str
) -> None:
    client = await start(aiohttp_client)
    response = await client.get("/x", headers={REQUEST_ID_HEADER: incoming})
    replaced = response.headers[REQUEST_ID_HEADER]
    assert replaced != incoming
    assert len(replaced) == 16
    assert json_log.named("http.request")[0]["request_id"] == replaced


async def test_the_request_line_logs_the_path_without_its_query_string(
    aiohttp_client: ClientFactory, json_log: LogFile, secrets_seen: Any
) -> None:
    secrets_seen.add("abc123secret")
    client = await start(aiohttp_client)
    response = await client.get("/x?token=abc123secret")
    assert response.status == 200
    [request] = json_log.named("http.request")
    assert request["path"] == "/x"
    assert "abc123secret" not in json_log.text()


async def test_a_not_found_error_is_rendered_as_json_with_status_404(
    aiohttp_client: ClientFactory, json_log: LogFile
) -> None:
    client = await start(aiohttp_client)
    response = await client.get("/missing")
    assert response.status == 404
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "not-found", "message": "Không tìm thấy văn bản"}
    assert REQUEST_ID_HEADER in response.headers
    [refused] = json_log.named("http.refused")
    assert refused["code"] == "not-found"
    assert refused["level"] == "warning"
    [request] = json_log.named("http.request")
    assert request["status"] == 404
    assert request["path"] == "/missing"


async def test_an_unknown_route_is_logged_with_its_status(
    aiohttp_client: ClientFactory, json_log: LogFile
) -> None:
    client = await start(aiohttp_client)
    response = await client.get("/nowhere?token=abc")
    assert response.status == 404
    assert len(response.headers[REQUEST_ID_HEADER]) == 16
    [request] = json_log.named("http.request")
    assert (request["path"], request["status"]) == ("/nowhere", 404)


async def test_an_unexpected_exception_is_a_500_and_is_logged_as_one(
    aiohttp_client: ClientFactory, json_log: LogFile
) -> None:
    client = await start(aiohttp_client)
    response = await client.get("/broken")
    assert response.status == 500
    body = await response.json()
    assert body["error"] == "internal"
    assert "a bug" not in body["message"]
    request_id = response.headers[REQUEST_ID_HEADER]
    [failed] = json_log.named("http.failed")
    assert failed["request_id"] == request_id
    assert "RuntimeError: a bug" in failed["exception"]
    [request] = json_log.named("http.request")
    assert request["status"] == 500
