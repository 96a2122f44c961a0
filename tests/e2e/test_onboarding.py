"""The onboarding checklist of docs/onboarding.md, run as the page writes it.

The page's ``sh`` blocks are the test's script: each line runs on the machine its heading
names (the provincial node, or the new node), as the service user, with the few things that
differ from a real network put in by :func:`substitutions`: node folders, loopback addresses
and free ports, the test's database. The province runs on PostgreSQL in the PostgreSQL pass
and on SQLite in the other, the district on SQLite, each as its own ``congvan serve``. So a
command that drifts from the program fails here, and so does one the page adds that the test
does not know how to run.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509

from tests.conftest import SecretsSeen
from tests.support.cli import CONGVAN, Cli
from tests.support.databases import DatabasePool
from tests.support.ports import free_port_block
from tests.support.processes import NodeProcess

PAGE = Path(__file__).resolve().parents[2] / "docs" / "onboarding.md"
PASSPHRASE_LINE = re.compile(r"^bundle passphrase \(shown once; [^)]*\): (\S+)$", re.MULTILINE)
SERVICE_USER = ["sudo", "-u", "congvan"]
DATABASE_PLACEHOLDER = "postgresql://congvan@/congvan"
PASSWORD = "mat-khau-quan-tri-camlo"
ARRIVAL_SECONDS = 90


@dataclass(frozen=True)
class Command:
    machine: str  # "province" or "new node"
    words: list[str]

    def __str__(self) -> str:
        return shlex.join(self.words)


def checklist(text: str) -> list[Command]:
    """Every line of the page's ``sh`` blocks, continuation lines joined, on the machine its
    nearest heading names."""
    commands: list[Command] = []
    heading = ""
    block: list[str] | None = None
    for line in text.splitlines():
        if block is None and line.startswith("#"):
            heading = line
        elif block is None and line.strip() == "```sh":
            block = []
        elif block is not None and line.strip() == "```":
            machine = "province" if "provincial node" in heading else "new node"
            joined = "\n".join(block).replace("\\\n", " ")
            commands += [
                Command(machine, shlex.split(entry))
                for entry in joined.splitlines()
                if entry.strip() and not entry.lstrip().startswith("#")
            ]
            block = None
        elif block is not None:
            block.append(line)
    return commands


@dataclass(frozen=True)
class Ran:
    command: Command
    result: subprocess.CompletedProcess[str]
    #: Whether this machine's service was running then.
    serving: bool


@dataclass
class Machine:
    """One machine of the page: its node folder, its listeners, its running service."""

    name: str
    node_dir: Path
    web_port: int
    peer_port: int
    process: NodeProcess | None = None
    #: Each ``congvan`` command of the page run here, in order.
    ran: list[Ran] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The listeners a real machine would have at 0.0.0.0:8080 and :8443."""
        return {
            "CONGVAN_WEB_HOST": "127.0.0.1",
            "CONGVAN_WEB_PORT": str(self.web_port),
            "CONGVAN_PEER_HOST": "127.0.0.1",
            "CONGVAN_PEER_PORT": str(self.peer_port),
        }

    def run_of(self, *words: str) -> Ran:
        """The page's command here that begins ``congvan WORDS``."""
        start = len(SERVICE_USER) + 1
        return next(
            ran for ran in self.ran if ran.command.words[start:][: len(words)] == list(words)
        )


def substitutions(machine: Machine, province: Machine, district: Machine) -> dict[str, str]:
    """The page's node folder, host names and ports, as this test's folders and loopback
    listeners; on ``machine``."""
    return {
        "/srv/congvan": str(machine.node_dir),
        "tu.quangtri.dcs.vn:8443": f"127.0.0.1:{province.peer_port}",
        "camlo.quangtri.dcs.vn:8443": f"127.0.0.1:{district.peer_port}",
        "tu.quangtri.dcs.vn": "127.0.0.1",
        "camlo.quangtri.dcs.vn": "127.0.0.1",
    }


