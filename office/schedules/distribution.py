"""The province's published week goes down to the district units as a ``schedule`` dispatch,
where their clerks and leaders see it beside their own.

Sending: after each publishing (the approval, then every adjustment) the week's lines, with
names written out (user ids mean nothing on another node), go to the unit's child districts
that have an encryption certificate in the directory. The dispatch id is derived from the
unit, the week and the version, so a repeated send of one version is the same dispatch.

A line more secret than ``[office] max_secrecy_on_network`` reaches a district on another
node only as "Lịch mật" with its day, time, level and states: no content, chair, attendees,
place, preparer or notes (the 2018 Law on Protection of State Secrets, Art. 2(1) and 5(6), as
for the calendar feeds). A district this node hosts gets the lines whole, as its own pages
would show them; when both kinds of recipient are there, each gets its own dispatch.

Receiving: each hosted recipient unit keeps the week read-only under ``source_unit`` = the
sender; a version not newer than the one kept changes nothing (a re-handover is harmless).
A schedule comes only from above: a dispatch whose sending unit is not in the line of parents
of each recipient unit here (the line a unit's reports go up) is refused on arrival, before
its payload is kept, with a signed refusal like any other (:func:`check_sender`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from config.errors import CongvanError, NotFound, PeerRefused
from config.logging import get_logger
from exchange.envelope import Draft, Header
from exchange.handlers import Admission, ReceivedDispatch
from exchange.models import OutboundDispatch
from office.schedules.messages import MESSAGES
from office.schedules.models import ACTIVE, CANCELLED, PUBLISHED, ScheduleEntry, ScheduleWeek
from office.schedules.views import EntryView, entry_views

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from keys.signed_directory import SignedDirectory
    from office.documents.desk import DocumentDesk

log = get_logger("congvan.office.schedules")

KIND = "schedule"
DISPATCH_NAMESPACE = uuid.UUID("6f1d3c1e-4b7a-5c1e-9a53-1c0e5d6a7b10")
#: Kinds of unit that receive the schedule of the unit above them.
RECEIVING_KINDS = frozenset({"district"})
MAX_ENTRIES = 500
#: What a masked secret line says instead of its content: the feeds' words.
SECRET_LINE = MESSAGES["vi"]["feeds.ics.secret"]


def schedule_dispatch_id(unit: str, week_start: date, version: int, masked: bool = False) -> str:
    """One id per version (and per form: whole, or with its secret lines masked)."""
    form = ":masked" if masked else ""
    return str(uuid.uuid5(DISPATCH_NAMESPACE, f"schedule:{unit}:{week_start}:{version}{form}"))


def recipients_of(desk: DocumentDesk, unit: str) -> tuple[str, ...]:
    if desk.directory is None:
        return ()
    return tuple(
        sorted(
            child.code
            for child in desk.directory.units()
            if child.parent == unit
            and child.kind in RECEIVING_KINDS
            and "encryption" in child.certificates
        )
    )


def _entry(view: EntryView, masked: bool) -> dict[str, Any]:
    """A line as it travels: whole, or (``masked``) its time, level and states only."""
    return {
        "uid": view.uid,
        "day": view.day.isoformat(),
        "start": view.start_time.strftime("%H:%M"),
        "end": view.end_time.strftime("%H:%M"),
        "content": SECRET_LINE if masked else view.content,
        "chair": "" if masked else view.chair,
        "attendees": "" if masked else view.attendees,
        "place": "" if masked else view.place,
        "prepared_by": "" if masked else view.prepared_by,
        "notes": "" if masked else view.notes,
        "secrecy": view.secrecy,
        "status": CANCELLED if view.cancelled else ACTIVE,
        "adjusted": view.adjusted,
        "sequence": view.sequence,
    }


async def distribute(desk: DocumentDesk, week_id: int) -> list[str]:
    """Send the published week down, once per version: the dispatch ids (none when there is
    nobody to send to, or it could not go: logged, never undoing the publishing)."""
    outbox = desk.outbox
    async with desk.sessions() as session:
        week = await session.get(ScheduleWeek, week_id)
        if week is None or week.state != PUBLISHED or week.source_unit or outbox is None:
            return []
        recipients = recipients_of(desk, week.unit_code)
        if not recipients:
            return []
        entries = await session.scalars(
            select(ScheduleEntry)
            .where(ScheduleEntry.week_id == week.id)
            .order_by(ScheduleEntry.day, ScheduleEntry.start_time, ScheduleEntry.id)
        )
        views = await entry_views(session, list(entries.all()), clearance=3)
        unit, week_start, version = week.unit_code, week.week_start, week.version
        heading = {
            "unit": unit,
            "week_start": week_start.isoformat(),
            "version": version,
            "published_at": week.published_at.isoformat() if week.published_at else "",
        }
    limit = desk.network_limit
    remote = set(limit.on_network(recipients))
    secret_lines = any(not limit.allows(view.secrecy) for view in views)
    forms = {False: [r for r in recipients if r not in remote], True: sorted(remote)}
    if not secret_lines:
        forms = {False: list(recipients)}
    sent = []
    for masked, units in forms.items():
        if not units:
            continue
        dispatch_id = schedule_dispatch_id(unit, week_start, version, masked)
        lines = [_entry(view, masked and not limit.allows(view.secrecy)) for view in views]
        draft = Draft(
            recipients=tuple(units),
            kind=KIND,
            metadata={**heading, "entries": lines},
            id=dispatch_id,
        )
        if await _send_once(desk, unit, draft, week_id):
            sent.append(dispatch_id)
    return sent


async def _send_once(desk: DocumentDesk, unit: str, draft: Draft, week_id: int) -> bool:
    """Hand the draft to the outbox unless this version went already; False if it could not."""
    assert desk.outbox is not None
    async with desk.sessions() as session:
        if await session.get(OutboundDispatch, draft.id) is not None:
            return True
    try:
        await desk.outbox.send(unit, draft)
    except CongvanError as error:
        log.warning("schedule.not_sent", week_id=week_id, reason=error.code)
        return False
    log.info("schedule.sent", week_id=week_id, dispatch_id=draft.id, to=list(draft.recipients))
    return True


def parents_of(directory: SignedDirectory, unit: str) -> list[str]:
    """``unit``'s parent, its parent's parent… up to the top of its line in the directory."""
    line: list[str] = []
    code = unit
    while True:
        try:
            parent = directory.unit(code).parent
        except NotFound:
            return line
        if not parent or parent == unit or parent in line:
            return line
        line.append(parent)
        code = parent


def check_sender(directory: SignedDirectory, header: Header, units: Sequence[str]) -> None:
    """A week is shown to a unit's leaders as the schedule of the unit above, so only a unit
    above each recipient here may send one; a sibling, a unit below or a stranger is refused."""
    for unit in units:
        if header.sender not in parents_of(directory, unit):
            raise PeerRefused(
                f"đơn vị {header.sender} không phải cấp trên của đơn vị {unit}: "
                "chỉ nhận lịch công tác do cấp trên gửi xuống",
                code="schedule-not-from-above",
            )


def admission(directory: SignedDirectory) -> Admission:
    """The ``schedule`` kind's admission rule, on this node's directory."""

    def check(header: Header, units: Sequence[str]) -> None:
        check_sender(directory, header, units)

    return check


def _clock(value: object) -> time:
    return time.fromisoformat(str(value))


def _line(raw: object, limit: int) -> str:
    return str(raw or "")[:limit]


async def receive(session: AsyncSession, dispatch: ReceivedDispatch) -> None:
    """The ``schedule`` handler: keep the week under each recipient unit this node hosts."""
    sender, metadata = dispatch.header.sender, dispatch.metadata
    try:
        week_start = date.fromisoformat(str(metadata["week_start"]))
        version = int(metadata["version"])
        raw_entries = list(metadata["entries"])[:MAX_ENTRIES]
        published = str(metadata.get("published_at") or "")
        published_at = datetime.fromisoformat(published) if published else None
    except (KeyError, TypeError, ValueError):
        log.warning("schedule.malformed", dispatch_id=dispatch.header.id, sender=sender)
        return
    for unit in dispatch.units:
        await _keep(session, unit, sender, week_start, version, published_at, raw_entries)
    log.info("schedule.received", dispatch_id=dispatch.header.id, version=version)


async def _keep(
    session: AsyncSession,
    unit: str,
    sender: str,
    week_start: date,
    version: int,
    published_at: datetime | None,
    raw_entries: list[Any],
) -> None:
    week = await session.scalar(
        select(ScheduleWeek)
        .where(
            ScheduleWeek.unit_code == unit,
            ScheduleWeek.week_start == week_start,
            ScheduleWeek.source_unit == sender,
        )
        # Two processes handing over two versions at once: the newer must win.
        .with_for_update()
    )
    if week is not None and week.version >= version:
        return
    if week is None:
        week = ScheduleWeek(unit_code=unit, week_start=week_start, source_unit=sender)
        week.revision, week.note = 1, ""
        session.add(week)
    week.state, week.version, week.published_at = PUBLISHED, version, published_at
    await session.flush()
    await session.execute(delete(ScheduleEntry).where(ScheduleEntry.week_id == week.id))
    for raw in raw_entries:
        try:
            entry = ScheduleEntry(
                week_id=week.id,
                uid=f"{_line(raw['uid'], 32)}-{unit}"[:64],
                day=date.fromisoformat(str(raw["day"])),
                start_time=_clock(raw["start"]),
                end_time=_clock(raw["end"]),
                content=_line(raw["content"], 2000),
                chair_text=_line(raw.get("chair"), 255),
                attendees_text=_line(raw.get("attendees"), 2000),
                place=_line(raw.get("place"), 255),
                prepared_by=_line(raw.get("prepared_by"), 255),
                notes=_line(raw.get("notes"), 2000),
                secrecy=min(3, max(0, int(raw.get("secrecy", 0)))),
                status=CANCELLED if raw.get("status") == CANCELLED else ACTIVE,
                sequence=int(raw.get("sequence", 0)),
                adjusted=bool(raw.get("adjusted")),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("schedule.entry_skipped", unit=unit, sender=sender)
            continue
        session.add(entry)
    await session.flush()
