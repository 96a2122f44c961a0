"""Staff accounts through ``congvan users``: passwords, TOTP enrolment, app passwords, disabling.

The accounts live on one provincial node (hosting TU and BTC) shared by the module; each test
works on its own user names.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from config.database import open_database
from config.errors import Invalid
from config.settings import Settings
from keys import accounts, passwords, totp
from keys.keystore import node_passphrase
from keys.models import AppPassword, User
from keys.sealing import SecretBox
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.templates import copy_node

PASSWORD = "Đông Hà mưa dầm tháng mười"
OTHER_PASSWORD = "sông Hiếu chảy qua Cam Lộ"
APP_PASSWORD = re.compile(r"^[A-Za-z0-9]{6}(-[A-Za-z0-9]{1,6})+$")
# A fixed instant in the middle of a TOTP step, for codes made with oathtool --now.
STEP = totp.STEP_SECONDS
INSTANT = 56_666_667 * STEP + STEP // 2
USER_ROW = re.compile(
    r"^(?P<username>\S+)\s+(?P<unit>\S+)\s+(?P<role>\S+)\s+(?P<clearance>.+?)\s+"
    r"(?P<totp>yes|no)\s+(?P<state>active|disabled)\s*(?P<app_passwords>.*)$"
)


@dataclass(frozen=True)
class ListedUser:
    unit: str
    role: str
    clearance: str
    totp: str
    state: str
    app_passwords: tuple[str, ...]


@pytest.fixture(scope="module")
def node(
    province_original: Settings,
    databases: DatabasePool,
    tmp_path_factory: pytest.TempPathFactory,
    secrets_seen: SecretsSeen,
) -> Settings:
    """The provincial node TU (units TU and BTC hosted, the sample directory imported)."""
    node_dir = tmp_path_factory.mktemp("accounts") / "TU"
    settings = copy_node(province_original, node_dir, databases)
    secrets_seen.add((settings.node_dir / "secret").read_text().strip())
    secrets_seen.add(PASSWORD, OTHER_PASSWORD)
    return settings


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


def users(
    cli: Cli, settings: Settings, *args: str | Path, check: bool = False
) -> subprocess.CompletedProcess[str]:
    return cli("users", *args, "--dir", settings.node_dir, check=check)


def add_clerk(cli: Cli, settings: Settings, username: str, password_file: Path) -> None:
    users(
        cli,
        settings,
        "add",
        username,
        "--unit",
        "BTC",
        "--role",
        "clerk",
        "--clearance",
        "2",
        "--password-file",
        password_file,
        check=True,
    )


def listed_users(cli: Cli, settings: Settings) -> dict[str, ListedUser]:
    """``congvan users list`` parsed: user name -> its row."""
    header, *rows = users(cli, settings, "list", check=True).stdout.splitlines()
    assert header.split()[:2] == ["USER", "UNIT"]
    listed = {}
    for row in rows:
        match = USER_ROW.match(row)
        assert match, row
        labels = match["app_passwords"].strip()
        listed[match["username"]] = ListedUser(
            unit=match["unit"],
            role=match["role"],
            clearance=match["clearance"],
            totp=match["totp"],
            state=match["state"],
            app_passwords=tuple(labels.split(", ")) if labels else (),
        )
    return listed


def assert_refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 1 and one line on stderr saying why."""
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


async def stored_user(settings: Settings, username: str) -> User | None:
    async with open_database(settings) as sessions, sessions() as session:
        return await session.scalar(select(User).where(User.username == username))


async def stored_app_passwords(settings: Settings, username: str) -> list[AppPassword]:
    async with open_database(settings) as sessions, sessions() as session:
        rows = await session.scalars(
            select(AppPassword).join(User).where(User.username == username).order_by(AppPassword.id)
        )
        return list(rows)


async def app_password_works(settings: Settings, username: str, secret: str) -> bool:
    async with open_database(settings) as sessions, sessions() as session:
        return await accounts.check_app_password(session, username, secret)


