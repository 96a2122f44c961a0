"""A running provincial node of the demo network, and fresh staff accounts on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from office.node.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.support.network import DemoNetwork
from tests.support.nodes import FAST, fast_settings, start_camlo
from tests.support.web import StaffAccount, StaffBrowser, forget_sign_in_failures, new_account

NewAccount = Callable[..., Awaitable[StaffAccount]]


@pytest.fixture
async def tu(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    node = await start_node(fast_settings(demo_network, "TU"))
    await forget_sign_in_failures(node)
    yield node
    await node.stop()


@pytest.fixture
async def camlo(demo_network: DemoNetwork) -> AsyncIterator[RunningNode]:
    """Cam Lộ's district node (``HU-CAMLO``), retrying fast: where the province's documents go
    and from where a district's come."""
    node = await start_camlo(demo_network, FAST)
    yield node
    await node.stop()


@pytest.fixture
def make_account(tu: RunningNode, secrets_seen: SecretsSeen) -> NewAccount:
    """``await make_account(role=…)``: a new account on ``tu``, its secrets guarded."""

    async def make(**options: Any) -> StaffAccount:
        account = await new_account(tu, **options)
        secrets_seen.add(account.password, account.totp_secret)
        return account

    return make


@pytest.fixture
async def browser(tu: RunningNode) -> AsyncIterator[StaffBrowser]:
    async with StaffBrowser(tu.web_url) as staff_browser:
        yield staff_browser
