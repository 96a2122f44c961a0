"""The review chain of an outgoing draft over HTTP, on a real node: the drafter submits it to a
reviewer, who returns it with a comment; the drafter edits and resubmits; the reviewer passes
it to the signer. Every step keeps a version whose files can be compared and downloaded; a
submitted draft is frozen; and each refusal (nobody chosen, someone without the duty or the
clearance, a step by someone who does not hold it, a return without a comment, a stale form,
issuing what nobody approved, a delegate signing other than K/T) changes nothing."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from config.errors import CongvanError
from keys import accounts
from office.documents import delegation, review, review_lists, versions
from office.documents.models import Document, DocumentVersion, VersionFile
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.office.test_outgoing import a_pdf, new_draft, post_draft
from tests.office.test_outgoing_drafts import post_edit
from tests.support.approval import member_of
from tests.support.documents import form_id, version
from tests.support.web import Page, StaffAccount, StaffBrowser, refusal_text

COMMENT = "Đề nghị bổ sung số liệu quý IV vào mục 2."


async def duties(node: RunningNode, account: StaffAccount, **options: object) -> None:
    async with node.sessions() as session, session.begin():
        await accounts.set_duties(session, account.username, **options)  # type: ignore[arg-type]


async def state_of(node: RunningNode, document_id: int) -> Document:
    async with node.sessions() as session:
        found = await session.get(Document, document_id)
    assert found is not None
    return found


async def step(
    browser: StaffBrowser, document_id: int, name: str, *, to: str = "", comment: str = ""
) -> Page:
    """One step's page, then its form as the browser posts it."""
    page = await browser.get(f"/outgoing/{document_id}/{name}")
    assert page.status == 200, page.text
    fields = {
        "csrf_token": page.form_token,
        "form_id": form_id(page),
        "version": version(page),
        "to": to,
        "comment": comment,
    }
    return await browser.post(f"/outgoing/{document_id}/{name}", fields)


@pytest.fixture
async def people(
    tu: RunningNode, make_account: NewAccount
) -> tuple[StaffAccount, StaffAccount, StaffAccount]:
    """A drafter, a head of department who reviews, and a leader who signs."""
    drafter = await make_account(role="staff", full_name="Phạm Văn Soạn")
    reviewer = await make_account(role="staff", full_name="Lê Thị Duyệt")
    signer = await make_account(role="leader", full_name="Nguyễn Văn Ký")
    await duties(tu, reviewer, title="Trưởng phòng", may_review=True)
    await duties(tu, signer, title="Phó Bí thư", may_sign=True)
    return drafter, reviewer, signer


async def test_a_draft_goes_to_review_back_to_its_drafter_and_on_to_the_signer(
    tu: RunningNode,
    people: tuple[StaffAccount, StaffAccount, StaffAccount],
    browser: StaffBrowser,
    tmp_path: Path,
) -> None:
    drafter, reviewer_account, signer_account = people
    reviewer, signer = (
        await member_of(tu, reviewer_account.username),
        await member_of(tu, signer_account.username),
    )
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path)

    form = await browser.get(f"/outgoing/{document_id}/submit")
    assert f'value="review:{reviewer.id}"' in form.text
    assert f'value="sign:{signer.id}"' in form.text
    assert f'value="review:{signer.id}"' not in form.text  # no review duty
    answer = await step(browser, document_id, "submit", to=f"review:{reviewer.id}")
    assert answer.status == 303, answer.text
    submitted = await state_of(tu, document_id)
    assert (submitted.state, submitted.holder_id) == ("reviewing", reviewer.id)

    # Frozen: the drafter cannot edit it while it is submitted.
    frozen = await browser.get(f"/outgoing/{document_id}/edit")
    assert frozen.status == 409
    assert "đang được trình" in refusal_text(frozen)
    assert (await state_of(tu, document_id)).version == submitted.version

    async with StaffBrowser(tu.web_url) as head:
        await head.sign_in_as(reviewer_account)
        waiting = await head.get("/outgoing/to-review")
        assert f'data-document="{document_id}"' in waiting.text
        # A staff member who reviews sees the draft submitted to them.
        assert (await head.get(f"/outgoing/{document_id}")).status == 200
        empty = await step(head, document_id, "return")
        assert empty.status == 400
        assert "cần ghi ý kiến" in refusal_text(empty)
        assert (await state_of(tu, document_id)).state == "reviewing"
        returned = await step(head, document_id, "return", comment=COMMENT)
        assert returned.status == 303, returned.text
    back = await state_of(tu, document_id)
    assert (back.state, back.holder_id) == ("draft", None)

    # Editable again: a new PDF, then submitted again.
    new_pdf = a_pdf(tmp_path, "Về việc tổng kết, đã bổ sung số liệu")
    edited = await post_edit(browser, document_id, pdf=new_pdf)
    assert edited.status == 303, edited.text
    again = await step(browser, document_id, "submit", to=f"review:{reviewer.id}")
    assert again.status == 303, again.text

    async with StaffBrowser(tu.web_url) as head:
        await head.sign_in_as(reviewer_account, at=time.time() + 30)  # the last code was used
        passed = await step(head, document_id, "forward", to=f"sign:{signer.id}", comment="Đạt")
        assert passed.status == 303, passed.text
    at_signer = await state_of(tu, document_id)
    assert (at_signer.state, at_signer.holder_id) == ("signing", signer.id)

    async with StaffBrowser(tu.web_url) as leader:
        await leader.sign_in_as(signer_account)
        assert f'data-document="{document_id}"' in (await leader.get("/outgoing/to-sign")).text
        home = (await leader.get("/")).text
        assert 'id="drafts-to-sign"' in home
        assert f'href="/outgoing/{document_id}"' in home.split('id="drafts-to-sign"')[1]
        page = await leader.get(f"/outgoing/{document_id}")
        assert 'id="approve-draft"' in page.text and 'id="return-draft"' in page.text

    versions = await browser.get(f"/outgoing/{document_id}/versions")
    assert versions.status == 200
    assert COMMENT in versions.text
    async with tu.sessions() as session:
        steps = (
            await session.scalars(
                select(DocumentVersion.step)
                .where(DocumentVersion.document_id == document_id)
                .order_by(DocumentVersion.seq)
            )
        ).all()
    assert steps == ["submitted", "returned", "submitted", "forwarded"]
    # The PDF the reviewer returned differs from the one passed to the signer.
    compared = await browser.get(f"/outgoing/{document_id}/versions?a=2&b=4")
    assert 'class="change-changed"' in compared.text
    unchanged = await browser.get(f"/outgoing/{document_id}/versions?a=3&b=4")
    assert 'class="change-same"' in unchanged.text


