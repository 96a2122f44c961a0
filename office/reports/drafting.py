"""Phát hành báo cáo: the IT report becomes an outgoing draft (dự thảo văn bản đi) of its unit,
which then goes the unit's ordinary way like any other draft: review, the signer's signature,
the number and the unit's signature at issue, sending (Decree 30/2020 Art. 10-16; see
:mod:`office.documents.review` and :mod:`office.documents.outgoing`).

The draft says what the report says (HD 36-HD/VPTW): its type (``BC``) and summary ("Báo cáo
tình hình ứng dụng công nghệ thông tin tháng 11 năm 2026": the report's type and title), its
signer (the signature block's name and position; the authority line, ``T/M BAN THƯỜNG VỤ``, is
the signer's choice when they sign), its recipients (its "Nơi nhận": the unit above; none for
a unit at the top of the directory, whose drafter chooses them), Không mật and of normal
urgency (usage figures, no state secret).

Its PDF is the report printed with the number and the date left as placeholders (``Số
…-BC/TU``, ``Quảng Trị, ngày … tháng … năm …``): the signer's signature turns them into form
fields and the clerk's issue fills them with the outgoing register's number and day
(:mod:`office.documents.pdf_fields`), so the issued PDF reads what the book holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid
from keys.signin import StaffMember
from office.documents import outgoing
from office.documents import refusals as document_refusals
from office.documents.desk import DocumentDesk
from office.documents.fields import DOC_TYPES, DocumentFields
from office.documents.incoming import StoredFile
from office.documents.models import Document
from office.reports import refusals, rendering
from office.reports.letterhead import REPORT_TYPE, Signer
from office.reports.summary import ProvinceReport

PDF = "application/pdf"
#: Không mật, thường: the report's figures are counts of use.
SECRECY, URGENCY = 0, 0


def summary(report: ProvinceReport) -> str:
    """Trích yếu: the report's type and its title, as one phrase."""
    title = rendering.report_title(report.period)
    return f"{DOC_TYPES[REPORT_TYPE]} {title[:1].lower()}{title[1:]}"


def signer_line(signer: Signer) -> str:
    """The signer as a draft names them (``Nguyễn Văn A, Phó Bí thư``); an outgoing document
    names who signs it (Decree 30 Art. 13), so a report that names nobody is refused."""
    if not signer.name:
        raise Invalid(refusals.NO_SIGNER(), code="no-signer")
    return ", ".join(part for part in (signer.name, signer.position) if part)


def recipients(desk: DocumentDesk, unit: str) -> list[str]:
    """The report's "Nơi nhận" as the draft's recipients: the unit above, when a document can
    be addressed to it (in the directory, with its keys); none for a unit at the top."""
    if desk.directory is None:
        raise Invalid(document_refusals.NO_DIRECTORY(), code="no-directory")
    units = desk.directory.units()
    parent = next((found.parent for found in units if found.code == unit), None)
    addressable = {recipient.code for recipient in outgoing.addressable(units, unit)}
    return [parent] if parent in addressable else []


async def stored_pdf(desk: DocumentDesk, report: ProvinceReport, name: str) -> StoredFile:
    """The report's PDF, printed and stored off the event loop (seconds of CPU), outside any
    transaction."""
    loop = asyncio.get_running_loop()
    body = await loop.run_in_executor(None, rendering.render, report, "pdf")
    blob = await loop.run_in_executor(None, desk.blobs.put_bytes, body)
    return StoredFile(name, PDF, blob.sha256, blob.size)


async def create_draft(
    session: AsyncSession,
    desk: DocumentDesk,
    staff: StaffMember,
    report: ProvinceReport,
    signer: str,
    to: Sequence[str],
    pdf: StoredFile,
) -> Document:
    """The draft, in the caller's transaction, as :func:`office.documents.outgoing.create_draft`
    makes any draft (who may draft is checked there)."""
    fields = DocumentFields(
        doc_type=REPORT_TYPE,
        summary=summary(report),
        signer_name=signer,
        urgency=URGENCY,
        secrecy=SECRECY,
    )
    document = await outgoing.create_draft(session, staff, fields, to, pdf, desk.now())
    await desk.index(session, document.id)
    return document
