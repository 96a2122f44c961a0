"""The reporting desk: make a unit's report, keep its periodic form, send its figures up as a
``report`` dispatch (on demand, and by itself each month), and take in what units below send.

A received report is checked (the signing unit reports only for itself, a real period, sane
figures); a refused one is kept in ``report_arrivals`` with the reason, never half applied, and
the dispatch is still handled: sending it again would not make it right.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.errors import CongvanError, Invalid, NotFound, PeerRefused
from config.logging import get_logger
from config.settings import ReportSettings
from exchange.envelope import Draft
from exchange.handlers import ReceivedDispatch
from exchange.ledger import VIETNAM, UsageLedger
from exchange.models import OutboundDispatch, UsageDaily
from exchange.outbox import Outbox
from keys.directory import list_units
from keys.signed_directory import SignedDirectory
from office.documents.numbering import numbering_style
from office.reports import refusals
from office.reports.aggregate import UnitInfo, build_report
from office.reports.figures import (
    NegativeFigure,
    counted_months,
    month_payload,
    usage_from_payload,
)
from office.reports.forms import check_form, form_of, form_payload, save_form
from office.reports.letterhead import Issue, Signer
from office.reports.models import ReportArrival, ReportedMonth, ReportSend, UnitFormRecord
from office.reports.periods import Period, parse_period
from office.reports.summary import ProvinceReport, UnitForm, Usage

log = get_logger("congvan.office.reports")

KIND = "report"
AUTO_NAMESPACE = uuid.UUID("2b0e6c8e-5d8f-5a3e-8c61-4f0b9d7a2e15")
#: A month names at most this many active people (a commune has tens; a district hundreds).
MAX_PEOPLE = 100_000


@dataclass(frozen=True)
class Arrival:
    """A ``report`` or ``figures`` dispatch received, and what became of it."""

    received_at: datetime
    sender: str
    unit: str
    period: str
    accepted: bool
    reason: str
    #: ``report`` (a month's figures and form) or ``figures`` (document handling, live).
    kind: str = KIND


def utc_now() -> datetime:
    return datetime.now(UTC)


class Reports:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: ReportSettings,
        hosted_units: tuple[str, ...],
        *,
        directory: SignedDirectory | None = None,
        outbox: Outbox | None = None,
        ledger: UsageLedger | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.hosted = frozenset(hosted_units)
        self.directory = directory
        self.outbox = outbox
        self.ledger = ledger
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(VIETNAM).date()

    def period(self, text: str) -> Period:
        return parse_period(text, self.today())

    async def units(self, session: AsyncSession) -> list[UnitInfo]:
        """The network's units: the signed directory when this node has a fresh one, else the
        units table (the province's own, or one imported by hand)."""
        if self.directory is not None:
            try:
                return [
                    UnitInfo(unit.code, unit.name, unit.kind, unit.parent)
                    for unit in self.directory.units()
                ]
            except PeerRefused:
                log.warning("report.directory_unavailable")
        return [
            UnitInfo(unit.code, unit.name, unit.kind, unit.parent)
            for unit in await list_units(session)
        ]

    async def _counts_current(self) -> None:
        """Fold what the ledger holds into its roll-ups, so a report counts up to now."""
        if self.ledger is not None:
            await self.ledger.flush()
            await self.ledger.roll_up()

    async def report(
        self, unit: str, period_text: str, issue: Issue | None = None
    ) -> ProvinceReport:
        """The report of ``unit`` for the period; ``issue`` gives its number, date or signer
        (the settings' signer fills what it leaves out; the rest stays blank for the clerk)."""
        period = self.period(period_text)
        issue = self.with_signer(issue or Issue())
        await self._counts_current()
        async with self.sessions() as session:
            units = await self.units(session)
            _style, issuer_code = await numbering_style(session, unit)
            return await build_report(
                session,
                units,
                self.hosted,
                unit,
                period,
                self.settings,
                self.clock(),
                issuer_code,
                issue,
            )

    def with_signer(self, issue: Issue) -> Issue:
        """``issue`` with the settings' signer in what it leaves out."""
        given, settings = issue.signer, self.settings
        signer = Signer(
            authority=given.authority or settings.signer_authority,
            position=given.position or settings.signer_position,
            name=given.name or settings.signer_name,
        )
        return replace(issue, signer=signer)

    # -- the unit's form ---------------------------------------------------------------------

    async def form(self, unit: str, period_text: str) -> tuple[UnitForm | None, int]:
        """The unit's form for the period and its revision (0 when none was entered)."""
        self.check_hosted(unit)
        period = self.period(period_text)
        async with self.sessions() as session:
            record = await session.get(UnitFormRecord, (unit, period.key))
            return (form_of(record), record.revision) if record else (None, 0)

    async def save_form(
        self,
        unit: str,
        period_text: str,
        raw: dict[str, object],
        *,
        entered_by: str,
        revision: int | None = None,
    ) -> UnitForm:
        self.check_hosted(unit)
        period = self.period(period_text)
        form = check_form(raw)
        async with self.sessions() as session, session.begin():
            await save_form(
                session,
                unit,
                period,
                form,
                made_at=self.clock(),
                entered_by=entered_by,
                revision=revision,
            )
        log.info("report.form_saved", unit=unit, period=period.key)
        return form

    def check_hosted(self, unit: str) -> None:
        if unit not in self.hosted:
            raise NotFound(refusals.NOT_HOSTED(unit=unit), code="unknown-unit")

    # -- sending up ----------------------------------------------------------------------------

    async def recipient(self, unit: str) -> str | None:
        """Where ``unit``'s reports go: the setting, else the top of its line of parents;
        None when that is the unit itself or hosted here (nothing to send)."""
        to = self.settings.send_to
        if not to:
            async with self.sessions() as session:
                by_code = {info.code: info for info in await self.units(session)}
            info = by_code.get(unit)
            seen: set[str] = set()
            while info is not None and info.parent and info.parent not in seen:
                seen.add(info.code)
                to, info = info.parent, by_code.get(info.parent)
        if not to or to in self.hosted:
            return None
        return to

    async def payload(self, unit: str, period: Period) -> dict[str, Any]:
        await self._counts_current()
        async with self.sessions() as session:
            months = (await counted_months(session, [unit], period.months, self.today()))[unit]
            record = await session.get(UnitFormRecord, (unit, period.key))
        return {
            "unit": unit,
            "period": period.key,
            "made_at": self.clock().isoformat(),
            "months": [
                month_payload(month, months) for month in period.elapsed_months(self.today())
            ],
            "form": form_payload(form_of(record)) if record else None,
        }

    async def send(self, unit: str, period_text: str, *, dispatch_id: str | None = None) -> str:
        """Send ``unit``'s report for the period now; a later one replaces it up there."""
        self.check_hosted(unit)
        period = self.period(period_text)
        to = await self.recipient(unit)
        if to is None or self.outbox is None:
            raise Invalid(refusals.NO_RECIPIENT(unit=unit), code="no-recipient")
        payload = await self.payload(unit, period)
        draft = Draft(
            recipients=(to,), kind=KIND, metadata=payload, id=dispatch_id or str(uuid.uuid4())
        )
        await self.outbox.send(unit, draft)
        async with self.sessions() as session, session.begin():
            sent = await session.get(ReportSend, (unit, period.key))
            if sent is None:
                sent = ReportSend(unit_code=unit, period=period.key)
                session.add(sent)
            sent.dispatch_id, sent.sent_at = draft.id, self.clock()
            sent.with_form = payload["form"] is not None
        log.info("report.sent", unit=unit, period=period.key, to=to, dispatch_id=draft.id)
        return draft.id

    async def send_due(self) -> list[str]:
        """From ``send_day`` on, send last month's report of each hosted unit that reports,
        once (the dispatch id is fixed per unit and month, so two processes send one), when
        the node counted use from that month's first day."""
        today = self.today()
        if not self.settings.send_day or today.day < self.settings.send_day:
            return []
        last = today.replace(day=1).toordinal() - 1
        month = datetime.fromordinal(last).strftime("%Y-%m")
        sent: list[str] = []
        async with self.sessions() as session:
            # A node that began during the month (or has counted nothing yet) has no month to
            # report: its first report waits for the first whole month it was in use.
            first_day = await session.scalar(select(func.min(UsageDaily.day)))
            if first_day is None or first_day > f"{month}-01":
                return []
            kinds = {info.code: info.kind for info in await self.units(session)}
            done = set(
                await session.scalars(
                    select(ReportSend.unit_code).where(ReportSend.period == month)
                )
            )
        for unit in sorted(self.hosted - done):
            if kinds.get(unit) not in self.settings.reporting_kinds:
                continue
            if await self.recipient(unit) is None:
                continue
            dispatch_id = str(uuid.uuid5(AUTO_NAMESPACE, f"{unit}:{month}"))
            async with self.sessions() as session:
                if await session.get(OutboundDispatch, dispatch_id) is not None:
                    continue
            try:
                sent.append(await self.send(unit, month, dispatch_id=dispatch_id))
            except CongvanError as error:
                log.warning("report.not_sent", unit=unit, period=month, reason=error.code)
        return sent

    # -- receiving -----------------------------------------------------------------------------

    async def recent_arrivals(self, limit: int, kind: str | None = KIND) -> list[Arrival]:
        """The dispatches of ``kind`` received (``report``: the periodic reports; ``figures``:
        the live figures, one an hour from each unit; None: both), newest first, with why each
        refused one was."""
        query = select(ReportArrival)
        if kind is not None:
            query = query.where(ReportArrival.kind == kind)
        async with self.sessions() as session:
            rows = await session.scalars(
                query.order_by(ReportArrival.received_at.desc(), ReportArrival.id.desc()).limit(
                    limit
                )
            )
            return [
                Arrival(
                    row.received_at,
                    row.sender,
                    row.unit_code,
                    row.period,
                    row.accepted,
                    row.reason,
                    row.kind,
                )
                for row in rows
            ]

    async def receive(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        """The ``report`` handler: keep the figures and the form, or record why not."""
        metadata, sender = dispatch.metadata, dispatch.header.sender
        arrival = ReportArrival(
            dispatch_id=dispatch.header.id,
            sender=sender,
            unit_code=str(metadata.get("unit", ""))[:32],
            period=str(metadata.get("period", ""))[:7],
            received_at=self.clock(),
        )
        try:
            await self._apply(session, sender, metadata)
        except (Invalid, NotFound) as error:
            arrival.accepted, arrival.reason = False, error.message
            log.warning("report.refused", dispatch_id=dispatch.header.id, code=error.code)
        else:
            arrival.accepted, arrival.reason = True, ""
            log.info("report.received", dispatch_id=dispatch.header.id, unit=sender)
        session.add(arrival)

    async def _apply(self, session: AsyncSession, sender: str, metadata: dict[str, Any]) -> None:
        unit = str(metadata.get("unit", ""))
        if unit != sender:
            raise Invalid(refusals.WRONG_UNIT(sender=sender, unit=unit), code="report-wrong-unit")
        period = parse_period(str(metadata.get("period", "")), self.today())
        try:
            made_at = datetime.fromisoformat(str(metadata["made_at"]))
            months = list(metadata["months"])
        except (KeyError, TypeError, ValueError) as error:
            raise Invalid(refusals.MISSING_FIGURES(), code="report-malformed") from error
        if made_at.tzinfo is None:
            raise Invalid(refusals.NO_TIME_ZONE(), code="report-malformed")
        checked = [self._month(raw, period) for raw in months]
        async with session.begin_nested():
            for month, usage, people in checked:
                row = await session.get(ReportedMonth, (unit, month))
                if row is not None and row.made_at > made_at:
                    continue
                if row is None:
                    row = ReportedMonth(unit_code=unit, month=month)
                    session.add(row)
                for name, value in asdict(usage).items():
                    setattr(row, name, value)
                row.active_people = people
                row.made_at, row.received_at = made_at, self.clock()
            if metadata.get("form") is not None:
                if not isinstance(metadata["form"], dict):
                    raise Invalid(refusals.MALFORMED_FORM(), code="report-malformed")
                await save_form(
                    session,
                    unit,
                    period,
                    check_form(metadata["form"]),
                    made_at=made_at,
                    source=sender,
                    first_at=self.clock(),
                )

    @staticmethod
    def _month(raw: Any, period: Period) -> tuple[str, Usage, str]:
        if not isinstance(raw, dict):
            raise Invalid(refusals.MALFORMED_MONTH(), code="report-malformed")
        month = str(raw.get("month", ""))
        if month not in period.months:
            raise Invalid(
                refusals.MONTH_OUTSIDE_PERIOD(month=month, period=period.key),
                code="report-malformed",
            )
        try:
            usage = usage_from_payload(raw)
        except NegativeFigure as error:
            raise Invalid(
                refusals.NEGATIVE_FIGURE(month=month, name=error.name), code="report-negative"
            ) from error
        people = raw.get("active_people", [])
        if (
            not isinstance(people, list)
            or len(people) > MAX_PEOPLE
            or not all(isinstance(person, str) and len(person) <= 64 for person in people)
        ):
            raise Invalid(refusals.MALFORMED_PEOPLE(month=month), code="report-malformed")
        return month, usage, json.dumps(sorted(set(people)))


#: Where the staff web app keeps the reporting desk, when the node has one (set by
#: ``office.node``).
REPORTS = web.AppKey("reports", Reports)