def oathtool(secret: str, at: float | None = None) -> str:
    """The code Debian's oathtool computes for ``secret`` now, or at the Unix time ``at``."""
    when = [] if at is None else [f"--now=@{int(at)}"]
    return subprocess.run(
        ["oathtool", "--totp", "-b", *when, secret], capture_output=True, text=True, check=True
    ).stdout.strip()


def enrol(cli: Cli, settings: Settings, username: str, secrets_seen: SecretsSeen) -> list[str]:
    """``congvan users totp``'s output lines; the secret is registered with the guard."""
    lines = users(cli, settings, "totp", username, check=True).stdout.splitlines()
    secrets_seen.add(secret_of(lines[0]))
    return lines


def secret_of(uri: str) -> str:
    return parse_qs(urlsplit(uri).query)["secret"][0]


# --- adding accounts ------------------------------------------------------------------------


async def test_a_clerk_is_added_listed_and_its_password_stored_hashed(
    cli: Cli, node: Settings, password_file: Path
) -> None:
    result = users(
        cli,
        node,
        "add",
        "lan.nguyen",
        "--unit",
        "BTC",
        "--role",
        "clerk",
        "--clearance",
        "2",
        "--password-file",
        password_file,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "user lan.nguyen added to BTC as clerk, clearance 2"
    assert listed_users(cli, node)["lan.nguyen"] == ListedUser(
        unit="BTC", role="clerk", clearance="Tối mật", totp="no", state="active", app_passwords=()
    )
    user = await stored_user(node, "lan.nguyen")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    # The file's final newline is not part of the password.
    assert passwords.verify_password(user.password_hash, PASSWORD)
    assert not passwords.verify_password(user.password_hash, PASSWORD + "\n")


WEAK_PASSWORDS = {
    "too short": ("hoa.tran", "Ab1!xyz9", "quá ngắn"),
    "common in Vietnam": ("binh.le", "matkhau123", "quá phổ biến"),
    "common anywhere": ("cuong.pham", "password1234", "quá phổ biến"),
    "one letter repeated": ("dung.vo", "aaaaaaaaaaaa", "dễ đoán"),
    "the user name and a year": ("nguyenvanan", "nguyenvanan2024", "dễ đoán"),
}


@pytest.mark.parametrize(
    ("username", "weak", "reason"), WEAK_PASSWORDS.values(), ids=list(WEAK_PASSWORDS)
)
async def test_a_weak_password_is_refused_and_no_account_is_made(
    cli: Cli,
    node: Settings,
    tmp_path: Path,
    secrets_seen: SecretsSeen,
    username: str,
    weak: str,
    reason: str,
) -> None:
    secrets_seen.add(weak)
    weak_file = tmp_path / "weak"
    weak_file.write_text(weak, encoding="utf-8")

    result = users(
        cli, node, "add", username, "--unit", "TU", "--role", "staff", "--password-file", weak_file
    )

    assert_refused(result, "mật khẩu", reason)
    assert username not in listed_users(cli, node)
    assert await stored_user(node, username) is None


async def test_an_unknown_unit_is_refused(cli: Cli, node: Settings, password_file: Path) -> None:
    result = users(
        cli,
        node,
        "add",
        "ghost",
        "--unit",
        "KHONG-CO",
        "--role",
        "staff",
        "--password-file",
        password_file,
    )

    assert_refused(result, "unknown unit KHONG-CO")
    assert await stored_user(node, "ghost") is None


async def test_a_unit_hosted_by_another_node_is_refused(
    cli: Cli, node: Settings, password_file: Path
) -> None:
    result = users(
        cli,
        node,
        "add",
        "camlo.clerk",
        "--unit",
        "HU-CAMLO",
        "--role",
        "clerk",
        "--password-file",
        password_file,
    )

    assert_refused(result, "HU-CAMLO", "not hosted by this node")
    assert await stored_user(node, "camlo.clerk") is None


async def test_a_taken_user_name_is_refused_and_the_first_account_kept(
    cli: Cli, node: Settings, password_file: Path, tmp_path: Path
) -> None:
    add_clerk(cli, node, "minh.ho", password_file)
    first = await stored_user(node, "minh.ho")
    other_file = tmp_path / "other"
    other_file.write_text(OTHER_PASSWORD, encoding="utf-8")

    result = users(
        cli,
        node,
        "add",
        "minh.ho",
        "--unit",
        "TU",
        "--role",
        "admin",
        "--password-file",
        other_file,
    )

    assert_refused(result, "user minh.ho already exists")
    assert listed_users(cli, node)["minh.ho"].role == "clerk"
    second = await stored_user(node, "minh.ho")
    assert first is not None and second is not None
    assert second.password_hash == first.password_hash


async def test_a_malformed_user_name_is_refused(
    cli: Cli, node: Settings, password_file: Path
) -> None:
    result = users(
        cli,
        node,
        "add",
        "Lan Anh",
        "--unit",
        "TU",
        "--role",
        "staff",
        "--password-file",
        password_file,
    )

    assert_refused(result, "bad username")
    assert await stored_user(node, "Lan Anh") is None


@pytest.mark.parametrize(
    ("option", "value"), [("--role", "boss"), ("--clearance", "4")], ids=["role", "clearance"]
)
async def test_an_unknown_role_or_clearance_is_rejected_by_the_command_line(
    cli: Cli, node: Settings, password_file: Path, option: str, value: str
) -> None:
    args = {"--role": "staff", "--clearance": "0", option: value}

    result = users(
        cli,
        node,
        "add",
        "khanh.do",
        "--unit",
        "TU",
        "--role",
        args["--role"],
        "--clearance",
        args["--clearance"],
        "--password-file",
        password_file,
    )

    assert result.returncode == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert await stored_user(node, "khanh.do") is None


def test_a_missing_password_file_is_a_settings_error(
    cli: Cli, node: Settings, tmp_path: Path
) -> None:
    result = users(
        cli,
        node,
        "add",
        "long.bui",
        "--unit",
        "TU",
        "--role",
        "staff",
        "--password-file",
        tmp_path / "khong-co",
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"cannot read {tmp_path / 'khong-co'}: No such file or directory"
    ]
    assert "long.bui" not in listed_users(cli, node)


# --- TOTP --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def enrolment(
    cli: Cli, node: Settings, tmp_path_factory: pytest.TempPathFactory, secrets_seen: SecretsSeen
) -> list[str]:
    """``congvan users totp thao.ngo``'s output: the otpauth URI, then the QR drawing."""
    password_file = tmp_path_factory.mktemp("totp") / "password"
    password_file.write_text(PASSWORD, encoding="utf-8")
    add_clerk(cli, node, "thao.ngo", password_file)
    return enrol(cli, node, "thao.ngo", secrets_seen)


