"""The versions of an outgoing draft: at every step of its review (trình, trả lại, ký duyệt),
who, when, to whom, the comment, and the files as they were, so that two steps can be compared
and the PDF each person saw downloaded again (the bytes stay in the blob store under their
SHA-256). See :mod:`office.documents.review`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import NotFound
from keys.models import User
from keys.signin import StaffMember
from office.documents import review_refusals as said
from office.documents.models import OUTGOING, DocumentFile, DocumentVersion, VersionFile
from office.documents.records import visible_document


async def keep_version(
    session: AsyncSession,
    document_id: int,
    staff: StaffMember,
    step: str,
    to_user_id: int | None,
    comment: str,
    now: datetime,
) -> None:
    """The step, and the document's files as they are now."""
    seq = await session.scalar(
        select(func.coalesce(func.max(DocumentVersion.seq), 0)).where(
            DocumentVersion.document_id == document_id
        )
    )
    version = DocumentVersion(
        document_id=document_id,
        seq=int(seq or 0) + 1,
        step=step,
        user_id=staff.id,
        to_user_id=to_user_id,
        at=now,
        comment=comment,
    )
    session.add(version)
    await session.flush()
    files = await session.scalars(
        select(DocumentFile)
        .where(DocumentFile.document_id == document_id)
        .order_by(DocumentFile.id)
    )
    for position, row in enumerate(files):
        session.add(
            VersionFile(
                version_id=version.id,
                position=position,
                name=row.name,
                content_type=row.content_type,
                size=row.size,
                sha256=row.sha256,
                role=row.role,
            )
        )


@dataclass(frozen=True)
class VersionEntry:
    """One step of the draft's way, with its files."""

    id: int
    seq: int
    step: str
    user_name: str
    to_name: str
    at: datetime
    comment: str
    files: tuple[VersionFile, ...]


async def versions(
    session: AsyncSession, staff: StaffMember, document_id: int
) -> list[VersionEntry]:
    """Every step of a document ``staff`` may see, oldest first, with its files."""
    await visible_document(session, staff, document_id, OUTGOING)
    by, to = User.__table__.alias("by"), User.__table__.alias("to")
    rows = (
        await session.execute(
            select(
                DocumentVersion,
                func.coalesce(by.c.full_name, "").label("user_name"),
                func.coalesce(to.c.full_name, "").label("to_name"),
            )
            .outerjoin(by, by.c.id == DocumentVersion.user_id)
            .outerjoin(to, to.c.id == DocumentVersion.to_user_id)
            .where(DocumentVersion.document_id == document_id)
            .order_by(DocumentVersion.seq)
        )
    ).all()
    files = await session.scalars(
        select(VersionFile)
        .join(DocumentVersion, DocumentVersion.id == VersionFile.version_id)
        .where(DocumentVersion.document_id == document_id)
        .order_by(VersionFile.version_id, VersionFile.position)
    )
    grouped: dict[int, list[VersionFile]] = {}
    for row in files:
        grouped.setdefault(row.version_id, []).append(row)
    return [
        VersionEntry(
            version.id,
            version.seq,
            version.step,
            user_name,
            to_name,
            version.at,
            version.comment,
            tuple(grouped.get(version.id, ())),
        )
        for version, user_name, to_name in rows
    ]


@dataclass(frozen=True)
class FileChange:
    """A file compared between two steps: ``added``, ``removed``, ``changed`` or ``same``."""

    name: str
    change: str
    before: VersionFile | None
    after: VersionFile | None


def compare(before: Sequence[VersionFile], after: Sequence[VersionFile]) -> list[FileChange]:
    """Which files changed between two steps, by role and name (a new upload of the draft's
    PDF under another name is still the draft's PDF: the main file pairs by role)."""

    def key(row: VersionFile) -> tuple[str, str]:
        return (row.role, "") if row.role == "main" else (row.role, row.name)

    old = {key(row): row for row in before}
    new = {key(row): row for row in after}
    changes = []
    for name in list(old) + [k for k in new if k not in old]:
        a, b = old.get(name), new.get(name)
        label = (b or a).name  # type: ignore[union-attr]
        if a is None:
            changes.append(FileChange(label, "added", None, b))
        elif b is None:
            changes.append(FileChange(label, "removed", a, None))
        else:
            kind = "same" if a.sha256 == b.sha256 else "changed"
            changes.append(FileChange(label, kind, a, b))
    return changes


async def version_file(
    session: AsyncSession, staff: StaffMember, document_id: int, file_id: int
) -> VersionFile:
    """A file of one step, for download: only from a document ``staff`` may see."""
    await visible_document(session, staff, document_id, OUTGOING)
    row = await session.scalar(
        select(VersionFile)
        .join(DocumentVersion, DocumentVersion.id == VersionFile.version_id)
        .where(VersionFile.id == file_id, DocumentVersion.document_id == document_id)
    )
    if row is None:
        raise NotFound(said.UNKNOWN_VERSION(), code="not-found")
    return row
