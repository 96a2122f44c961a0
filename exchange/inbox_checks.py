"""What a received dispatch goes through whichever way it came, the long way (offer, upload,
commit: :mod:`exchange.inbox`) or inline in its offer (:mod:`exchange.inbox_inline`): the
checks on its ciphertext, the receipts signed for the receiving unit, its row and evidence.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import PeerRefused
from config.files import sync_file
from exchange import evidence
from exchange.envelope import PAYLOAD_FILE, Header, open_payload
from exchange.handlers import ReceivedDispatch
from exchange.models import InboundDispatch
from exchange.receipts import ACCEPTED, REFUSED, Signer, make_receipt
from keys.keyring import Keyring
from keys.revocation import RevocationChecker

PART_FILE = PAYLOAD_FILE + ".part"
#: The decrypted content, in the dispatch's spool folder: kept if accepted, discarded if refused.
OPENED_DIR = "opened"
_INBOUND = cast(Table, InboundDispatch.__table__)


class InboxChecks:
    """The receiving node's keys at work: opening a ciphertext, signing a receipt."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def _signer(self, units: list[str]) -> Signer:
        for code in units:
            if code in self.keyring.units:
                keys = self.keyring.units[code]
                return Signer(code, keys.signing_key, keys.signing_certificate)
        return Signer(self.keyring.node_name, self.keyring.node_key, self.keyring.node_certificate)

    def local_units(self, header: Header) -> list[str]:
        return [code for code in header.recipients if code in self.keyring.units]

    def accepted_receipt(self, header: Header, units: list[str]) -> dict[str, Any]:
        return make_receipt(
            self._signer(units),
            dispatch_id=header.id,
            payload_sha256=header.payload_sha256,
            node=self.keyring.node_name,
            units=units,
            status=ACCEPTED,
        )

    def renewed_receipt(
        self, stored: dict[str, Any], revocation: RevocationChecker
    ) -> dict[str, Any] | None:
        """A stored receipt signed with a key revoked or expired since: the same decision
        signed again with the key this node holds now, or None when the stored one still
        holds (or ours is the same key, and a new signature would not hold either). Without
        it a dispatch accepted just before a revocation is never confirmed: the sender, who
        refuses such a receipt, retries until it gives up."""
        try:
            certificate = x509.load_pem_x509_certificate(stored["certificate"].encode())
            body = stored["body"]
            units = [str(unit) for unit in body["units"]]
        except (KeyError, TypeError, ValueError):
            return None
        try:
            revocation.check(certificate)
            return None
        except PeerRefused as refusal:
            if refusal.code not in ("revoked", "expired"):
                return None  # our CRL is stale: that says nothing about the key
        signer = self._signer(units)
        if signer.certificate.serial_number == certificate.serial_number:
            return None
        return make_receipt(
            signer,
            dispatch_id=body["dispatch_id"],
            payload_sha256=body["payload_sha256"],
            node=self.keyring.node_name,
            units=units,
            status=body["status"],
            code=body["code"],
        )

    def refusal_receipt(
        self, refusal: PeerRefused, signed_for: Header | None
    ) -> dict[str, Any] | None:
        """A receipt is signed only for a header whose sending node and unit were
        authenticated: our signature must not be had for anyone's forgery."""
        if signed_for is None:
            return None
        units = self.local_units(signed_for)
        return make_receipt(
            self._signer(units),
            dispatch_id=signed_for.id,
            payload_sha256=signed_for.payload_sha256,
            node=self.keyring.node_name,
            units=units,
            status=REFUSED,
            code=refusal.code,
        )

    def open_checked(
        self,
        header: Header,
        payload: Path,
        opened_dir: Path,
        payload_sha256: str | None = None,
    ) -> tuple[x509.Certificate, list[x509.Certificate], ReceivedDispatch]:
        """Check the ciphertext against the signed header (as it is decrypted, or by
        ``payload_sha256`` when its digest was taken as it was uploaded), decrypt it into
        ``opened_dir`` and check the unit's signature on every file; blocking (run it in a
        thread). The answer holds the unit's certificate and chain, for the caller to check
        with ``trust``."""
        shutil.rmtree(opened_dir, ignore_errors=True)
        units = self.local_units(header)
        identities = tuple(
            identity for code in units for identity in self.keyring.units[code].identities
        )
        opened = open_payload(header, payload, identities, opened_dir, payload_sha256)
        # On disk before the receipt, here in a thread: a handler that stores the files in
        # its transaction then links them (:meth:`BlobStore.put_file`) without waiting for a
        # disk write of their size while it holds the database.
        for path in opened.files:
            sync_file(path)
        dispatch = ReceivedDispatch(
            header=header,
            units=tuple(units),
            metadata=opened.metadata,
            files=tuple(opened.files),
            folder=opened.folder,
            digests=tuple(str(entry["sha256"]) for entry in opened.manifest["files"]),
        )
        return opened.signer, opened.chain, dispatch


