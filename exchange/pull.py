"""A ``pull`` node fetches its dispatches from the hub when it comes online.

Such a node (a commune office on a link that is up a few hours a day) is not sent to: what is
addressed to it waits at the hub. It asks the hub what waits, downloads each ciphertext from
where its own spool stands (an HTTP range, so a broken download resumes; a small one comes in
the hub's answer itself), runs its own inbox's checks as for any dispatch, and gives the signed
receipt back to the hub, where the sender collects it.

The question is a long poll (:mod:`exchange.pull_wait`): the hub holds it open up to
``[exchange] pull_wait_seconds`` until something arrives, so a dispatch reaches the commune as
soon as the hub has it, and the node asks again at once. The hub says in its answer how long
it held the question (its own cap may be shorter than the node's wait). A hub that held it
0 s (the long poll off), one that does not say and answered at once (an older one), or an
error, makes the node wait ``[exchange] pull_seconds`` before asking again, as it always did.

The node keeps one HTTP session, so one connection, for as long as it runs: asking again at
once over a new one would cost the hub a TLS handshake (and the commune a round trip or two
on a slow link) for every question, each ``pull_wait_seconds`` for every idle commune of the
province (``bench/network_sim.py --new-connections`` measures it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ssl
from collections.abc import Coroutine
from typing import Any, NamedTuple

import aiohttp

from config.durability import DurableCommits
from config.errors import CongvanError, PeerRefused
from config.logging import bind_request_id, get_logger
from config.settings import ExchangeSettings
from exchange import spool_lock
from exchange.envelope import Header
from exchange.inbox import Inbox
from exchange.peer_client import PeerClient, peer_timeout
from keys.signed_directory import SignedDirectory

log = get_logger("congvan.exchange.pull")


#: How long a hub that does not say its hold holds a question: the default of the hubs before
#: they said it. A node asking for longer (``pull_wait_seconds`` is 55 now) would otherwise take
#: such a hub's empty answer after 25 s for one given at once, and wait ``pull_seconds``.
OLDER_HUB_HOLD = 25


class Pulled(NamedTuple):
    """What one question to the hub came to."""

    #: Dispatches the hub listed, and those settled (accepted or refused with a receipt).
    listed: int
    settled: int
    #: How long the hub said it would hold the question (None: it did not say).
    held: float | None


def _was_held(pulled: Pulled, took: float, wait: int) -> bool:
    """Whether an empty answer came after the hub held the question (ask again now), rather
    than at once (a hub with the long poll off: wait ``pull_seconds``)."""
    if pulled.held is not None:
        return pulled.held > 0
    return took >= min(wait, OLDER_HUB_HOLD) / 2


class Puller:
    def __init__(
        self,
        *,
        inbox: Inbox,
        directory: SignedDirectory,
        node_name: str,
        client_context: ssl.SSLContext,
        settings: ExchangeSettings,
        durable: DurableCommits,
    ) -> None:
        self.inbox = inbox
        self.durable = durable
        self.directory = directory
        self.node_name = node_name
        self.client_context = client_context
        self.settings = settings

    def _hub(self) -> str | None:
        """The hub to pull from, when the directory marks this node ``pull``."""
        hub = self.directory.hub_name()
        if hub is None or hub == self.node_name or not self.directory.node(self.node_name).pull:
            return None
        return hub

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        wait = self.settings.pull_wait_seconds
        timeout = peer_timeout(self.settings.send_timeout_seconds + wait)
        async with aiohttp.ClientSession(timeout=timeout) as http:  # one connection, kept
            while not stop.is_set():
                bind_request_id()
                asked_at = loop.time()
                again_now = False
                try:
                    pulled = await self.pull_once(http, wait, stop)
                    # Work came, or the hub held the question for its time: ask again now.
                    again_now = wait > 0 and (
                        pulled.settled > 0
                        or (not pulled.listed and _was_held(pulled, loop.time() - asked_at, wait))
                    )
                except (aiohttp.ClientError, TimeoutError, OSError, CongvanError) as error:
                    log.warning("pull.failed", error=f"{type(error).__name__}: {str(error)[:200]}")
                if again_now:
                    continue
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.pull_seconds)
                except TimeoutError:
                    continue

    async def pull_once(
        self, http: aiohttp.ClientSession, wait: int = 0, stop: asyncio.Event | None = None
    ) -> Pulled:
        """Fetch, check and acknowledge what waits at the hub, over ``http`` (the hub may
        hold the question up to ``wait`` seconds when nothing does; ``stop`` ends that wait,
        not a dispatch being taken)."""
        hub = self._hub()
        if hub is None:
            return Pulled(0, 0, None)
        settled = 0
        client = PeerClient(http, self.directory.node(hub).peer_url, self.client_context)
        listed = await unless_stopped(client.waiting(wait), stop)
        for item in listed or ():
            receipt = await self._take(client, hub, item)
            if receipt is not None:
                # The hub forgets the dispatch on this receipt: what it says must be on disk.
                await self.durable.sync()
                await client.hand_back_receipt(str(item["id"]), receipt)
                settled += 1
        if settled:
            log.info("pull.settled", hub=hub, count=settled)
        return Pulled(len(listed or ()), settled, client.hub_hold)

    async def _take(
        self, client: PeerClient, hub: str, item: dict[str, object]
    ) -> dict[str, object] | None:
        """One waiting dispatch through our inbox: its receipt, or None to try again later."""
        try:
            raw = base64.b64decode(str(item.get("header")), validate=True)
            signature = base64.b64decode(str(item.get("signature")), validate=True)
            listed = item.get("payload")  # a small one comes in the listing
            payload = None if listed is None else base64.b64decode(str(listed), validate=True)
        except (binascii.Error, ValueError):
            log.warning("pull.malformed_listing", hub=hub, dispatch_id=item.get("id"))
            return None
        try:
            answer = await self.inbox.offer(hub, None, raw, signature)
            if answer.receipt is not None:
                return answer.receipt
            size = Header.from_bytes(raw).size
            if answer.offset < size:
                chunks = (
                    client.download(answer.dispatch_id, answer.offset)
                    if payload is None
                    else spool_lock.one_chunk(payload[answer.offset :])
                )
                await self.inbox.upload(hub, answer.dispatch_id, answer.offset, chunks)
            return await self.inbox.commit(hub, answer.dispatch_id)
        except PeerRefused as refusal:
            if refusal.answer is None:  # not now (our trust data, a broken download) or forged
                log.warning("pull.not_settled", dispatch_id=item.get("id"), code=refusal.code)
                return None
            return refusal.answer
        except (CongvanError, aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("pull.interrupted", dispatch_id=item.get("id"), error=str(error)[:200])
            return None


async def unless_stopped(
    question: Coroutine[Any, Any, list[dict[str, Any]]], stop: asyncio.Event | None
) -> list[dict[str, Any]] | None:
    """The hub's answer, or None when ``stop`` is set first (the question is dropped: asking
    takes nothing, so nothing is lost)."""
    asking = asyncio.ensure_future(question)
    if stop is None:
        return await asking
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((asking, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if asking.done():
        return asking.result()
    asking.cancel()
    await asyncio.gather(asking, return_exceptions=True)
    return None
