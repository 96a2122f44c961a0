"""``congvan mail``: aliases through the command line, and the checkpassword program an IMAP
server (Dovecot) runs to sign staff in with their app passwords.

One provincial node (hosting TU and BTC) for the module; each test works on its own user names
and addresses.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from config.database import open_database
from config.settings import Settings
from exchange.ledger import ACCESS_KIND, FAILED_SIGN_IN_KIND
from exchange.models import UsageEvent
from keys import throttle
from keys.models import SignInFailures, User
from mailgw.models import MailAlias
from tests.conftest import SecretsSeen
from tests.support.cli import CONGVAN, Cli
from tests.support.databases import DatabasePool
from tests.support.templates import copy_node

PASSWORD = "Đông Hà mưa dầm tháng mười"
TU = "tinhuy.quangtri.dcs.vn"
BTC = "btc.quangtri.dcs.vn"
ENV = "/usr/bin/env"


@pytest.fixture(scope="module")
def node(
    province_original: Settings,
    databases: DatabasePool,
    tmp_path_factory: pytest.TempPathFactory,
    secrets_seen: SecretsSeen,
) -> Settings:
    """The provincial node TU (units TU and BTC hosted, the sample directory imported)."""
    node_dir = tmp_path_factory.mktemp("mail-cli") / "TU"
    settings = copy_node(province_original, node_dir, databases)
    secrets_seen.add((settings.node_dir / "secret").read_text().strip(), PASSWORD)
    return settings


@pytest.fixture(scope="module")
def password_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mail-cli-password") / "password"
    path.write_text(PASSWORD, encoding="utf-8")
    return path


def add_user(cli: Cli, node: Settings, username: str, unit: str, password_file: Path) -> None:
    cli(
        "users",
        "add",
        username,
        "--unit",
        unit,
        "--role",
        "staff",
        "--password-file",
        password_file,
        "--dir",
        node.node_dir,
    )


def app_password(
    cli: Cli, node: Settings, username: str, label: str, secrets_seen: SecretsSeen
) -> str:
    secret = cli(
        "users", "app-password", username, "--label", label, "--dir", node.node_dir
    ).stdout.strip()
    secrets_seen.add(secret)
    return secret


def mail(cli: Cli, node: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("mail", *args, "--dir", node.node_dir, check=False)


def listed_aliases(cli: Cli, node: Settings) -> dict[str, tuple[str, str]]:
    """``congvan mail alias list`` parsed: address -> (user, unit)."""
    result = mail(cli, node, "alias", "list")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ADDRESS", "USER", "UNIT", "ADDED"]
    listed = {}
    for row in rows:
        address, user, unit, added = row.split()
        assert time.strptime(added, "%Y-%m-%d")
        listed[address] = (user, unit)
    return listed


def assert_refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 1 and one line on stderr saying why."""
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


async def stored_alias_owner(node: Settings, address: str) -> str | None:
    async with open_database(node) as sessions, sessions() as session:
        return await session.scalar(
            select(User.username)
            .join(MailAlias, MailAlias.user_id == User.id)
            .where(MailAlias.address == address)
        )


# --- aliases ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hoa(cli: Cli, node: Settings, password_file: Path) -> str:
    """A TU user who is given aliases; also the owner of hoa.tran@tinhuy…"""
    add_user(cli, node, "hoa.tran", "TU", password_file)
    return "hoa.tran"


async def test_an_alias_is_added_listed_and_stored_for_its_user(
    cli: Cli, node: Settings, hoa: str
) -> None:
    result = mail(cli, node, "alias", "add", f"VanPhong@{TU.upper()}", hoa)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"alias vanphong@{TU} -> hoa.tran (TU)"
    assert listed_aliases(cli, node)[f"vanphong@{TU}"] == ("hoa.tran", "TU")
    assert await stored_alias_owner(node, f"vanphong@{TU}") == "hoa.tran"