@pytest.fixture(scope="module")
def secret(enrolment: list[str]) -> str:
    return secret_of(enrolment[0])


def test_enrolment_prints_an_otpauth_uri_for_congvan(enrolment: list[str], secret: str) -> None:
    uri = urlsplit(enrolment[0])

    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == "/congvan:thao.ngo"
    assert parse_qs(uri.query)["issuer"] == ["congvan"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)


def test_enrolment_draws_the_uri_as_a_qr_code(enrolment: list[str]) -> None:
    drawing = [line for line in enrolment[1:] if line.strip()]

    assert len(drawing) > 15
    assert all(set(line) <= set("█▀▄ ") for line in drawing)
    assert len({len(line) for line in drawing}) == 1  # a square block of equal rows
    assert drawing[0].strip("█") == ""  # the quiet zone


def test_enrolment_is_listed(cli: Cli, node: Settings, enrolment: list[str]) -> None:
    assert listed_users(cli, node)["thao.ngo"].totp == "yes"


def test_an_oathtool_code_is_accepted_for_its_time_step(secret: str) -> None:
    code = oathtool(secret, INSTANT)

    assert totp.accept_code(secret, code, last_step=None, now=INSTANT) == INSTANT // STEP


def test_the_code_oathtool_gives_now_is_accepted_now(secret: str) -> None:
    assert totp.accept_code(secret, oathtool(secret), last_step=None) is not None


