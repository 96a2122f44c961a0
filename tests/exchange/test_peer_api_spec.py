"""docs/peer-api.yaml describes exactly the routes the peer listener serves."""

from __future__ import annotations

from pathlib import Path

import yaml

from config.durability import DurableCommits
from exchange.peer_api import API_PREFIX, create_peer_app

SPEC = Path(__file__).parents[2] / "docs" / "peer-api.yaml"


def _served_routes() -> set[tuple[str, str]]:
    app = create_peer_app(
        "TU",
        revocation=None,  # type: ignore[arg-type]
        inbox=None,  # type: ignore[arg-type]
        durable=DurableCommits(None),
    )
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        routes.add(
            (route.method.lower(), path.removeprefix(API_PREFIX).replace("{dispatch_id}", "{id}"))
        )
    return routes


def _documented_routes() -> set[tuple[str, str]]:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    }


def test_every_served_route_is_documented_and_nothing_else() -> None:
    assert _served_routes() == _documented_routes()


def test_every_refusal_code_the_spec_names_is_unique_and_includes_the_issue_codes() -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    codes = spec["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
    assert len(codes) == len(set(codes))
    required = {
        "bad-signature",
        "bad-digest",
        "unknown-sender",
        "revoked",
        "expired",
        "wrong-node",
        "not-addressed-here",
        "too-large",
        "malformed",
        "stale-directory",
    }
    assert required <= set(codes)


def test_the_spec_is_served_under_the_api_prefix() -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    assert spec["servers"][0]["url"].endswith(API_PREFIX)
