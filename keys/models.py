"""Tables of the keys layer: units, nodes, certificates, staff accounts, app passwords, the
failed sign-ins that throttle them, and signing persons' keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from config.database import Base, UTCDateTime, utcnow

UNIT_KINDS = ("province", "board", "district", "sector", "commune")
ROLES = ("admin", "clerk", "leader", "staff")
CLEARANCES = {0: "Không mật", 1: "Mật", 2: "Tối mật", 3: "Tuyệt mật"}
CERTIFICATE_USES = ("ca", "tls", "signing", "encryption")
#: A certificate's owner: a node's name, a unit's code, or a person's ``username@UNIT``.
OWNER_LENGTH = 64
SUBJECT_LENGTH = 255
#: A person's key: installed and waiting for its activation code, the one they sign with, or
#: one a newer key took over from (kept: it names the certificate of what they signed before).
PERSON_KEY_STATES = ("pending", "active", "replaced")


class Node(Base):
    """A server that hosts units; its TLS certificate names it."""

    __tablename__ = "nodes"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    peer_url: Mapped[str] = mapped_column(String(255), default="")
    #: Often offline: dispatches for it wait at the hub, which it polls when it comes online.
    pull: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Unit(Base):
    """An office that sends and receives documents (đơn vị)."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("units.code", ondelete="RESTRICT"), default=None
    )
    node_name: Mapped[str] = mapped_column(ForeignKey("nodes.name", ondelete="RESTRICT"))
    mail_domain: Mapped[str] = mapped_column(String(255), unique=True)


class Certificate(Base):
    """Every certificate the CA issued, its key's use and whether it still holds."""

    __tablename__ = "certificates"

    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(8))
    owner: Mapped[str] = mapped_column(String(OWNER_LENGTH), index=True)
    use: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="active")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revocation_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    pem: Mapped[str] = mapped_column(Text)


class User(Base):
    """A staff account: password (argon2id) and second factor (TOTP).

    ``failed_logins`` and ``locked_until`` are no longer used: failed sign-ins are counted in
    :class:`SignInFailures` since migration 0015, which keeps them only because a downgrade
    could not put them back in their place on PostgreSQL.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255), default="")
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(String(16))
    clearance: Mapped[int] = mapped_column(Integer, default=0)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Chức vụ, as it is written under a signature (``Phó Bí thư``, ``Chánh Văn phòng``).
    title: Mapped[str] = mapped_column(String(128), default="", server_default="")
    #: Cho ý kiến: a head of department (or the Chánh Văn phòng) whom drafts are submitted to.
    may_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Thẩm quyền ký: drafts may be submitted to them to approve and sign (Decree 30 Art. 13).
    may_sign: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The department (phòng, ban) they work in, if the unit has departments (no foreign key,
    #: see migration 0023: a column added to ``users`` in place).
    department_id: Mapped[int | None] = mapped_column(Integer, default=None)


class Department(Base):
    """A department (phòng, ban) of a unit: incoming documents may be assigned to it, and its
    head shares them out among its members (Decree 30/2020 Art. 23: the competent person names
    the unit or person who handles a document)."""

    __tablename__ = "departments"
    __table_args__ = (Index("uq_departments_unit_code", "unit_code", "code", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code", ondelete="RESTRICT"))
    #: Short code, unique in its unit (``TH`` for Phòng Tổng hợp).
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    #: Trưởng phòng (or whoever the unit names to share out its work); a member of it.
    head_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class UnitHead(Base):
    """The leader incoming documents are presented to unless the clerk chooses another
    (Decree 30/2020 Art. 23: to the head of the agency, or whom they assign)."""

    __tablename__ = "unit_heads"

    unit_code: Mapped[str] = mapped_column(
        ForeignKey("units.code", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class SignInFailures(Base):
    """Failed sign-ins counted against a client address or a user name (:mod:`keys.throttle`).

    ``service`` keeps the web sign-in and mail clients apart; ``scope`` is ``address`` (``key``
    the client's IP address, or its IPv6 /64) or ``account`` (``key`` the user name as given,
    whether or not it exists).
    """

    __tablename__ = "sign_in_failures"

    service: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    #: When the count was last raised by a failure; a count this old is forgotten.
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: An address: no attempt from it is checked before then.
    wait_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: An address: the user name its latest counted attempt gave (an admin's unlock lifts the
    #: waits that user's own mistakes started).
    last_user: Mapped[str] = mapped_column(String(64), default="")


class AppPassword(Base):
    """A per-device password for mail clients, shown once, stored hashed, revocable alone."""

    __tablename__ = "app_passwords"
    # A label names one active device; once revoked, the label may be given to its replacement.
    __table_args__ = (
        Index(
            "uq_app_passwords_active_label",
            "user_id",
            "label",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PersonKey(Base):
    """A signing person's own key and certificate from the provincial CA (Decree 30 Art. 13), on
    the node that hosts their unit.

    ``sealed_key`` is never the key in clear: it is sealed under the CA's activation code while
    ``pending`` and under the person's signing PIN once ``active`` (:mod:`keys.pinbox`). A person
    has at most one key ``pending`` and one ``active``; ``pin_failures`` and ``locked_until``
    count and lock wrong PINs on the active one.
    """

    __tablename__ = "person_keys"
    __table_args__ = (
        Index(
            "uq_person_keys_current",
            "user_id",
            "state",
            unique=True,
            sqlite_where=text("state != 'replaced'"),
            postgresql_where=text("state != 'replaced'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    certificate: Mapped[str] = mapped_column(Text)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(64))
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
