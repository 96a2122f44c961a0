"""Tables of the exchange layer: received dispatches, refusals, the evidence log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from config.database import Base, UTCDateTime, utcnow


class InboundDispatch(Base):
    """A dispatch offered to this node: uploading, then accepted or refused, never twice."""

    __tablename__ = "inbound_dispatches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender: Mapped[str] = mapped_column(String(32))
    sender_node: Mapped[str] = mapped_column(String(32))
    peer_node: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    header: Mapped[str] = mapped_column(Text)
    header_signature: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="uploading", index=True)
    refusal_code: Mapped[str | None] = mapped_column(String(32), default=None)
    receipt: Mapped[str | None] = mapped_column(Text, default=None)
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When an upload last moved (the expiry sweep's clock) and until when a commit's
    # verification holds the dispatch (another process may take it over only after that).
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verifying_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Refusal(Base):
    """Every refusal, with who was refused and why: the admin's view of trouble on the WAN."""

    __tablename__ = "refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    peer: Mapped[str] = mapped_column(String(64))
    dispatch_id: Mapped[str | None] = mapped_column(String(36), default=None)
    code: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)


class EvidenceEntry(Base):
    """One link of the hash chain: each entry holds the SHA-256 of the one before."""

    __tablename__ = "evidence"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    event: Mapped[str] = mapped_column(String(32))
    dispatch_id: Mapped[str | None] = mapped_column(String(36), default=None, index=True)
    detail: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class EvidenceHead(Base):
    """The chain's last link, one row: appending updates it first, which serialises writers on
    both databases and lets ``audit verify`` notice entries cut from the end."""

    __tablename__ = "evidence_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class OutboundDispatch(Base):
    """A dispatch this node sealed and sends; one :class:`Delivery` per destination node."""

    __tablename__ = "outbound_dispatches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender: Mapped[str] = mapped_column(String(32), index=True)
    recipients: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str | None] = mapped_column(String(36), default=None, index=True)
    #: Set on the hub for a dispatch it stores and forwards for that node (sealed elsewhere).
    origin_node: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(Base):
    """Getting one dispatch to one node: a small state machine that survives restarts.

    queued -> sending -> delivered | refused | retry-wait -> sending … -> failed; a delivery
    handed to the hub waits in awaiting-receipt until the hub holds the receiver's receipt.
    ``lease_until`` lets another worker take over a delivery whose worker died.
    """

    __tablename__ = "deliveries"

    dispatch_id: Mapped[str] = mapped_column(
        ForeignKey("outbound_dispatches.id", ondelete="CASCADE"), primary_key=True
    )
    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    units: Mapped[str] = mapped_column(Text)
    urgency: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    receipt: Mapped[str | None] = mapped_column(Text, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The hub this delivery went through when the node did not answer (or pulls), else None.
    via: Mapped[str | None] = mapped_column(String(32), default=None)

    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)


class DispatchStatus(Base):
    """What became of a dispatch this node sent, as each recipient unit reported it."""

    __tablename__ = "dispatch_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dispatch_id: Mapped[str] = mapped_column(String(36), index=True)
    unit: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(2))
    note: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[str] = mapped_column(String(20))
    status_dispatch_id: Mapped[str] = mapped_column(String(36), unique=True)


class EarlyRecall(Base):
    """A recall request (status 13) that arrived before the dispatch it recalls (the WAN
    does not keep order: a small status overtakes a large document still uploading). It is
    kept until that dispatch is handed over here, then passed on as if it had come after it."""

    __tablename__ = "early_recalls"

    #: The status dispatch that carried the request.
    status_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: The dispatch it recalls (not received yet when the request came).
    dispatch_id: Mapped[str] = mapped_column(String(36), index=True)
    #: Who asked: honoured only if the dispatch turns out to be theirs.
    sender: Mapped[str] = mapped_column(String(32))
    #: Our units it was addressed to (JSON list).
    units: Mapped[str] = mapped_column(Text)
    #: The request's fields as signed (JSON): code, note, and what the layer above reads.
    details: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsageEvent(Base):
    """One access or transfer: who (unit, user), what kind, how many bytes. Written in batches."""

    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    unit: Mapped[str] = mapped_column(String(32), default="")
    user: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16))
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageDaily(Base):
    """Events and bytes per day, unit and kind: what the periodic report sums."""

    __tablename__ = "usage_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageActive(Base):
    """Who signed in, per month and unit: the report's "people who used the network directly"
    is a distinct count over a period, which daily sums cannot give."""

    __tablename__ = "usage_active"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(64), primary_key=True)


class UsageRollupState(Base):
    """How far the roll-up has read ``usage_events`` (one row; updating it serialises roll-ups)."""

    __tablename__ = "usage_rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)


class PeerPayloadVersion(Base):
    """The newest payload version a peer node said it reads (``payload_versions`` in its
    answer to an offer): a dispatch is sealed with binary parts only when every node it goes
    to said it reads them (``docs/dispatch-format.md``)."""

    __tablename__ = "peer_payload_versions"

    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
