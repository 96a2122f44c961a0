"""aiosmtpd's ``Sink`` behind STARTTLS and AUTH that accepts any password: the protocol's
cost without any of the gateway's checks and storage, a second baseline for ``bench/smtp.py``.

``python -m bench.smtp_sink PORT CERT KEY PASSPHRASE_FILE`` serves until interrupted.
"""

from __future__ import annotations

import asyncio
import signal
import ssl
import sys
from pathlib import Path
from typing import Any

from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, AuthResult


def _accept_any(*_args: Any) -> AuthResult:
    return AuthResult(success=True)


async def serve(port: int, cert: Path, key: Path, passphrase: bytes) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key, passphrase)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            Sink(),
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=_accept_any,
            hostname="sink",
            loop=loop,
        ),
        "127.0.0.1",
        port,
    )
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    port, cert, key, passphrase_file = sys.argv[1:5]
    secret = Path(passphrase_file).read_text(encoding="utf-8").strip().encode()
    asyncio.run(serve(int(port), Path(cert), Path(key), secret))
