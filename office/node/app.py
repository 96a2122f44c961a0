"""The composition root: build one node from its settings and run its listeners.

Everything a layer needs (settings, the session factory, the passphrase, the revocation
checker) is made here and passed down; nothing below reads settings or globals.
"""

from __future__ import annotations

import asyncio
import errno
import os
import ssl
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config import migrate
from config.blobs import BlobStorage, BlobStore
from config.database import create_engine, create_session_factory
from config.errors import ConfigError
from config.logging import bind_request_id, get_logger
from config.loops import every
from config.settings import Settings
from exchange.assembly import Exchange, build_exchange
from exchange.handlers import HandlerRegistry
from exchange.inbox import Inbox
from exchange.inbox_upkeep import InboxUpkeep
from exchange.ledger import UsageLedger
from exchange.outbox import Outbox
from exchange.peer_api import create_peer_app
from exchange.pull import Puller
from exchange.refresh import TrustRefresher
from exchange.relay import RelayDesk
from exchange.statuses import Statuses
from exchange.sweep import Sweeper
from exchange.tls import peer_client_context, peer_server_context
from keys.ca import CA_CERT_FILE
from keys.certificates import node_tls_paths
from keys.keystore import node_passphrase
from keys.publisher import TrustPublisher
from keys.throttle import throttle_policy
from mailgw.addresses import AddressBook
from mailgw.arrival import MailArrival
from mailgw.delivery import MailDelivery
from mailgw.gateway import MailGateway
from mailgw.smtp import SubmissionListener, server_context, start_submission
from office.documents import secrecy as document_secrecy
from office.documents.desk import DESK, DocumentDesk
from office.documents.workdays import WorkingCalendar
from office.metrics.admin_app import create_admin_app
from office.metrics.counters import ProcessCounters
from office.node.children import ChildProcesses
from office.node.features import FEATURES
from office.reports.live import FIGURES_KIND
from office.reports.live_exchange import LIVE, LiveExchange
from office.reports.service import REPORTS, Reports
from office.schedules import distribution as schedule_distribution
from office.web.app import create_web_app

log = get_logger("congvan.node")

#: Connections a listener lets wait for ``accept`` (the kernel caps it at ``somaxconn``).
LISTEN_BACKLOG = 4096


