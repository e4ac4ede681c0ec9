"""The central server's FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kiosk.collector import freeze_start_up_objects
from kiosk.config import Config
from kiosk.queue.errors import (
    DepartmentUnavailable,
    InvalidTransition,
    QueueError,
    UnknownDepartment,
    UnknownTicket,
)
from kiosk.queue.service import Clock, QueueService, utc_now
from kiosk.queue.validation import plain
from server_sync.server import feed, pages, routes
from server_sync.server.admin import console_router, install_metrics
from server_sync.server.admin.alerts import alert_loop
from server_sync.server.api_docs import install_api_docs
from server_sync.server.deps import ApiError, ServerState, server_version
from server_sync.server.guards import RETRY_AFTER_SECONDS, BodyLimitAndHeaders, unavailable_page
from server_sync.server.notify import FeedNotifier, PostgresListener
from server_sync.server.pgpool import CommitAnnouncer, call_next_pool
from server_sync.server.responses import EVERYWHERE

log = logging.getLogger(__name__)

SERVER_ORIGIN = "server"
# How often the end-of-day job looks for tickets left waiting from earlier days.
END_OF_DAY_INTERVAL_SECONDS = 600.0
# What a database that cannot be reached raises (driver, connection and pool errors).
DATABASE_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)
CALL_REQUEST_MEMORY = dt.timedelta(days=1)
# Call-next's own connections on PostgreSQL (`pgpool`), in a server of one process. With
# SQLAlchemy's pool (20 + 20 overflow, `db.make_engine`) and the LISTEN connection, one
# process holds at most 40 + 8 + 1 = 49 of PostgreSQL's default max_connections (100).
# Each call holds one only for its statement's round trip; a few keep the database busy on
# 2 cores, and further calls wait their turn in the pool (first come, first served).
CALL_NEXT_CONNECTIONS = 8


class UnsafeServerConfig(Exception):
    """The server would listen where it must not; the message says what to change."""


def check_listen_settings(config: Config, host: str) -> None:
    """Refuse plain HTTP beyond this machine unless `server.allow_plain_http = true`."""
    server = config.server
    if bool(server.cert_file) != bool(server.key_file):
        raise UnsafeServerConfig("server.cert_file and server.key_file go together: set both")
    if server.cert_file or server.allow_plain_http or _is_loopback(host):
        return
    raise UnsafeServerConfig(
        f"refusing plain HTTP on {host}: device tokens would cross the network in clear. "
        "Set server.cert_file and server.key_file (TLS), or server.allow_plain_http = true "
        "behind a TLS-terminating proxy"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(
    engine: Engine,
    config: Config,
    *,
    origin: str = SERVER_ORIGIN,
    clock: Clock = utc_now,
    request_threads: int | None = None,
    call_next_connections: int = CALL_NEXT_CONNECTIONS,
    freeze_start_up: bool = False,
) -> FastAPI:
    """The API over a migrated database; uvicorn (or a test) serves it.

    `request_threads`: how many requests run database work at once in this process (AnyIO's
    thread pool, 40 by default); a worker of several gets as many as its connection pool holds,
    so no thread waits for a connection and N workers stay within PostgreSQL's connections.
    `call_next_connections`: on PostgreSQL, the size of call-next's own pool (`pgpool`).
    `freeze_start_up`: a server process (not a test) freezes what it made until it serves out of
    the garbage collector's sight (`freeze_start_up_objects`): a full collection, triggered by
    a push's thousands of objects, walked them all again (140-215 ms inside the push's thread,
    holding the interpreter the worker's other requests need)."""
    notifier = FeedNotifier()
    state = ServerState(
        engine=engine,
        config=config,
        service=QueueService.from_config(engine, config, origin=origin, clock=clock),
        notifier=notifier,
        origin=origin,
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        notifier.attach(asyncio.get_running_loop())
        if request_threads is not None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = request_threads
        listener = None
        call_pool = None
        if engine.dialect.name == "postgresql":
            listener = PostgresListener(engine, notifier, state.forget_callers)
            await asyncio.to_thread(listener.start)
            # Made here: its connections and tasks belong to this event loop. Opened without
            # waiting: a database that is away now does not stop the server (calls answer 503
            # until the pool connects).
            call_pool = call_next_pool(engine, call_next_connections)
            await call_pool.open()
            state.call_pool = call_pool
            state.call_announcer = CommitAnnouncer(call_pool)
        end_of_day = asyncio.create_task(_close_stale_tickets_periodically(state))
        alerts = None
        if config.console.webhook_url:
            alerts = asyncio.create_task(alert_loop(engine, config.console.webhook_url, state.now))
        if freeze_start_up:
            log.info(
                "%d start-up objects frozen out of the garbage collector",
                freeze_start_up_objects(),
            )
        log.info("server ready on a %s database", engine.dialect.name)
        try:
            yield
        finally:
            end_of_day.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await end_of_day
            if alerts is not None:
                alerts.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await alerts
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            if call_pool is not None:
                state.call_pool = None
                if state.call_announcer is not None:
                    await state.call_announcer.aclose()
                    state.call_announcer = None
                await call_pool.close()

    app = FastAPI(
        title="Hospital queue server",
        version=server_version(),
        description="Central server of the hospital queue kiosks: queue, counters, event feed.",
        lifespan=lifespan,
        docs_url=None,  # served from the server's own files (install_api_docs)
        redoc_url=None,
    )
    if config.server.api_docs:
        install_api_docs(app)
    app.state.kiosk = state
    app.include_router(routes.router, responses=EVERYWHERE)
    app.include_router(feed.router, responses=EVERYWHERE)
    app.include_router(pages.router, responses=EVERYWHERE)
    app.include_router(console_router())
    install_metrics(app)
    _install_error_handlers(app)
    app.add_middleware(BodyLimitAndHeaders)
    return app


def prune_call_requests(state: ServerState) -> int:
    """Forget "call next" request ids older than a day: a retry after a lost answer comes
    within seconds, and the table would otherwise grow by every call ever made."""
    return state.service.forget_call_requests(before=state.clock() - CALL_REQUEST_MEMORY)


async def _close_stale_tickets_periodically(state: ServerState) -> None:
    """End of day: tickets still waiting from earlier days are cancelled (`end_of_day`), at
    start-up and then every few minutes, so yesterday's line never reaches today's counters;
    old call-request ids are forgotten."""
    while True:
        try:
            closed = await asyncio.to_thread(state.service.close_stale_tickets)
            await asyncio.to_thread(prune_call_requests, state)
        except DATABASE_UNREACHABLE as exc:
            # One line, not a traceback every few minutes for as long as the database is down.
            log.error("end-of-day job: database unreachable (%s); trying again later", exc)
        except Exception:
            log.exception("end-of-day job failed; trying again later")
        else:
            if closed:
                state.notifier.notify()
        await asyncio.sleep(END_OF_DAY_INTERVAL_SECONDS)


def _error(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def _sanitised(value: object) -> object:
    """An error's echo of the input, safe to encode whatever it held (lone surrogates)."""
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, dict):
        return {plain(str(k)): _sanitised(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitised(v) for v in value]
    return value


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _sanitised(jsonable_encoder(exc.errors()))
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_unreachable(request: Request, exc: Exception) -> Response:
        log.error("database unreachable while answering %s: %s", request.url.path, exc)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.url.path.startswith("/api/"):
            return _error(503, "database_unavailable", "database unreachable", headers)
        if request.url.path == "/metrics":  # a scraper reads text, not a page
            return PlainTextResponse("database unreachable\n", status_code=503, headers=headers)
        return HTMLResponse(unavailable_page(), status_code=503, headers=headers)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(QueueError)
    async def queue_error(request: Request, exc: QueueError) -> JSONResponse:
        if isinstance(exc, UnknownTicket | UnknownDepartment):
            return _error(404, exc.code, str(exc))
        if isinstance(exc, InvalidTransition | DepartmentUnavailable):
            return _error(409, exc.code, str(exc))
        return _error(409, exc.code, str(exc))
