"""Dovecot, Debian's IMAP server, serving a node's Maildir and signing staff in through
``congvan mail checkpassword``, set up as docs/mail.md tells an operator, but without root.

Every Dovecot process runs as one unprivileged user that owns the node's files, as the
``congvan`` user does on a server: the tests' own user, or, when the tests run as root (CI),
``nobody`` inside a user namespace where the tests' root is that ``nobody``. Dovecot then has
no privilege at all (it refuses to serve mail as root), and reads and writes the node's Maildir
as its owner.
"""

from __future__ import annotations

import getpass
import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from keys.passwords import TEST_HASHING_VARIABLE
from tests.support.cli import CONGVAN
from tests.support.ports import free_port_block

#: Debian's dovecot-core puts it in /usr/sbin, which a user's PATH may leave out.
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
STARTUP_SECONDS = 30
STOP_SECONDS = 30


def installed() -> bool:
    return Path(DOVECOT).exists() and Path("/usr/lib/dovecot/imap").exists()


@dataclass(frozen=True)
class RunAs:
    """Who the Dovecot processes are (their user and group names, inside the namespace when
    there is one), and the command prefix that makes them so."""

    user: str
    group: str
    prefix: tuple[str, ...]


def run_as() -> RunAs:
    if os.geteuid() != 0:
        return RunAs(pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name, ())
    nobody = pwd.getpwnam("nobody")
    prefix = (
        "unshare",
        "--user",
        f"--map-user={nobody.pw_uid}",
        f"--map-group={nobody.pw_gid}",
    )
    return RunAs(nobody.pw_name, grp.getgrgid(nobody.pw_gid).gr_name, prefix)


def configuration(
    settings: Settings, folder: Path, log: Path, port: int, who: RunAs, key_config: Path
) -> str:
    """docs/mail.md's dovecot.conf with this node's paths, on loopback, without root."""
    maildir = settings.path(settings.smtp.maildir)
    hashing = os.environ.get(TEST_HASHING_VARIABLE, "")
    return f"""# docs/mail.md's dovecot.conf, run without root (tests/support/dovecot.py).
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {log}
default_internal_user = {who.user}
default_internal_group = {who.group}
default_login_user = {who.user}
# What checkpassword needs of the tests' environment (docs/mail.md: import_environment): their
# cheap argon2 parameters, and PostgreSQL's role, the tests' user (the namespace renames it).
import_environment = {TEST_HASHING_VARIABLE}={hashing} PGUSER={getpass.getuser()}

ssl = required
ssl_cert = <{settings.pki_dir}/node.pem
ssl_key = <{settings.pki_dir}/node.key
!include {key_config}
ssl_min_protocol = TLSv1.2
ssl_prefer_server_ciphers = yes

disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_username_format = %Lu
auth_verbose = yes

passdb {{
  driver = checkpassword
  args = {CONGVAN} mail checkpassword --dir {settings.node_dir}
}}
userdb {{
  driver = static
  args = uid={who.user} gid={who.group} home={maildir}/%u
}}
mail_location = maildir:~
first_valid_uid = 100

namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
}}

service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
  # Without root there is no chroot.
  chroot =
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """One Dovecot serving ``settings``' node on 127.0.0.1:``port`` (IMAPS); it logs to
    ``log``, a file the secrets guard reads."""

    def __init__(self, settings: Settings, folder: Path, log: Path) -> None:
        self.port = free_port_block(1)
        self.log = log
        self.who = run_as()
        folder.mkdir(parents=True, exist_ok=True)
        # The node key's passphrase, in a file of its own as docs/mail.md keeps it.
        private = folder / "private"
        private.mkdir(mode=0o700)
        key_config = private / "congvan-key.conf"
        passphrase = (settings.node_dir / "secret").read_text(encoding="utf-8").strip()
        key_config.write_text(f"ssl_key_password = {passphrase}\n", encoding="utf-8")
        key_config.chmod(0o600)
        self.config = folder / "dovecot.conf"
        self.config.write_text(
            configuration(settings, folder, log, self.port, self.who, key_config),
            encoding="utf-8",
        )
        with log.open("ab") as output:
            self._process = subprocess.Popen(
                [*self.who.prefix, DOVECOT, "-F", "-c", str(self.config)],
                stdout=output,
                stderr=output,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AssertionError(f"dovecot exited {self._process.returncode}; see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"dovecot did not listen in time; see {self.log}")

    def stop(self) -> None:
        """SIGTERM: the master stops its processes and exits."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=STOP_SECONDS)