@dataclass
class RunningNode:
    """A started node; :meth:`stop` closes its listeners and its database."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    runners: list[web.AppRunner] = field(default_factory=list)
    #: Layers above register what a received dispatch of each kind means.
    handlers: HandlerRegistry = field(default_factory=HandlerRegistry)
    inbox: Inbox | None = None
    outbox: Outbox | None = None
    statuses: Statuses | None = None
    ledger: UsageLedger | None = None
    refresher: TrustRefresher | None = None
    puller: Puller | None = None
    relay: RelayDesk | None = None
    sweeper: Sweeper | None = None
    upkeep: InboxUpkeep | None = None
    publisher: TrustPublisher | None = None
    desk: DocumentDesk | None = None
    mail: MailGateway | None = None
    delivery: MailDelivery | None = None
    submission: SubmissionListener | None = None
    reports: Reports | None = None
    live: LiveExchange | None = None
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    #: The ``congvan serve-smtp`` and ``serve-web`` children sharing the SMTP and staff web
    #: ports (``[smtp] processes``, ``[web] processes``).
    children: list[ChildProcesses] = field(default_factory=list)
    #: What only this process sees (SMTP connections), for the admin listener's /metrics.
    counters: ProcessCounters = field(default_factory=ProcessCounters)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def start_workers(self) -> None:
        """Background jobs: trust refresh from the hub, the outbox's delivery loop, the inbox's
        sweep of expired offers, the search index's PDF texts, and once, handing over what was
        accepted but not handled before the last stop."""
        if self.upkeep is not None:
            self.workers.append(asyncio.create_task(self._hand_over_pending(self.upkeep)))
        if self.refresher is not None:
            self.workers.append(asyncio.create_task(self.refresher.run(self.stopping)))
        if self.outbox is not None:
            self.workers.append(asyncio.create_task(self.outbox.run(self.stopping)))
        if self.puller is not None:
            self.workers.append(asyncio.create_task(self.puller.run(self.stopping)))
        if self.publisher is not None:
            interval = self.settings.exchange.refresh_minutes * 60
            self.workers.append(asyncio.create_task(self.publisher.run(self.stopping, interval)))
        if self.sweeper is not None:
            sweep_seconds = self.settings.exchange.sweep_seconds
            self.workers.append(asyncio.create_task(self.sweeper.run(self.stopping, sweep_seconds)))
        if self.desk is not None:
            self.workers.append(asyncio.create_task(self.desk.indexer.run(self.stopping)))
            reminder_seconds = self.settings.office.reminder_minutes * 60
            self.workers.append(
                asyncio.create_task(
                    every(
                        self.stopping,
                        reminder_seconds,
                        self.desk.remind,
                        event="document.reminders_failed",
                    )
                )
            )
        if self.delivery is not None:
            self.workers.append(asyncio.create_task(self.delivery.run(self.stopping)))
        if self.reports is not None:
            self.workers.append(
                asyncio.create_task(
                    every(
                        self.stopping,
                        self.settings.reports.check_minutes * 60,
                        self.reports.send_due,
                        event="report.send_failed",
                    )
                )
            )
        if self.live is not None and self.settings.reports.figures_minutes:
            # Woken as each slot begins: every process of the node wakes then, and the slot's
            # dispatch id makes their sends one.
            self.workers.append(
                asyncio.create_task(
                    every(
                        self.stopping,
                        self.live.seconds_to_next_slot,
                        self.live.send_due,
                        event="figures.send_failed",
                    )
                )
            )
        if self.ledger is not None:
            rollup_seconds = self.settings.exchange.rollup_minutes * 60
            self.workers.append(asyncio.create_task(self.ledger.run(self.stopping, rollup_seconds)))

    @property
    def web_url(self) -> str:
        return self.settings.web.public_url or (
            f"{'https' if self.settings.web.tls_cert else 'http'}://"
            f"{self.settings.web.host}:{self.settings.web.port}"
        )

    @property
    def peer_url(self) -> str:
        return self.settings.peer.public_url or (
            f"https://{self.settings.peer.host}:{self.settings.peer.port}"
        )

    @staticmethod
    async def _hand_over_pending(upkeep: InboxUpkeep) -> None:
        bind_request_id()
        count = await upkeep.hand_over_pending()
        if count:
            log.info("dispatch.handed_over_after_restart", count=count)

    def start_mail_workers(self) -> None:
        """What a ``congvan serve-smtp`` or ``serve-web`` process runs besides its listener: its
        delivery worker, and the ledger's flush of what it counted."""
        assert self.delivery is not None and self.ledger is not None
        self.workers.append(asyncio.create_task(self.delivery.run(self.stopping)))
        rollup_seconds = self.settings.exchange.rollup_minutes * 60
        self.workers.append(asyncio.create_task(self.ledger.run(self.stopping, rollup_seconds)))

    async def stop(self) -> None:
        """Listeners first (nothing new arrives), then the workers (the ledger flushes last)."""
        for children in self.children:
            await children.stop()
        self.children.clear()
        if self.submission is not None:
            await self.submission.stop()
            self.submission = None
        if self.relay is not None:  # pull nodes' questions held open are answered now
            self.relay.waiters.close()
        for runner in reversed(self.runners):
            await runner.cleanup()
        self.runners.clear()
        self.stopping.set()
        for result in await asyncio.gather(*self.workers, return_exceptions=True):
            if isinstance(result, Exception):
                log.error("worker.failed", error=f"{type(result).__name__}: {result}")
        self.workers.clear()
        await self.engine.dispose()
        log.info("node.stopped", node=self.settings.node.name)


