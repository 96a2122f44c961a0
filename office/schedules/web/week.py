"""Lịch công tác pages: the unit's week (with the schedules received from the unit above),
"my week", the printed week, a line's form (new, from a giấy mời, or a change) and the
week's steps: trình duyệt, duyệt (which publishes), trả lại.

A form carries the week's revision: a change from an older one is refused with the reason,
as the form again. A line that clashes (the same person or room at the same time) is shown
with the clash first and saved only once the editor confirms. After a change commits, a
published week goes to the district units and the people concerned get a mail.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from config.refusals import Said
from keys.signin import StaffMember
from office.documents.desk import DESK
from office.documents.records import visible_document
from office.formats import format_datetime
from office.schedules import distribution, notices, refusals, rules, views, weeks
from office.schedules.entries import clashes, entry_input
from office.schedules.web.printing import print_response
from office.web import forms, once
from office.web.once import run_once
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator


def _staff(request: web.Request) -> StaffMember:
    staff = request[STAFF]
    if not rules.may_see(staff):
        raise NotFound(translator(request)("error.not-found"))
    return staff


def _editor(request: web.Request) -> StaffMember:
    staff = _staff(request)
    if not rules.may_edit(staff):
        raise NotFound(translator(request)("error.not-found"))
    return staff


def _week(request: web.Request, values: MultiMapping[Any] | None = None) -> date:
    source = values if values is not None else request.query
    return rules.week_of(source.get("week"), request.app[DESK].today())


def _revision(form: MultiMapping[Any]) -> int:
    try:
        return int(str(form.get("revision", "")))
    except ValueError:
        raise Invalid(refusals.MISSING_REVISION(), code="bad-form") from None


def week_links(week_start: date) -> dict[str, str]:
    return {
        "previous": (week_start - rules.WEEK).isoformat(),
        "next": (week_start + rules.WEEK).isoformat(),
        "this": week_start.isoformat(),
    }


async def week_page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], _staff(request)
    week_start = _week(request)
    async with site.sessions() as session:
        week = await views.unit_week(session, staff, week_start)
        received = await views.received_weeks(session, staff, week_start)
    return render(
        request,
        "schedules/schedule_week.html",
        {
            "title": translator(request)("schedule.title"),
            "week": week,
            "received": [(request.app[DESK].unit_name(w.source_unit), w) for w in received],
            "links": week_links(week_start),
            "end": week_start + timedelta(days=6),
            "holidays": _holidays(request, week_start),
            "may_edit": rules.may_edit(staff) and week.state != "submitted",
            "may_submit": rules.may_submit(staff) and week.state == "draft" and week.entries,
            "may_approve": rules.may_approve(staff) and week.state == "submitted",
            "form_id": forms.new_form_id(),
        },
    )


def _holidays(request: web.Request, week_start: date) -> list[tuple[date, str]]:
    """The week's public holidays (ngày nghỉ lễ), for the page to say so."""
    calendar = request.app[DESK].calendar
    named = ((day, calendar.holiday_name(day)) for day in rules.week_days(week_start))
    return [(day, name) for day, name in named if name]


async def mine_page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], _staff(request)
    week_start = _week(request)
    async with site.sessions() as session:
        entries = await views.my_week(session, staff, week_start)
    return render(
        request,
        "schedules/schedule_mine.html",
        {
            "title": translator(request)("schedule.mine.title"),
            "entries": entries,
            "week_start": week_start,
            "end": week_start + timedelta(days=6),
            "links": week_links(week_start),
        },
    )


async def print_page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], _staff(request)
    week_start = _week(request)
    async with site.sessions() as session:
        week = await views.unit_week(session, staff, week_start)
    printed = translator(request)(
        "schedule.print.printed", at=format_datetime(request.app[DESK].now())
    )
    return await print_response(request, week, staff.unit_name, printed)


async def _entry_form(
    request: web.Request,
    values: MultiMapping[Any],
    week_start: date,
    *,
    entry_id: int | None = None,
    refusal: str | None = None,
    clash: list[Said] | None = None,
    status: int = 200,
) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    async with site.sessions() as session:
        week = await weeks.own_week(session, staff.unit, week_start)
        people = await views.colleagues(session, staff.unit)
        document = await _document(session, staff, values.get("document"))
    return render(
        request,
        "schedules/schedule_entry.html",
        {
            "title": translator(request)(
                "schedule.entry.edit" if entry_id else "schedule.entry.new"
            ),
            "action": f"/schedule/entries/{entry_id}" if entry_id else "/schedule/entries/new",
            "values": values,
            "attending": set(values.getall("attendee", [])),
            "week_start": week_start,
            "end": week_start + timedelta(days=6),
            "revision": values.get("revision") or (week.revision if week else 0),
            "published": week is not None and week.state == "published",
            "people": people,
            "document": document,
            "refusal": refusal,
            "clash": [line.in_language(translator(request).language) for line in clash or []],
            "form_id": values.get("form_id") or forms.new_form_id(),
        },
        status=status,
    )


async def _document(session: AsyncSession, staff: StaffMember, value: object) -> Any:
    """The giấy mời a line is made from, if the form names one the editor may see."""
    if not value:
        return None
    try:
        return await visible_document(session, staff, int(str(value)))
    except ValueError:
        raise NotFound(refusals.DOCUMENT_NOT_FOUND(), code="not-found") from None


async def new_page(request: web.Request) -> web.Response:
    """The new line's form; from a document, prefilled with its summary on the chosen day."""
    site, staff = request.app[SITE], _editor(request)
    values: MultiDict[str] = MultiDict()
    chosen = request.query.get("day", "")
    if chosen:
        values["day"] = chosen
    week_start = rules.week_of(chosen or request.query.get("week"), request.app[DESK].today())
    if request.query.get("document"):
        async with site.sessions() as session:
            document = await _document(session, staff, request.query["document"])
        values["document"] = str(document.id)
        values["content"] = document.summary
        values["secrecy"] = str(document.secrecy)
    values["week"] = week_start.isoformat()
    return await _entry_form(request, values, week_start)


