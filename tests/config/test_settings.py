"""Settings: ``node.toml`` plus ``CONGVAN_*`` overrides, and the one-line refusal of a bad value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.errors import ConfigError
from config.settings import SECTIONS, load_settings, parse_settings
from tests.support.cli import Cli

NODE = {"name": "T", "units": ["T"]}
VALID_FILE = '[node]\nname = "T"\nunits = ["T"]\n'


def parse(document: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
    return parse_settings({"node": NODE, **document}, Path("/srv/node"), environ or {})


def refusal(document: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(document, environ)
    return caught.value.message


def write_node(node_dir: Path, text: str) -> Path:
    node_dir.mkdir(parents=True, exist_ok=True)
    (node_dir / "node.toml").write_text(text, encoding="utf-8")
    return node_dir


# Defaults and overrides


def test_a_minimal_file_gets_the_documented_defaults() -> None:
    settings = parse({})
    assert settings.node.name == "T"
    assert settings.node.units == ("T",)
    assert settings.node.hub is False
    assert settings.database.url == ""
    assert settings.database.pool_size == 5
    assert (settings.web.host, settings.web.port) == ("127.0.0.1", 8080)
    assert (settings.peer.host, settings.peer.port) == ("127.0.0.1", 8443)
    assert settings.smtp.enabled is False
    assert settings.smtp.port == 8587
    assert settings.keys.passphrase == ""
    assert settings.keys.cert_days == 730
    assert settings.exchange.retry_max == 12
    assert (settings.log.level, settings.log.format, settings.log.file) == ("info", "auto", "")


def test_relative_paths_resolve_against_the_node_directory(tmp_path: Path) -> None:
    settings = parse_settings({"node": NODE, "keys": {"ca_dir": "/abs/ca"}}, tmp_path, {})
    assert settings.node_dir == tmp_path.resolve()
    assert settings.pki_dir == tmp_path.resolve() / "pki"
    assert settings.crl_file == tmp_path.resolve() / "pki" / "crl.pem"
    assert settings.ca_dir == Path("/abs/ca")


def test_values_in_the_file_replace_the_defaults() -> None:
    settings = parse({"peer": {"port": 9443, "host": "192.0.2.10"}, "node": {**NODE, "hub": True}})
    assert settings.peer.port == 9443
    assert settings.peer.host == "192.0.2.10"
    assert settings.node.hub is True


def test_an_environment_variable_wins_over_the_file(tmp_path: Path) -> None:
    write_node(tmp_path, VALID_FILE + "[peer]\nport = 8000\n")
    assert load_settings(tmp_path, {}).peer.port == 8000
    assert load_settings(tmp_path, {"CONGVAN_PEER_PORT": "9000"}).peer.port == 9000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("NO", False),
        ("off", False),
    ],
)
def test_a_boolean_from_the_environment_accepts_the_usual_words(text: str, expected: bool) -> None:
    assert parse({}, {"CONGVAN_SMTP_ENABLED": text}).smtp.enabled is expected


def test_a_number_from_the_environment_becomes_an_integer() -> None:
    settings = parse({}, {"CONGVAN_EXCHANGE_RETRY_MAX": "3", "CONGVAN_WEB_PORT": "8081"})
    assert settings.exchange.retry_max == 3
    assert settings.web.port == 8081


def test_a_list_from_the_environment_is_split_on_commas() -> None:
    settings = parse({}, {"CONGVAN_NODE_UNITS": " HU-CAMLO, BTC ,,TU"})
    assert settings.node.units == ("HU-CAMLO", "BTC", "TU")


def test_the_passphrase_may_come_from_the_environment() -> None:
    settings = parse({}, {"CONGVAN_KEYS_PASSPHRASE": "correct horse battery"})
    assert settings.keys.passphrase == "correct horse battery"
    assert "correct horse" not in repr(settings)


def test_environment_variables_of_no_section_are_ignored() -> None:
    environ = {"CONGVAN_TEST_DB": "postgresql", "CONGVAN_DIR": "/elsewhere", "HOME": "/root"}
    assert parse({}, environ) == parse({})


# Refusals: exact one-line messages


def test_a_port_out_of_range_is_refused_with_the_key_and_the_range() -> None:
    message = refusal({"peer": {"port": 70000}})
    assert message == "config error: [peer] port = 70000: must be 1-65535"


def test_a_port_out_of_range_from_the_environment_is_refused() -> None:
    message = refusal({}, {"CONGVAN_WEB_PORT": "0"})
    assert message == "config error: [web] port = 0: must be 1-65535"


def test_a_negative_retry_count_is_refused_as_in_the_style_guide() -> None:
    message = refusal({"exchange": {"retry_max": -1}})
    assert message == "config error: [exchange] retry_max = -1: must be >= 0"


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("max_open_offers_per_peer", 0, "1-100000"),
        ("offer_expiry_seconds", 0, "1-2592000"),
        ("sweep_seconds", 0, "1-86400"),
        ("verify_lease_seconds", 5, "10-86400"),
    ],
)
def test_an_inbox_limit_out_of_range_is_refused_with_its_range(
    key: str, value: int, allowed: str
) -> None:
    message = refusal({"exchange": {key: value}})
    assert message == f"config error: [exchange] {key} = {value}: must be {allowed}"


def test_only_khong_mat_travels_on_the_network_by_default() -> None:
    assert parse({}).office.max_secrecy_on_network == 0
    assert parse({"office": {"max_secrecy_on_network": 1}}).office.max_secrecy_on_network == 1


@pytest.mark.parametrize("value", [-1, 4])
def test_a_network_secrecy_limit_that_is_no_level_is_refused_with_the_levels(value: int) -> None:
    message = refusal({"office": {"max_secrecy_on_network": value}})
    assert message == f"config error: [office] max_secrecy_on_network = {value}: must be 0-3"


def test_a_network_secrecy_limit_from_the_environment_names_the_variable() -> None:
    message = refusal({}, {"CONGVAN_OFFICE_MAX_SECRECY_ON_NETWORK": "Mật"})
    assert message == (
        'config error: [office] max_secrecy_on_network = "Mật" '
        "(from CONGVAN_OFFICE_MAX_SECRECY_ON_NETWORK): must be an integer"
    )


def test_the_web_sessions_and_the_lock_out_have_the_documented_defaults() -> None:
    web = parse({}).web
    assert (web.session_minutes, web.session_hours) == (30, 12)
    assert (web.lockout_failures, web.lockout_minutes) == (5, 15)
    assert web.https is False


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("session_minutes", 0, "1-1440"),
        ("session_hours", 0, "1-168"),
        ("session_hours", 169, "1-168"),
        ("lockout_failures", 0, "1-100"),
        ("lockout_minutes", 0, "1-1440"),
    ],
)
def test_a_session_or_lock_out_limit_out_of_range_is_refused_with_its_range(
    key: str, value: int, allowed: str
) -> None:
    message = refusal({"web": {key: value}})
    assert message == f"config error: [web] {key} = {value}: must be {allowed}"


@pytest.mark.parametrize(
    ("web", "https"),
    [
        ({"tls_cert": "pki/web.pem", "tls_key": "pki/web.key"}, True),
        ({"public_url": "https://tu.quangtri.dcs.vn"}, True),
        ({"public_url": "http://10.0.0.5:8080"}, False),
    ],
)
def test_the_web_listener_counts_as_https_with_a_certificate_or_behind_an_https_url(
    web: dict[str, str], https: bool
) -> None:
    assert parse({"web": web}).web.https is https


def test_a_value_outside_a_choice_names_the_choices() -> None:
    message = refusal({"log": {"level": "loud"}})
    assert (
        message == 'config error: [log] level = "loud": must be one of debug, info, warning, error'
    )


def test_an_unknown_key_is_refused_naming_the_key_and_the_allowed_keys() -> None:
    message = refusal({"peer": {"prot": 9000}})
    assert message == "config error: [peer] prot: unknown key; allowed: host, port, public_url"


def test_an_unknown_section_is_refused_naming_the_allowed_sections() -> None:
    message = refusal({"pear": {"port": 9000}})
    assert message == (
        "config error: [pear]: unknown section; "
        "allowed: node, database, web, peer, smtp, keys, exchange, office, reports, admin, log"
    )


def test_a_section_that_is_not_a_table_is_refused() -> None:
    assert refusal({"peer": 9000}) == "config error: peer = 9000: must be a [section]"


@pytest.mark.parametrize(
    ("section", "key", "value", "problem"),
    [
        ("peer", "port", "abc", 'port = "abc": must be an integer'),
        ("peer", "port", 8443.0, "port = 8443.0: must be an integer"),
        ("peer", "port", True, "port = true: must be an integer"),
        ("smtp", "enabled", "yes", 'enabled = "yes": must be true or false'),
        ("web", "host", 127, "host = 127: must be a string"),
        ("node", "units", "TU", 'units = "TU": must be a list of strings'),
        ("node", "units", ["TU", 1], "units = ['TU', 1]: must be a list of strings"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(
    section: str, key: str, value: Any, problem: str
) -> None:
    body = {**NODE, key: value} if section == "node" else {key: value}
    assert refusal({section: body}) == f"config error: [{section}] {problem}"


def test_a_bad_number_from_the_environment_names_the_variable() -> None:
    message = refusal({}, {"CONGVAN_PEER_PORT": "abc"})
    assert (
        message == 'config error: [peer] port = "abc" (from CONGVAN_PEER_PORT): must be an integer'
    )


def test_a_bad_boolean_from_the_environment_names_the_variable() -> None:
    message = refusal({}, {"CONGVAN_SMTP_ENABLED": "maybe"})
    assert message == (
        'config error: [smtp] enabled = "maybe" (from CONGVAN_SMTP_ENABLED): must be true or false'
    )


def test_an_unknown_key_in_a_known_section_of_the_environment_is_refused() -> None:
    message = refusal({}, {"CONGVAN_PEER_PROT": "9000"})
    assert message == (
        "config error: CONGVAN_PEER_PROT: unknown key [peer] prot; allowed: host, port, public_url"
    )


def test_a_missing_node_name_is_refused_as_required() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"node": {"units": ["T"]}}, Path("/srv/node"), {})
    assert caught.value.message == "config error: [node] name: missing; it is required"


def test_a_file_without_a_node_section_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({}, Path("/srv/node"), {})
    assert caught.value.message == "config error: [node] name: missing; it is required"


def test_a_node_without_units_is_refused() -> None:
    message = refusal({"node": {"name": "T", "units": []}})
    assert message == "config error: [node] units = (): must name at least one unit"


def test_a_malformed_node_name_is_refused() -> None:
    message = refusal({"node": {"name": "bad_name", "units": ["T"]}})
    assert message == (
        'config error: [node] name = "bad_name": must be A-Z, 0-9 and -, at most 32 characters'
    )


def test_a_passphrase_written_in_the_file_is_refused_without_repeating_it() -> None:
    message = refusal({"keys": {"passphrase": "hunter2-in-the-file"}})
    assert message == (
        "config error: [keys] passphrase: must not be written in node.toml; "
        "use CONGVAN_KEYS_PASSPHRASE or passphrase_file"
    )
    assert "hunter2" not in message


def test_a_passphrase_of_the_wrong_type_in_the_file_is_still_refused_as_misplaced() -> None:
    message = refusal({"keys": {"passphrase": 123456789}})
    assert "must not be written in node.toml" in message
    assert "123456789" not in message


def test_a_refused_database_url_does_not_repeat_its_password() -> None:
    message = refusal({"database": {"url": "mysql://admin:s3cr3t-pw@db/congvan"}})
    assert message.startswith("config error: [database] url = ****: must be empty")
    assert "s3cr3t-pw" not in message


def test_a_missing_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {})
    path = tmp_path / "node.toml"
    assert caught.value.message == f"config error: {path}: cannot read: No such file or directory"


def test_a_file_that_cannot_be_read_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "node.toml").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {})
    assert (
        caught.value.message
        == f"config error: {tmp_path / 'node.toml'}: cannot read: Is a directory"
    )


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "node.toml").write_bytes(b'[node]\nname = "\xff"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {})
    assert caught.value.message == f"config error: {tmp_path / 'node.toml'}: not UTF-8 text"


def test_invalid_toml_is_refused_with_the_parser_position(tmp_path: Path) -> None:
    write_node(tmp_path, "[node\nname = 'T'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {})
    message = caught.value.message
    assert message.startswith(f"config error: {tmp_path / 'node.toml'}: not valid TOML: ")
    assert "line 1" in message
    assert "\n" not in message


def test_load_settings_reads_the_process_environment_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_node(tmp_path, VALID_FILE)
    monkeypatch.setenv("CONGVAN_PEER_PORT", "9001")
    assert load_settings(tmp_path).peer.port == 9001


# Property: every port setting accepts exactly 1..65535


@given(port=st.integers())
def test_any_port_is_accepted_exactly_when_it_is_1_to_65535(port: int) -> None:
    for section in ("web", "peer", "smtp"):
        if 1 <= port <= 65535:
            assert getattr(parse({section: {"port": port}}), section).port == port
        else:
            assert refusal({section: {"port": port}}) == (
                f"config error: [{section}] port = {port}: must be 1-65535"
            )


@given(text=st.text(max_size=20))
def test_any_environment_text_for_a_number_is_parsed_or_refused_with_a_config_error(
    text: str,
) -> None:
    try:
        settings = parse({}, {"CONGVAN_EXCHANGE_RETRY_MAX": text})
    except ConfigError as error:
        assert error.message.startswith("config error: [exchange] retry_max = ")
        assert "\n" not in error.message.replace(text, "")
    else:
        assert settings.exchange.retry_max == int(text)
        assert settings.exchange.retry_max >= 0


def test_every_section_has_an_environment_prefix_that_no_other_section_shadows() -> None:
    # CONGVAN_<SECTION>_<KEY> must map to one section only.
    names = list(SECTIONS)
    clashes = [(a, b) for a in names for b in names if a != b and b.startswith(a + "_")]
    assert clashes == []


# The command line: one line on stderr, exit code 2


@pytest.mark.parametrize("command", [["serve"], ["keys", "list"], ["db", "upgrade"]])
def test_a_bad_setting_stops_a_command_with_one_line_and_exit_code_2(
    cli: Cli, tmp_path: Path, command: list[str]
) -> None:
    node_dir = write_node(tmp_path / "node", VALID_FILE + "\n[peer]\nport = 70000\n")
    result = cli(*command, "--dir", node_dir, check=False)
    assert result.returncode == 2
    assert result.stderr == "config error: [peer] port = 70000: must be 1-65535\n"
    assert result.stdout == ""


def test_a_bad_environment_override_stops_a_command_with_one_line(cli: Cli, tmp_path: Path) -> None:
    node_dir = write_node(tmp_path / "node", VALID_FILE)
    result = cli("keys", "list", "--dir", node_dir, check=False, env={"CONGVAN_PEER_PROT": "1"})
    assert result.returncode == 2
    assert result.stderr == (
        "config error: CONGVAN_PEER_PROT: unknown key [peer] prot; "
        "allowed: host, port, public_url\n"
    )


def test_a_missing_node_directory_stops_a_command_with_exit_code_2(
    cli: Cli, tmp_path: Path
) -> None:
    result = cli("serve", "--dir", tmp_path / "absent", check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"config error: {tmp_path / 'absent' / 'node.toml'}: cannot read: No such file or directory"
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--web-port", "70000"], "config error: [web] port = 70000: must be 1-65535"),
        (["--peer-port", "0"], "config error: [peer] port = 0: must be 1-65535"),
        (
            ["--database-url", "mysql://db/x"],
            "config error: [database] url = ****: must be empty (SQLite in the node directory), "
            "sqlite:///… or postgresql://…",
        ),
    ],
)
def test_init_with_a_bad_option_exits_2_and_leaves_nothing_behind(
    cli: Cli, tmp_path: Path, option: list[str], message: str
) -> None:
    node_dir = tmp_path / "node"
    result = cli("init", "--dir", node_dir, "--node", "T", "--unit", "T", *option, check=False)
    assert result.returncode == 2
    assert result.stderr == message + "\n"
    assert not (node_dir / "node.toml").exists()
    assert not node_dir.exists()


def test_init_with_a_bad_node_name_exits_2_and_leaves_nothing_behind(
    cli: Cli, tmp_path: Path
) -> None:
    node_dir = tmp_path / "node"
    result = cli("init", "--dir", node_dir, "--node", "bad_name", "--unit", "T", check=False)
    assert result.returncode == 2
    assert result.stderr == (
        'config error: [node] name = "bad_name": must be A-Z, 0-9 and -, at most 32 characters\n'
    )
    assert not node_dir.exists()


def test_init_with_a_passphrase_file_under_16_characters_exits_2_and_leaves_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    node_dir, short = tmp_path / "node", tmp_path / "short-secret"
    short.write_text("12345\n")
    result = cli("init", "--dir", node_dir, "--node", "T", "--unit", "T",
                 "--passphrase-file", short, check=False)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == "config error: [keys] passphrase: must be at least 16 characters\n"
    assert not node_dir.exists()
    long_enough = tmp_path / "long-secret"
    long_enough.write_text("a passphrase of 16+\n")
    cli("init", "--dir", node_dir, "--node", "T", "--unit", "T", "--passphrase-file", long_enough)
    assert (node_dir / "node.toml").exists()