def build_desk(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], exchange: Exchange
) -> DocumentDesk:
    office = settings.office
    calendar = WorkingCalendar.vietnam(
        extra_days_off=[date.fromisoformat(day) for day in office.extra_days_off],
        extra_working_days=[date.fromisoformat(day) for day in office.extra_working_days],
    )
    return DocumentDesk(
        sessions,
        BlobStore(settings.blob_dir),
        calendar,
        office,
        exchange.statuses,
        exchange.directory,
        trust_roots=(exchange.keyring.ca_certificate,),
        revocation=exchange.revocation,
    )


def build_mail(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    exchange: Exchange,
    blobs: BlobStorage,
) -> tuple[MailGateway, MailDelivery]:
    smtp = settings.smtp
    gateway = MailGateway(
        sessions,
        blobs,
        AddressBook(exchange.directory, settings.node.units),
        smtp,
        exchange.durable,
        exchange.ledger,
        throttle=throttle_policy(settings.web),
        secrecy=exchange.secrecy,
    )
    delivery = MailDelivery(
        gateway,
        settings.path(smtp.maildir),
        exchange.outbox,
        poll_seconds=smtp.poll_seconds,
        retry_max=smtp.retry_max,
        lease_seconds=smtp.lease_seconds,
    )
    return gateway, delivery


async def _start_submission(
    settings: Settings, gateway: MailGateway, passphrase: bytes, counters: ProcessCounters
) -> SubmissionListener:
    smtp = settings.smtp
    if smtp.tls_cert:
        cert, key = settings.path(smtp.tls_cert), settings.path(smtp.tls_key)
    else:
        cert, key = node_tls_paths(settings.pki_dir)
    hostname = smtp.hostname or settings.node.name.lower()
    with port_settings("smtp", smtp.host, smtp.port):
        return await start_submission(
            gateway,
            smtp,
            server_context(cert, key, passphrase),
            hostname,
            on_session=counters.smtp_session_opened,
        )


def _web_ssl(settings: Settings, passphrase: bytes) -> ssl.SSLContext | None:
    if not settings.web.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(
        settings.path(settings.web.tls_cert), settings.path(settings.web.tls_key), passphrase
    )
    return context


async def _check_schema(engine: AsyncEngine) -> None:
    current, head = await migrate.current_revision(engine), migrate.head_revision()
    if current != head:
        raise ConfigError(
            f"config error: database is at revision {current or 'none'}, the code needs {head}: "
            "run `congvan db upgrade`"
        )


def _check_identity(settings: Settings) -> None:
    cert_path, _key = node_tls_paths(settings.pki_dir)
    for needed, remedy in (
        (settings.pki_dir / CA_CERT_FILE, "copy the provincial CA certificate there"),
        (cert_path, f"ask the CA for one: `congvan keys issue-node {settings.node.name}`"),
    ):
        if not needed.exists():
            raise ConfigError(f"config error: {needed} is missing: {remedy}")


async def _opened(
    settings: Settings, build: Callable[[RunningNode, bytes], Awaitable[None]]
) -> RunningNode:
    """A node whose database is open with its schema checked and whose identity is in place,
    then built and listening by ``build``; stopped again if any of it fails."""
    passphrase = node_passphrase(settings)
    engine = create_engine(settings)
    node = RunningNode(settings, engine, create_session_factory(engine))
    try:
        await _check_schema(engine)
        _check_identity(settings)
        await build(node, passphrase)
    except BaseException:
        await node.stop()
        raise
    return node


