"""Fixtures shared by every test: databases, the ``congvan`` command, the secrets guard.

The secrets guard collects every password, passphrase, TOTP secret and app password a test
uses; when the session ends it reads every log line written during the run (the CLI's stderr and
the in-process log) and fails the run if any of them appears.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from config.logging import configure_logging
from config.settings import LogSettings, Settings
from keys.passwords import TEST_HASHING_VARIABLE
from tests.support.cli import Cli
from tests.support.databases import DatabasePool, using_postgresql
from tests.support.network import (
    DEMO_NODE_NAMES,
    DemoNetwork,
    build_demo_network,
    init_province,
)
from tests.support.processes import started_so_far, stop_left_running
from tests.support.templates import copy_network, copy_node

# argon2 at its cheapest for every password the suite hashes (see keys.passwords); the CLI
# and node processes the tests start inherit it through tests.support.cli.
os.environ.setdefault(TEST_HASHING_VARIABLE, "1")

#: Hypothesis profiles. ``ci`` (the default) keeps hypothesis's 100 examples a test, without a
#: deadline (a loaded two-core runner must not fail a test for being slow); ``long`` is the
#: fuzzing campaign of docs/security.md, ``pytest tests/fuzz --hypothesis-profile=long``:
#: 100,000 cases a fuzz target, shared among its tests (tests/fuzz/fuzzing.py). A test's own
#: ``@settings(max_examples=...)`` still wins over either.
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
hypothesis_settings.register_profile("long", max_examples=100_000, deadline=None, print_blob=True)
hypothesis_settings.load_profile("ci")


class SecretsSeen:
    """Every secret the tests handled, to look for in the logs at the end."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, *values: str) -> None:
        self.values.update(value for value in values if value and len(value) >= 6)


def pytest_configure(config: pytest.Config) -> None:
    """A misspelt CONGVAN_TEST_DB stops the run before any test, rather than running SQLite."""
    using_postgresql()


@pytest.fixture(autouse=True)
def no_node_left_running() -> Iterator[None]:
    """Nodes a test started in processes of their own are stopped after it even when it broke
    off (a failure, pytest-timeout), so they do not hold the ports of the tests after it."""
    earlier = started_so_far()
    yield
    stop_left_running(earlier)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def secrets_seen(log_dir: Path) -> Iterator[SecretsSeen]:
    seen = SecretsSeen()
    yield seen
    logging.shutdown()
    leaks = []
    for log_file in sorted(log_dir.glob("*.log")):
        text = log_file.read_text(encoding="utf-8", errors="replace")
        leaks.extend(f"{log_file.name}: {value[:3]}…" for value in seen.values if value in text)
    assert not leaks, f"secrets found in logs: {leaks}"


@pytest.fixture(scope="session", autouse=True)
def in_process_logging(log_dir: Path, secrets_seen: SecretsSeen) -> None:
    """Nodes started inside the test process log JSON to a file the secrets guard reads."""
    configure_logging(LogSettings(format="json", file=str(log_dir / "in-process.log")))


@pytest.fixture(scope="session")
def cli(log_dir: Path) -> Cli:
    return Cli(log_path=log_dir / "cli.log")


@pytest.fixture(scope="session")
def databases() -> Iterator[DatabasePool]:
    pool = DatabasePool()
    yield pool
    pool.drop_all()


@pytest.fixture(scope="session")
def province_original(
    cli: Cli, databases: DatabasePool, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """The provincial node that ``province`` copies, built once a session (a worker)."""
    return init_province(cli, databases, tmp_path_factory.mktemp("originals") / "TU")


@pytest.fixture
def province(
    province_original: Settings,
    databases: DatabasePool,
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> Settings:
    """A fresh provincial node (CA, sample units) in its own folder and database."""
    settings = copy_node(province_original, tmp_path / "TU", databases)
    secrets_seen.add((settings.node_dir / "secret").read_text().strip())
    return settings


def _demo_original(
    cli: Cli, databases: DatabasePool, tmp_path_factory: pytest.TempPathFactory
) -> DemoNetwork:
    return build_demo_network(cli, databases, tmp_path_factory.mktemp("originals") / "demo")


@pytest.fixture(scope="session")
def demo_original(
    cli: Cli, databases: DatabasePool, tmp_path_factory: pytest.TempPathFactory
) -> DemoNetwork:
    """The demo network that ``demo_network`` copies, built once a session (a worker)."""
    return _demo_original(cli, databases, tmp_path_factory)


@pytest.fixture(scope="session")
def own_network_original(
    cli: Cli, databases: DatabasePool, tmp_path_factory: pytest.TempPathFactory
) -> DemoNetwork:
    """The demo network that ``fresh_network`` copies: another build than ``demo_original``,
    on ports of its own, since a test may run a node of each."""
    return _demo_original(cli, databases, tmp_path_factory)


def guard_network_secrets(
    network: DemoNetwork, secrets_seen: SecretsSeen, *, accounts: bool = True
) -> DemoNetwork:
    """Give the secrets guard the network's passphrases and, with ``accounts``, its staff's."""
    for name in DEMO_NODE_NAMES:
        secrets_seen.add((network.node_dir(name) / "secret").read_text().strip())
    for account in network.document["accounts"] if accounts else []:
        secrets_seen.add(account["password"], account["totp_secret"], account["app_password"])
    return network


@pytest.fixture(scope="module")
def demo_network(
    demo_original: DemoNetwork,
    databases: DatabasePool,
    tmp_path_factory: pytest.TempPathFactory,
    secrets_seen: SecretsSeen,
) -> DemoNetwork:
    """The three-node demo network, a copy of its own for each test module."""
    root = tmp_path_factory.mktemp("demo") / "network"
    return guard_network_secrets(copy_network(demo_original, root, databases), secrets_seen)


@pytest.fixture
def fresh_network(
    own_network_original: DemoNetwork,
    databases: DatabasePool,
    tmp_path: Path,
    secrets_seen: SecretsSeen,
) -> DemoNetwork:
    """A demo network of the test's own, for tests that revoke or rotate."""
    network = copy_network(own_network_original, tmp_path / "network", databases)
    return guard_network_secrets(network, secrets_seen, accounts=False)