async def edit_page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], _editor(request)
    async with site.sessions() as session:
        found = await views.entry_for_edit(session, staff, int(request.match_info["entry_id"]))
    if found is None:
        raise NotFound(refusals.NOT_FOUND(), code="not-found")
    week, entry = found
    values: MultiDict[str] = MultiDict(
        {
            "week": week.week_start.isoformat(),
            "revision": str(week.revision),
            "day": entry.day.isoformat(),
            "start_time": entry.start_time.strftime("%H:%M"),
            "end_time": entry.end_time.strftime("%H:%M"),
            "content": entry.content,
            "chair_user_id": str(entry.chair_user_id or ""),
            "place": entry.place,
            "prepared_by": entry.prepared_by,
            "notes": entry.notes,
            "secrecy": str(entry.secrecy),
            "chair_text": entry.chair_text,
            "attendees_text": entry.attendees_text,
        }
    )
    for user_id in entry.attendee_ids:
        values.add("attendee", str(user_id))
    if entry.document_id:
        values["document"] = str(entry.document_id)
    return await _entry_form(request, values, week.week_start, entry_id=entry.id)


async def save_submit(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], _editor(request)
    form = await request.post()
    week_start = _week(request, form)
    entry_id = int(request.match_info["entry_id"]) if "entry_id" in request.match_info else None
    try:
        revision, form_id = _revision(form), forms.form_id_of(form)
        async with site.sessions() as session:
            earlier = await once.done_before(session, form_id)
            if earlier is not None:  # sent twice: the first did the work
                return see_other(earlier)
            people = {person.id: person for person in await views.colleagues(session, staff.unit)}
            document = await _document(session, staff, form.get("document"))
        line = entry_input(
            form,
            week_start,
            max_secrecy=staff.clearance,
            colleagues=people,
            document_id=document.id if document is not None and entry_id is None else None,
        )
        if not form.get("confirm_clash"):
            async with site.sessions() as session:
                found = await clashes(session, staff.unit, line, staff.clearance, exclude=entry_id)
            if found:
                return await _entry_form(
                    request, form, week_start, entry_id=entry_id, clash=found, status=409
                )
        changes: list[weeks.Change] = []

        async def work(session: AsyncSession) -> str:
            change = await weeks.save_entry(
                session, staff, week_start, revision, line, request.app[DESK].now(), entry_id
            )
            changes.append(change)
            return f"/schedule?week={week_start.isoformat()}"

        try:
            outcome = (await run_once(request, form_id, work)).outcome
        except IntegrityError:  # two first lines of a new week at once: the second is told
            raise Conflict(refusals.STALE(), code="stale") from None
    except (Invalid, Conflict) as refusal:
        return await _entry_form(
            request,
            form,
            week_start,
            entry_id=entry_id,
            refusal=translator(request).refusal(refusal),
            status=refusal.http_status,
        )
    await _after(request, staff, changes)
    return see_other(outcome)


async def _after(request: web.Request, staff: StaffMember, changes: list[weeks.Change]) -> None:
    """After the commit: send a published week down, and tell the people concerned."""
    site = request.app[SITE]
    for change in changes:
        if change.publish:
            await distribution.distribute(request.app[DESK], change.week_id)
        link = f"{request.url.origin()}/schedule?week={change.week_start.isoformat()}"
        await notices.notify(site.mail, site.sessions, staff, change, link, request.app[DESK].now())


async def cancel_submit(request: web.Request) -> web.Response:
    staff = _editor(request)
    form = await request.post()
    week_start, revision = _week(request, form), _revision(form)
    entry_id = int(request.match_info["entry_id"])
    changes: list[weeks.Change] = []

    async def work(session: AsyncSession) -> str:
        change = await weeks.cancel_entry(
            session, staff, week_start, revision, entry_id, request.app[DESK].now()
        )
        changes.append(change)
        return f"/schedule?week={week_start.isoformat()}"

    outcome = (await run_once(request, forms.form_id_of(form), work)).outcome
    await _after(request, staff, changes)
    return see_other(outcome)


STEPS = {"submit": weeks.submit, "approve": weeks.approve, "return": weeks.send_back}


async def step_submit(request: web.Request) -> web.Response:
    staff = _staff(request)
    step = STEPS[request.match_info["step"]]
    form = await request.post()
    week_start, revision = _week(request, form), _revision(form)
    changes: list[weeks.Change] = []

    async def work(session: AsyncSession) -> str:
        changes.append(await step(session, staff, week_start, revision, request.app[DESK].now()))
        return f"/schedule?week={week_start.isoformat()}"

    outcome = (await run_once(request, forms.form_id_of(form), work)).outcome
    await _after(request, staff, changes)
    return see_other(outcome)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/schedule", week_page, name="schedule")
    app.router.add_get("/schedule/mine", mine_page, name="schedule_mine")
    app.router.add_get("/schedule/print.pdf", print_page, name="schedule_print")
    app.router.add_get("/schedule/entries/new", new_page, name="schedule_new")
    app.router.add_post("/schedule/entries/new", save_submit)
    app.router.add_get(r"/schedule/entries/{entry_id:\d+}", edit_page)
    app.router.add_post(r"/schedule/entries/{entry_id:\d+}", save_submit)
    app.router.add_post(r"/schedule/entries/{entry_id:\d+}/cancel", cancel_submit)
    app.router.add_post(r"/schedule/{step:submit|approve|return}", step_submit)
