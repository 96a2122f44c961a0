"""Ký duyệt: the signer approves a draft by signing its PDF with their own key, unlocked by
their signing PIN at that moment (Decree 30/2020 Art. 13: the competent person signs with
their own digital signature; the clerk adds the unit's when issuing).

The order, and why no single transaction:

1. read, in a short session: may ``staff`` sign this draft now, as they chose
   (:func:`office.documents.review.signing_check`), and which PDF;
2. unlock the signer's key with their PIN (:func:`keys.signers.unlock_signing_identity`:
   argon2id in a thread; a wrong PIN is counted, nothing else changes);
3. sign the PDF into a scratch file in the blob store's staging folder and check the result as
   a receiver will, in an executor: seconds of CPU on a file someone uploaded, never on the event
   loop nor inside a write transaction;
4. one transaction (:func:`record`, with the form's one-time id):
   :func:`office.documents.review.approve` checks the version again (someone's
   step in between makes this one stale and the signed file is simply not kept) and records the
   signed PDF and ``approved``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Forbidden, Invalid
from config.logging import get_logger
from keys import signers
from keys.signin import StaffMember
from keys.trust import TrustStore
from office.documents import refusals, review
from office.documents import review_refusals as said
from office.documents.incoming import StoredFile
from office.documents.models import DocumentFile
from office.documents.numbering import numbering_style
from office.documents.outgoing import MAIN
from office.documents.pdf_verdicts import SignatureStatus

if TYPE_CHECKING:
    from office.documents.desk import DocumentDesk

log = get_logger("congvan.office.approval")

PDF = "application/pdf"


def trust_store(desk: DocumentDesk) -> TrustStore:
    """The node's CA and CRL, which a signer's certificate must chain to and not be on."""
    if not desk.trust_roots or desk.revocation is None:
        raise Invalid(refusals.NO_EXCHANGE(), code="no-exchange")
    return TrustStore(desk.trust_roots[0], desk.revocation)


def _sign_and_check(
    source: Path,
    target: Path,
    identity: signers.PersonIdentity,
    authority_line: str,
    trust_roots: Sequence[x509.Certificate],
) -> SignatureStatus:
    """Sign as the person, then read the signature back (blocking: run in an executor)."""
    # pyHanko loads with the first document signed, not when the node starts.
    from office.documents.pdf_issue import sign_as_person
    from office.documents.pdf_signing import signature_status

    sign_as_person(
        source,
        target,
        identity.key,
        identity.certificate,
        identity.chain,
        signer_name=identity.full_name,
        title=identity.title,
        authority_line=authority_line,
        unit_name=identity.unit_name,
    )
    return signature_status(target, trust_roots)


@dataclass(frozen=True)
class Signed:
    """A draft's PDF signed by its signer, waiting for :func:`record` to keep it."""

    document_id: int
    version: int
    chosen: review.Authority
    style: str
    file: StoredFile
    signer_line: str


async def sign(
    desk: DocumentDesk,
    staff: StaffMember,
    document_id: int,
    version: int,
    form: str,
    on_behalf_of: str,
    pin: str,
) -> Signed:
    """Steps 1–3: sign the draft's PDF as ``staff``, under the authority they chose, with the
    key their PIN opens. Nothing is recorded yet; every refusal leaves the draft as it was."""
    today = desk.today()
    async with desk.sessions() as session:
        style, _issuer = await numbering_style(session, staff.unit)
        chosen = review.authority(style, form, on_behalf_of)
        await review.signing_check(session, staff, document_id, version, chosen, style, today)
        main = await session.scalar(
            select(DocumentFile).where(
                DocumentFile.document_id == document_id, DocumentFile.role == MAIN
            )
        )
    assert main is not None  # every draft has its PDF
    identity = await signers.unlock_signing_identity(
        desk.sessions, staff.id, pin, trust_store(desk), desk.now()
    )
    if identity.unit_code != staff.unit:
        raise Forbidden(refusals.NOT_ALLOWED(action=said.TO_SIGN), code="forbidden")
    loop = asyncio.get_running_loop()
    with desk.scratch("approve-") as scratch:
        target = scratch / "approved.pdf"
        check = functools.partial(
            _sign_and_check,
            desk.blobs.path(main.sha256),
            target,
            identity,
            chosen.line,
            desk.trust_roots,
        )
        status = await loop.run_in_executor(None, check)
        if status.state != "valid":
            raise Invalid(
                refusals.SIGNATURE_NOT_VERIFIED(problem=status.problem), code="bad-signature"
            )
        blob = await loop.run_in_executor(None, desk.blobs.put_file, target)
    signer_line = (
        f"{identity.full_name}, {identity.title}" if identity.title else identity.full_name
    )
    return Signed(
        document_id,
        version,
        chosen,
        style,
        StoredFile(main.name, PDF, blob.sha256, blob.size, "valid", status.signed_by),
        signer_line,
    )


async def record(
    session: AsyncSession,
    desk: DocumentDesk,
    staff: StaffMember,
    signed: Signed,
    comment: str,
) -> None:
    """Step 4, in the caller's transaction: the signed PDF kept and the draft ``approved``."""
    await review.approve(
        session,
        staff,
        signed.document_id,
        signed.version,
        signed.chosen,
        signed.style,
        signed.file,
        signed.signer_line,
        comment,
        desk.now(),
        desk.today(),
    )
    await desk.index(session, signed.document_id)
    log.info(
        "document.approved",
        document_id=signed.document_id,
        user=staff.username,
        authority=signed.chosen.form,
        sha256=signed.file.sha256,
    )
