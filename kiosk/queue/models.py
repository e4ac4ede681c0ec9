"""Database tables of the queue engine (SQLAlchemy 2.0, typed).

The same tables live in a kiosk's SQLite file and in the central server's PostgreSQL database.
Schema changes go through Alembic (`kiosk/queue/migrations`), never `create_all`.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from kiosk.wire import TicketStatus

__all__ = ["TicketStatus"]  # defined with the wire models, where clients read it too

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


FINISHED_STATUSES = frozenset(
    {TicketStatus.SERVED, TicketStatus.NO_SHOW, TicketStatus.TRANSFERRED, TicketStatus.CANCELLED}
)


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(4), unique=True)
    color: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    avg_service_minutes: Mapped[float] = mapped_column(default=10.0)
    daily_capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Paused by staff for the day (the kiosk shows why); `active` is the seed's word.
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Paused for every kiosk from the operations console (a `department.paused` event).
    hospital_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    hospital_pause_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    directions_vi: Mapped[str] = mapped_column(String(300), default="")
    directions_en: Mapped[str] = mapped_column(String(300), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    rooms: Mapped[list[Room]] = relationship(
        back_populates="department", order_by="Room.code", cascade="all, delete-orphan"
    )

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name_vi


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    code: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship(back_populates="rooms")

    __table_args__ = (UniqueConstraint("department_code", "code"),)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    service_date: Mapped[dt.date] = mapped_column(Date)
    # None for a transferred ticket: it keeps its original code and takes no number.
    number: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.WAITING)
    origin: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime]
    # Place in line: the issue time, or the time it was requeued or transferred here.
    queued_at: Mapped[dt.datetime]
    called_at: Mapped[dt.datetime | None]  # first call
    last_called_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    room: Mapped[str | None] = mapped_column(String(32))
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    transferred_from: Mapped[str | None] = mapped_column(String(36))
    cancel_reason: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # Numbering is duplicate-free per department and day: the database says so too.
        UniqueConstraint("department_code", "service_date", "number"),
        Index("ix_tickets_queue", "department_code", "service_date", "status"),
        # Call-next reads the head of a department's line and its latest first calls; these
        # give both in order without sorting the day's tickets on every call.
        Index(
            "ix_tickets_waiting_line",
            "department_code",
            "service_date",
            "priority",
            "queued_at",
            "id",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        # The statistics of a period read these columns of every ticket in it: on PostgreSQL
        # the period is read from this index alone (an index-only scan, in department order).
        Index(
            "ix_tickets_statistics",
            "department_code",
            "service_date",
            postgresql_include=[
                "status",
                "number",
                "issued_at",
                "queued_at",
                "called_at",
                "last_called_at",
                "finished_at",
            ],
        ),
        # PostgreSQL's call-next (`service._CALL_NEXT_SQL`) takes the head of one class of a
        # department's line, in its exact order, from one of these without a sort; its statement
        # is planned once per connection (a generic plan), which can use a partial index only
        # because the statement writes its status and class out as these WHERE clauses do.
        # SQLite calls through the ORM and the waiting line's index.
        *(
            Index(
                f"ix_tickets_next_{kind}",
                "department_code",
                "service_date",
                "queued_at",
                text("COALESCE(number, 0)"),
                "id",
                postgresql_where=text(f"status = 'waiting' AND priority {test}"),
            ).ddl_if(dialect="postgresql")
            for kind, test in (("plain", "IS NULL"), ("priority", "IS NOT NULL"))
        ),
        Index(
            "ix_tickets_first_calls",
            "department_code",
            "service_date",
            "called_at",
            "id",
            postgresql_where=text("called_at IS NOT NULL"),
            sqlite_where=text("called_at IS NOT NULL"),
        ),
    )


class Sequence(Base):
    """Named gap-free counters, bumped inside the transaction that uses the value.

    `number:<dept>:<date>:<offset>` numbers tickets, `seq:<origin>` numbers an origin's events,
    `received:<origin>` is the last seq the server judged from a kiosk, `feed` gives each
    stored event its position in this database's event feed (taken just before commit). A row
    lock held to commit makes the values gap-free and their commits ordered (unlike a SEQUENCE).
    """

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Event(Base):
    """The event log: every state change, local or replicated, once."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    origin: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[dt.datetime]
    ticket_id: Mapped[str | None] = mapped_column(String(36), index=True)
    department_code: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Position in this database's own feed (the server's global cursor); NULL until the
    # transaction that stores the event is about to commit (`events.store_event`).
    position: Mapped[int | None] = mapped_column(Integer, unique=True)
    stored_at: Mapped[dt.datetime]
    # Outbox state of an event this device originated: pushed and accepted, or rejected.
    synced_at: Mapped[dt.datetime | None]
    rejected_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("origin", "seq"),
        # The console's fleet page: each device's latest `device.status`.
        Index("ix_events_type_origin_position", "type", "origin", "position"),
    )


class DeviceRole(enum.StrEnum):
    KIOSK = "kiosk"
    COUNTER = "counter"
    BOARD = "board"
    ADMIN = "admin"


class Device(Base):
    """A device allowed to talk to the central server; only the hash of its token is kept."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # sha256 hex of the bearer token (tokens are random, so no salt or slow hash is needed).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_seen_at: Mapped[dt.datetime | None]
    # A kiosk pushes events only under this origin (its `kiosk.id`) and numbers only inside
    # its block: offset + 1 ... offset + block_size. Registered here, never taken from a push.
    origin: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    numbering_offset: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    block_size: Mapped[int] = mapped_column(Integer, default=100_000, server_default="100000")


class RejectedEvent(Base):
    """An event the server refused. It consumes its seq, so one bad event never blocks the
    kiosk's later ones; its content hash tells a resend of it from another event."""

    __tablename__ = "rejected_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    origin: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("origin", "seq"),)


class LocalFlag(Base):
    """A named flag of this database (e.g. a kiosk store restored from a backup, which must
    learn the server's high-water marks before it issues again)."""

    __tablename__ = "local_flags"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    set_at: Mapped[dt.datetime]


class SyncCursor(Base):
    """How far this database has pulled a server's event feed (one row per server URL)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime]


class CallRequest(Base):
    """A counter's "call next" request, remembered by its id so that a retry after a lost
    answer gets the ticket already called instead of calling a second patient."""

    __tablename__ = "call_requests"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(16))
    room: Mapped[str] = mapped_column(String(32))
    # None: nobody was waiting when the request was answered.
    ticket_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime]


# -- the operations console (server only; the tables exist on kiosks too, empty) ----------


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    IT = "it"


class StaffUser(Base):
    """A person who logs in to the console (devices keep their tokens)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # `scrypt$N$r$p$salt$hash` (base64): a memory-hard hash from the standard library.
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime]
    disabled_at: Mapped[dt.datetime | None]


class StaffSession(Base):
    """A logged-in browser; in the database so every server process knows it."""

    __tablename__ = "staff_sessions"

    # sha256 hex of the cookie's random value: a stolen database holds no usable cookie.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    address: Mapped[str] = mapped_column(String(64), default="")


class LoginAttempt(Base):
    """Every login attempt, for throttling across server processes (and for the record)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_login_attempts_name_at", "name", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )


class AuditEntry(Base):
    """Who did what, when, from where: every staff action in the console."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    user_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    address: Mapped[str] = mapped_column(String(64), default="")


class FleetAlert(Base):
    """A device problem already sent to the webhook (sent once, whichever process saw it)."""

    __tablename__ = "fleet_alerts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_seen_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    cleared_at: Mapped[dt.datetime | None]