def test_a_code_is_refused_the_second_time(secret: str) -> None:
    code = oathtool(secret, INSTANT)
    step = totp.accept_code(secret, code, last_step=None, now=INSTANT)

    assert step is not None
    assert totp.accept_code(secret, code, last_step=step, now=INSTANT) is None
    assert totp.accept_code(secret, code, last_step=step, now=INSTANT + STEP) is None


def test_an_older_code_is_refused_once_a_newer_one_was_accepted(secret: str) -> None:
    step = totp.accept_code(secret, oathtool(secret, INSTANT), last_step=None, now=INSTANT)
    older = oathtool(secret, INSTANT - STEP)

    assert totp.accept_code(secret, older, last_step=step, now=INSTANT) is None


@pytest.mark.parametrize("steps", [-1, 1], ids=["one step old", "one step ahead"])
def test_a_code_one_step_off_is_accepted_for_clock_drift(secret: str, steps: int) -> None:
    code = oathtool(secret, INSTANT + steps * STEP)

    step = totp.accept_code(secret, code, last_step=None, now=INSTANT)

    assert step == INSTANT // STEP + steps


@pytest.mark.parametrize("steps", [-3, -2, 2, 20])
def test_a_code_further_off_is_refused(secret: str, steps: int) -> None:
    code = oathtool(secret, INSTANT + steps * STEP)

    assert totp.accept_code(secret, code, last_step=None, now=INSTANT) is None


def test_a_code_typed_with_a_space_is_accepted(secret: str) -> None:
    code = oathtool(secret, INSTANT)

    assert totp.accept_code(secret, f"{code[:3]} {code[3:]}", None, now=INSTANT) is not None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12345a"])
def test_a_code_that_is_not_six_digits_is_refused(secret: str, code: str) -> None:
    assert totp.accept_code(secret, code, last_step=None, now=INSTANT) is None


async def test_re_enrolling_gives_a_new_secret_and_the_old_one_stops_working(
    cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen
) -> None:
    add_clerk(cli, node, "quynh.dang", password_file)
    first = secret_of(enrol(cli, node, "quynh.dang", secrets_seen)[0])
    box = SecretBox(node_passphrase(node), node.node.name)
    async with open_database(node) as sessions, sessions() as session, session.begin():
        assert await accounts.accept_totp(session, "quynh.dang", oathtool(first), box)

    second = secret_of(enrol(cli, node, "quynh.dang", secrets_seen)[0])

    assert second != first
    user = await stored_user(node, "quynh.dang")
    assert user is not None and user.totp_secret is not None
    assert box.open(user.totp_secret, accounts.TOTP_PURPOSE) == second
    assert user.totp_last_step is None
    now = time.time()
    async with open_database(node) as sessions, sessions() as session, session.begin():
        assert not await accounts.accept_totp(session, "quynh.dang", oathtool(first, now), box, now)
        assert await accounts.accept_totp(session, "quynh.dang", oathtool(second, now), box, now)


def test_enrolling_an_unknown_user_is_refused(cli: Cli, node: Settings) -> None:
    assert_refused(users(cli, node, "totp", "khong.co"), "unknown user khong.co")


# --- app passwords --------------------------------------------------------------------------


