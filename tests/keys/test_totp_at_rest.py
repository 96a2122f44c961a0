"""TOTP seeds are sealed in the database and a code is never accepted twice."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from config.database import open_database
from config.errors import Invalid
from config.settings import Settings
from keys import accounts
from keys.keystore import node_passphrase
from keys.models import User
from keys.sealing import SecretBox
from tests.conftest import SecretsSeen
from tests.support.cli import Cli

PASSWORD = "ngay-mai-troi-nang-dep"


def _oathtool(secret: str, at: float) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
    return subprocess.run(
        ["oathtool", "--totp", "-b", "--now", stamp, secret],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def enrolled(
    province: Settings, cli: Cli, tmp_path: Path, secrets_seen: SecretsSeen
) -> tuple[Settings, str]:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    secrets_seen.add(PASSWORD)
    cli(
        "users",
        "add",
        "vanthu",
        "--unit",
        "TU",
        "--role",
        "clerk",
        "--password-file",
        password_file,
        "--dir",
        province.node_dir,
    )
    uri = cli("users", "totp", "vanthu", "--dir", province.node_dir).stdout.splitlines()[0]
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    secrets_seen.add(secret)
    return province, secret


async def test_the_totp_seed_is_not_stored_in_clear(enrolled: tuple[Settings, str]) -> None:
    settings, secret = enrolled
    async with open_database(settings) as sessions, sessions() as session:
        stored = await session.scalar(select(User.totp_secret).where(User.username == "vanthu"))
    assert stored is not None
    assert secret not in stored
    box = SecretBox(node_passphrase(settings), settings.node.name)
    assert box.open(stored, "totp") == secret


async def test_an_oathtool_code_is_accepted_once_only(enrolled: tuple[Settings, str]) -> None:
    settings, secret = enrolled
    box = SecretBox(node_passphrase(settings), settings.node.name)
    now = time.time()
    code = _oathtool(secret, now)
    async with open_database(settings) as sessions:
        async with sessions() as session, session.begin():
            assert await accounts.accept_totp(session, "vanthu", code, box, now)
        async with sessions() as session, session.begin():
            assert not await accounts.accept_totp(session, "vanthu", code, box, now)
        async with sessions() as session, session.begin():
            earlier = _oathtool(secret, now - 30)
            assert not await accounts.accept_totp(session, "vanthu", earlier, box, now)
        async with sessions() as session, session.begin():
            later = _oathtool(secret, now + 30)
            assert await accounts.accept_totp(session, "vanthu", later, box, now + 30)


async def test_a_seed_cannot_be_opened_with_another_passphrase(
    enrolled: tuple[Settings, str],
) -> None:
    settings, _secret = enrolled
    async with open_database(settings) as sessions, sessions() as session:
        stored = await session.scalar(select(User.totp_secret).where(User.username == "vanthu"))
    assert stored is not None
    with pytest.raises(Invalid):
        SecretBox(b"another node passphrase", settings.node.name).open(stored, "totp")
