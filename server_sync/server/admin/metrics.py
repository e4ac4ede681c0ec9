"""`GET /metrics` in Prometheus' text format, for the hospital's (or the province's) Prometheus.

Request counts and latencies are prometheus-client metrics; with `kiosk server --workers N`
set PROMETHEUS_MULTIPROC_DIR and every worker writes them to that directory, and whichever
worker answers the scrape sums them (prometheus-client's multiprocess mode). The queue and
fleet figures are read from the database at each scrape, so every worker gives the same.
Only a scraper holding the token of `console.metrics_token_file`, or one in
`console.metrics_allow`, gets an answer.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.queue.db import read_session
from kiosk.queue.models import Department, Ticket, TicketStatus
from server_sync.server.admin.fleet import fleet
from server_sync.server.deps import ServerState, StateDep

router = APIRouter(include_in_schema=False)

REQUEST_SECONDS = Histogram(
    "kiosk_http_request_duration_seconds",
    "Time to answer an HTTP request, by route",
    ["method", "route", "status"],
)
PUSHES = Counter("kiosk_sync_pushes", "Event batches pushed by kiosks", ["status"])
WAIT_BUCKETS_MINUTES = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180)
PRINTER_STATES = ("online", "paper_near_end", "paper_out", "cover_open", "offline")


def install_metrics(app: FastAPI) -> None:
    """Time every request (by its route template, so ids do not make new series)."""
    app.add_middleware(RequestMetrics)


class RequestMetrics:
    """Plain ASGI middleware: long-polls and streamed answers pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = str(scope.get("method", ""))
            REQUEST_SECONDS.labels(method, route, str(status)).observe(time.perf_counter() - start)
            if route == "/api/v1/sync/events" and method == "POST":
                PUSHES.labels(str(status)).inc()


class QueueCollector(Collector):
    """Figures read from the database at scrape time."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        now = state.now()
        today = state.service.service_date(now)
        waiting = GaugeMetricFamily(
            "kiosk_waiting", "Tickets waiting now, by department", labels=["department"]
        )
        tickets = GaugeMetricFamily(
            "kiosk_tickets_today", "Today's tickets by status", labels=["department", "status"]
        )
        calls = GaugeMetricFamily(
            "kiosk_calls_today", "Tickets called today (first calls)", labels=["department"]
        )
        paused = GaugeMetricFamily(
            "kiosk_department_paused", "1 when paused from the console", labels=["department"]
        )
        waits: dict[str, list[float]] = {}
        with read_session(state.engine) as session:
            codes = list(session.scalars(select(Department.code).order_by(Department.code)))
            counts = {
                (code, status): n
                for code, status, n in session.execute(
                    select(Ticket.department_code, Ticket.status, func.count())
                    .where(Ticket.service_date == today)
                    .group_by(Ticket.department_code, Ticket.status)
                )
            }
            for code, queued, called in session.execute(
                select(Ticket.department_code, Ticket.queued_at, Ticket.called_at).where(
                    Ticket.service_date == today, Ticket.called_at.is_not(None)
                )
            ):
                if called is not None and called >= queued:
                    waits.setdefault(code, []).append((called - queued).total_seconds() / 60)
            for code, is_paused in session.execute(
                select(Department.code, Department.hospital_paused)
            ):
                paused.add_metric([code], 1.0 if is_paused else 0.0)
        for code in codes:
            waiting.add_metric([code], counts.get((code, TicketStatus.WAITING), 0))
            for status in TicketStatus:
                tickets.add_metric([code, str(status)], counts.get((code, str(status)), 0))
            calls.add_metric([code], len(waits.get(code, [])))
        histogram = HistogramMetricFamily(
            "kiosk_wait_minutes",
            "Today's waits from joining the line to the first call, by department",
            labels=["department"],
        )
        for code in codes:
            values = waits.get(code, [])
            buckets = [
                (str(bound), float(sum(1 for v in values if v <= bound)))
                for bound in WAIT_BUCKETS_MINUTES
            ]
            buckets.append(("+Inf", float(len(values))))
            histogram.add_metric([code], buckets, sum_value=sum(values))
        yield from (waiting, tickets, calls, paused, histogram)
        yield from self._fleet(now)

    def _fleet(self, now: dt.datetime) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "kiosk_device_last_contact_age_seconds",
            "Seconds since the device was last heard from (sync lag)",
            labels=["device", "role"],
        )
        unsynced = GaugeMetricFamily(
            "kiosk_device_unsynced_events", "Events the kiosk has not sent", labels=["device"]
        )
        rejected = GaugeMetricFamily(
            "kiosk_device_rejected_events",
            "Events of the kiosk the server rejected",
            labels=["device"],
        )
        printer = GaugeMetricFamily(
            "kiosk_printer_state", "1 for the printer's current state", labels=["device", "state"]
        )
        problems = GaugeMetricFamily(
            "kiosk_device_problems", "Problems the fleet page lists", labels=["device"]
        )
        for line in fleet(self.state.engine, now):
            if line.last_contact is not None:
                lag.add_metric([line.name, line.role], (now - line.last_contact).total_seconds())
            problems.add_metric([line.name], len(line.problems))
            if line.status is None:
                continue
            for key, family in (("unsynced", unsynced), ("rejected", rejected)):
                value = line.field(key)
                if isinstance(value, int):
                    family.add_metric([line.name], value)
            state = line.field("printer")
            if isinstance(state, str):
                for known in sorted({*PRINTER_STATES, state}):
                    printer.add_metric([line.name, known], 1.0 if known == state else 0.0)
        yield from (lag, unsynced, rejected, printer, problems)


def scrape_allowed(request: Request, state: ServerState) -> bool:
    console = state.config.console
    header = request.headers.get("authorization", "")
    if console.metrics_token_file and header.lower().startswith("bearer "):
        try:
            expected = Path(console.metrics_token_file).read_text(encoding="utf-8").strip()
        except OSError:
            expected = ""
        if expected and hmac.compare_digest(header[7:].strip(), expected):
            return True
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False) for network in console.metrics_allow
    )


def render_metrics(state: ServerState) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUEST_SECONDS)
        registry.register(PUSHES)
    registry.register(QueueCollector(state))
    return generate_latest(registry)


@router.get("/metrics")
async def metrics(request: Request, state: StateDep) -> Response:
    if not scrape_allowed(request, state):
        return Response(
            "metrics need the token of console.metrics_token_file or an address in "
            "console.metrics_allow\n",
            status_code=403,
            media_type="text/plain",
        )
    body = await run_in_threadpool(render_metrics, state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