async def test_an_alias_may_be_in_another_hosted_units_domain(
    cli: Cli, node: Settings, hoa: str
) -> None:
    result = mail(cli, node, "alias", "add", f"tochuc@{BTC}", hoa)

    assert result.returncode == 0, result.stderr
    assert listed_aliases(cli, node)[f"tochuc@{BTC}"] == ("hoa.tran", "TU")


@pytest.mark.parametrize(
    "address",
    [
        "x@btg.quangtri.dcs.vn",  # a unit of the directory this node does not host
        "x@camlo.quangtri.dcs.vn",  # a unit of another node
        "x@gmail.com",  # outside the network
    ],
    ids=["unit-not-hosted", "other-node", "outside"],
)
async def test_an_address_outside_the_hosted_mail_domains_is_refused(
    cli: Cli, node: Settings, hoa: str, address: str
) -> None:
    result = mail(cli, node, "alias", "add", address, hoa)

    assert_refused(result, address, "không thuộc tên miền thư", TU, BTC, "not in a mail domain")
    assert address not in listed_aliases(cli, node)
    assert await stored_alias_owner(node, address) is None


@pytest.mark.parametrize("address", ["van phong@" + TU, "vanphong", f"@{TU}", f".an@{TU}"])
async def test_a_malformed_address_is_refused(
    cli: Cli, node: Settings, hoa: str, address: str
) -> None:
    result = mail(cli, node, "alias", "add", address, hoa)

    assert_refused(result, "không hợp lệ", "bad address")
    assert await stored_alias_owner(node, address.lower()) is None


async def test_someones_own_address_is_refused_as_an_alias(
    cli: Cli, node: Settings, hoa: str, password_file: Path
) -> None:
    add_user(cli, node, "minh.ho", "BTC", password_file)

    result = mail(cli, node, "alias", "add", f"hoa.tran@{TU}", "minh.ho")

    assert_refused(result, "địa chỉ riêng của hoa.tran", "own address of hoa.tran")
    assert await stored_alias_owner(node, f"hoa.tran@{TU}") is None


async def test_an_address_already_an_alias_is_refused_and_keeps_its_user(
    cli: Cli, node: Settings, hoa: str, password_file: Path
) -> None:
    add_user(cli, node, "lan.vo", "TU", password_file)
    assert mail(cli, node, "alias", "add", f"tonghop@{TU}", hoa).returncode == 0

    result = mail(cli, node, "alias", "add", f"tonghop@{TU}", "lan.vo")
    again = mail(cli, node, "alias", "add", f"tonghop@{TU}", hoa)

    assert_refused(result, "đã là bí danh của hoa.tran", "already an alias of hoa.tran")
    assert_refused(again, "đã là bí danh của hoa.tran")
    assert listed_aliases(cli, node)[f"tonghop@{TU}"] == ("hoa.tran", "TU")


async def test_an_alias_for_an_unknown_user_is_refused(cli: Cli, node: Settings) -> None:
    result = mail(cli, node, "alias", "add", f"bimat@{TU}", "khong.co")

    assert_refused(result, "khong.co", "unknown user")
    assert await stored_alias_owner(node, f"bimat@{TU}") is None


async def test_a_removed_alias_is_gone_and_cannot_be_removed_twice(
    cli: Cli, node: Settings, hoa: str
) -> None:
    assert mail(cli, node, "alias", "add", f"luutru@{TU}", hoa).returncode == 0

    removed = mail(cli, node, "alias", "remove", f"LuuTru@{TU}")
    again = mail(cli, node, "alias", "remove", f"luutru@{TU}")

    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == f"alias luutru@{TU} of hoa.tran removed"
    assert f"luutru@{TU}" not in listed_aliases(cli, node)
    assert await stored_alias_owner(node, f"luutru@{TU}") is None
    assert_refused(again, f"không có bí danh luutru@{TU}", "no such alias")


# --- checkpassword ----------------------------------------------------------------------------


