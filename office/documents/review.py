"""Trình, cho ý kiến, trả lại, ký duyệt: an outgoing draft's way from its drafter to its signer.

Decree 30/2020 Art. 10–13 and HD 36 point 1.3.1: the drafter prepares the draft; the head of the
drafting department (or the Chánh Văn phòng) checks it; the competent person approves and signs
it with their own signature; only then does the clerk number it and add the unit's signature
(:func:`office.documents.outgoing.issue` refuses anything not ``approved``).

- A drafter submits a draft to a reviewer (``reviewing``) or straight to a signer (``signing``);
  the document is then held by that person (``holder_id``) and frozen: nobody edits it.
- A reviewer passes it on to another reviewer or to a signer, or returns it with a comment.
- A signer (or the leader they delegated signing to, who then signs ``K/T``/``KT.``) approves
  and signs it, or returns it with a comment. A returned draft is a draft again, its drafter's
  to edit.
- Every step keeps a version with the files as they were (:mod:`office.documents.versions`),
  so two steps can be compared and the PDF each person saw downloaded again.

Functions take an open session in the caller's transaction; each checks the form's version
(someone else's step in between makes the form stale) and changes nothing when it refuses.
Signing itself (the signer's key, the PDF) happens before :func:`approve`, outside any
transaction: see :mod:`office.documents.approval`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid
from keys.models import User
from keys.signin import StaffMember
from office.documents import access, refusals
from office.documents import review_refusals as said
from office.documents.drafts import may_change
from office.documents.incoming import StoredFile
from office.documents.models import (
    OUTGOING,
    Document,
    DocumentFile,
    SigningDelegation,
)
from office.documents.numbering import PARTY_STYLE
from office.documents.outgoing import APPROVED, APPROVED_FILE, DRAFT, REVIEWING, SIGNING
from office.documents.records import change, log_event, visible_document
from office.documents.versions import keep_version

#: The steps a version records.
SUBMITTED, FORWARDED, RETURNED, SIGNED_STEP, ISSUED_STEP = (
    "submitted",
    "forwarded",
    "returned",
    "approved",
    "issued",
)
#: How a choice of person is posted: ``review:12`` or ``sign:7``.
TO_REVIEW, TO_SIGN = "review", "sign"
#: Thẩm quyền ký: in one's own name, or on behalf (HD 36 point 1.3.1 for the Party style;
#: Decree 30 Art. 13 and Appendix I for the state style).
AUTHORITY_FORMS: dict[str, dict[str, str]] = {
    PARTY_STYLE: {"own": "", "tm": "T/M", "kt": "K/T", "tl": "T/L", "tuq": "T/UQ"},
    "state": {"own": "", "tm": "TM.", "kt": "KT.", "tl": "TL.", "tuq": "TUQ."},
}
MAX_COMMENT = 2000
MAX_ON_BEHALF = 100


@dataclass(frozen=True)
class Colleague:
    """Someone of the unit a draft can be submitted to."""

    id: int
    full_name: str
    title: str

    @property
    def label(self) -> str:
        return f"{self.full_name}, {self.title}" if self.title else self.full_name


async def _people(
    session: AsyncSession, staff: StaffMember, secrecy: int, duty: str
) -> list[Colleague]:
    """Reviewers or signers of ``staff``'s unit who may read a document of ``secrecy``."""
    column = User.may_review if duty == TO_REVIEW else User.may_sign
    rows = await session.execute(
        select(User.id, User.full_name, User.username, User.title)
        .where(
            User.unit_code == staff.unit,
            column.is_(True),
            User.disabled.is_(False),
            User.role != "admin",
            User.clearance >= secrecy,
            User.id != staff.id,
        )
        .order_by(User.full_name, User.username)
    )
    return [Colleague(row.id, row.full_name or row.username, row.title) for row in rows]


async def reviewers(session: AsyncSession, staff: StaffMember, secrecy: int) -> list[Colleague]:
    return await _people(session, staff, secrecy, TO_REVIEW)


async def signers(session: AsyncSession, staff: StaffMember, secrecy: int) -> list[Colleague]:
    return await _people(session, staff, secrecy, TO_SIGN)


