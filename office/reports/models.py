"""Tables of the reporting module: the units' periodic forms, the monthly figures other nodes
sent up, and a log of every report dispatch received (accepted or refused, with the reason).

The counts of the units this node hosts are never stored here: they are read from the usage
ledger's roll-ups and the registers when a report is made, so they cannot go stale.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from config.database import Base, UTCDateTime, utcnow


class UnitFormRecord(Base):
    """What a unit entered for a period (biểu mẫu báo cáo định kỳ): on its own node, or as
    received from it in a ``report`` dispatch."""

    __tablename__ = "report_forms"

    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: ``2005``, ``2005-Q4`` or ``2005-11``.
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    staff_total: Mapped[int] = mapped_column(Integer)
    staff_computer_literate: Mapped[int] = mapped_column(Integer)
    computers: Mapped[int] = mapped_column(Integer)
    servers: Mapped[int] = mapped_column(Integer)
    lan_state: Mapped[str] = mapped_column(Text, default="")
    connection_state: Mapped[str] = mapped_column(Text, default="")
    incidents: Mapped[str] = mapped_column(Text, default="")
    proposals: Mapped[str] = mapped_column(Text, default="")
    #: "" when entered here; the sending unit's code when received through exchange.
    source: Mapped[str] = mapped_column(String(32), default="")
    entered_by: Mapped[str] = mapped_column(String(255), default="")
    #: When the unit's node made it: a re-sent report replaces an older one, never a newer one.
    made_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When this node first had it: what "on time" is judged by.
    first_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Optimistic lock for the web form.
    revision: Mapped[int] = mapped_column(Integer, default=1)


class ReportedMonth(Base):
    """One month of another node's unit, as its latest report gave it."""

    __tablename__ = "report_months"

    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    accesses: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)
    documents_sent: Mapped[int] = mapped_column(Integer, default=0)
    documents_received: Mapped[int] = mapped_column(Integer, default=0)
    incoming_registered: Mapped[int] = mapped_column(Integer, default=0)
    incoming_done: Mapped[int] = mapped_column(Integer, default=0)
    incoming_overdue: Mapped[int] = mapped_column(Integer, default=0)
    mails_sent: Mapped[int] = mapped_column(Integer, default=0)
    #: JSON list of pseudonyms (hashes) of the people active that month: a distinct count over
    #: several months needs the people, not a number per month.
    active_people: Mapped[str] = mapped_column(Text, default="[]")
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportArrival(Base):
    """Every ``report`` and ``figures`` dispatch this node received, and what became of it."""

    __tablename__ = "report_arrivals"
    __table_args__ = (Index("ix_report_arrivals_unit_period", "unit_code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dispatch_id: Mapped[str] = mapped_column(String(36))
    #: ``report`` (the monthly figures and form) or ``figures`` (document handling, live).
    kind: Mapped[str] = mapped_column(String(16), default="report", server_default="report")
    sender: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str] = mapped_column(String(32), default="")
    period: Mapped[str] = mapped_column(String(7), default="")
    accepted: Mapped[bool] = mapped_column(Boolean)
    #: Why it was refused (Vietnamese, shown to the province's admins); "" when accepted.
    reason: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportSend(Base):
    """A report this node sent up: the automatic schedule sends each period once."""

    __tablename__ = "report_sends"

    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    dispatch_id: Mapped[str] = mapped_column(String(36))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Whether the unit's form was in it (a report without it counts as not yet made).
    with_form: Mapped[bool] = mapped_column(Boolean, default=False)


class LiveFigures(Base):
    """The latest document-handling snapshot of another node's unit
    (:mod:`office.reports.live`), as its last ``figures`` dispatch gave it."""

    __tablename__ = "live_figures"

    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: When the unit's node counted it: an older snapshot arriving late changes nothing.
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dispatch_id: Mapped[str] = mapped_column(String(36))
    #: The snapshot as the dispatch carried it, checked (JSON).
    figures: Mapped[str] = mapped_column(Text)
