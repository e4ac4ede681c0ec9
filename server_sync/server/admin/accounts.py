"""Staff accounts, their sessions, login throttling and the audit log (no HTTP here).

Everything lives in the database, so several server processes share it: a session opened by
one worker is known to the others, and failed logins count across all of them. Passwords are
hashed with scrypt (memory-hard, in Python's standard library); session cookies and CSRF
tokens are random, and only a hash of the cookie is stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.queue.models import AuditEntry, LoginAttempt, StaffRole, StaffSession, StaffUser

log = logging.getLogger(__name__)

ROLES = tuple(str(role) for role in StaffRole)
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
# scrypt cost: 2**15 x 8 x 128 bytes = 32 MiB of memory and ~0.1 s per hash.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
# A failure answers no faster than a success: a hash of this is checked for unknown names.
_DUMMY_SALT = b"\0" * 16
# Addresses get more tries than one name: a ward's PC is shared by several nurses.
ADDRESS_FACTOR = 4


class AccountError(Exception):
    """An account command cannot be carried out; the message says why."""


class LoginRefused(Exception):
    """Wrong name or password (the message never says which)."""


class LoginThrottled(Exception):
    """Too many failed logins lately; `retry_after` seconds until the next try."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, maxmem=SCRYPT_MAXMEM
    )
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password may have at most {MAX_PASSWORD} characters")


def add_user(engine: Engine, name: str, role: str, password: str, now: dt.datetime) -> None:
    """Create a staff account, or give an existing one a new role and password."""
    if not re.match(NAME_PATTERN, name):
        raise AccountError(
            f"user name {name!r} is not allowed; use letters, digits, '.', '_', '@' or '-' "
            "(at most 64)"
        )
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    check_new_password(password)
    hashed = hash_password(password)
    try:
        with Session(engine) as session, session.begin():
            user = session.scalars(select(StaffUser).where(StaffUser.name == name)).first()
            if user is None:
                user = StaffUser(name=name, created_at=now)
                session.add(user)
                action = "user.added"
            else:
                action = "user.changed"
                session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
            user.role = role
            user.password_hash = hashed
            user.disabled_at = None
            session.flush()
            audit(session, now, "command line", action, name, {"role": role})
    except IntegrityError:
        raise AccountError(f"a user named {name!r} was added at the same moment") from None
    log.info("staff account %s: role %s", name, role)


@dataclass(frozen=True)
class Staff:
    """The person behind a request."""

    name: str
    role: str
    csrf_token: str
    token_hash: str

    def may(self, *roles: StaffRole) -> bool:
        return self.role == StaffRole.ADMIN or self.role in {str(r) for r in roles}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _throttle(
    session: Session, name: str, address: str, now: dt.datetime, max_failures: int, window: float
) -> None:
    since = now - dt.timedelta(minutes=window)
    for column, value, limit in (
        (LoginAttempt.name, name, max_failures),
        (LoginAttempt.address, address, max_failures * ADDRESS_FACTOR),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                column == value, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
            )
        ).one()
        if count >= limit and oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.UTC)
            wait = (oldest + dt.timedelta(minutes=window) - now).total_seconds()
            raise LoginThrottled(max(1, int(wait) + 1))


def login(
    engine: Engine,
    name: str,
    password: str,
    address: str,
    now: dt.datetime,
    *,
    session_hours: float,
    max_failures: int,
    window_minutes: float,
) -> tuple[str, Staff]:
    """Check a name and password; on success a new session: (cookie value, who)."""
    name = name.strip()[:64]
    with Session(engine) as session, session.begin():
        _throttle(session, name, address, now, max_failures, window_minutes)
        user = session.scalars(select(StaffUser).where(StaffUser.name == name)).first()
        if user is None or user.disabled_at is not None:
            _spend_a_hash(password)
            user = None
        elif not verify_password(password[:MAX_PASSWORD], user.password_hash):
            user = None
        session.add(LoginAttempt(name=name, address=address, at=now, succeeded=user is not None))
        if user is None:
            audit(session, now, name or "?", "login.failed", "", {}, address)
            result = None
        else:
            token = secrets.token_urlsafe(32)
            record = StaffSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + dt.timedelta(hours=session_hours),
                address=address,
            )
            session.add(record)
            # Expired sessions of everyone go now and then: logins are rare enough.
            session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
            audit(session, now, user.name, "login", "", {}, address)
            result = token, Staff(user.name, user.role, record.csrf_token, record.token_hash)
    if result is None:
        raise LoginRefused("wrong name or password")
    return result


def _spend_a_hash(password: str) -> None:
    """As long as checking a real password: an unknown name is not told apart by timing."""
    hashlib.scrypt(
        password[:MAX_PASSWORD].encode("utf-8"),
        salt=_DUMMY_SALT,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=SCRYPT_MAXMEM,
    )


def session_staff(engine: Engine, token: str, now: dt.datetime) -> Staff | None:
    """Who holds this session cookie, or None (unknown, expired, or the user disabled)."""
    if not token or len(token) > 200:
        return None
    with Session(engine) as session:
        row = session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.token_hash == _token_hash(token))
        ).first()
        if row is None:
            return None
        record, user = row
        if record.expires_at <= now or user.disabled_at is not None:
            return None
        return Staff(user.name, user.role, record.csrf_token, record.token_hash)


def logout(engine: Engine, staff: Staff, address: str, now: dt.datetime) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(StaffSession).where(StaffSession.token_hash == staff.token_hash))
        audit(session, now, staff.name, "logout", "", {}, address)


def audit(
    session: Session,
    now: dt.datetime,
    user: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    address: str = "",
) -> None:
    """One line of the audit log, in the caller's transaction (with the change it records)."""
    session.add(
        AuditEntry(
            at=now,
            user_name=user[:64],
            action=action[:64],
            target=target[:200],
            detail=detail or {},
            address=address[:64],
        )
    )


@dataclass(frozen=True)
class AuditLine:
    at: dt.datetime
    user: str
    action: str
    target: str
    detail: dict[str, Any]
    address: str


def recent_audit(engine: Engine, limit: int = 200, user: str | None = None) -> list[AuditLine]:
    with Session(engine) as session:
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if user:
            query = query.where(AuditEntry.user_name == user)
        return [
            AuditLine(e.at, e.user_name, e.action, e.target, dict(e.detail or {}), e.address)
            for e in session.scalars(query.limit(limit))
        ]