def parse_target(value: str | None) -> tuple[str, int]:
    """``review:12`` -> (``review``, 12); anything else is refused."""
    duty, _, number = (value or "").partition(":")
    if not value:
        raise Invalid(said.NO_ONE_CHOSEN(), code="missing-field")
    if duty not in (TO_REVIEW, TO_SIGN) or not number.isdigit():
        raise Invalid(said.UNKNOWN_PERSON(), code="bad-person")
    return duty, int(number)


async def _target(
    session: AsyncSession, staff: StaffMember, document: Document, value: str | None
) -> tuple[str, int]:
    """The reviewer or signer chosen, checked: of the unit, with that duty, cleared for the
    document's secrecy (nobody reads above their clearance), and not the one passing it on."""
    duty, user_id = parse_target(value)
    choices = await _people(session, staff, document.secrecy, duty)
    if user_id not in {person.id for person in choices}:
        raise Invalid(said.UNKNOWN_PERSON(), code="bad-person")
    return duty, user_id


def comment_of(value: str | None) -> str:
    """A step's optional comment, checked."""
    return _comment(value, required=False)


def _comment(value: str | None, *, required: bool) -> str:
    comment = (value or "").strip()
    if required and not comment:
        raise Invalid(said.COMMENT_REQUIRED(), code="missing-field")
    if len(comment) > MAX_COMMENT:
        raise Invalid(refusals.TOO_LONG(label=refusals.NOTE, limit=MAX_COMMENT), code="too-long")
    return comment


def _fresh(document: Document, version: int) -> None:
    if document.version != version:
        raise Conflict(refusals.STALE(), code="stale")


async def _pass_on(
    session: AsyncSession,
    staff: StaffMember,
    document: Document,
    version: int,
    target: str | None,
    comment: str | None,
    step: str,
    now: datetime,
) -> Document:
    """Hand the draft to the reviewer or signer chosen (``review:12``, ``sign:7``), keeping the
    step's version."""
    _fresh(document, version)
    duty, user_id = await _target(session, staff, document, target)
    text = comment_of(comment)
    state = REVIEWING if duty == TO_REVIEW else SIGNING
    await change(session, document, version, state=state, holder_id=user_id)
    await keep_version(session, document.id, staff, step, user_id, text, now)
    log_event(session, document.id, staff.id, step, text, at=now)
    return document


async def submit(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    target: str | None,
    comment: str | None,
    now: datetime,
) -> Document:
    """Trình: the drafter (or a clerk or leader of the unit) passes a draft to a reviewer or
    straight to a signer; from now on it is frozen until someone returns it."""
    document = await visible_document(session, staff, document_id, OUTGOING)
    access.require(may_change(staff, document), said.TO_SUBMIT)
    if document.state != DRAFT:
        raise Conflict(said.NOT_A_DRAFT(), code="stale")
    return await _pass_on(session, staff, document, version, target, comment, SUBMITTED, now)


async def acting_for(session: AsyncSession, staff: StaffMember, today: date) -> list[int]:
    """Whose drafts ``staff`` may sign today: their own, and those of every signer who
    delegated signing to them for a period that includes today."""
    delegators = await session.scalars(
        select(SigningDelegation.from_user_id).where(
            SigningDelegation.to_user_id == staff.id,
            SigningDelegation.unit_code == staff.unit,
            SigningDelegation.cancelled_at.is_(None),
            SigningDelegation.starts_on <= today,
            SigningDelegation.ends_on >= today,
        )
    )
    return [staff.id, *delegators]


async def held_document(
    session: AsyncSession, staff: StaffMember, document_id: int, today: date
) -> Document:
    """A submitted draft that waits for ``staff``: as its reviewer, as its signer, or as the
    delegate of its signer. Anyone else gets a clear refusal and changes nothing."""
    document = await visible_document(session, staff, document_id, OUTGOING)
    if document.state == REVIEWING and document.holder_id == staff.id:
        return document
    if document.state == SIGNING and document.holder_id in await acting_for(session, staff, today):
        return document
    raise Conflict(said.NOT_YOURS_NOW(), code="not-holding")


async def forward(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    target: str | None,
    comment: str | None,
    now: datetime,
    today: date,
) -> Document:
    """Cho ý kiến, trình tiếp: a reviewer passes the draft on, to another reviewer or to a
    signer, with their comment."""
    document = await held_document(session, staff, document_id, today)
    if document.state != REVIEWING:
        raise Conflict(said.NOT_YOURS_NOW(), code="not-holding")
    return await _pass_on(session, staff, document, version, target, comment, FORWARDED, now)


