"""Debian's Postfix as a submission server, the baseline ``bench/smtp.py`` measures the gateway
against: what an operator would otherwise install, configured for the same job.

A listener on a loopback port that requires STARTTLS before anything (``encrypt``), SASL AUTH
through a Dovecot of its own (a passwd-file with an argon2id hash, as our app passwords are),
the sender's address tied to the login, no relay beyond the local domain, the same size limit,
and delivery by Postfix's ``virtual`` agent to a Maildir under a uid of our choosing (Postfix
will not deliver as root). Postfix's own fsyncs are left as they are: the queue file before
the 250, the Maildir file before the queue file is removed.

Everything lives in one scratch directory: its own ``config_directory``, queue, data
directory, Dovecot's run and state folders, the logs. Installed when missing
(``apt-get install postfix dovecot-core``, with Postfix preseeded to "No configuration" so it
writes no system-wide setup); the bench runs as root, as installing and starting Postfix need.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

POSTFIX = "/usr/sbin/postfix"
DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
#: The uid and gid Postfix's ``virtual`` agent delivers as.
MAIL_USER = "nobody"
STARTUP_SECONDS = 30

MASTER_CF = """\
# service type private unpriv chroot wakeup maxproc command
{listen} inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
local     unix - n n - - local
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
pickup    unix n - n 60 1 pickup
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.invalid
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
alias_maps =
alias_database =
message_size_limit = {size_limit}

smtpd_tls_security_level = encrypt
smtpd_tls_cert_file = {root}/tls/cert.pem
smtpd_tls_key_file = {root}/tls/key.pem
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_client_restrictions = permit_sasl_authenticated, reject
smtpd_sender_login_maps = texthash:{root}/conf/senders
smtpd_sender_restrictions = reject_sender_login_mismatch
smtpd_relay_restrictions = reject_unauth_destination

virtual_mailbox_domains = {domain}
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = texthash:{root}/conf/mailboxes
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
"""

DOVECOT_CONF = """\
protocols =
listen = 127.0.0.1
base_dir = {root}/dovecot/run
state_dir = {root}/dovecot/state
log_path = {root}/dovecot.log
ssl = no
# Postfix asks over a unix socket, after its own STARTTLS.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
passdb {{
  driver = passwd-file
  args = {root}/dovecot/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group}
}}
service auth {{
  unix_listener {root}/queue/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    address: str


def install() -> None:
    """Debian's packages, when missing; "No configuration": nothing system-wide starts."""
    if Path(POSTFIX).exists() and Path(DOVECOT).exists():
        return
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["debconf-set-selections"],
        input=b"postfix postfix/main_mailer_type select No configuration\n",
        check=True,
    )
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "postfix", "dovecot-core"],
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _postfix(root: Path, *command: str) -> None:
    """``postfix -c``; it reports only to a terminal or syslog, so its log file says why it
    failed."""
    done = subprocess.run(
        [POSTFIX, "-c", str(root / "conf"), *command], capture_output=True, check=False
    )
    if done.returncode != 0:
        log = root / "postfix.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"postfix {' '.join(command)} failed: {tail}")


class Postfix:
    """Postfix and its Dovecot, serving ``domain``'s ``mailboxes`` on 127.0.0.1:``port``."""

    def __init__(
        self,
        root: Path,
        port: int,
        domain: str,
        senders: list[Account],
        mailboxes: list[str],
        cert: Path,
        key: Path,
        passphrase: bytes,
        size_limit: int,
    ) -> None:
        self.root = root
        self.port = port
        self.domain = domain
        self._dovecot: subprocess.Popen[bytes] | None = None
        user = pwd.getpwnam(MAIL_USER)
        self._uid, self._gid = user.pw_uid, user.pw_gid
        for folder in ("conf", "queue", "data", "mail", "tls", "dovecot/run", "dovecot/state"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        # The daemons run as postfix, dovecot and nobody: they must reach their folders.
        root.chmod(0o755)
        os.chown(root / "data", pwd.getpwnam("postfix").pw_uid, -1)
        os.chown(root / "mail", self._uid, self._gid)
        (root / "tls").chmod(0o700)
        # The node's own certificate and key (Postfix reads no encrypted key), read by smtpd
        # as root before it drops privileges.
        shutil.copyfile(cert, root / "tls" / "cert.pem")
        private = serialization.load_pem_private_key(key.read_bytes(), passphrase)
        clear = root / "tls" / "key.pem"
        clear.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        clear.chmod(0o600)
        conf = root / "conf"
        (conf / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{port}"))
        (conf / "main.cf").write_text(
            MAIN_CF.format(
                root=root, domain=domain, uid=self._uid, gid=self._gid, size_limit=size_limit
            )
        )
        (conf / "senders").write_text(
            "".join(f"{account.address} {account.username}\n" for account in senders)
        )
        (conf / "mailboxes").write_text(
            "".join(f"{address} {self._folder_name(address)}/\n" for address in mailboxes)
        )
        for address in mailboxes:
            for sub in ("tmp", "new", "cur"):
                made = self.maildir(address) / sub
                made.mkdir(parents=True, exist_ok=True)
                for owned in (made.parent, made):
                    os.chown(owned, self._uid, self._gid)
        passwd = root / "dovecot" / "passwd"
        passwd.write_text("".join(f"{a.username}:{self._hash(a.password)}\n" for a in senders))
        passwd.chmod(0o600)
        os.chown(passwd, pwd.getpwnam("dovecot").pw_uid, -1)
        (root / "dovecot" / "dovecot.conf").write_text(
            DOVECOT_CONF.format(root=root, user=MAIL_USER, group=self._gid)
        )

    @staticmethod
    def _folder_name(address: str) -> str:
        return address.split("@")[0]

    @staticmethod
    def _hash(password: str) -> str:
        """Dovecot's argon2id (libsodium's defaults: 64 MiB, 3 passes)."""
        done = subprocess.run(
            [DOVEADM, "pw", "-s", "ARGON2ID", "-p", password],
            capture_output=True,
            check=True,
            text=True,
        )
        return done.stdout.strip()

    def maildir(self, address: str) -> Path:
        return self.root / "mail" / self._folder_name(address)

    def start(self) -> None:
        _postfix(self.root, "check")  # makes the queue's folders, the auth socket's among them
        with (self.root / "dovecot.err").open("wb") as errors:
            # In the foreground (-F): a daemon would keep any pipe given to it open.
            self._dovecot = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.root / "dovecot" / "dovecot.conf")],
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        socket_file = self.root / "queue" / "private" / "auth"
        while not socket_file.exists():
            if self._dovecot.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not start; see {self.root}/dovecot.err")
            time.sleep(0.1)
        _postfix(self.root, "start")

    def stop(self) -> None:
        try:
            if (self.root / "queue" / "pid" / "master.pid").exists():
                _postfix(self.root, "stop")
        finally:
            if self._dovecot is not None and self._dovecot.poll() is None:
                self._dovecot.terminate()
                self._dovecot.wait(STARTUP_SECONDS)

    def master_pids(self) -> list[int]:
        """Postfix's master and Dovecot's: every process of this instance descends from one."""
        master = self.root / "queue" / "pid" / "master.pid"
        pids = [int(master.read_text().split()[0])] if master.exists() else []
        return pids + ([self._dovecot.pid] if self._dovecot is not None else [])
