"""Backups: a running node is backed up into one encrypted file, restored into an empty folder
(and, on PostgreSQL, an empty database), passes `audit verify`, and serves the same documents
byte for byte; the file holds no passphrase, opens only with it (with congvan or Debian's `age`),
and a tampered file, a folder or a database that is not empty are refused, leaving nothing."""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import stat
import subprocess
import tarfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import select

from config.settings import load_settings
from office.documents.models import Document, DocumentFile
from office.node.app import RunningNode, start_node
from tests.conftest import SecretsSeen
from tests.office.test_outgoing import issue, new_draft
from tests.support.cli import Cli
from tests.support.databases import DatabasePool, using_postgresql
from tests.support.documents import (
    arrived,
)
from tests.support.network import DemoNetwork
from tests.support.nodes import FAST, fast_settings, start_camlo
from tests.support.ports import free_port_block
from tests.support.web import StaffBrowser, new_account

PASSPHRASE = "CONGVAN_KEYS_PASSPHRASE"


def passphrase_of(network: DemoNetwork, node: str) -> str:
    return (network.node_dir(node) / "secret").read_text(encoding="utf-8").strip()


def plaintext_of(backup: Path, passphrase: str) -> bytes:
    """The inner archive, opened by hand with pyrage: the identity with the passphrase, then
    the archive with the identity."""
    with tarfile.open(backup) as outer:
        assert outer.getnames() == ["identity.age", "archive.tar.age"]
        wrapped = outer.extractfile("identity.age")
        encrypted = outer.extractfile("archive.tar.age")
        assert wrapped is not None and encrypted is not None
        identity = pyrage.passphrase.decrypt(wrapped.read(), passphrase).decode().strip()
        return bytes(pyrage.decrypt(encrypted.read(), [pyrage.x25519.Identity.from_str(identity)]))