async def start_node(settings: Settings) -> RunningNode:
    """Open the database, check its schema, build the node's parts, serve its listeners."""

    async def build(node: RunningNode, passphrase: bytes) -> None:
        exchange = await build_parts(node, passphrase)
        # Only here: a ``serve-web`` child starting beside a running node must not take over
        # the hand-overs that node's inbox is making.
        assert node.upkeep is not None
        await node.upkeep.recover()
        await serve_listeners(node, exchange, passphrase)

    node = await _opened(settings, build)
    node.start_workers()
    if settings.smtp.enabled and settings.smtp.processes > 1:
        node.children.append(ChildProcesses(settings.node_dir, settings.smtp.processes - 1, "smtp"))
    if settings.web.processes > 1:
        node.children.append(ChildProcesses(settings.node_dir, settings.web.processes - 1, "web"))
    for children in node.children:
        children.start()
    log.info("node.started", node=settings.node.name, web=node.web_url, peer=node.peer_url)
    return node


async def start_smtp_process(settings: Settings) -> RunningNode:
    """One more process taking mail on the node's SMTP port (:mod:`office.node.children`):
    the mail gateway with the checks ``serve`` makes (the secrecy of a document's files
    included), its listener, its delivery worker; nothing else of the node."""
    if not settings.smtp.enabled:
        raise ConfigError("config error: [smtp] enabled = false: there is no SMTP port to share")

    async def build(node: RunningNode, passphrase: bytes) -> None:
        exchange = build_exchange(settings, node.sessions, passphrase, node.handlers)
        node.ledger = exchange.ledger
        exchange.secrecy.watch_files(document_secrecy.files_level(node.sessions))
        node.mail, node.delivery = build_mail(
            settings, node.sessions, exchange, BlobStore(settings.blob_dir)
        )
        node.submission = await _start_submission(settings, node.mail, passphrase, node.counters)

    node = await _opened(settings, build)
    node.start_mail_workers()
    log.info("smtp.process_ready", node=settings.node.name)
    return node


async def start_web_process(settings: Settings) -> RunningNode:
    """One more process serving the staff web on the node's port (:mod:`office.node.children`):
    the parts its pages use, built as ``serve`` builds them, its listener, its delivery worker
    and its ledger's flush; not the peer API, the outbox, the indexer nor any other worker,
    which the ``serve`` process runs once for the node."""

    async def build(node: RunningNode, passphrase: bytes) -> None:
        exchange = await build_parts(node, passphrase)
        await _serve_web(node, exchange, passphrase, shared=True)

    node = await _opened(settings, build)
    node.start_mail_workers()
    log.info("web.process_ready", node=settings.node.name)
    return node


async def build_parts(node: RunningNode, passphrase: bytes) -> Exchange:
    """The exchange, the document desk, the mail gateway and the reports, wired to the kinds of
    dispatch each receives (nothing started: ``serve`` recovers the inbox's hand-overs and
    starts the workers)."""
    settings = node.settings
    exchange = build_exchange(settings, node.sessions, passphrase, node.handlers)
    node.inbox, node.outbox, node.statuses = exchange.inbox, exchange.outbox, exchange.statuses
    node.ledger, node.puller, node.sweeper = exchange.ledger, exchange.puller, exchange.sweeper
    node.relay = exchange.relay
    node.upkeep = exchange.upkeep
    node.desk = build_desk(settings, node.sessions, exchange)
    node.handlers.register("document", node.desk.receive)
    # No secret document's file leaves this node, whatever dispatch would carry it.
    exchange.secrecy.watch_files(document_secrecy.files_level(node.sessions))
    node.mail, node.delivery = build_mail(settings, node.sessions, exchange, node.desk.blobs)
    node.handlers.register("mail", MailArrival(node.mail).receive)
    node.handlers.register(
        "schedule",
        schedule_distribution.receive,
        admission=schedule_distribution.admission(exchange.directory),
    )
    node.reports = Reports(
        node.sessions,
        settings.reports,
        settings.node.units,
        directory=exchange.directory,
        outbox=exchange.outbox,
        ledger=exchange.ledger,
    )
    node.handlers.register("report", node.reports.receive)
    node.live = LiveExchange(node.reports)
    node.handlers.register(FIGURES_KIND, node.live.receive)
    exchange.sweeper.retention.keep(
        FIGURES_KIND, timedelta(days=settings.reports.figures_keep_days)
    )
    if settings.node.hub:
        node.publisher = TrustPublisher(settings, node.sessions, passphrase)
    if settings.exchange.hub_url and not settings.node.hub:
        node.refresher = TrustRefresher(
            ca_certificate=exchange.keyring.ca_certificate,
            hub_url=settings.exchange.hub_url,
            client_context=peer_client_context(settings, passphrase),
            directory_file=settings.directory_file,
            crl_file=settings.crl_file,
            interval_seconds=settings.exchange.refresh_minutes * 60,
            sessions=node.sessions,
        )
    return exchange


