"""Devices and their bearer tokens: random, shown once, stored only as a hash (DESIGN §6).

No HTTP here: the `kiosk server add-device` command and the API's auth both use it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.queue.db import read_session
from kiosk.queue.models import Device, DeviceRole

# The channel PostgresListener listens on (server_sync.server.notify imports psycopg, so the
# name is kept here too, and a test checks that both say the same).
DEVICES_CHANNEL = "kiosk_devices"

log = logging.getLogger("kiosk.server")

ROLES = tuple(str(role) for role in DeviceRole)
DEFAULT_BLOCK_SIZE = 100_000
MAX_OFFSET = 999_000
MAX_BLOCK = 1_000_000
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class DeviceError(Exception):
    """A device command cannot be carried out; the message says why."""


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_seen_at: dt.datetime | None
    origin: str | None = None
    numbering_offset: int = 0
    block_size: int = DEFAULT_BLOCK_SIZE

    @classmethod
    def of(cls, device: Device) -> DeviceInfo:
        return cls(
            name=device.name,
            role=device.role,
            created_at=device.created_at,
            revoked_at=device.revoked_at,
            last_seen_at=device.last_seen_at,
            origin=device.origin,
            numbering_offset=device.numbering_offset,
            block_size=device.block_size,
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def hash_token(token: str) -> str:
    """sha256 hex: tokens carry 256 random bits, so a fast unsalted hash is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def add_device(
    engine: Engine,
    name: str,
    role: str,
    *,
    origin: str | None = None,
    numbering_offset: int = 0,
    block_size: int = DEFAULT_BLOCK_SIZE,
) -> str:
    """Register a device; return its token (the only time anyone sees it).

    A kiosk pushes events only under its origin (default: its name, which should be its
    `kiosk.id`) and numbers only inside offset + 1 ... offset + block_size.
    """
    if not re.match(NAME_PATTERN, name):
        raise DeviceError(
            f"device name {name!r} is not allowed; use letters, digits, '.', '_' or '-' "
            "(at most 64)"
        )
    if role not in ROLES:
        raise DeviceError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role != DeviceRole.KIOSK and (
        origin is not None or numbering_offset or block_size != DEFAULT_BLOCK_SIZE
    ):
        raise DeviceError("--origin, --numbering-offset and --block-size are for kiosks only")
    if role == DeviceRole.KIOSK:
        origin = origin or name
        if not re.match(NAME_PATTERN, origin):
            raise DeviceError(f"origin {origin!r} is not a kiosk.id (letters, digits, . _ -)")
        if not 0 <= numbering_offset <= MAX_OFFSET or not 1 <= block_size <= MAX_BLOCK:
            raise DeviceError(
                f"numbering offset must be 0–{MAX_OFFSET} and block size 1–{MAX_BLOCK}"
            )
    token = new_token()
    try:
        with Session(engine) as session, session.begin():
            device = session.scalars(select(Device).where(Device.name == name)).first()
            if device is not None and device.revoked_at is None:
                raise DeviceError(
                    f"a device named {name!r} exists already; revoke it first to give it a "
                    "new token, or choose another name"
                )
            if origin is not None:
                _check_origin_free(session, origin, name)
            if device is None:
                device = Device(name=name)
                session.add(device)
            # A revoked name comes back with a new token and a fresh history.
            device.role = role
            device.origin = origin
            device.numbering_offset = numbering_offset
            device.block_size = block_size
            device.token_hash = hash_token(token)
            device.created_at = _now()
            device.revoked_at = None
            device.last_seen_at = None
            announce_device_change(session)
    except IntegrityError:
        raise DeviceError(f"a device named {name!r} was added at the same moment") from None
    if origin is None:
        log.info("added device %s with role %s", name, role)
    else:
        log.info(
            "added kiosk %s (origin %s, numbers %d–%d)",
            name,
            origin,
            numbering_offset + 1,
            numbering_offset + block_size,
        )
    return token


def _check_origin_free(session: Session, origin: str, name: str) -> None:
    """One origin, one active kiosk: two devices pushing one origin would clash on seq."""
    holder = session.scalars(select(Device).where(Device.origin == origin)).first()
    if holder is None or holder.name == name:
        return
    if holder.revoked_at is None:
        raise DeviceError(
            f"origin {origin!r} belongs to device {holder.name!r}; revoke it first or choose "
            "another kiosk.id"
        )
    holder.origin = None  # a revoked device gives its origin up
    session.flush()


def list_devices(engine: Engine) -> list[DeviceInfo]:
    with read_session(engine) as session:
        return [DeviceInfo.of(d) for d in session.scalars(select(Device).order_by(Device.name))]


def revoke_device(engine: Engine, name: str) -> DeviceInfo:
    """Revoke a device's token at once; the row stays for the record."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        device = session.scalars(select(Device).where(Device.name == name)).first()
        if device is None:
            raise DeviceError(f"no device named {name!r}")
        if device.revoked_at is None:
            device.revoked_at = _now()
            announce_device_change(session)
        info = DeviceInfo.of(device)
    log.info("revoked device %s", name)
    return info


def announce_device_change(session: Session) -> None:
    """Tell every server process to forget its cached tokens (PostgreSQL; sent at commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {DEVICES_CHANNEL}"))


def touch_device(engine: Engine, name: str, now: dt.datetime) -> None:
    """Record when a device was last seen (the API calls it at most once a minute a device)."""
    with Session(engine) as session, session.begin():
        device = session.scalars(select(Device).where(Device.name == name)).first()
        if device is not None:
            device.last_seen_at = now


def authenticate(session: Session, token: str) -> Device | None:
    """The active device holding `token`, or None."""
    digest = hash_token(token)
    device = session.scalars(select(Device).where(Device.token_hash == digest)).first()
    if device is None or device.revoked_at is not None:
        return None
    # The lookup is by an index on the hash; compare once more in constant time anyway.
    if not hmac.compare_digest(device.token_hash, digest):
        return None
    return device
