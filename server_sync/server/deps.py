"""Shared state, errors and auth dependencies of the API (`Annotated` aliases per role)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import importlib.metadata
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

from kiosk.config import Config
from kiosk.queue.db import read_session
from kiosk.queue.models import DeviceRole
from kiosk.queue.service import Clock, QueueService
from server_sync.server.devices import authenticate, hash_token, touch_device
from server_sync.server.notify import FeedNotifier

if TYPE_CHECKING:
    from server_sync.server.pgpool import CallNextPool, CommitAnnouncer

log = logging.getLogger(__name__)

LAST_SEEN_EVERY_SECONDS = 60.0
# A cached token is asked again after this long even without a notification.
TOKEN_CACHE_SECONDS = 60.0


@functools.cache
def server_version() -> str:
    try:
        return importlib.metadata.version("hospital-queue-kiosk")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def invalid_field(where: str, field: str, code: str, message: str, value: object) -> Exception:
    """A 422 in FastAPI's own shape, for a field that is well-formed but wrong."""
    return RequestValidationError(
        [{"type": code, "loc": (where, field), "msg": message, "input": value}]
    )


class ApiError(Exception):
    """An answer other than 2xx, with a reason for people and a code for programs."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


class DatabaseProbe:
    """The database check of `/health`, shared by the requests that wait for it together.

    A request never gets the answer of a check that began before it arrived: it waits for a
    check that starts after its arrival (one at a time), and every request that arrived before
    that check started shares its answer. Under load a few checks answer many requests, and
    no answer is older than its request. The check itself (one SELECT) runs in a worker thread.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._started = 0  # checks begun so far
        self._answered = 0  # the number of the latest finished check
        self._healthy = False
        self._lock: asyncio.Lock | None = None

    async def check(self) -> bool:
        arrived = self._started
        if self._lock is None:
            self._lock = asyncio.Lock()  # made in the event loop that serves
        async with self._lock:
            if self._answered > arrived:
                return self._healthy  # a check that began after this request arrived
            self._started += 1
            number = self._started
            self._healthy = await run_in_threadpool(self._select)
            self._answered = number
            return self._healthy

    def _select(self) -> bool:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1 FROM departments LIMIT 1"))
        except Exception as exc:  # any database failure is what /health reports
            # The driver's words (host, port, user) are for the log, not for anonymous callers.
            log.error("health: database check failed: %s", exc)
            return False
        return True


@dataclass
class ServerState:
    engine: Engine
    config: Config
    service: QueueService
    notifier: FeedNotifier
    origin: str
    clock: Clock
    # PostgreSQL: call-next's own connections while the application runs (`pgpool`).
    call_pool: CallNextPool | None = None
    # ... and what tells every process's long-polls that calls made on them committed.
    call_announcer: CommitAnnouncer | None = None
    database_probe: DatabaseProbe = field(init=False)
    _seen: dict[str, float] = field(default_factory=dict)
    _seen_lock: threading.Lock = field(default_factory=threading.Lock)
    # token hash -> (caller, when it was read). Used only while this process listens to the
    # database's device notifications (PostgreSQL): a revocation anywhere clears it at once.
    _callers: dict[str, tuple[Caller, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.database_probe = DatabaseProbe(self.engine)

    def cached_caller(self, digest: str) -> Caller | None:
        if not self.notifier.listening_to_database:
            return None
        entry = self._callers.get(digest)
        if entry is None or time.monotonic() - entry[1] > TOKEN_CACHE_SECONDS:
            return None
        return entry[0]

    def remember_caller(self, digest: str, caller: Caller) -> None:
        if self.notifier.listening_to_database:
            self._callers[digest] = (caller, time.monotonic())

    def forget_callers(self) -> None:
        self._callers.clear()

    def now(self) -> dt.datetime:
        return self.clock().astimezone(dt.UTC)

    def seen(self, name: str) -> None:
        """Record the device's visit now and then, not on every request (it is a write)."""
        if self.seen_due(name):
            touch_device(self.engine, name, self.now())

    def seen_due(self, name: str) -> bool:
        """Whether the device's visit is to be written now (then it counts as written)."""
        moment = time.monotonic()
        with self._seen_lock:
            last = self._seen.get(name)
            if last is not None and moment - last < LAST_SEEN_EVERY_SECONDS:
                return False
            self._seen[name] = moment
        return True


@dataclass(frozen=True)
class Caller:
    name: str
    role: str
    # Kiosks only: the origin it may push under, and its numbering block.
    origin: str | None = None
    numbering_offset: int = 0
    block_size: int = 0


async def get_state(request: Request) -> ServerState:
    # `async def`: a dependency that does no I/O runs on the event loop, not in a thread.
    state: ServerState = request.app.state.kiosk
    return state


StateDep = Annotated[ServerState, Depends(get_state)]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="DeviceToken",
    description="the device token printed once by `kiosk server add-device NAME --role ROLE`",
)


async def current_caller(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Caller:
    """The device behind the bearer token. A token this process has looked up is answered
    from memory while PostgreSQL tells every process of device changes; otherwise (and
    for the occasional last-seen write) the database is asked in a worker thread."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthenticated", "a device token is required", challenge)
    digest = hash_token(credentials.credentials)
    caller = state.cached_caller(digest)
    if caller is None:
        caller = await run_in_threadpool(_look_up, state, credentials.credentials)
        if caller is None:
            raise ApiError(401, "unauthenticated", "unknown or revoked device token", challenge)
        state.remember_caller(digest, caller)
    await note_visit(state, caller)
    return caller


def known_caller(state: ServerState, authorization: str | None) -> Caller | None:
    """The caller behind an `Authorization` header, read as `bearer` (HTTPBearer) reads it,
    when this process already knows its token (`cached_caller`); else None, and the request
    is for `current_caller` to judge."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if not token or scheme.lower() != "bearer":
        return None
    return state.cached_caller(hash_token(token))


async def note_visit(state: ServerState, caller: Caller) -> None:
    """The device's last visit, written now and then (`ServerState.seen_due`) in a thread."""
    if state.seen_due(caller.name):
        await run_in_threadpool(touch_device, state.engine, caller.name, state.now())


def _look_up(state: ServerState, token: str) -> Caller | None:
    with read_session(state.engine) as session:
        device = authenticate(session, token)
        if device is None:
            return None
        return Caller(
            device.name,
            device.role,
            origin=device.origin,
            numbering_offset=device.numbering_offset,
            block_size=device.block_size,
        )


def allowed_roles(*roles: DeviceRole, admin: bool = True) -> frozenset[str]:
    """The roles that may do what `roles` may (an admin too, unless `admin` is false)."""
    return frozenset({str(role) for role in roles} | ({str(DeviceRole.ADMIN)} if admin else set()))


def require(
    *roles: DeviceRole, admin: bool = True
) -> Callable[[Caller], Coroutine[Any, Any, Caller]]:
    allowed = allowed_roles(*roles, admin=admin)

    async def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.role not in allowed:
            raise ApiError(
                403,
                "forbidden",
                f"a {caller.role} device may not do this; it needs the role "
                f"{' or '.join(sorted(allowed))}",
            )
        return caller

    return check


AnyDevice = Annotated[Caller, Depends(current_caller)]
# A kiosk's push and marks are its own: no other device acts for it, an admin included.
KioskDevice = Annotated[Caller, Depends(require(DeviceRole.KIOSK, admin=False))]
CounterDevice = Annotated[Caller, Depends(require(DeviceRole.COUNTER))]
AdminDevice = Annotated[Caller, Depends(require())]