def build_staff_app(node: RunningNode, exchange: Exchange, passphrase: bytes) -> web.Application:
    """The staff web app with every feature, and the services their pages use."""
    settings = node.settings
    assert node.desk is not None, "build_parts made the desk"
    app = create_web_app(
        settings.node.name,
        node.sessions,
        exchange.ledger,
        settings.web,
        passphrase,
        FEATURES,
        hosted_units=settings.node.units,
        mail=node.mail,
        ca_pem=(settings.pki_dir / CA_CERT_FILE).read_bytes(),
    )
    app[DESK] = node.desk
    if node.reports is not None:
        app[REPORTS] = node.reports
    if node.live is not None:
        app[LIVE] = node.live
    return app


async def serve_listeners(node: RunningNode, exchange: Exchange, passphrase: bytes) -> None:
    """The staff web, the peer API, SMTP submission and the admin listener, as configured."""
    settings = node.settings
    await _serve_web(node, exchange, passphrase, shared=settings.web.processes > 1)
    await _serve(
        node,
        "peer",
        create_peer_app(
            settings.node.name,
            exchange.revocation,
            exchange.inbox,
            exchange.durable,
            settings.ca_dir if settings.node.hub else None,
            exchange.relay,
        ),
        settings.peer.host,
        settings.peer.port,
        peer_server_context(settings, passphrase),
    )
    if settings.smtp.enabled:
        assert node.mail is not None
        node.submission = await _start_submission(settings, node.mail, passphrase, node.counters)
    if settings.admin.enabled:
        await _serve(
            node,
            "admin",
            create_admin_app(node.sessions, exchange.revocation, node.counters),
            settings.admin.host,
            settings.admin.port,
            None,
        )


async def _serve_web(
    node: RunningNode, exchange: Exchange, passphrase: bytes, *, shared: bool
) -> None:
    """The staff web listener; ``shared`` (``[web] processes`` past one): bound with
    SO_REUSEPORT, so the node's other web processes take connections on the port too. A lone
    listener binds without it, so a second ``serve`` of the node still fails on the port."""
    settings = node.settings
    await _serve(
        node,
        "web",
        build_staff_app(node, exchange, passphrase),
        settings.web.host,
        settings.web.port,
        _web_ssl(settings, passphrase),
        reuse_port=shared,
    )


@contextmanager
def port_settings(section: str, host: str, port: int) -> Iterator[None]:
    """A port another program holds is a setting to change: one line says which, not a
    traceback of the event loop's."""
    try:
        yield
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
            raise
        raise ConfigError(
            f"config error: [{section}] port = {port}: cannot listen on {host}:{port} "
            f"({os.strerror(error.errno)}): another program, or another `congvan serve` of this "
            "node, holds it; stop it or choose another port"
        ) from None


async def _serve(
    node: RunningNode,
    section: str,
    app: web.Application,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    *,
    reuse_port: bool = False,
) -> None:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    node.runners.append(runner)
    # Thousands of communes connect at once when the hub comes back: aiohttp's backlog of
    # 128 dropped their connections while the hub was busy with the first handshakes.
    site = web.TCPSite(
        runner,
        host,
        port,
        ssl_context=ssl_context,
        reuse_address=True,
        reuse_port=reuse_port or None,
        backlog=LISTEN_BACKLOG,
    )
    with port_settings(section, host, port):
        await site.start()