async def return_to_drafter(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    comment: str | None,
    now: datetime,
    today: date,
) -> Document:
    """Trả lại: the reviewer or signer sends the draft back to its drafter with a comment
    (required: the drafter must know what to change); it is editable again."""
    document = await held_document(session, staff, document_id, today)
    _fresh(document, version)
    text = _comment(comment, required=True)
    await change(session, document, version, state=DRAFT, holder_id=None)
    await keep_version(session, document.id, staff, RETURNED, document.created_by, text, now)
    log_event(session, document.id, staff.id, RETURNED, text, at=now)
    return document


@dataclass(frozen=True)
class Authority:
    """The signing authority line as the signer chose it (``T/M BAN THƯỜNG VỤ``), or "" when
    they sign in their own name."""

    form: str
    line: str


def authority(style: str, form: str, on_behalf_of: str) -> Authority:
    """The line under which a document is signed, in the unit's numbering style: the Party
    style writes ``T/M``, ``K/T``, ``T/L``, ``T/UQ``; the state style ``TM.``, ``KT.``, ``TL.``,
    ``TUQ.``. Both write whom it is on behalf of in capitals."""
    forms = AUTHORITY_FORMS.get(style, AUTHORITY_FORMS[PARTY_STYLE])
    if form not in forms:
        raise Invalid(said.BAD_AUTHORITY(), code="bad-authority")
    if form == "own":
        return Authority(form, "")
    whom = " ".join(on_behalf_of.split())
    if not whom:
        raise Invalid(said.ON_BEHALF_REQUIRED(), code="missing-field")
    if len(whom) > MAX_ON_BEHALF:
        raise Invalid(said.BAD_AUTHORITY(), code="bad-authority")
    return Authority(form, f"{forms[form]} {whom.upper()}")


async def signing_check(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    chosen: Authority,
    style: str,
    today: date,
) -> Document:
    """Whether ``staff`` may approve and sign the draft now, as ``chosen``: read before the
    signature is made, and again by :func:`approve` in the step's transaction.

    A delegate signs for the signer who delegated to them, so the form is ``K/T`` (``KT.``):
    anything else would misstate who had the authority.
    """
    document = await held_document(session, staff, document_id, today)
    if document.state != SIGNING:
        raise Conflict(said.NOT_YOURS_NOW(), code="not-holding")
    _fresh(document, version)
    signer = await session.get(User, staff.id)
    # Signing authority taken away since the draft was submitted (or never given to a delegate).
    access.require(signer is not None and signer.may_sign, said.TO_SIGN)
    if document.holder_id != staff.id and chosen.form != "kt":
        holder = await session.get(User, document.holder_id)
        form = AUTHORITY_FORMS.get(style, AUTHORITY_FORMS[PARTY_STYLE])["kt"]
        name = holder.full_name if holder is not None else ""
        raise Invalid(said.DELEGATE_SIGNS_KT(name=name, form=form), code="delegate-signs-kt")
    return document


async def approve(
    session: AsyncSession,
    staff: StaffMember,
    document_id: int,
    version: int,
    chosen: Authority,
    style: str,
    signed: StoredFile,
    signer_line: str,
    comment: str | None,
    now: datetime,
    today: date,
) -> Document:
    """Ký duyệt: keep the PDF the signer signed with their own key and mark the draft
    ``approved``; the signer's name and title and the authority line become the document's."""
    document = await signing_check(session, staff, document_id, version, chosen, style, today)
    text = comment_of(comment)
    session.add(
        DocumentFile(
            document_id=document.id,
            name=signed.name,
            content_type=signed.content_type,
            size=signed.size,
            sha256=signed.sha256,
            role=APPROVED_FILE,
            signature_state=signed.signature_state,
            signature_signer=signed.signature_signer,
            added_at=now,
        )
    )
    await change(
        session,
        document,
        version,
        state=APPROVED,
        holder_id=None,
        signer_name=signer_line,
        authority=chosen.line,
    )
    await keep_version(session, document.id, staff, SIGNED_STEP, None, text, now)
    log_event(session, document.id, staff.id, SIGNED_STEP, chosen.line, at=now)
    return document