#: What inserting a dispatch's row needs: the peer, the header as parsed and as signed, the
#: signature, and the columns of its state.
Offered = tuple[str, Header, bytes, bytes, dict[str, Any]]


async def insert_offered(session: AsyncSession, offered: list[Offered]) -> None:
    """Insert the rows of ``offered`` dispatches in one statement, in the caller's transaction.
    A Core insert, not an ORM unit of work: nothing of the rows is kept in the session, and
    there is no flush to pay. A dispatch recorded already fails it (IntegrityError)."""
    await session.execute(
        insert(_INBOUND),
        [
            {
                "id": header.id,
                "sender": header.sender,
                "sender_node": header.node,
                "peer_node": peer,
                "recipients": json.dumps(list(header.recipients)),
                "kind": header.kind,
                "urgency": header.urgency,
                "size": header.size,
                "payload_sha256": header.payload_sha256,
                "header": raw.decode("utf-8"),
                "header_signature": signature.hex(),
                "handled": False,
                "refusal_code": None,
                "receipt": None,
                "decided_at": None,
                **state,
            }
            for peer, header, raw, signature, state in offered
        ],
    )


async def add_offered(
    session: AsyncSession,
    peer: str,
    header: Header,
    raw: bytes,
    signature: bytes,
    **state: Any,
) -> None:
    """Insert the dispatch's row, with ``state``'s columns, and its ``offered`` evidence, in the
    caller's transaction. The insert goes first: an offer that reached two processes at once
    fails here, on the primary key (IntegrityError), before anything else is written."""
    await insert_offered(session, [(peer, header, raw, signature, state)])
    await evidence.append_all(session, [offered_entry(peer, header)])


def offered_entry(peer: str, header: Header) -> evidence.Entry:
    return evidence.Entry("offered", header.id, {"peer": peer, "from": header.sender})


def received_entry(header: Header, dispatch: ReceivedDispatch) -> evidence.Entry:
    """The ``received`` evidence of an accepted dispatch."""
    return evidence.Entry(
        "received",
        header.id,
        {"from": header.sender, "units": list(dispatch.units), "sha256": header.payload_sha256},
    )


async def record_received(session: AsyncSession, header: Header, units: tuple[str, ...]) -> None:
    """The ``received`` evidence of an accepted dispatch, in the caller's transaction."""
    await evidence.append(
        session,
        "received",
        header.id,
        {"from": header.sender, "units": list(units), "sha256": header.payload_sha256},
    )


def discard_content(folder: Path) -> None:
    """A refused dispatch keeps its signed header as evidence, not its content: the decrypted
    files must not lie in the spool in clear."""
    shutil.rmtree(folder / OPENED_DIR, ignore_errors=True)
    (folder / PART_FILE).unlink(missing_ok=True)
    (folder / PAYLOAD_FILE).unlink(missing_ok=True)
