"""Per-kind handlers: the layers above say what a received dispatch means.

``exchange`` verifies and decrypts; then it calls the one handler registered for the kind
(``document`` by the office, ``mail`` by the gateway…) with the files on disk.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.envelope import Header


@dataclass(frozen=True)
class ReceivedDispatch:
    header: Header
    units: tuple[str, ...]
    metadata: dict[str, Any]
    files: tuple[Path, ...]
    folder: Path
    #: The SHA-256 of each file, as the reader took it while writing the file and checked it
    #: against the signed manifest; empty when not at hand (a dispatch re-opened after a
    #: restart), and then a handler hashes the files itself.
    digests: tuple[str, ...] = ()


#: A handler works inside the transaction that marks the dispatch handled: both happen or neither.
Handler = Callable[[AsyncSession, ReceivedDispatch], Awaitable[None]]
#: A kind's own rule on who may send it to whom, checked on the authenticated clear header
#: (and the recipient units this node hosts) before a byte of payload is kept: it raises
#: ``PeerRefused``, and the dispatch is refused with a signed receipt like any other refusal.
Admission = Callable[[Header, Sequence[str]], None]


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._admissions: dict[str, Admission] = {}

    def register(self, kind: str, handler: Handler, *, admission: Admission | None = None) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind!r} is registered already")
        self._handlers[kind] = handler
        if admission is not None:
            self._admissions[kind] = admission

    def admit(self, header: Header, units: Sequence[str]) -> None:
        """The kind's admission rule, if it has one; raises ``PeerRefused``."""
        admission = self._admissions.get(header.kind)
        if admission is not None:
            admission(header, units)

    def replace(self, kind: str, handler: Handler) -> Handler | None:
        """Put ``handler`` in place of the kind's current one (returned): a layer that wraps
        another, or a test that watches what arrives instead of filing it."""
        previous = self._handlers.get(kind)
        self._handlers[kind] = handler
        return previous

    async def hand_over(self, session: AsyncSession, dispatch: ReceivedDispatch) -> bool:
        """Call the kind's handler; False when nobody handles this kind (yet)."""
        handler = self._handlers.get(dispatch.header.kind)
        if handler is None:
            return False
        await handler(session, dispatch)
        return True
