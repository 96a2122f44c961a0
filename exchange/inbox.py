"""Receiving dispatches: offer the header, upload the ciphertext (resumable), commit.

Every check that can be made on the clear header is made at the offer, before a byte of
payload is stored. The commit checks the ciphertext against the signed header, decrypts,
verifies the unit's signature and certificate, records the result with a signed receipt,
and hands the payload to the kind's handler once. A dispatch id seen before gets its first
receipt again.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.errors import Conflict, NotFound, PeerRefused
from config.logging import get_logger
from exchange import evidence
from exchange.envelope import (
    FILES_DIR,
    HEADER_FILE,
    HEADER_SIGNATURE_FILE,
    MANIFEST,
    METADATA,
    PAYLOAD_FILE,
    Header,
    check_payload,
    open_payload,
    verify_header,
)
from exchange.handlers import HandlerRegistry, ReceivedDispatch
from exchange.ledger import UsageLedger
from exchange.models import InboundDispatch, Refusal
from exchange.receipts import ACCEPTED, REFUSED, Signer, make_receipt, receipt_json
from keys.keyring import Keyring
from keys.signed_directory import SignedDirectory
from keys.trust import TrustStore

log = get_logger("congvan.exchange.inbox")

UPLOADING, VERIFYING = "uploading", "verifying"


@dataclass(frozen=True)
class OfferAnswer:
    dispatch_id: str
    offset: int
    receipt: dict[str, Any] | None


class Inbox:
    """The receiving side of one node."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        keyring: Keyring,
        trust: TrustStore,
        directory: SignedDirectory,
        handlers: HandlerRegistry,
        spool: Path,
        max_bytes: int,
        ledger: UsageLedger | None = None,
    ) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.trust = trust
        self.directory = directory
        self.handlers = handlers
        self.spool = spool
        self.max_bytes = max_bytes
        self.ledger = ledger

    def folder(self, dispatch_id: str) -> Path:
        return self.spool / dispatch_id

    # -- refusals ---------------------------------------------------------------------------

    def _signer(self, units: list[str]) -> Signer:
        for code in units:
            if code in self.keyring.units:
                keys = self.keyring.units[code]
                return Signer(code, keys.signing_key, keys.signing_certificate)
        return Signer(self.keyring.node_name, self.keyring.node_key, self.keyring.node_certificate)

    def _local_units(self, header: Header) -> list[str]:
        return [code for code in header.recipients if code in self.keyring.units]

    async def _record_refusal(
        self, peer: str, dispatch_id: str | None, refusal: PeerRefused, signed_for: Header | None
    ) -> dict[str, Any] | None:
        """Log and store a refusal. A receipt is signed only for a header whose sending node
        and unit were authenticated: our signature must not be had for anyone's forgery."""
        log.warning("dispatch.refused", peer=peer, dispatch_id=dispatch_id, code=refusal.code)
        receipt = None
        if signed_for is not None:
            units = self._local_units(signed_for)
            receipt = make_receipt(
                self._signer(units),
                dispatch_id=signed_for.id,
                payload_sha256=signed_for.payload_sha256,
                node=self.keyring.node_name,
                units=units,
                status=REFUSED,
                code=refusal.code,
            )
        async with self.sessions() as session, session.begin():
            session.add(
                Refusal(
                    peer=peer, dispatch_id=dispatch_id, code=refusal.code, reason=refusal.message
                )
            )
            await evidence.append(
                session, "refused", dispatch_id, {"peer": peer, "code": refusal.code}
            )
        return receipt

    # -- offer --------------------------------------------------------------------------------

    async def offer(
        self, peer: str, peer_certificate: x509.Certificate, raw: bytes, signature: bytes
    ) -> OfferAnswer:
        header: Header | None = None
        authenticated = False
        try:
            header = Header.from_bytes(raw)
            existing = await self._existing(peer, header)
            if existing is not None:
                return existing
            await self._authenticate(peer, peer_certificate, header, raw, signature)
            authenticated = True
            self._check_acceptable(header)
        except PeerRefused as refusal:
            refusal.answer = await self._record_refusal(
                peer, header.id if header else None, refusal, header if authenticated else None
            )
            raise
        await asyncio.get_running_loop().run_in_executor(
            None, self._write_header, header, raw, signature
        )
        async with self.sessions() as session, session.begin():
            session.add(
                InboundDispatch(
                    id=header.id,
                    sender=header.sender,
                    sender_node=header.node,
                    peer_node=peer,
                    recipients=json.dumps(list(header.recipients)),
                    kind=header.kind,
                    urgency=header.urgency,
                    size=header.size,
                    payload_sha256=header.payload_sha256,
                    header=raw.decode("utf-8"),
                    header_signature=signature.hex(),
                    state=UPLOADING,
                    handled=False,
                )
            )
            await evidence.append(
                session, "offered", header.id, {"peer": peer, "from": header.sender}
            )
        log.info("dispatch.offered", peer=peer, dispatch_id=header.id, bytes=header.size)
        return OfferAnswer(header.id, 0, None)

    def _write_header(self, header: Header, raw: bytes, signature: bytes) -> None:
        folder = self.folder(header.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / HEADER_FILE).write_bytes(raw)
        (folder / HEADER_SIGNATURE_FILE).write_bytes(signature)
        (folder / (PAYLOAD_FILE + ".part")).touch()

    async def _existing(self, peer: str, header: Header) -> OfferAnswer | None:
        async with self.sessions() as session:
            row = await session.get(InboundDispatch, header.id)
        if row is None:
            return None
        if row.peer_node != peer:
            raise PeerRefused("mã công văn này do nút khác gửi", code="wrong-node")
        if row.header != header.to_bytes().decode("utf-8"):
            raise PeerRefused("mã công văn này đã dùng cho một công văn khác", code="bad-digest")
        if row.receipt is not None:
            return OfferAnswer(row.id, row.size, json.loads(row.receipt))
        return OfferAnswer(row.id, self._held(row.id), None)

    async def _authenticate(
        self,
        peer: str,
        peer_certificate: x509.Certificate,
        header: Header,
        raw: bytes,
        signature: bytes,
    ) -> None:
        """The TLS peer signed this header and, per the directory, hosts the sending unit."""
        if peer != header.node:
            raise PeerRefused(f"nút {peer} gửi công văn do nút {header.node} ký", code="wrong-node")
        verify_header(raw, signature, peer_certificate)
        try:
            sender = self.directory.unit(header.sender)
        except NotFound as error:
            raise PeerRefused(
                f"đơn vị gửi {header.sender} không có trong danh bạ", code="unknown-sender"
            ) from error
        if sender.node != peer:
            raise PeerRefused(f"nút {peer} không quản lý đơn vị {header.sender}", code="wrong-node")

    def _check_acceptable(self, header: Header) -> None:
        if not self._local_units(header):
            raise PeerRefused("không có đơn vị nhận nào ở nút này", code="not-addressed-here")
        if header.size > self.max_bytes:
            raise PeerRefused(
                f"công văn {header.size} byte vượt giới hạn {self.max_bytes} byte", code="too-large"
            )

    async def recover(self) -> None:
        """After a crash mid-commit, let the sender commit again: the check starts over."""
        async with self.sessions() as session, session.begin():
            stuck = (
                await session.scalars(
                    select(InboundDispatch.id).where(InboundDispatch.state == VERIFYING)
                )
            ).all()
            for dispatch_id in stuck:
                folder = self.folder(dispatch_id)
                if (folder / PAYLOAD_FILE).exists():
                    (folder / PAYLOAD_FILE).replace(folder / (PAYLOAD_FILE + ".part"))
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.state == VERIFYING)
                .values(state=UPLOADING)
            )

    async def hand_over_pending(self) -> int:
        """Hand over accepted dispatches whose handler never ran (a crash, or no handler yet)."""
        async with self.sessions() as session:
            pending = (
                await session.scalars(
                    select(InboundDispatch).where(
                        InboundDispatch.state == ACCEPTED, InboundDispatch.handled.is_(False)
                    )
                )
            ).all()
        handed = 0
        for row in pending:
            header = Header.from_bytes(row.header.encode("utf-8"))
            try:
                dispatch = await asyncio.get_running_loop().run_in_executor(
                    None, self._reopen, header, json.loads(row.recipients)
                )
                await self.hand_over(dispatch)
            except Exception:  # one broken dispatch must not hold up the others
                log.exception("dispatch.hand_over_failed", dispatch_id=row.id)
                continue
            handed += 1
        return handed

    def _reopen(self, header: Header, recipients: list[str]) -> ReceivedDispatch:
        opened = self.folder(header.id) / "opened"
        manifest = json.loads((opened / MANIFEST).read_bytes())
        return ReceivedDispatch(
            header=header,
            units=tuple(unit for unit in recipients if unit in self.keyring.units),
            metadata=json.loads((opened / METADATA).read_bytes()),
            files=tuple(opened / FILES_DIR / entry["name"] for entry in manifest["files"]),
            folder=opened,
        )

    # -- upload -------------------------------------------------------------------------------

    def _held(self, dispatch_id: str) -> int:
        part = self.folder(dispatch_id) / (PAYLOAD_FILE + ".part")
        return part.stat().st_size if part.exists() else 0

    async def _uploading(self, peer: str, dispatch_id: str) -> InboundDispatch:
        async with self.sessions() as session:
            row = await session.get(InboundDispatch, dispatch_id)
        if row is None or row.peer_node != peer:
            raise NotFound("không có công văn này", code="unknown-dispatch")
        return row

    async def upload(
        self, peer: str, dispatch_id: str, offset: int, chunks: AsyncIterator[bytes]
    ) -> int:
        """Append bytes at ``offset``; the answer is how many bytes are now held."""
        row = await self._uploading(peer, dispatch_id)
        if row.state != UPLOADING:
            return row.size
        held = self._held(dispatch_id)
        if offset != held:
            raise Conflict(f"đang giữ {held} byte, không phải {offset}", code="wrong-offset")
        loop = asyncio.get_running_loop()
        part = self.folder(dispatch_id) / (PAYLOAD_FILE + ".part")
        with part.open("ab") as handle:
            async for chunk in chunks:
                held += len(chunk)
                if held > row.size:
                    break
                await loop.run_in_executor(None, handle.write, chunk)
        if held > row.size:
            part.write_bytes(b"")
            refusal = PeerRefused("nhiều byte hơn tiêu đề khai báo", code="too-large")
            await self._refuse(peer, dispatch_id, refusal)
            raise refusal
        return held

    async def progress(self, peer: str, dispatch_id: str) -> dict[str, Any]:
        """Where an offered dispatch stands: bytes held, state, and the receipt once decided."""
        row = await self._uploading(peer, dispatch_id)
        answer: dict[str, Any] = {"id": row.id, "state": row.state}
        answer["offset"] = self._held(dispatch_id) if row.state == UPLOADING else row.size
        if row.receipt is not None:
            answer["receipt"] = json.loads(row.receipt)
        return answer

    # -- commit -------------------------------------------------------------------------------

    async def commit(self, peer: str, dispatch_id: str) -> dict[str, Any]:
        row = await self._uploading(peer, dispatch_id)
        if row.receipt is not None:
            return dict(json.loads(row.receipt))
        if self._held(dispatch_id) != row.size:
            raise Conflict(f"mới nhận {self._held(dispatch_id)}/{row.size} byte", code="incomplete")
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == dispatch_id, InboundDispatch.state == UPLOADING)
                .values(state=VERIFYING)
            )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("công văn đang được kiểm tra", code="busy")
        header = Header.from_bytes(row.header.encode("utf-8"))
        try:
            received = await asyncio.get_running_loop().run_in_executor(
                None, self._verify_payload, header
            )
            self.trust.check_unit_signer(received[0], header.sender, received[1])
        except PeerRefused as refusal:
            if refusal.code in {"stale-crl", "stale-directory"}:
                await self._release(dispatch_id)  # our trust data, not the dispatch: retry later
                raise
            return await self._refuse(peer, dispatch_id, refusal)
        except BaseException:
            await self._release(dispatch_id)  # disk full, a bug: the sender may commit again
            raise
        return await self._accept(header, received[2])

    async def _release(self, dispatch_id: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == dispatch_id, InboundDispatch.state == VERIFYING)
                .values(state=UPLOADING)
            )

    def _verify_payload(
        self, header: Header
    ) -> tuple[x509.Certificate, list[x509.Certificate], ReceivedDispatch]:
        folder = self.folder(header.id)
        payload = folder / (PAYLOAD_FILE + ".part")
        check_payload(header, payload)
        opened_dir = folder / "opened"
        shutil.rmtree(opened_dir, ignore_errors=True)
        units = self._local_units(header)
        identities = tuple(
            identity for code in units for identity in self.keyring.units[code].identities
        )
        opened = open_payload(header, payload, identities, opened_dir)
        dispatch = ReceivedDispatch(
            header=header,
            units=tuple(units),
            metadata=opened.metadata,
            files=tuple(opened.files),
            folder=opened.folder,
        )
        return opened.signer, opened.chain, dispatch

    async def _refuse(self, peer: str, dispatch_id: str, refusal: PeerRefused) -> dict[str, Any]:
        async with self.sessions() as session:
            row = await session.get(InboundDispatch, dispatch_id)
        header = Header.from_bytes(row.header.encode("utf-8")) if row else None
        receipt = await self._record_refusal(peer, dispatch_id, refusal, header)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == dispatch_id)
                .values(
                    state=REFUSED,
                    refusal_code=refusal.code,
                    receipt=receipt_json(receipt) if receipt else None,
                    decided_at=datetime.now(UTC),
                )
            )
        await asyncio.get_running_loop().run_in_executor(None, self._discard_content, dispatch_id)
        refusal.answer = receipt
        raise refusal

    def _discard_content(self, dispatch_id: str) -> None:
        """A refused dispatch keeps its signed header as evidence, not its content: the
        decrypted files must not lie in the spool in clear."""
        folder = self.folder(dispatch_id)
        shutil.rmtree(folder / "opened", ignore_errors=True)
        (folder / (PAYLOAD_FILE + ".part")).unlink(missing_ok=True)

    async def _accept(self, header: Header, dispatch: ReceivedDispatch) -> dict[str, Any]:
        folder = self.folder(header.id)
        (folder / (PAYLOAD_FILE + ".part")).replace(folder / PAYLOAD_FILE)
        receipt = make_receipt(
            self._signer(list(dispatch.units)),
            dispatch_id=header.id,
            payload_sha256=header.payload_sha256,
            node=self.keyring.node_name,
            units=list(dispatch.units),
            status=ACCEPTED,
        )
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundDispatch)
                .where(InboundDispatch.id == header.id)
                .values(state=ACCEPTED, receipt=receipt_json(receipt), decided_at=datetime.now(UTC))
            )
            await evidence.append(
                session,
                "received",
                header.id,
                {
                    "from": header.sender,
                    "units": list(dispatch.units),
                    "sha256": header.payload_sha256,
                },
            )
        if self.ledger is not None:
            for unit in dispatch.units:
                self.ledger.record("dispatch-in", unit=unit, size=header.size)
        log.info(
            "dispatch.received", dispatch_id=header.id, sender=header.sender, bytes=header.size
        )
        await self.hand_over(dispatch)
        return receipt

    async def hand_over(self, dispatch: ReceivedDispatch) -> None:
        """Give an accepted dispatch to its handler, once: ``handled`` is set in the same step."""
        async with self.sessions() as session, session.begin():
            row = await session.scalar(
                select(InboundDispatch)
                .where(InboundDispatch.id == dispatch.header.id)
                .with_for_update()
            )
            if row is None or row.handled:
                return
            if await self.handlers.hand_over(session, dispatch):
                row.handled = True
