"""Build a node's exchange parts from its settings: used by the running node and the CLI, so
both hold the same keys, trust and directory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.durability import DurableCommits
from config.settings import Settings
from exchange.handlers import HandlerRegistry
from exchange.inbox import Inbox
from exchange.inbox_upkeep import InboxUpkeep
from exchange.ledger import UsageLedger
from exchange.outbox import Outbox
from exchange.pull import Puller
from exchange.relay import RelayDesk
from exchange.retention import Retention
from exchange.secrecy import SecrecyPolicy
from exchange.statuses import Statuses
from exchange.sweep import Sweeper
from exchange.tls import peer_client_context
from keys.keyring import Keyring, load_keyring
from keys.revocation import RevocationChecker
from keys.signed_directory import SignedDirectory
from keys.trust import TrustStore

SPOOL_DIR = "spool"


@dataclass(frozen=True)
class Exchange:
    keyring: Keyring
    revocation: RevocationChecker
    directory: SignedDirectory
    inbox: Inbox
    outbox: Outbox
    statuses: Statuses
    ledger: UsageLedger
    #: The hub's store-and-forward desk; None on other nodes.
    relay: RelayDesk | None
    #: Fetches from the hub when the directory marks this node ``pull``; None on the hub.
    puller: Puller | None
    upkeep: InboxUpkeep
    sweeper: Sweeper
    #: What every answer that promises (a receipt, a 250) waits for.
    durable: DurableCommits
    #: How secret a dispatch may be to leave this node or to be taken in from another.
    secrecy: SecrecyPolicy


def build_exchange(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    passphrase: bytes,
    handlers: HandlerRegistry,
) -> Exchange:
    keyring = load_keyring(settings, passphrase)
    revocation = RevocationChecker(keyring.ca_certificate, settings.crl_file)
    trust = TrustStore(keyring.ca_certificate, revocation)
    directory = SignedDirectory(keyring.ca_certificate, settings.directory_file)
    spool = settings.node_dir / SPOOL_DIR
    durable = DurableCommits.for_settings(settings)
    ledger = UsageLedger(sessions)
    secrecy = SecrecyPolicy(settings.office.max_secrecy_on_network, settings.node.name)
    inbox = Inbox(
        sessions=sessions,
        keyring=keyring,
        trust=trust,
        directory=directory,
        handlers=handlers,
        spool=spool / "in",
        max_bytes=settings.exchange.max_dispatch_bytes,
        max_open_offers=settings.exchange.max_open_offers_per_peer,
        verify_lease_seconds=settings.exchange.verify_lease_seconds,
        secrecy=secrecy,
        ledger=ledger,
    )
    client_context = peer_client_context(settings, passphrase)
    outbox = Outbox(
        sessions=sessions,
        keyring=keyring,
        directory=directory,
        trust=trust,
        spool=spool / "out",
        settings=settings.exchange,
        client_context=client_context,
        secrecy=secrecy,
        ledger=ledger,
    )
    statuses = Statuses(outbox)
    statuses.register(handlers)
    upkeep = InboxUpkeep(inbox, settings.exchange.offer_expiry_seconds)
    relay, puller = None, None
    if settings.node.hub:
        relay = RelayDesk(
            sessions=sessions,
            directory=directory,
            trust=trust,
            outbox=outbox,
            max_bytes=settings.exchange.max_dispatch_bytes,
            upload_expiry_seconds=settings.exchange.offer_expiry_seconds,
            pull_wait_seconds=settings.exchange.pull_wait_seconds,
        )
    else:
        puller = Puller(
            inbox=inbox,
            directory=directory,
            node_name=settings.node.name,
            client_context=client_context,
            settings=settings.exchange,
            durable=durable,
        )
    return Exchange(
        keyring,
        revocation,
        directory,
        inbox,
        outbox,
        statuses,
        ledger,
        relay,
        puller,
        upkeep,
        Sweeper(upkeep, relay, outbox, Retention(sessions, inbox.folder, outbox.folder)),
        durable,
        secrecy,
    )
