"""A form's work done once: the one-time form id every form carries (``form_id``) is claimed
in the transaction that does the work, so a double click, a resent form or two tabs do it once
and the repeat is led where the first submit went.

Work that must not hold a transaction (handing a mail to the gateway, which writes on its own;
saving a report form through the reporting desk) runs as ``then``: after the claim commits,
for the fresh submit only; should it fail, the claim is released, so the corrected form may be
sent again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from office.web.models import FormSubmission
from office.web.site import SITE, STAFF


@dataclass(frozen=True)
class Once:
    #: Where the form leads: this submit's outcome, or the first submit's.
    outcome: str
    #: This submit did the work (False: it repeated one done before).
    fresh: bool


async def done_before(session: AsyncSession, form_id: str) -> str | None:
    """Where the first submit of this form led, when it was submitted before (a page may ask
    before it does costly preparation)."""
    return await session.scalar(select(FormSubmission.outcome).where(FormSubmission.key == form_id))


async def run_once(
    request: web.Request,
    form_id: str,
    work: Callable[[AsyncSession], Awaitable[str]],
    *,
    then: Callable[[], Awaitable[None]] | None = None,
) -> Once:
    """Run ``work`` in a transaction that first claims the form's one-time id; ``work``
    answers where the form leads. A second submit of the same form does nothing and is led
    where the first one went; one sent at the same moment waits on the claim, then finds it
    taken. ``then`` runs after the commit, for the fresh submit only (see above)."""
    site, staff = request.app[SITE], request[STAFF]
    try:
        async with site.sessions() as session, session.begin():
            earlier = await done_before(session, form_id)
            if earlier is not None:
                return Once(earlier, fresh=False)
            claimed = FormSubmission(
                key=form_id, user_id=staff.id, outcome="/", at=datetime.now(UTC)
            )
            session.add(claimed)
            await session.flush()  # a concurrent second submit waits on this row, then fails
            claimed.outcome = await work(session)
            outcome = claimed.outcome
    except IntegrityError:
        async with site.sessions() as session:
            earlier = await done_before(session, form_id)
        if earlier is None:
            raise
        return Once(earlier, fresh=False)
    if then is not None:
        try:
            await then()
        except BaseException:
            async with site.sessions() as session, session.begin():
                await session.execute(delete(FormSubmission).where(FormSubmission.key == form_id))
            raise
    return Once(outcome, fresh=True)


def claim_only(outcome: str) -> Callable[[AsyncSession], Awaitable[str]]:
    """The work of a form whose work is all ``then``: claiming it, leading to ``outcome``."""

    async def work(session: AsyncSession) -> str:
        return outcome

    return work
