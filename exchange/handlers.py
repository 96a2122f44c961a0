"""Per-kind handlers: the layers above say what a received dispatch means.

``exchange`` verifies and decrypts; then it calls the one handler registered for the kind
(``document`` by the office, ``mail`` by the gateway…) with the files on disk.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


#: A handler works inside the transaction that marks the dispatch handled: both happen or neither.
Handler = Callable[[AsyncSession, ReceivedDispatch], Awaitable[None]]


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind!r} is registered already")
        self._handlers[kind] = handler

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