def flip_a_byte_of_the_archive(backup: Path) -> None:
    with tarfile.open(backup) as outer:
        member = outer.getmember("archive.tar.age")
    at = member.offset_data + member.size // 2
    data = bytearray(backup.read_bytes())
    data[at] ^= 0x01
    backup.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def tu_backup(
    cli: Cli, demo_network: DemoNetwork, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A backup of the demo network's provincial node, for the refusal tests to spoil."""
    out = tmp_path_factory.mktemp("backups") / "tu.backup"
    cli("backup", "--dir", demo_network.node_dir("TU"), "--out", out)
    return out


@pytest.fixture
async def running(fresh_network: DemoNetwork) -> AsyncIterator[tuple[RunningNode, RunningNode]]:
    tu = await start_node(fast_settings(fresh_network, "TU"))
    camlo = await start_camlo(fresh_network, FAST)
    yield tu, camlo
    await camlo.stop()
    await tu.stop()


async def test_a_backup_of_a_running_node_restores_and_serves_the_same_documents(
    cli: Cli,
    fresh_network: DemoNetwork,
    running: tuple[RunningNode, RunningNode],
    databases: DatabasePool,
    secrets_seen: SecretsSeen,
    tmp_path: Path,
) -> None:
    tu, camlo = running
    clerk = await new_account(tu, role="clerk")
    secrets_seen.add(clerk.password, clerk.totp_secret)
    async with StaffBrowser(tu.web_url) as browser:
        await browser.sign_in_as(clerk)
        document_id = await new_draft(browser, tmp_path)
        assert (await issue(browser, document_id, node=tu)).status == 303
    async with tu.sessions() as session:
        sent = await session.get(Document, document_id)
        signed = await session.scalar(
            select(DocumentFile).where(
                DocumentFile.document_id == document_id, DocumentFile.role == "signed"
            )
        )
    assert sent is not None and sent.dispatch_id is not None and signed is not None
    await arrived(camlo, sent.dispatch_id)

    passphrase = passphrase_of(fresh_network, "TU")
    out = tmp_path / "backups" / "tu.backup"
    out.parent.mkdir()
    # Taken while the nodes run and answer (the command runs in a thread, off their loop).
    result = await asyncio.to_thread(cli, "backup", "--dir", tu.settings.node_dir, "--out", out)
    assert "passphrase is not in the backup" in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    plaintext = plaintext_of(out, passphrase)
    assert passphrase.encode() not in plaintext
    with tarfile.open(fileobj=io.BytesIO(plaintext)) as inner:
        names = inner.getnames()
    assert "node/secret" not in names and "node/node.toml" in names
    assert "node/pki/units/TU/signing.key" in names and "node/ca/ca.key" in names
    assert names[-1] == "manifest.json"
    blob = f"node/blobs/{signed.sha256[:2]}/{signed.sha256[2:4]}/{signed.sha256}"
    assert blob in names
    await camlo.stop()
    await tu.stop()
    original_dir = tu.settings.node_dir
    shutil.rmtree(original_dir)  # the restored node owes nothing to the original's folder

    restored_dir = tmp_path / "restored" / "TU"
    secret_file = tmp_path / "passphrase.txt"
    secret_file.write_text(passphrase + "\n", encoding="utf-8")
    options: list[str | Path] = ["--from", out, "--dir", restored_dir, "--secret-file", secret_file]
    if using_postgresql():
        # new_url runs an event loop of its own: in a thread.
        options += ["--database-url", await asyncio.to_thread(databases.new_url, "restored")]
    result = cli("restore", *options)
    assert "restored" in result.stdout and "congvan audit verify" in result.stdout
    assert stat.S_IMODE((restored_dir / "secret").stat().st_mode) == 0o600
    verified = cli("audit", "verify", "--dir", restored_dir)
    assert "intact" in verified.stdout and " 0 entries" not in verified.stdout

    node = await start_node(load_settings(restored_dir, FAST))
    try:
        async with StaffBrowser(node.web_url) as browser:
            await browser.sign_in_as(clerk, at=time.time() + 30)  # the last code was used
            page = await browser.get(f"/outgoing/{document_id}")
            assert page.status == 200 and sent.number_symbol in page.text
            async with browser.http.get(
                f"{node.web_url}/documents/{document_id}/files/{signed.id}"
            ) as got:
                assert got.status == 200
                assert hashlib.sha256(await got.read()).hexdigest() == signed.sha256
    finally:
        await node.stop()


def test_a_tampered_backup_is_refused_and_leaves_nothing(
    cli: Cli, demo_network: DemoNetwork, tu_backup: Path, tmp_path: Path
) -> None:
    spoilt = tmp_path / "spoilt.backup"
    shutil.copyfile(tu_backup, spoilt)
    flip_a_byte_of_the_archive(spoilt)
    target, empty = tmp_path / "absent", tmp_path / "empty"
    empty.mkdir()
    for folder in (target, empty):
        result = cli(
            "restore",
            "--from",
            spoilt,
            "--dir",
            folder,
            env={PASSPHRASE: passphrase_of(demo_network, "TU")},
            check=False,
        )
        assert result.returncode == 1, result.stdout
        assert "the backup is damaged or was altered" in result.stderr
        assert "nothing was restored" in result.stderr
    assert not target.exists()
    assert list(empty.iterdir()) == []


def test_a_copy_restored_beside_the_original_listens_on_the_ports_it_is_given(
    cli: Cli, demo_network: DemoNetwork, databases: DatabasePool, tmp_path: Path
) -> None:
    """Restored beside a running original, a copy on the original's ports would fail to start,
    or share its SMTP port (SO_REUSEPORT) and take half its mail."""
    backup = tmp_path / "tu.backup"
    cli("backup", "--dir", demo_network.node_dir("TU"), "--out", backup)
    env = {PASSPHRASE: passphrase_of(demo_network, "TU")}

    def restored(folder: Path, *ports: str) -> subprocess.CompletedProcess[str]:
        where = ["--database-url", databases.new_url("copy")] if using_postgresql() else []
        return cli("restore", "--from", backup, "--dir", folder, *where, *ports, env=env)

    base = free_port_block(3)
    web, peer, smtp = base, base + 1, base + 2
    given = restored(tmp_path / "copy", "--web-port", str(web), "--peer-port", str(peer),
                     "--smtp-port", str(smtp))  # fmt: skip
    copy = load_settings(tmp_path / "copy", {})
    assert (copy.web.port, copy.peer.port, copy.smtp.port) == (web, peer, smtp)
    assert f"listening on: web {web}, peer {peer}, smtp {smtp}\n" in given.stdout
    original = demo_network.settings("TU")
    same = restored(tmp_path / "same")
    assert f"web {original.web.port}, peer {original.peer.port}" in same.stdout
    assert "the original's ports: give --web-port" in same.stdout


def test_a_restore_into_a_folder_that_is_not_empty_is_refused(
    cli: Cli, demo_network: DemoNetwork, tu_backup: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("giữ lại", encoding="utf-8")
    result = cli(
        "restore",
        "--from",
        tu_backup,
        "--dir",
        tmp_path,
        env={PASSPHRASE: passphrase_of(demo_network, "TU")},
        check=False,
    )
    assert result.returncode == 1
    assert "is not empty: restore into a new or empty folder" in result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_without_the_right_passphrase_a_backup_does_not_open(
    cli: Cli, demo_network: DemoNetwork, tu_backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "restored"
    wrong = cli(
        "restore",
        "--from",
        tu_backup,
        "--dir",
        target,
        env={PASSPHRASE: passphrase_of(demo_network, "HU-CAMLO")},
        check=False,
    )
    assert wrong.returncode == 1
    assert "wrong passphrase, or the backup is damaged" in wrong.stderr
    missing = cli("restore", "--from", tu_backup, "--dir", target, check=False)
    assert missing.returncode == 2
    assert "give --secret-file or set CONGVAN_KEYS_PASSPHRASE" in missing.stderr
    assert not target.exists()


def test_a_restore_never_loads_into_a_database_that_holds_data(
    cli: Cli, demo_network: DemoNetwork, tu_backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "restored"
    env = {PASSPHRASE: passphrase_of(demo_network, "TU")}
    if using_postgresql():
        # Without --database-url the backup's own URL: the live database, which holds data.
        result = cli("restore", "--from", tu_backup, "--dir", target, env=env, check=False)
        assert "the database for the restore is not empty" in result.stderr
    else:
        taken = tmp_path / "taken.db"
        taken.write_bytes(b"")
        result = cli(
            "restore",
            "--from",
            tu_backup,
            "--dir",
            target,
            "--database-url",
            f"sqlite:///{taken}",
            env=env,
            check=False,
        )
        assert f"{taken} exists" in result.stderr
    assert result.returncode == 1
    assert not target.exists()


@pytest.mark.skipif(
    not (shutil.which("age") and shutil.which("script")), reason="needs age and script"
)
def test_the_age_tool_opens_a_backup_with_the_passphrase(
    demo_network: DemoNetwork, tu_backup: Path, tmp_path: Path
) -> None:
    """Debian's `age` reads the passphrase from a terminal only: `script` gives it one."""
    with tarfile.open(tu_backup) as outer:
        outer.extractall(tmp_path, filter="data")
    passphrase = passphrase_of(demo_network, "TU")
    command = "age -d -i identity.age -o archive.tar archive.tar.age"
    subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        input=passphrase + "\n",
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    with tarfile.open(tmp_path / "archive.tar") as inner:
        names = inner.getnames()
    database = "database/congvan.pgdump" if using_postgresql() else "database/congvan.db"
    assert "node/pki/node.key" in names and database in names
    assert "node/secret" not in names
