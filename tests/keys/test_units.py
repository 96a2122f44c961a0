"""``congvan units import`` and ``units list``: the sample directory, and every refused file.

A refused import must say why in one line, exit non-zero and leave the directory (units and
nodes) exactly as it was.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from config.database import open_database
from config.settings import Settings, load_settings
from keys import directory
from tests.conftest import SecretsSeen
from tests.support.cli import Cli
from tests.support.databases import DatabasePool
from tests.support.network import SAMPLE_UNITS
from tests.support.ports import free_port_block

SAMPLE = tomllib.loads(SAMPLE_UNITS.read_text(encoding="utf-8"))

Listed = tuple[str, str | None, str, str, str]  # kind, parent, node, mail domain, name

# A valid new district with its own node; refused files below add one bad entry after it, so a
# partial write would show as TX-MOI or its node in the directory.
NEW_DISTRICT = """
[[node]]
name = "TX-MOI"
host = "moi.quangtri.dcs.vn"

[[unit]]
code = "TX-MOI"
name = "Thị uỷ Mới"
kind = "district"
parent = "TU"
node = "TX-MOI"
mail_domain = "Moi.QuangTri.dcs.vn"
"""


def unit_table(code: str, **fields: str) -> str:
    values = {
        "code": code,
        "name": f"Đơn vị {code}",
        "kind": "board",
        "parent": "TU",
        "node": "TU",
        "mail_domain": f"{code.lower()}.quangtri.dcs.vn",
        **fields,
    }
    body = "".join(f'{key} = "{value}"\n' for key, value in values.items() if value)
    return f"\n[[unit]]\n{body}"


def init_node(
    cli: Cli, databases: DatabasePool, node_dir: Path, secrets_seen: SecretsSeen
) -> Settings:
    """A provincial node just after ``congvan init``: no units imported yet."""
    base = free_port_block(2)
    args: list[str | Path] = ["init", "--dir", node_dir, "--node", "TU", "--unit", "TU"]
    args += ["--unit", "BTC", "--hub", "--web-port", str(base), "--peer-port", str(base + 1)]
    url = databases.new_url("tu")
    if url:
        args += ["--database-url", url]
    cli(*args)
    secrets_seen.add((node_dir / "secret").read_text().strip())
    return load_settings(node_dir, {})


@pytest.fixture
def bare_node(
    cli: Cli, databases: DatabasePool, tmp_path: Path, secrets_seen: SecretsSeen
) -> Settings:
    return init_node(cli, databases, tmp_path / "TU", secrets_seen)


@pytest.fixture(scope="module")
def sample_node(
    cli: Cli,
    databases: DatabasePool,
    tmp_path_factory: pytest.TempPathFactory,
    secrets_seen: SecretsSeen,
) -> Settings:
    """One node with the sample imported, shared by the tests of refused imports.

    Each of them compares the directory before and after, so sharing it hides nothing.
    """
    settings = init_node(cli, databases, tmp_path_factory.mktemp("units") / "TU", secrets_seen)
    cli("units", "import", "--dir", settings.node_dir, SAMPLE_UNITS)
    return settings


def listed_units(cli: Cli, settings: Settings) -> dict[str, Listed]:
    """``congvan units list`` parsed: code -> (kind, parent, node, mail domain, name)."""
    output = cli("units", "list", "--dir", settings.node_dir).stdout
    units: dict[str, Listed] = {}
    for line in output.splitlines():
        code, kind, parent, node, mail_domain, name = line.split(maxsplit=5)
        units[code] = (kind, None if parent == "-" else parent, node, mail_domain, name)
    return units


async def stored_directory(
    settings: Settings,
) -> tuple[list[directory.NodeEntry], list[directory.UnitEntry]]:
    async with open_database(settings) as sessions, sessions() as session:
        return await directory.list_nodes(session), await directory.list_units(session)


def import_file(cli: Cli, settings: Settings, path: Path) -> subprocess.CompletedProcess[str]:
    return cli("units", "import", "--dir", settings.node_dir, path, check=False)


def assert_refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""


def test_the_sample_is_imported_by_name_from_wherever_congvan_is_installed(
    cli: Cli, bare_node: Settings
) -> None:
    result = cli("units", "import", "--dir", bare_node.node_dir, "--sample", "quangtri")
    assert result.stdout.strip() == f"imported {len(SAMPLE['unit'])} units"
    assert set(listed_units(cli, bare_node)) == {unit["code"] for unit in SAMPLE["unit"]}
    both = cli("units", "import", "--dir", bare_node.node_dir, SAMPLE_UNITS, "--sample",
               "quangtri", check=False)  # fmt: skip
    neither = cli("units", "import", "--dir", bare_node.node_dir, check=False)
    for refused in (both, neither):
        assert refused.returncode == 2 and "--sample NAME (one of them)" in refused.stderr
    unknown = cli("units", "import", "--dir", bare_node.node_dir, "--sample", "hanoi", check=False)
    assert unknown.returncode == 2 and "quangtri" in unknown.stderr


def test_importing_the_sample_lists_every_unit_with_its_place(
    cli: Cli, bare_node: Settings
) -> None:
    result = import_file(cli, bare_node, SAMPLE_UNITS)

    assert result.stdout.strip() == f"imported {len(SAMPLE['unit'])} units"
    listed = listed_units(cli, bare_node)
    assert listed == {
        unit["code"]: (
            unit["kind"],
            unit.get("parent"),
            unit["node"],
            unit["mail_domain"],
            unit["name"],
        )
        for unit in SAMPLE["unit"]
    }
    assert listed["HU-CAMLO"] == (
        "district",
        "TU",
        "HU-CAMLO",
        "camlo.quangtri.dcs.vn",
        "Huyện uỷ Cam Lộ",
    )
    assert listed["TU"] == ("province", None, "TU", "tinhuy.quangtri.dcs.vn", "Tỉnh uỷ Quảng Trị")
    assert listed["BTC"][:3] == ("board", "TU", "TU")
    assert listed["DU-QUANSU"][0] == "sector"


async def test_importing_the_sample_records_every_node_with_its_host(
    cli: Cli, bare_node: Settings
) -> None:
    import_file(cli, bare_node, SAMPLE_UNITS)

    nodes, _ = await stored_directory(bare_node)

    assert {node.name: node.host for node in nodes} == {
        node["name"]: node["host"] for node in SAMPLE["node"]
    }


def test_a_node_before_any_import_lists_no_units(cli: Cli, bare_node: Settings) -> None:
    assert listed_units(cli, bare_node) == {}


async def test_importing_the_same_file_again_is_refused_and_changes_nothing(
    cli: Cli, sample_node: Settings
) -> None:
    before = await stored_directory(sample_node)

    result = import_file(cli, sample_node, SAMPLE_UNITS)

    assert_refused(result, "duplicate unit code")
    assert await stored_directory(sample_node) == before


async def test_a_new_file_adds_its_units_beside_the_sample(
    cli: Cli, province: Settings, tmp_path: Path
) -> None:
    new = tmp_path / "moi.toml"
    new.write_text(NEW_DISTRICT, encoding="utf-8")

    result = import_file(cli, province, new)

    assert result.stdout.strip() == "imported 1 units"
    listed = listed_units(cli, province)
    assert len(listed) == len(SAMPLE["unit"]) + 1
    assert listed["TX-MOI"] == ("district", "TU", "TX-MOI", "moi.quangtri.dcs.vn", "Thị uỷ Mới")
    nodes, _ = await stored_directory(province)
    assert "TX-MOI" in {node.name for node in nodes}


async def test_a_parent_listed_after_its_child_is_imported(
    cli: Cli, bare_node: Settings, tmp_path: Path
) -> None:
    units_file = tmp_path / "order.toml"
    units_file.write_text(
        '[[node]]\nname = "TU"\nhost = "tu.example"\n'
        + unit_table("BTC")
        + unit_table("TU", kind="province", parent=""),
        encoding="utf-8",
    )

    import_file(cli, bare_node, units_file)

    assert listed_units(cli, bare_node)["BTC"][1] == "TU"


REFUSED_FILES = {
    "duplicate code inside the file": (
        NEW_DISTRICT + unit_table("TX-MOI", mail_domain="khac.quangtri.dcs.vn"),
        ["duplicate unit TX-MOI"],
    ),
    "duplicate mail domain inside the file": (
        NEW_DISTRICT + unit_table("BAN-MOI", mail_domain="moi.quangtri.dcs.vn"),
        ["duplicate mail_domain moi.quangtri.dcs.vn"],
    ),
    "mail domain of a unit already in the directory": (
        NEW_DISTRICT + unit_table("BAN-MOI", mail_domain="BTC.quangtri.dcs.vn"),
        ["btc.quangtri.dcs.vn", "BTC"],
    ),
    "unknown parent": (
        NEW_DISTRICT + unit_table("BAN-MOI", parent="KHONG-CO"),
        ["unit BAN-MOI", "unknown parent unit KHONG-CO"],
    ),
    "unknown kind": (
        NEW_DISTRICT + unit_table("BAN-MOI", kind="ministry"),
        ["unit BAN-MOI", "kind 'ministry' must be one of"],
    ),
    "unknown node": (
        NEW_DISTRICT + unit_table("BAN-MOI", node="HU-KHONGCO"),
        ["unit BAN-MOI", "unknown node HU-KHONGCO"],
    ),
    "two units each the other's parent": (
        NEW_DISTRICT + unit_table("BAN-A", parent="BAN-B") + unit_table("BAN-B", parent="BAN-A"),
        ["cycle"],
    ),
    "a unit its own parent": (
        NEW_DISTRICT + unit_table("BAN-A", parent="BAN-A"),
        ["unit BAN-A", "cycle"],
    ),
    "a unit without a name": (
        NEW_DISTRICT + unit_table("BAN-MOI", name=""),
        ["has no name"],
    ),
    "a code in lower case": (
        NEW_DISTRICT + unit_table("ban-moi"),
        ["'ban-moi'", "use A-Z"],
    ),
    "a kind that is not a string": (
        NEW_DISTRICT + "\n[[unit]]\ncode = 'BAN-MOI'\nname = 'x'\nkind = 3\nnode = 'TU'\n",
        ["kind = 3", "must be a string"],
    ),
    "a unit written as [unit] instead of [[unit]]": (
        "[unit]\ncode = 'BAN-MOI'\nname = 'x'\nkind = 'board'\nnode = 'TU'\n"
        "mail_domain = 'banmoi.quangtri.dcs.vn'\n",
        ["[[unit]]"],
    ),
    "not TOML": (
        NEW_DISTRICT + "\n[[unit]\ncode = \n",
        ["not valid TOML"],
    ),
}


@pytest.mark.parametrize(("content", "fragments"), REFUSED_FILES.values(), ids=list(REFUSED_FILES))
async def test_a_bad_units_file_is_refused_in_one_line_and_writes_nothing(
    cli: Cli, sample_node: Settings, tmp_path: Path, content: str, fragments: list[str]
) -> None:
    units_file = tmp_path / "units.toml"
    units_file.write_text(content, encoding="utf-8")
    listed_before = listed_units(cli, sample_node)
    stored_before = await stored_directory(sample_node)

    result = import_file(cli, sample_node, units_file)

    assert_refused(result, *fragments)
    assert listed_units(cli, sample_node) == listed_before
    assert await stored_directory(sample_node) == stored_before


async def test_a_duplicate_code_inside_the_file_writes_nothing_on_an_empty_node(
    cli: Cli, bare_node: Settings, tmp_path: Path
) -> None:
    units_file = tmp_path / "units.toml"
    units_file.write_text(
        SAMPLE_UNITS.read_text(encoding="utf-8") + unit_table("BTG", mail_domain="btg2.vn"),
        encoding="utf-8",
    )

    result = import_file(cli, bare_node, units_file)

    assert_refused(result, "duplicate unit BTG")
    assert listed_units(cli, bare_node) == {}
    assert await stored_directory(bare_node) == ([], [])


async def test_a_missing_file_is_refused_in_one_line(
    cli: Cli, sample_node: Settings, tmp_path: Path
) -> None:
    before = await stored_directory(sample_node)

    result = import_file(cli, sample_node, tmp_path / "khong-co.toml")

    assert_refused(result, "khong-co.toml", "cannot read", "No such file")
    assert await stored_directory(sample_node) == before


async def test_an_unreadable_path_is_refused_in_one_line(
    cli: Cli, sample_node: Settings, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "units.toml"
    not_a_folder.write_text(NEW_DISTRICT, encoding="utf-8")
    before = await stored_directory(sample_node)

    result = import_file(cli, sample_node, not_a_folder / "units.toml")

    assert_refused(result, "cannot read", "Not a directory")
    assert await stored_directory(sample_node) == before


async def test_a_file_not_in_utf8_is_refused_in_one_line(
    cli: Cli, sample_node: Settings, tmp_path: Path
) -> None:
    units_file = tmp_path / "units.toml"
    units_file.write_bytes(NEW_DISTRICT.encode("utf-8").replace("Thị".encode(), b"Th\xe1"))
    before = await stored_directory(sample_node)

    result = import_file(cli, sample_node, units_file)

    assert_refused(result, "units.toml", "UTF-8")
    assert await stored_directory(sample_node) == before


def directory_entry(code: str, name: str, parent: str | None, node: str) -> dict[str, object]:
    """A unit as the signed directory lists it (``keys directory``)."""
    return {
        "code": code,
        "name": name,
        "kind": "district" if parent else "province",
        "parent": parent,
        "node": node,
        "mail_domain": f"{code.lower()}.quangtri.dcs.vn",
        "certificates": {},
    }


async def test_a_signed_directory_adds_and_updates_units_and_keeps_those_it_no_longer_lists(
    bare_node: Settings,
) -> None:
    nodes = [
        {"name": name, "host": f"{name.lower()}.vn", "peer_url": "", "pull": False}
        for name in ("TU", "HU-MOI")
    ]
    child = directory_entry("HU-MOI", "Huyện uỷ Mới", "TU", "HU-MOI")
    province = directory_entry("TU", "Tỉnh uỷ", None, "TU")
    document = {"nodes": nodes, "units": [child, province]}  # the parent after its child
    async with open_database(bare_node) as sessions:
        async with sessions() as session, session.begin():
            assert await directory.refresh_units(session, document) == 2
        async with sessions() as session, session.begin():
            assert await directory.refresh_units(session, document) == 0
        renamed = {**province, "name": "Tỉnh uỷ Quảng Trị"}
        async with sessions() as session, session.begin():
            assert await directory.refresh_units(session, {"nodes": nodes, "units": [renamed]}) == 1
    _nodes, units = await stored_directory(bare_node)
    assert [(unit.code, unit.name, unit.parent) for unit in units] == [
        ("HU-MOI", "Huyện uỷ Mới", "TU"),
        ("TU", "Tỉnh uỷ Quảng Trị", None),
    ]
