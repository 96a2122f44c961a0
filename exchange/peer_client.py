"""The sending side of the peer API: offer, upload from where the receiver stands, commit.

A broken link costs only the bytes in flight: before uploading, the client asks how much the
receiver holds and continues from there.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from config.errors import PeerRefused
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE

#: Bytes read from the payload file per step of an upload (one executor call each): as the
#: receiver's read buffer, small enough that the step's copies (read, TLS, the socket's
#: buffer) stay a few hundred KiB of the node's memory.
CHUNK_BYTES = 256 * 1024
#: Payloads up to this size are sent inside the offer (the server's JSON limit is 1 MiB).
INLINE_BYTES = 256 * 1024
API = "/exchange/v1"
DIRECT, RELAY = "/dispatches", "/relay"


def peer_timeout(silence_seconds: int) -> aiohttp.ClientTimeout:
    """No limit on a whole transfer (a big payload on a slow link takes what it takes), but
    a peer that stays silent for ``silence_seconds`` is given up on, and retried later."""
    return aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=silence_seconds)


class PeerClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, context: ssl.SSLContext):
        self._session = session
        self._base = base_url.rstrip("/") + API
        self._ssl = context
        #: The newest payload version the peer said it reads, once an offer's answer said it.
        self.payload_version: int | None = None
        #: How long the hub said it held the last question about what waits (its cap applied);
        #: None when it did not say (a hub older than that answer's ``held``).
        self.hub_hold: float | None = None

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        async with self._session.request(
            method, self._base + path, ssl=self._ssl, **kwargs
        ) as response:
            try:
                body = await response.json()
            except (aiohttp.ContentTypeError, ValueError):
                body = None
            if not isinstance(body, dict):
                raise PeerRefused(
                    f"peer answered {response.status} without a JSON object", code="malformed"
                )
            if response.status >= 400:
                refusal = PeerRefused(str(body.get("message", "")), code=str(body.get("error")))
                answer = body.get("receipt")
                refusal.answer = answer if isinstance(answer, dict) else None
                raise refusal
            return body

    async def offer(
        self, folder: Path, *, route: str = DIRECT, extra: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Offer the header; a payload of at most ``INLINE_BYTES`` travels in the offer too,
        and then the answer already holds the outcome (a receipt, or the hub's "held")."""
        payload = folder / PAYLOAD_FILE
        offer = {
            "header": b64_of_file(folder / HEADER_FILE),
            "signature": b64_of_file(folder / HEADER_SIGNATURE_FILE),
            **(extra or {}),
        }
        if payload.stat().st_size <= INLINE_BYTES:
            offer["payload"] = b64_of_file(payload)
        body = await self._call("POST", route, json=offer)
        if not isinstance(body.get("id"), str) or not isinstance(body.get("offset"), int):
            raise PeerRefused("the offer's answer lacks id or offset", code="malformed")
        versions = body.get("payload_versions")
        if isinstance(versions, list) and route == DIRECT:
            known = [v for v in versions if isinstance(v, int) and not isinstance(v, bool)]
            self.payload_version = max(known, default=None)
        return body

    async def held(self, dispatch_id: str) -> int:
        return int((await self._call("GET", f"{DIRECT}/{dispatch_id}"))["offset"])

    async def upload(
        self, dispatch_id: str, payload: Path, offset: int, *, route: str = DIRECT
    ) -> int:
        body = await self._call(
            "PUT",
            f"{route}/{dispatch_id}/payload",
            params={"offset": str(offset)},
            data=_read_from(payload, offset),
        )
        return int(body["offset"])

    async def _transfer(self, folder: Path, route: str, extra: dict[str, str]) -> dict[str, Any]:
        """Offer, upload what the other side lacks, commit: the commit's answer."""
        body = await self.offer(folder, route=route, extra=extra)
        if "receipt" in body or "state" in body:
            return body
        payload = folder / PAYLOAD_FILE
        if body["offset"] < payload.stat().st_size:
            await self.upload(body["id"], payload, body["offset"], route=route)
        return await self._call("POST", f"{route}/{body['id']}/commit", json=extra)

    async def deliver(self, folder: Path) -> dict[str, Any]:
        """Hand a dispatch to the node that hosts its addressees; return its signed receipt."""
        body = await self._transfer(folder, DIRECT, {})
        if not isinstance(body.get("receipt"), dict):
            raise PeerRefused("the answer holds no receipt", code="malformed")
        return dict(body["receipt"])

    async def relay(self, folder: Path, node: str) -> None:
        """Hand a dispatch for ``node`` to the hub, which stores and forwards it."""
        body = await self._transfer(folder, RELAY, {"node": node})
        if body.get("state") != "held":
            raise PeerRefused("the hub did not say it holds the dispatch", code="malformed")

    async def relay_receipts(self, wanted: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Ask the hub what became of dispatches it holds for us: (dispatch id, node) pairs."""
        body = await self._call(
            "POST",
            f"{RELAY}/receipts",
            json={"dispatches": [{"id": id_, "node": node} for id_, node in wanted]},
        )
        answers = body.get("dispatches")
        if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
            raise PeerRefused("the hub's answer lacks dispatches", code="malformed")
        return answers

    async def waiting(self, wait: float = 0) -> list[dict[str, Any]]:
        """What the hub holds for this (pull) node; with ``wait``, the hub may hold the
        question that many seconds until something arrives (an older hub answers at once)."""
        path = f"{RELAY}/waiting" + (f"?wait={wait:g}" if wait > 0 else "")
        body = await self._call("GET", path)
        answers = body.get("dispatches")
        if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
            raise PeerRefused("the hub's answer lacks dispatches", code="malformed")
        held = body.get("held")
        self.hub_hold = float(held) if isinstance(held, int | float) and held >= 0 else None
        return answers

    async def download(self, dispatch_id: str, offset: int) -> AsyncIterator[bytes]:
        """The ciphertext the hub holds for us, from ``offset`` on (an HTTP range)."""
        async with self._session.get(
            f"{self._base}{RELAY}/{dispatch_id}/payload",
            ssl=self._ssl,
            headers={"Range": f"bytes={offset}-"},
        ) as response:
            if response.status != 206 and not (response.status == 200 and offset == 0):
                raise PeerRefused(f"hub answered {response.status} to a download", code="busy")
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                yield chunk

    async def hand_back_receipt(self, dispatch_id: str, receipt: dict[str, Any]) -> str:
        """Give the hub the receipt for a dispatch we fetched, for its sender to collect."""
        body = await self._call("POST", f"{RELAY}/{dispatch_id}/receipt", json={"receipt": receipt})
        return str(body.get("state"))


def b64_of_file(path: Path) -> str:
    """A small file (a header, its signature, an inline payload) as JSON carries it."""
    return base64.b64encode(path.read_bytes()).decode("ascii")


async def _read_from(path: Path, offset: int) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    with path.open("rb") as handle:
        handle.seek(offset)
        while chunk := await loop.run_in_executor(None, handle.read, CHUNK_BYTES):
            yield chunk
