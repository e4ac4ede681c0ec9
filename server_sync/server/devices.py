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

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.queue.db import read_session
from kiosk.queue.models import Device, DeviceRole

log = logging.getLogger("kiosk.server")

ROLES = tuple(str(role) for role in DeviceRole)
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

    @classmethod
    def of(cls, device: Device) -> DeviceInfo:
        return cls(
            name=device.name,
            role=device.role,
            created_at=device.created_at,
            revoked_at=device.revoked_at,
            last_seen_at=device.last_seen_at,
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def hash_token(token: str) -> str:
    """sha256 hex: tokens carry 256 random bits, so a fast unsalted hash is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def add_device(engine: Engine, name: str, role: str) -> str:
    """Register a device; return its token (the only time anyone sees it)."""
    if not re.match(NAME_PATTERN, name):
        raise DeviceError(
            f"device name {name!r} is not allowed; use letters, digits, '.', '_' or '-' "
            "(at most 64)"
        )
    if role not in ROLES:
        raise DeviceError(f"role {role!r} is not one of {', '.join(ROLES)}")
    token = new_token()
    try:
        with Session(engine) as session, session.begin():
            device = session.scalars(select(Device).where(Device.name == name)).first()
            if device is not None and device.revoked_at is None:
                raise DeviceError(
                    f"a device named {name!r} exists already; revoke it first to give it a "
                    "new token, or choose another name"
                )
            if device is None:
                device = Device(name=name)
                session.add(device)
            # A revoked name comes back with a new token and a fresh history.
            device.role = role
            device.token_hash = hash_token(token)
            device.created_at = _now()
            device.revoked_at = None
            device.last_seen_at = None
    except IntegrityError:
        raise DeviceError(f"a device named {name!r} was added at the same moment") from None
    log.info("added device %s with role %s", name, role)
    return token


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
        info = DeviceInfo.of(device)
    log.info("revoked device %s", name)
    return info


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
