"""``[web] processes = 2``: ``congvan serve`` starts a ``congvan serve-web`` beside it, both
take connections on the one staff web port, and a member of staff signed in through either is
signed in on both, with the same form token (a page one served posts to the other). The child
serves the web only: the peer port is ``serve``'s alone, and it runs no worker but its mail
delivery and its ledger's flush. Killing ``serve`` takes the child down too."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from config.settings import load_settings
from office.node.app import start_web_process
from tests.support.cli import Cli
from tests.support.network import DemoNetwork
from tests.support.nodes import FAST
from tests.support.processes import NodeProcess, port_holders
from tests.support.web import StaffBrowser, oathtool

WEB_ENV = {**FAST, "CONGVAN_WEB_PROCESSES": "2"}
CONNECTIONS = 16
WAIT_SECONDS = 90


async def wait_until(what: str, check: object, seconds: float = WAIT_SECONDS) -> None:
    assert callable(check)
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not yet: {what}"
        await asyncio.sleep(0.3)


async def test_two_processes_share_the_web_port_and_each_serves_a_signed_in_session(
    cli: Cli, demo_network: DemoNetwork, log_dir: Path
) -> None:
    clerk = demo_network.account("TU", "clerk")
    settings = demo_network.settings("TU")
    port = settings.web.port
    base_url = f"http://{settings.web.host}:{port}"
    province = NodeProcess(cli, demo_network.node_dir("TU"), log_dir / "tu-web-2.log", WEB_ENV)
    province.start()
    browsers: list[StaffBrowser] = []
    try:
        await province.started()
        await wait_until(
            "two processes listening on the web port",
            lambda: (
                len(set(port_holders(port, "listening"))) == 2
                and province.events("web.process_ready")
            ),
        )
        listeners = set(port_holders(port, "listening"))
        assert province.pid in listeners
        # The peer API is served by `serve` alone.
        assert set(port_holders(settings.peer.port, "listening")) == {province.pid}

        first = StaffBrowser(base_url)
        browsers.append(first)
        signed = await first.sign_in(
            clerk["username"], clerk["password"], oathtool(clerk["totp_secret"])
        )
        assert signed.status == 303, signed.text
        session_cookie = first.cookie("congvan_session")
        assert session_cookie is not None
        # Each browser its own connection, all holding the one session, all open at once.
        for _ in range(CONNECTIONS):
            browser = StaffBrowser(base_url)
            browser.http.cookie_jar.update_cookies({"congvan_session": session_cookie})
            browsers.append(browser)
        pages = [await browser.get("/incoming") for browser in browsers[1:]]
        holders = set(port_holders(port, "established"))
        # The kernel spread the connections (all sixteen on one of two: odds of 1 in 32768).
        assert holders == listeners
        assert all(page.status == 200 for page in pages), [page.status for page in pages]
        assert all(f'<span class="who">{clerk["full_name"]}</span>' in page.text for page in pages)
        assert len({page.form_token for page in pages}) == 1

        # A form from any page is accepted wherever it is posted: sign out, then no process
        # knows the session.
        out = await browsers[1].post("/logout", {"csrf_token": pages[0].form_token})
        assert out.status == 303, out.text
        after = [await browser.get("/incoming") for browser in browsers[2:]]
        assert all(page.status == 303 for page in after), [page.status for page in after]

        (child,) = listeners - {province.pid}
        province.kill()

        def child_gone() -> bool:
            return (
                not Path(f"/proc/{child}").exists()
                or "Z" in Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            )

        await wait_until("the serve-web child stops when serve is killed", child_gone, 30)
    finally:
        await asyncio.gather(*(browser.http.close() for browser in browsers))
        if province.running:
            province.stop()


async def test_a_web_process_runs_no_worker_of_the_node_but_its_mail_and_ledger(
    demo_network: DemoNetwork,
) -> None:
    """The outbox, the indexer, the sweeper, reminders and reports run once, in ``serve``;
    a ``serve-web`` delivers mail (its claims take only free jobs) and flushes its own counts."""
    settings = load_settings(demo_network.node_dir("TU"), {**FAST, "CONGVAN_WEB_PROCESSES": "2"})
    node = await start_web_process(settings)
    try:
        running = sorted(task.get_coro().__qualname__ for task in node.workers)  # type: ignore[union-attr]
        assert running == ["MailDelivery.run", "UsageLedger.run"]
        assert len(node.runners) == 1  # the staff web listener, nothing else
        assert node.submission is None
    finally:
        await node.stop()