def checkpassword(
    cli: Cli,
    node: Settings,
    login: str,
    password: str,
    *program: str,
    env: dict[str, str] | None = None,
    request: bytes | None = None,
    reply: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``congvan mail checkpassword`` as Dovecot does: the request on descriptor 3, and
    descriptor 4 open for the reply (to ``reply``, or nowhere)."""
    if request is None:
        request = b"\0".join(
            (login.encode(), password.encode(), str(int(time.time())).encode(), b"")
        )
    # The shell hands its standard input on as descriptor 3, and the program gets none.
    command = [CONGVAN, "mail", "checkpassword", "--dir", str(node.node_dir), *program]
    result = subprocess.run(
        ["sh", "-c", 'exec 4>"$REPLY_FILE"; exec "$@" 3<&0 </dev/null', "sh", *command],
        input=request,
        capture_output=True,
        env=cli.environment({**(env or {}), "REPLY_FILE": str(reply or "/dev/null")}),
        timeout=120,
        check=False,
    )
    stderr = result.stderr.decode("utf-8", errors="replace")
    with cli.log_path.open("a", encoding="utf-8") as log:
        log.write(stderr)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode("utf-8"), stderr
    )


def environment_of(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """What ``/usr/bin/env`` printed."""
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


@pytest.fixture(scope="module")
def thu(cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen) -> str:
    """A BTC user with an app password for her phone; the return is that password."""
    add_user(cli, node, "thu.le", "BTC", password_file)
    return app_password(cli, node, "thu.le", "Phone", secrets_seen)


@pytest.mark.parametrize(
    "login",
    ["thu.le", f"thu.le@{BTC}", f"Thu.Le@{BTC.upper()}"],
    ids=["username", "address", "case"],
)
def test_a_good_app_password_runs_the_program_as_the_user(
    cli: Cli, node: Settings, thu: str, login: str
) -> None:
    result = checkpassword(cli, node, login, thu, ENV, env={"SERVICE": "imap"})

    assert result.returncode == 0, result.stderr
    environment = environment_of(result)
    assert environment["USER"] == "thu.le"
    assert environment["HOME"] == str(node.node_dir / "maildir" / "thu.le")
    assert environment["SERVICE"] == "imap"
    assert "AUTHORIZED" not in environment


def test_without_a_program_a_good_app_password_exits_0(cli: Cli, node: Settings, thu: str) -> None:
    result = checkpassword(cli, node, "thu.le", thu)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_the_program_keeps_its_own_exit_code(cli: Cli, node: Settings, thu: str) -> None:
    assert checkpassword(cli, node, "thu.le", thu, "/bin/false").returncode == 1
    assert checkpassword(cli, node, "thu.le", thu, "sh", "-c", "exit 7").returncode == 7


@pytest.fixture(scope="module")
def refusals(
    cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen, thu: str
) -> dict[str, tuple[str, str]]:
    """Logins and passwords that must not open a mailbox."""
    revoked = app_password(cli, node, "thu.le", "Old laptop", secrets_seen)
    cli(
        "users",
        "app-password",
        "thu.le",
        "--label",
        "Old laptop",
        "--revoke",
        "--dir",
        node.node_dir,
    )
    add_user(cli, node, "son.dang", "TU", password_file)
    disabled = app_password(cli, node, "son.dang", "Thunderbird", secrets_seen)
    cli("users", "disable", "son.dang", "--dir", node.node_dir)
    return {
        "wrong password": ("thu.le", "abcdef-ghijkl-mnopqr"),
        "revoked app password": ("thu.le", revoked),
        "sign-in password": ("thu.le", PASSWORD),
        "another user's password": ("hoa.tran", thu),
        "unknown user": ("khong.co", thu),
        "domain of another node": ("thu.le@camlo.quangtri.dcs.vn", thu),
        "disabled account": ("son.dang", disabled),
        "empty": ("", ""),
    }


REFUSALS = [
    "wrong password",
    "revoked app password",
    "sign-in password",
    "another user's password",
    "unknown user",
    "domain of another node",
    "disabled account",
    "empty",
]


@pytest.mark.parametrize("case", REFUSALS)
def test_a_bad_login_exits_1_and_runs_nothing(
    cli: Cli, node: Settings, hoa: str, refusals: dict[str, tuple[str, str]], case: str
) -> None:
    login, password = refusals[case]

    result = checkpassword(cli, node, login, password, ENV)

    assert result.returncode == 1, result.stderr
    assert result.stdout == ""


def test_the_password_is_never_logged(
    cli: Cli, node: Settings, thu: str, refusals: dict[str, tuple[str, str]]
) -> None:
    debug = {"CONGVAN_LOG_LEVEL": "debug"}
    good = checkpassword(cli, node, "thu.le", thu, env=debug)
    bad = checkpassword(cli, node, "thu.le", refusals["revoked app password"][1], env=debug)

    assert (good.returncode, bad.returncode) == (0, 1)
    assert "mail.checkpassword_accepted" in good.stderr
    assert "mail.checkpassword_refused" in bad.stderr
    assert thu not in good.stderr + bad.stderr
    assert refusals["revoked app password"][1] not in bad.stderr


def test_an_unreachable_database_is_a_temporary_failure(cli: Cli, node: Settings, thu: str) -> None:
    result = checkpassword(
        cli,
        node,
        "thu.le",
        thu,
        ENV,
        env={"CONGVAN_DATABASE_URL": "postgresql://127.0.0.1:9/congvan"},
    )

    assert result.returncode == 111, result.stderr
    assert result.stdout == ""
    assert "mail.checkpassword_unavailable" in result.stderr
    assert thu not in result.stderr


@pytest.mark.parametrize(
    "request_bytes",
    [b"thu.le", b"thu.le\0only-one-field", b"x" * 600 + b"\0\0\0"],
    ids=["no-fields", "one-nul", "too-long"],
)
def test_a_malformed_request_is_a_misuse(cli: Cli, node: Settings, request_bytes: bytes) -> None:
    result = checkpassword(cli, node, "", "", ENV, request=request_bytes)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""


#: What Dovecot's checkpassword-reply does: the fields on descriptor 4, and exit 2 after a
#: lookup without a password.
DOVECOT_REPLY = (
    'printf "user=%s\\tuserdb_home=%s\\t" "$USER" "$HOME" >&4; '
    'if [ "$AUTHORIZED" = 2 ]; then exit 2; fi'
)


def test_dovecot_reads_the_username_and_home_on_descriptor_4(
    cli: Cli, node: Settings, thu: str, tmp_path: Path
) -> None:
    reply = tmp_path / "reply"

    result = checkpassword(cli, node, f"thu.le@{BTC}", thu, "sh", "-c", DOVECOT_REPLY, reply=reply)

    assert result.returncode == 0, result.stderr
    assert reply.read_text() == f"user=thu.le\tuserdb_home={node.node_dir / 'maildir' / 'thu.le'}\t"


def test_a_dovecot_static_userdb_lookup_gets_the_user_and_exit_2(
    cli: Cli, node: Settings, thu: str, tmp_path: Path
) -> None:
    reply = tmp_path / "reply"
    static_userdb = {"AUTHORIZED": "1", "CREDENTIALS_LOOKUP": "1", "SCHEME": ""}

    result = checkpassword(
        cli, node, "thu.le", "", "sh", "-c", DOVECOT_REPLY, env=static_userdb, reply=reply
    )

    assert result.returncode == 2, result.stderr
    assert reply.read_text().startswith("user=thu.le\t")


def test_a_dovecot_lookup_without_a_password_finds_an_active_user(
    cli: Cli, node: Settings, thu: str, refusals: dict[str, tuple[str, str]]
) -> None:
    lookup = {"AUTHORIZED": "1"}

    found = checkpassword(cli, node, f"thu.le@{BTC}", "", ENV, env=lookup)
    unknown = checkpassword(cli, node, "khong.co", "", ENV, env=lookup)
    disabled = checkpassword(cli, node, "son.dang", "", ENV, env=lookup)

    assert found.returncode == 0, found.stderr
    assert environment_of(found)["USER"] == "thu.le"
    assert environment_of(found)["AUTHORIZED"] == "2"
    assert (unknown.returncode, unknown.stdout) == (3, "")
    assert (disabled.returncode, disabled.stdout) == (3, "")


def test_an_imap_clients_address_waits_after_failures_as_on_the_submission_port(
    cli: Cli, node: Settings, thu: str
) -> None:
    """Failures from ``TCPREMOTEIP`` (as Dovecot sets it) count with the submission port's."""
    stranger = {"TCPREMOTEIP": "10.20.30.40", "SERVICE": "imap"}

    async def seed() -> None:  # as if the address had failed eight times (7 s of waits)
        async with open_database(node) as sessions, sessions() as session, session.begin():
            session.add(
                SignInFailures(
                    service=throttle.MAIL,
                    scope=throttle.ADDRESS,
                    key="10.20.30.40",
                    failures=8,
                    last_failure_at=datetime.now(UTC),
                    last_user="",
                )
            )

    asyncio.run(seed())
    wrong = checkpassword(cli, node, "thu.le", "abcdef-ghijkl-mnopqr", ENV, env=stranger)
    right = checkpassword(cli, node, "thu.le", thu, ENV, env=stranger)  # the address waits 16 s
    owner = checkpassword(cli, node, "thu.le", thu, ENV, env={"TCPREMOTEIP": "10.20.30.41"})

    assert (wrong.returncode, right.returncode, owner.returncode) == (1, 1, 0)
    assert right.stdout == ""
    assert '"waiting": true' in right.stderr


async def usage_events(node: Settings) -> list[tuple[str, str, str]]:
    """(kind, unit, user) of every sign-in event in the usage ledger, oldest first."""
    async with open_database(node) as sessions, sessions() as session:
        rows = await session.execute(
            select(UsageEvent.kind, UsageEvent.unit, UsageEvent.user)
            .where(UsageEvent.kind.in_((ACCESS_KIND, FAILED_SIGN_IN_KIND)))
            .order_by(UsageEvent.id)
        )
        return [(kind, unit, user) for kind, unit, user in rows]


def test_each_check_is_a_sign_in_in_the_usage_ledger_and_a_lookup_is_none(
    cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen
) -> None:
    """A sign-in that holds is one access of the IT report, with its user and unit; one that
    does not is a ``login-failed`` event, never an access; a lookup signs nobody in."""
    add_user(cli, node, "mai.ngo", "BTC", password_file)
    secret = app_password(cli, node, "mai.ngo", "Phone", secrets_seen)
    before = asyncio.run(usage_events(node))

    good = checkpassword(cli, node, f"mai.ngo@{BTC}", secret, env={"SERVICE": "imap"})
    wrong = checkpassword(cli, node, "mai.ngo", "abcdef-ghijkl-mnopqr", env={"SERVICE": "imap"})
    lookup = checkpassword(cli, node, "mai.ngo", "", env={"AUTHORIZED": "1"})

    assert (good.returncode, wrong.returncode, lookup.returncode) == (0, 1, 0)
    added = asyncio.run(usage_events(node))[len(before) :]
    assert added == [(ACCESS_KIND, "BTC", "mai.ngo"), (FAILED_SIGN_IN_KIND, "", "")]


#: What the alias commands and the node need and a check does not: Dovecot runs checkpassword
#: for every IMAP sign-in, and these cost it a tenth of its time.
NOT_FOR_A_CHECK = (
    "mailgw.aliases",
    "mailgw.gateway",
    "keys.accounts",
    "keys.directory",
    "keys.ca",
    "keys.totp",
    "pyotp",
    "segno",
    "aiohttp",
    "office.node.app",
    "alembic",
)


def test_a_check_loads_only_what_it_needs(cli: Cli, node: Settings, thu: str) -> None:
    result = checkpassword(cli, node, "thu.le", thu, env={"PYTHONPROFILEIMPORTTIME": "1"})

    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "mailgw.checkpassword" in imported  # Python reported the command's imports
    assert sorted(imported.intersection(NOT_FOR_A_CHECK)) == []
