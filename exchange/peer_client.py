"""The sending side of the peer API: offer, upload from where the receiver stands, commit.

A broken link costs only the bytes in flight: before uploading, the client asks how much the
receiver holds and continues from there.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from config.errors import PeerRefused
from exchange.envelope import HEADER_FILE, HEADER_SIGNATURE_FILE, PAYLOAD_FILE

CHUNK_BYTES = 256 * 1024
#: Payloads up to this size are sent inside the offer (the server's JSON limit is 1 MiB).
INLINE_BYTES = 256 * 1024
API = "/exchange/v1"


@dataclass(frozen=True)
class OfferReply:
    dispatch_id: str
    offset: int
    receipt: dict[str, Any] | None


class PeerClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, context: ssl.SSLContext):
        self._session = session
        self._base = base_url.rstrip("/") + API
        self._ssl = context

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

    async def offer(self, folder: Path, *, inline: bool = False) -> OfferReply:
        """Offer the header; with ``inline``, the payload too, and the answer is the receipt."""
        header = (folder / HEADER_FILE).read_bytes()
        signature = (folder / HEADER_SIGNATURE_FILE).read_bytes()
        offer = {
            "header": base64.b64encode(header).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
        if inline:
            payload = (folder / PAYLOAD_FILE).read_bytes()
            offer["payload"] = base64.b64encode(payload).decode("ascii")
        body = await self._call("POST", "/dispatches", json=offer)
        try:
            return OfferReply(str(body["id"]), int(body["offset"]), body.get("receipt"))
        except (KeyError, TypeError, ValueError) as error:
            raise PeerRefused("the offer's answer lacks id or offset", code="malformed") from error

    async def held(self, dispatch_id: str) -> int:
        return int((await self._call("GET", f"/dispatches/{dispatch_id}"))["offset"])

    async def upload(self, dispatch_id: str, payload: Path, offset: int) -> int:
        body = await self._call(
            "PUT",
            f"/dispatches/{dispatch_id}/payload",
            params={"offset": str(offset)},
            data=_read_from(payload, offset),
        )
        return int(body["offset"])

    async def commit(self, dispatch_id: str) -> dict[str, Any]:
        return dict((await self._call("POST", f"/dispatches/{dispatch_id}/commit"))["receipt"])

    async def deliver(self, folder: Path) -> dict[str, Any]:
        """Offer, upload what the receiver lacks, commit; return the signed receipt.

        A payload of at most ``INLINE_BYTES`` travels in the offer itself.
        """
        reply = await self.offer(
            folder, inline=(folder / PAYLOAD_FILE).stat().st_size <= INLINE_BYTES
        )
        if reply.receipt is not None:
            return reply.receipt
        payload = folder / PAYLOAD_FILE
        size = payload.stat().st_size
        offset = reply.offset
        if offset < size:
            offset = await self.upload(reply.dispatch_id, payload, offset)
        return await self.commit(reply.dispatch_id)


async def _read_from(path: Path, offset: int) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    with path.open("rb") as handle:
        handle.seek(offset)
        while chunk := await loop.run_in_executor(None, handle.read, CHUNK_BYTES):
            yield chunk