async def test_each_version_keeps_the_pdf_as_it_was(
    tu: RunningNode,
    people: tuple[StaffAccount, StaffAccount, StaffAccount],
    browser: StaffBrowser,
    tmp_path: Path,
) -> None:
    drafter, reviewer_account, _signer = people
    reviewer = await member_of(tu, reviewer_account.username)
    await browser.sign_in_as(drafter)
    first = a_pdf(tmp_path, "Bản dự thảo thứ nhất")
    made = await post_draft(browser, first)
    assert made.status == 303 and made.location is not None
    document_id = int(made.location.rsplit("/", 1)[1])
    assert (await step(browser, document_id, "submit", to=f"review:{reviewer.id}")).status == 303
    async with tu.sessions() as session:
        version_files = await versions.versions(
            session, await member_of(tu, drafter.username), document_id
        )
    [kept] = version_files[0].files
    url = f"{tu.web_url}/outgoing/{document_id}/versions/files/{kept.id}"
    async with browser.http.get(url) as download:
        assert download.status == 200
        assert hashlib.sha256(await download.read()).hexdigest() == kept.sha256
    assert kept.sha256 == hashlib.sha256(first[1]).hexdigest()


async def test_steps_by_those_who_do_not_hold_the_draft_are_refused(
    tu: RunningNode,
    people: tuple[StaffAccount, StaffAccount, StaffAccount],
    make_account: NewAccount,
    browser: StaffBrowser,
    tmp_path: Path,
) -> None:
    drafter, reviewer_account, signer_account = people
    reviewer, signer = (
        await member_of(tu, reviewer_account.username),
        await member_of(tu, signer_account.username),
    )
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path)

    nobody = await step(browser, document_id, "submit")
    assert nobody.status == 400 and "Chưa chọn" in refusal_text(nobody)
    # A signer is not a reviewer, and an unknown id is nobody's.
    for target in (f"review:{signer.id}", "sign:999999", "boss:1"):
        refused = await step(browser, document_id, "submit", to=target)
        assert refused.status == 400, target
    assert (await state_of(tu, document_id)).state == "draft"

    assert (await step(browser, document_id, "submit", to=f"sign:{signer.id}")).status == 303
    before = await state_of(tu, document_id)
    # The drafter, the reviewer (not holding it) and a clerk cannot take the signer's steps.
    clerk = await make_account(role="clerk")
    for account in (reviewer_account, clerk):
        async with StaffBrowser(tu.web_url) as other:
            await other.sign_in_as(account)
            page = await other.get(f"/outgoing/{document_id}/return")
            assert page.status in (404, 409), account.username
    # Issuing what nobody approved is refused.
    async with StaffBrowser(tu.web_url) as clerk_browser:
        await clerk_browser.sign_in_as(clerk, at=time.time() + 30)
        page = await clerk_browser.get(f"/outgoing/{document_id}")
        assert 'id="issue-form"' not in page.text
        # A crafted post, as if the button were there.
        refused_issue = await clerk_browser.post(
            f"/outgoing/{document_id}/issue",
            {
                "csrf_token": page.form_token,
                "form_id": secrets.token_urlsafe(24),
                "version": str(before.version),
            },
        )
        assert refused_issue.status == 409
        assert "chưa được người có thẩm quyền ký duyệt" in refusal_text(refused_issue)
    after = await state_of(tu, document_id)
    assert (after.state, after.version, after.number_symbol) == (
        before.state,
        before.version,
        before.number_symbol,
    )
    del reviewer