def congvan_args(command: Command, table: dict[str, str], database_url: str) -> list[str]:
    """What the service user's ``congvan`` is given: the page's words, substituted; the
    database the page makes is the test's (none on SQLite)."""
    assert command.words[: len(SERVICE_USER) + 1] == [*SERVICE_USER, "congvan"], (
        f"the page runs a command other than as the service user: {command}"
    )
    args = []
    for word in command.words[len(SERVICE_USER) + 1 :]:
        for placeholder, value in table.items():
            word = word.replace(placeholder, value)
        args.append(word)
    if DATABASE_PLACEHOLDER in args:
        at = args.index(DATABASE_PLACEHOLDER)
        assert args[at - 1] == "--database-url", command
        args[at - 1 : at + 1] = ["--database-url", database_url] if database_url else []
    return args


def operator(
    cli: Cli, words: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``congvan WORDS`` as a person at a terminal-less shell runs it: in a session of its
    own, so a prompt reads standard input (as over ssh with a pipe), never a test's terminal."""
    result = subprocess.run(
        [CONGVAN, *words],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli.environment(env),
        timeout=180,
        check=False,
        start_new_session=True,
    )
    with cli.log_path.open("a", encoding="utf-8") as log:
        log.write(result.stderr)
    return result


@dataclass
class Network:
    province: Machine
    district: Machine
    bundle_passphrase: str


def run_checklist(
    cli: Cli, databases: DatabasePool, root: Path, log_dir: Path, secrets: SecretsSeen
) -> Network:
    base = free_port_block(4)
    province = Machine("province", root / "province" / "srv-congvan", base, base + 1)
    district = Machine("new node", root / "camlo" / "srv-congvan", base + 2, base + 3)
    machines = {"province": province, "new node": district}
    database_url = ""
    passphrase = ""
    for command in checklist(PAGE.read_text(encoding="utf-8")):
        machine = machines[command.machine]
        words = command.words
        if words[:2] == ["sudo", "systemctl"]:
            assert words[2:] == ["enable", "--now", "congvan"], command
            machine.process = NodeProcess(
                cli,
                machine.node_dir,
                log_dir / f"onboarding-{machine.node_dir.parent.name}.log",
                machine.env,
            )
            machine.process.start()
            asyncio.run(machine.process.started())
            continue
        if words[:3] == ["sudo", "-u", "postgres"]:
            assert words[3] in {"createuser", "createdb"}, command
            if words[3] == "createdb":
                database_url = databases.new_url("tu")
            continue
        args = congvan_args(command, substitutions(machine, province, district), database_url)
        stdin = None
        if args[0] == "init" and "--from-bundle" in args:
            # Carried from the province, as the page says, with the passphrase apart.
            machine.node_dir.mkdir(parents=True, exist_ok=True)
            for carried in province.node_dir.glob("*.bundle"):
                shutil.copy2(carried, machine.node_dir / carried.name)
            stdin = passphrase + "\n"
        elif args[:2] == ["users", "add"]:
            stdin = f"{PASSWORD}\n{PASSWORD}\n"
        result = operator(cli, args, machine.env, stdin)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        machine.ran.append(Ran(command, result, machine.process is not None))
        if args[0] == "init":
            secrets.add((machine.node_dir / "secret").read_text().strip())
        found = PASSPHRASE_LINE.search(result.stdout)
        if found:
            passphrase = found.group(1)
            secrets.add(passphrase)
    assert passphrase, "the page's onboarding printed no bundle passphrase"
    return Network(province, district, passphrase)


@pytest.fixture(scope="module")
def network(
    cli: Cli,
    databases: DatabasePool,
    tmp_path_factory: pytest.TempPathFactory,
    log_dir: Path,
    secrets_seen: SecretsSeen,
) -> Iterator[Network]:
    secrets_seen.add(PASSWORD)
    built = run_checklist(
        cli, databases, tmp_path_factory.mktemp("onboarding"), log_dir, secrets_seen
    )
    yield built
    for machine in (built.district, built.province):
        if machine.process is not None:
            machine.process.stop()


def congvan(cli: Cli, machine: Machine, *args: str | Path, check: bool = True) -> str:
    result = cli(*args, "--dir", machine.node_dir, env=machine.env, check=check)
    return result.stdout + (result.stderr if not check else "")


def arrival(cli: Cli, machine: Machine, dispatch_id: str) -> str:
    """The receiver's ``exchange list`` line of a dispatch, once it is there."""
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while time.monotonic() < deadline:
        for line in congvan(cli, machine, "exchange", "list").splitlines():
            if line.startswith(f"in  {dispatch_id} "):
                return line
        time.sleep(1)
    raise AssertionError(f"{dispatch_id} did not reach {machine.name}")


def send(cli: Cli, machine: Machine, sender: str, recipient: str, tmp_path: Path) -> str:
    document = tmp_path / f"{sender}.txt"
    document.write_text(f"Công văn của {sender} gửi {recipient}\n", encoding="utf-8")
    return congvan(
        cli,
        machine,
        "exchange",
        "send",
        "--from",
        sender,
        "--to",
        recipient,
        "--file",
        document,
        "--summary",
        f"Thử nghiệm {sender}",
    ).strip()


def test_the_page_has_both_machines_and_runs_every_command_as_the_service_user() -> None:
    commands = checklist(PAGE.read_text(encoding="utf-8"))
    assert {command.machine for command in commands} == {"province", "new node"}
    onboard = [
        command for command in commands if command.words[3:6] == ["congvan", "keys", "onboard"]
    ]
    assert onboard and onboard[0].machine == "province"
    assert all(
        command.words[:3]
        in (SERVICE_USER, ["sudo", "systemctl", "enable"], ["sudo", "-u", "postgres"])
        for command in commands
    )


def test_the_district_passes_doctor_right_after_init_before_its_first_start(
    network: Network,
) -> None:
    doctor = network.district.run_of("doctor")
    assert not doctor.serving
    assert doctor.result.stdout.rstrip().endswith("checks passed"), doctor.result.stdout
    assert "\nOK   hub TU: " in doctor.result.stdout
    assert "\nOK   directory: signed by the CA" in doctor.result.stdout
    assert network.province.run_of("doctor").result.stdout.rstrip().endswith("checks passed")


def test_the_district_keys_open_only_with_its_own_passphrase(network: Network) -> None:
    pki = network.district.node_dir / "pki"
    own = (network.district.node_dir / "secret").read_text().strip()
    assert own != network.bundle_passphrase
    for key in [pki / "node.key", *pki.glob("units/*/*.key")]:
        for passphrase, opens in ((own, True), (network.bundle_passphrase, False)):
            result = subprocess.run(
                ["openssl", "pkey", "-in", key, "-passin", "stdin", "-noout"],
                input=passphrase,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert (result.returncode == 0) is opens, (key, result.stderr)


def test_the_district_knows_every_unit_from_the_signed_directory_without_an_import(
    cli: Cli, network: Network
) -> None:
    province_units = congvan(cli, network.province, "units", "list")
    assert congvan(cli, network.district, "units", "list") == province_units
    users = congvan(cli, network.district, "users", "list")
    assert "camlo.admin" in users and "HU-CAMLO" in users


def test_a_document_goes_each_way_between_the_province_and_the_district(
    cli: Cli, network: Network, tmp_path: Path
) -> None:
    up = send(cli, network.district, "HU-CAMLO", "TU", tmp_path)
    down = send(cli, network.province, "TU", "HU-CAMLO", tmp_path)
    assert "HU-CAMLO -> TU  [accepted" in arrival(cli, network.province, up)
    assert "TU -> HU-CAMLO  [accepted" in arrival(cli, network.district, down)


COMMUNE = """
[[node]]
name = "XA-CAMTHANH"
host = "camthanh.quangtri.dcs.vn"

[[unit]]
code = "XA-CAMTHANH"
name = "Đảng uỷ xã Cam Thanh"
kind = "commune"
parent = "HU-CAMLO"
node = "XA-CAMTHANH"
mail_domain = "camthanh.quangtri.dcs.vn"
"""


def restart(machine: Machine) -> None:
    assert machine.process is not None
    machine.process.stop()
    machine.process.start()
    asyncio.run(machine.process.started())


def wait_for_event(machine: Machine, event: str, count: int) -> None:
    assert machine.process is not None
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while len(machine.process.events(event)) < count:
        assert time.monotonic() < deadline, f"no {event} in {machine.process.log_path}"
        time.sleep(0.5)


def test_a_unit_the_province_adds_reaches_the_district_with_the_directory(
    cli: Cli, network: Network, tmp_path: Path
) -> None:
    units_file = tmp_path / "camthanh.toml"
    units_file.write_text(COMMUNE, encoding="utf-8")
    congvan(cli, network.province, "units", "import", units_file)
    congvan(cli, network.province, "keys", "directory")
    assert network.district.process is not None
    refreshed = len(network.district.process.events("units.refreshed"))
    restart(network.district)  # it fetches the directory at once, then every refresh_minutes
    wait_for_event(network.district, "units.refreshed", refreshed + 1)
    listed = congvan(cli, network.district, "units", "list")
    assert re.search(r"^XA-CAMTHANH +commune +HU-CAMLO +XA-CAMTHANH ", listed, re.MULTILINE)


def test_onboarding_refuses_what_the_unit_directory_does_not_vouch_for(
    cli: Cli, network: Network, tmp_path: Path
) -> None:
    province = network.province
    common = ["--host", "127.0.0.1", "--peer-url", "https://127.0.0.1:1", "--out"]
    out = tmp_path / "refused.bundle"
    for args, words in (
        (["XA-NOWHERE", "--unit", "XA-NOWHERE"], "node XA-NOWHERE is not in the unit directory"),
        (["HU-GIOLINH", "--unit", "TU"], "unit TU is hosted by node TU"),
        (["HU-CAMLO", "--unit", "HU-CAMLO"], "HU-CAMLO already has keys"),
    ):
        said = congvan(cli, province, "keys", "onboard", *args, *common, out, check=False)
        assert said.startswith("error: ") and words in said, said
        assert not out.exists()
    node_dir = tmp_path / "never"
    wrong = operator(
        cli,
        [
            "init",
            "--dir",
            str(node_dir),
            "--from-bundle",
            str(province.node_dir / "HU-CAMLO.bundle"),
        ],
        {"CONGVAN_BUNDLE_PASSPHRASE": "not-the-bundle-passphrase"},
    )
    assert wrong.returncode == 1 and "wrong passphrase" in wrong.stderr, wrong.stderr
    assert not node_dir.exists()
    both = operator(cli, ["init", "--dir", str(node_dir), "--from-bundle", "x", "--node", "X"], {})
    assert both.returncode == 2 and "leave out --node" in both.stderr, both.stderr


def test_after_a_revocation_a_renewed_bundle_puts_the_district_back_on_the_network(
    cli: Cli, network: Network, tmp_path: Path, secrets_seen: SecretsSeen
) -> None:
    province, district = network.province, network.district
    signing = next(
        row.split()[2]
        for row in congvan(cli, province, "keys", "list").splitlines()
        if row.split()[:2] == ["HU-CAMLO", "signing"] and row.endswith("active")
    )
    congvan(cli, province, "keys", "revoke", signing, "--reason", "keyCompromise")
    passphrase_file = tmp_path / "bundle.pass"
    passphrase_file.write_text("mot-cum-tu-rat-dai-cho-goi-moi\n", encoding="utf-8")
    secrets_seen.add("mot-cum-tu-rat-dai-cho-goi-moi")
    renewed = province.node_dir / "HU-CAMLO-2.bundle"
    peer_url = f"https://127.0.0.1:{district.peer_port}"
    congvan(
        cli, province, "keys", "onboard", "HU-CAMLO", "--unit", "HU-CAMLO", "--host",
        "127.0.0.1", "--peer-url", peer_url, "--out", renewed, "--renew",
        "--bundle-passphrase-file", passphrase_file,
    )  # fmt: skip
    held = district.node_dir / "pki" / "units" / "HU-CAMLO"
    old_encryption = x509.load_pem_x509_certificate((held / "encryption.pem").read_bytes())
    shutil.copy2(renewed, district.node_dir / renewed.name)
    congvan(
        cli, district, "keys", "install", district.node_dir / renewed.name,
        "--bundle-passphrase-file", passphrase_file,
    )  # fmt: skip
    archived = held / "archive" / f"encryption-{old_encryption.serial_number:X}.key"
    assert archived.exists()  # dispatches encrypted to the old key stay readable
    restart(district)
    doctor = congvan(cli, district, "doctor")
    assert "OK   certificate HU-CAMLO signing: valid" in doctor
    assert doctor.rstrip().endswith("checks passed"), doctor
    up = send(cli, district, "HU-CAMLO", "TU", tmp_path)
    assert "HU-CAMLO -> TU  [accepted" in arrival(cli, province, up)