def new_app_password(
    cli: Cli, settings: Settings, username: str, label: str, secrets_seen: SecretsSeen
) -> str:
    result = users(cli, settings, "app-password", username, "--label", label, check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    secrets_seen.add(lines[0])
    return lines[0]


async def test_an_app_password_is_shown_once_and_stored_hashed(
    cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen
) -> None:
    add_clerk(cli, node, "phuong.mai", password_file)

    secret = new_app_password(cli, node, "phuong.mai", "phone", secrets_seen)

    assert APP_PASSWORD.fullmatch(secret)
    [stored] = await stored_app_passwords(node, "phuong.mai")
    assert stored.label == "phone"
    assert stored.password_hash.startswith("$argon2id$")
    assert secret not in stored.password_hash
    assert stored.revoked_at is None
    assert await app_password_works(node, "phuong.mai", secret)
    assert not await app_password_works(node, "phuong.mai", secret[:-1] + "?")
    assert not await app_password_works(node, "phuong.mai", PASSWORD)
    assert not await app_password_works(node, "khong.co", secret)
    listing = users(cli, node, "list", check=True).stdout
    assert secret not in listing
    assert listed_users(cli, node)["phuong.mai"].app_passwords == ("phone",)


async def test_revoking_one_app_password_leaves_the_other_working(
    cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen
) -> None:
    add_clerk(cli, node, "son.truong", password_file)
    phone = new_app_password(cli, node, "son.truong", "phone", secrets_seen)
    office = new_app_password(cli, node, "son.truong", "Thunderbird office", secrets_seen)
    assert phone != office
    assert await app_password_works(node, "son.truong", phone)
    assert await app_password_works(node, "son.truong", office)
    assert listed_users(cli, node)["son.truong"].app_passwords == ("Thunderbird office", "phone")

    result = users(cli, node, "app-password", "son.truong", "--revoke", "--label", "phone")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "revoked app password 'phone' of son.truong"
    assert not await app_password_works(node, "son.truong", phone)
    assert await app_password_works(node, "son.truong", office)
    assert listed_users(cli, node)["son.truong"].app_passwords == ("Thunderbird office",)
    revoked = [row for row in await stored_app_passwords(node, "son.truong") if row.revoked_at]
    assert [row.label for row in revoked] == ["phone"]


async def test_a_revoked_label_can_name_the_replacement_device(
    cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen
) -> None:
    add_clerk(cli, node, "lan.vo", password_file)
    lost = new_app_password(cli, node, "lan.vo", "phone", secrets_seen)
    users(cli, node, "app-password", "lan.vo", "--revoke", "--label", "phone")

    replacement = new_app_password(cli, node, "lan.vo", "phone", secrets_seen)

    assert not await app_password_works(node, "lan.vo", lost)
    assert await app_password_works(node, "lan.vo", replacement)
    assert listed_users(cli, node)["lan.vo"].app_passwords == ("phone",)
    assert len(await stored_app_passwords(node, "lan.vo")) == 2


async def test_the_same_label_twice_is_refused_and_the_first_kept(
    cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen
) -> None:
    add_clerk(cli, node, "tam.ly", password_file)
    first = new_app_password(cli, node, "tam.ly", "phone", secrets_seen)

    result = users(cli, node, "app-password", "tam.ly", "--label", "phone")

    assert_refused(result, "tam.ly already has an app password labelled 'phone'")
    assert result.stdout == ""
    assert len(await stored_app_passwords(node, "tam.ly")) == 1
    assert await app_password_works(node, "tam.ly", first)


def test_revoking_a_label_the_user_does_not_have_is_refused(
    cli: Cli, node: Settings, password_file: Path
) -> None:
    add_clerk(cli, node, "uyen.ta", password_file)

    result = users(cli, node, "app-password", "uyen.ta", "--revoke", "--label", "tablet")

    assert_refused(result, "uyen.ta has no active app password labelled 'tablet'")


@pytest.mark.parametrize("label", ["a/b", "x" * 65, ""], ids=["slash", "too long", "empty"])
def test_a_malformed_label_is_refused(
    cli: Cli, node: Settings, password_file: Path, label: str
) -> None:
    username = f"vy.label{len(label)}"
    add_clerk(cli, node, username, password_file)

    assert_refused(users(cli, node, "app-password", username, "--label", label), "bad label")
    assert listed_users(cli, node)[username].app_passwords == ()


def test_an_app_password_for_an_unknown_user_is_refused(cli: Cli, node: Settings) -> None:
    result = users(cli, node, "app-password", "khong.co", "--label", "phone")

    assert_refused(result, "unknown user khong.co")
    assert result.stdout == ""


# --- disabling --------------------------------------------------------------------------------


async def test_a_disabled_account_has_no_working_app_password_until_enabled(
    cli: Cli, node: Settings, password_file: Path, secrets_seen: SecretsSeen
) -> None:
    add_clerk(cli, node, "xuan.kieu", password_file)
    secret = new_app_password(cli, node, "xuan.kieu", "phone", secrets_seen)

    disabled = users(cli, node, "disable", "xuan.kieu", check=True)

    assert disabled.stdout.strip() == "xuan.kieu disabled"
    assert not await app_password_works(node, "xuan.kieu", secret)
    assert listed_users(cli, node)["xuan.kieu"].state == "disabled"

    enabled = users(cli, node, "disable", "xuan.kieu", "--enable", check=True)

    assert enabled.stdout.strip() == "xuan.kieu enabled"
    assert await app_password_works(node, "xuan.kieu", secret)
    assert listed_users(cli, node)["xuan.kieu"].state == "active"


def test_disabling_an_unknown_user_is_refused(cli: Cli, node: Settings) -> None:
    assert_refused(users(cli, node, "disable", "khong.co"), "unknown user khong.co")


# --- password strength, as a library ----------------------------------------------------------

COMMON = sorted(passwords._local_common_passwords())


@given(st.text(max_size=passwords.MIN_LENGTH - 1))
def test_a_password_shorter_than_the_minimum_is_always_refused(password: str) -> None:
    with pytest.raises(Invalid, match="quá ngắn") as refused:
        passwords.check_password_strength(password)
    assert refused.value.code == "weak-password"


@given(
    st.sampled_from(COMMON).flatmap(
        lambda word: st.sampled_from([word, word.upper(), word.capitalize(), word.swapcase()])
    )
)
def test_a_common_password_is_refused_in_any_letter_case(password: str) -> None:
    with pytest.raises(Invalid) as refused:
        passwords.check_password_strength(password)
    assert refused.value.code == "weak-password"


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "qwertyuiop12", "1234512345", "abcdefghij"])
def test_a_guessable_password_is_refused(password: str) -> None:
    with pytest.raises(Invalid, match="dễ đoán"):
        passwords.check_password_strength(password)


def test_a_password_made_of_the_user_name_is_refused_for_that_user_only() -> None:
    passwords.check_password_strength("nguyenvanan2024")
    with pytest.raises(Invalid, match="dễ đoán"):
        passwords.check_password_strength("nguyenvanan2024", user_inputs=["nguyenvanan"])


@pytest.mark.parametrize("password", [PASSWORD, OTHER_PASSWORD, "ngay-mai-troi-nang-dep"])
def test_a_long_passphrase_is_accepted(password: str) -> None:
    passwords.check_password_strength(password)


def test_a_hash_is_argon2id_and_verifies_only_its_password() -> None:
    hashed = passwords.hash_password(PASSWORD)

    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, PASSWORD)
    assert not passwords.verify_password(hashed, OTHER_PASSWORD)
    assert not passwords.verify_password("not a hash", PASSWORD)
    assert not passwords.needs_rehash(hashed)


def test_app_passwords_are_random_and_grouped_for_typing() -> None:
    made = {passwords.new_app_password() for _ in range(50)}

    assert len(made) == 50
    assert all(APP_PASSWORD.fullmatch(secret) for secret in made)
