"""Mail addresses of the network: ``username@<unit mail domain>``, and the admin's aliases.

The signed directory says which domain is which unit's and which node hosts it, so the gateway
knows, for every recipient, whether it is ours (deliver here), another unit's (send as a
``mail`` dispatch), or outside the network (refuse: we are no open relay).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Collection
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from keys.models import User
from keys.signed_directory import DirectoryUnit, SignedDirectory
from mailgw.models import MailAlias

#: How long an answer about a recipient address is kept, and how many are.
CACHE_SECONDS = 10.0
CACHE_ENTRIES = 10_000
#: How many addresses' normal forms are kept (:func:`normalise`).
NORMALISED_KEPT = 4096


@dataclass(frozen=True)
class Mailbox:
    """A user of this node, as mail knows them."""

    user_id: int
    username: str
    full_name: str
    unit: str
    address: str
    #: Every address they may send as: their own and their aliases.
    addresses: frozenset[str]

    def may_send_as(self, address: str) -> bool:
        return normalise(address) in self.addresses

    @property
    def header_address(self) -> str:
        """``"Văn thư <vanthu.tu@tinhuy…>"`` for a From: header."""
        return str(Address(self.full_name, addr_spec=self.address))


@functools.lru_cache(maxsize=NORMALISED_KEPT)
def normalise(address: str) -> str:
    """Lower case, surrounding ``<>`` and blanks dropped: the form addresses are compared in.
    Kept for the last addresses: each message's sender and recipients are normalised several
    times over (RCPT, the sender checks, the queue row, the delivery), by the email package's
    parser each time."""
    return (parseaddr(address.strip())[1] or address.strip()).lower()


def split(address: str) -> tuple[str, str]:
    local, at, domain = normalise(address).rpartition("@")
    return (local, domain) if at else (domain, "")


class AddressBook:
    """Answers "whose address is this?" from the signed directory and this node's accounts."""

    def __init__(
        self,
        directory: SignedDirectory,
        hosted_units: Collection[str],
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.directory = directory
        self.hosted_units = tuple(hosted_units)
        self.cache_seconds = cache_seconds
        #: address -> (when looked up, whose it was): every RCPT and every delivery asks.
        self._recipients: dict[str, tuple[float, Mailbox | None]] = {}
        #: address -> the look-up under way: those who ask meanwhile wait for its answer.
        self._looking: dict[str, asyncio.Future[Mailbox | None]] = {}

    def unit_of(self, address: str) -> DirectoryUnit | None:
        """The unit whose mail domain the address is in; None outside the network."""
        _local, domain = split(address)
        return self.directory.unit_with_mail_domain(domain)

    def is_local(self, unit: DirectoryUnit) -> bool:
        return unit.code in self.hosted_units

    def address_of(self, username: str, unit_code: str) -> str:
        return f"{username}@{self.directory.unit(unit_code).mail_domain.lower()}"

    async def mailbox(self, session: AsyncSession, username: str) -> Mailbox | None:
        """The account of this node named so, with its addresses; None if there is none, or
        it is disabled."""
        user = await session.scalar(
            select(User).where(
                User.username == username,
                User.unit_code.in_(self.hosted_units),
                User.disabled.is_(False),
            )
        )
        if user is None:
            return None
        own = self.address_of(user.username, user.unit_code)
        aliases = await session.scalars(
            select(MailAlias.address).where(MailAlias.user_id == user.id)
        )
        return Mailbox(
            user.id,
            user.username,
            user.full_name,
            user.unit_code,
            own,
            frozenset((own, *aliases)),
        )

    async def local_recipient(
        self, sessions: async_sessionmaker[AsyncSession], address: str
    ) -> Mailbox | None:
        """The account (of this node) that mail to ``address`` reaches: by alias, or by
        username in the unit of the address's domain. Answers are kept ``cache_seconds``, so a
        new alias or a disabled account takes effect for mail within that time. A kept answer
        opens no session: every RCPT and every delivery asks, and a session's opening and
        closing cost more than the answer. One look-up an address at a time: when an answer
        ran out, the twenty clients' RCPTs and the delivery batch asking at that moment each
        looked it up again (a third of a process's CPU at 25 messages/s)."""
        wanted = normalise(address)
        cached = self._recipients.get(wanted)
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        looking = self._looking.get(wanted)
        if looking is None:
            looking = asyncio.ensure_future(self._look_up_and_keep(sessions, wanted))
            self._looking[wanted] = looking
            looking.add_done_callback(functools.partial(self._looked_up, wanted))
        # One asker that gives up (a client hanging up) does not cancel it for the others.
        return await asyncio.shield(looking)

    def _looked_up(self, wanted: str, looking: asyncio.Future[Mailbox | None]) -> None:
        """The next asker looks again; a failure every asker gave up on is not reported as
        never retrieved."""
        self._looking.pop(wanted, None)
        if not looking.cancelled():
            looking.exception()

    async def _look_up_and_keep(
        self, sessions: async_sessionmaker[AsyncSession], wanted: str
    ) -> Mailbox | None:
        now = time.monotonic()
        async with sessions() as session:
            found = await self._look_up_recipient(session, wanted)
        if len(self._recipients) > CACHE_ENTRIES:
            self._recipients.clear()
        self._recipients[wanted] = (now, found)
        return found

    async def _look_up_recipient(self, session: AsyncSession, wanted: str) -> Mailbox | None:
        aliased = await session.scalar(
            select(User.username)
            .join(MailAlias, MailAlias.user_id == User.id)
            .where(MailAlias.address == wanted)
        )
        if aliased is not None:
            return await self.mailbox(session, aliased)
        unit = self.unit_of(wanted)
        if unit is None or not self.is_local(unit):
            return None
        local, _domain = split(wanted)
        found = await self.mailbox(session, local)
        return found if found is not None and found.unit == unit.code else None