async def test_nobody_below_the_drafts_secrecy_is_offered_or_accepted(
    tu: RunningNode, make_account: NewAccount, browser: StaffBrowser, tmp_path: Path
) -> None:
    drafter = await make_account(role="staff", clearance=1)
    uncleared = await make_account(role="staff", clearance=0, full_name="Chưa Được Mật")
    await duties(tu, uncleared, may_review=True)
    low = await member_of(tu, uncleared.username)
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path, secrecy="1")
    form = await browser.get(f"/outgoing/{document_id}/submit")
    assert f'value="review:{low.id}"' not in form.text
    refused = await step(browser, document_id, "submit", to=f"review:{low.id}")
    assert refused.status == 400
    assert (await state_of(tu, document_id)).state == "draft"


async def test_a_delegate_signs_only_as_deputy_and_only_in_the_period(
    tu: RunningNode,
    people: tuple[StaffAccount, StaffAccount, StaffAccount],
    make_account: NewAccount,
    browser: StaffBrowser,
    tmp_path: Path,
) -> None:
    drafter, _reviewer, signer_account = people
    deputy_account = await make_account(role="leader", full_name="Trần Văn Thay")
    await duties(tu, deputy_account, title="Phó Bí thư", may_sign=True)
    signer, deputy = (
        await member_of(tu, signer_account.username),
        await member_of(tu, deputy_account.username),
    )
    await browser.sign_in_as(drafter)
    document_id = await new_draft(browser, tmp_path)
    assert (await step(browser, document_id, "submit", to=f"sign:{signer.id}")).status == 303
    current = await state_of(tu, document_id)
    assert tu.desk is not None
    today = tu.desk.today()
    kt = review.authority("party", "kt", "Bí thư")
    own = review.authority("party", "own", "")

    async with tu.sessions() as session:
        with pytest.raises(CongvanError) as not_yet:
            await review.signing_check(
                session, deputy, document_id, current.version, kt, "party", today
            )
    assert not_yet.value.code == "not-holding"

    async with tu.sessions() as session, session.begin():
        # Not to oneself, not to a staff member, not for a period already over.
        with pytest.raises(CongvanError):
            await delegation.delegate(
                session, signer, signer.id, today, today, tu.desk.now(), today
            )
        yesterday = today - timedelta(days=1)
        with pytest.raises(CongvanError):
            await delegation.delegate(
                session,
                signer,
                deputy.id,
                yesterday - timedelta(days=3),
                yesterday,
                tu.desk.now(),
                today,
            )
        await delegation.delegate(
            session, signer, deputy.id, today, today + timedelta(days=5), tu.desk.now(), today
        )
    async with tu.sessions() as session:
        assert document_id in [
            w.document_id for w in await review_lists.to_sign(session, deputy, today)
        ]
        with pytest.raises(CongvanError) as wrong_form:
            await review.signing_check(
                session, deputy, document_id, current.version, own, "party", today
            )
        assert wrong_form.value.code == "delegate-signs-kt"
        checked = await review.signing_check(
            session, deputy, document_id, current.version, kt, "party", today
        )
        assert checked.id == document_id
        # The delegation does not reach past its last day.
        later = today + timedelta(days=6)
        assert document_id not in [
            w.document_id for w in await review_lists.to_sign(session, deputy, later)
        ]


def test_the_authority_line_follows_the_units_style() -> None:
    assert review.authority("party", "tm", "ban thường vụ").line == "T/M BAN THƯỜNG VỤ"
    assert review.authority("party", "kt", "Bí thư").line == "K/T BÍ THƯ"
    assert review.authority("state", "kt", "Giám đốc").line == "KT. GIÁM ĐỐC"
    assert review.authority("state", "tl", "Giám đốc").line == "TL. GIÁM ĐỐC"
    assert review.authority("party", "own", "ignored").line == ""
    for form, whom in (("tm", " "), ("boss", "X")):
        with pytest.raises(CongvanError):
            review.authority("party", form, whom)


def test_comparing_versions_pairs_the_main_file_by_role() -> None:
    def file(name: str, sha: str, role: str = "main") -> VersionFile:
        return VersionFile(
            id=1,
            version_id=1,
            position=0,
            name=name,
            content_type="x",
            size=1,
            sha256=sha,
            role=role,
        )

    before = [file("a.pdf", "1"), file("phu-luc.docx", "2", "attachment")]
    after = [file("b.pdf", "3"), file("bang.xlsx", "4", "attachment")]
    changes = {c.name: c.change for c in versions.compare(before, after)}
    assert changes == {"b.pdf": "changed", "phu-luc.docx": "removed", "bang.xlsx": "added"}
