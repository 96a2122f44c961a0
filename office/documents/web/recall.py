"""Thu hồi pages (Decree 30/2020 Art. 18): the sending clerk's request from the document's page
(to the recipients ticked, naming a replacement or not), what the page shows of each
recipient's recall, and the receiving clerk's answer on an incoming document.

Each step runs in a transaction that also claims the form's one-time id, so a double submit
lands on the same page having done nothing twice; then POST, 303, GET.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Invalid
from keys.signin import StaffMember
from office.documents import access, recall, recall_requests, refusals, sending
from office.documents.desk import DESK
from office.documents.fields import text
from office.documents.models import Document
from office.documents.recall_requests import Asked, Candidate, RecallForm
from office.documents.records import StatusNotice
from office.documents.timeline import UnitTimeline
from office.documents.web.requests import document_id_of, form_version
from office.web import forms, once
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.site import SITE, STAFF

MAX_REASON = 2000


@dataclass
class RecallPanel:
    """What an outgoing document's page shows of its recall: who was asked (each line of the
    timeline says what they answered), and the form for the others."""

    asked: dict[str, Asked] = field(default_factory=dict)
    #: The recipients that may still be asked, as (code, name); empty: no form.
    open_units: list[tuple[str, str]] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def requested_at(self) -> dict[str, datetime]:
        return {unit: one.requested_at for unit, one in self.asked.items()}


async def recall_panel(
    request: web.Request, session: AsyncSession, document: Document
) -> RecallPanel:
    staff = request[STAFF]
    panel = RecallPanel(await recall_requests.asked(session, staff, document))
    if access.may_register(staff):
        names = request.app[DESK].unit_name
        units = recall_requests.open_to_recall(document, list(panel.asked))
        panel.open_units = [(unit, names(unit)) for unit in units]
        if units:
            panel.candidates = await recall_requests.candidates(session, staff, document)
    return panel


def recall_outcome(asked: str | None, timelines: Sequence[UnitTimeline]) -> str | None:
    """Over the recipients asked: recalled once each agreed; refused if one refused; until
    then, requested (each unit's answer shows on its line)."""
    lines = [line for line in timelines if line.recall is not None]
    if asked is None or not lines:
        return None
    if all(line.recall == recall.AGREED for line in lines):
        return recall.AGREED
    if any(line.recall == recall.REFUSED for line in lines):
        return recall.REFUSED
    return recall.REQUESTED


def recall_form(form: MultiMapping[str | object]) -> RecallForm:
    """The recipients ticked and the replacement chosen or typed."""
    chosen = str(form.get("replacement") or "").strip()
    if chosen and not chosen.isdigit():
        raise Invalid(refusals.REPLACEMENT_NOT_OURS(), code="bad-replacement")
    number = text(form.get("replacement_number"), refusals.NUMBER_SYMBOL, recall.MAX_SYMBOL)
    return RecallForm(
        units=tuple(str(unit) for unit in form.getall("recipient", [])),
        replacement_id=int(chosen) if chosen else None,
        replacement_number=number,
    )


async def recall_submit(request: web.Request) -> web.Response:
    """Thu hồi: checked, then the request goes out; the recipients are recorded once it has."""
    site, staff = request.app[SITE], request[STAFF]
    form = await request.post()
    form_id, version = forms.form_id_of(form), form_version(form)
    document_id = document_id_of(request)
    note = text(form.get("note"), refusals.RECALL_REASON, MAX_REASON, required=True)
    chosen = recall_form(form)
    async with site.sessions() as session:
        earlier = await once.done_before(session, form_id)
        if earlier is not None:
            return see_other(earlier)
        plan = await recall_requests.plan(session, staff, document_id, version, chosen)
    await sending.request_recall(request.app[DESK], plan, note)

    async def mark(session: AsyncSession) -> str:
        await recall_requests.record_request(
            session, staff, document_id, version, chosen, note, request.app[DESK].now()
        )
        return f"/outgoing/{document_id}"

    return see_other((await run_once(request, form_id, mark)).outcome)


Answer = Callable[
    [AsyncSession, StaffMember, int, int, str, datetime], Awaitable[list[StatusNotice]]
]


def _recall_answer(agree: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The receiving clerk agrees to or refuses a recall; the sender is told after commit."""

    async def view(request: web.Request) -> web.Response:
        staff = request[STAFF]
        form = await request.post()
        document_id, version = document_id_of(request), form_version(form)
        label = refusals.NOTE if agree else refusals.REFUSAL_REASON
        note = text(form.get("note"), label, MAX_REASON, required=not agree)
        answer: Answer = recall.agree_recall if agree else recall.refuse_recall
        notices = []

        async def work(session: AsyncSession) -> str:
            notices.extend(
                await answer(session, staff, document_id, version, note, request.app[DESK].now())
            )
            return f"/incoming/{document_id}"

        outcome = (await run_once(request, forms.form_id_of(form), work)).outcome
        await request.app[DESK].report(notices)
        return see_other(outcome)

    return view


def add_routes(app: web.Application) -> None:
    app.router.add_post(r"/outgoing/{document_id:\d+}/recall", recall_submit)
    app.router.add_post(r"/incoming/{document_id:\d+}/recall/agree", _recall_answer(agree=True))
    app.router.add_post(r"/incoming/{document_id:\d+}/recall/refuse", _recall_answer(agree=False))
