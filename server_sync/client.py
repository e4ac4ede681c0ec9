"""The kiosk's sync client: push the outbox, pull the server's feed, in a worker.

- Push: this kiosk's unsynced events in `seq` order, in batches; accepted and duplicate ones
  are marked synced, rejected ones keep their reason (`Event.rejected_reason`) for staff.
- Pull: the server's feed from a durable cursor (`sync_cursors`), applied idempotently, so
  "people ahead" and department counts here follow the calls made at the counters.
- `SyncWorker`: a plain thread with a stop event; exponential backoff with full jitter, reset on
  success, honouring Retry-After. Every HTTP call has a timeout; TLS is verified (CA file from
  config). The server's Date header gives the kiosk's clock offset, warned about above
  `CLOCK_WARN_SECONDS`.
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from kiosk.config import Config
from kiosk.queue.db import PATIENTS, PatientWatch, collector_paused, read_session
from kiosk.queue.errors import QueueError
from kiosk.queue.events import bump_sequence, outbox_batch
from kiosk.queue.models import Event, SyncCursor
from kiosk.queue.replication import FeedEvent, SeqTaken, apply_feed_events, read_feed_event
from kiosk.queue.store import clear_hold, issuing_hold, local_seq, move_counters_past, seq_counter
from server_sync.backoff import full_jitter
from server_sync.http import (
    ServerConnection,
    ServerRefused,
    ServerUnreachable,
    SyncError,
    SyncNotConfigured,
    parse_retry_after,
    read_token,
)

__all__ = [
    "ServerRefused",
    "ServerUnreachable",
    "SyncClient",
    "SyncError",
    "SyncNotConfigured",
    "SyncWorker",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

# As many events as the server takes in one push (schemas.PushBody), within a body well under
# its 2 MiB limit: each push is one server transaction and one local commit, so fewer and
# larger pushes are what makes a day's backlog go in seconds.
PUSH_BATCH = 1000
PUSH_BYTES = 1024 * 1024
PULL_PAGE = 500
# Pulled events applied per local transaction, at most: SQLite's write lock is held this long.
APPLY_CHUNK = 50
APPLY_SECONDS = 0.02
# Pulled events applied together (a few set-based statements); between two steps the
# transaction ends early if a patient's issue waits for the write lock.
APPLY_STEP = 10
# After each of its write transactions the pull rests this many times as long as the transaction
# took, the write lock free: a patient's issue then finds the lock held by the sync about half
# as often (it waits out the step in hand and its commit when it does).
APPLY_REST = 1.0
# Pushed events marked synced per local transaction: a 1,000-row UPDATE and its commit held the
# write lock ~50 ms on a busy machine, 200 rows ~8 ms.
MARK_CHUNK = 200
CLOCK_WARN_SECONDS = 30.0
# The clock offset is estimated from this many recent exchanges (the quickest one wins).
CLOCK_SAMPLES = 8
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0
# A kiosk's `device.status` (printer, disk, outbox, clock offset) at least this often, so the
# console's fleet page shows figures minutes old, not whatever the last printer change left.
HEARTBEAT_SECONDS = 300.0
USER_AGENT = "hospital-queue-kiosk-sync"


@dataclass
class PushResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    # Events sent again under a new seq (the server held their seq: a store that was behind).
    renumbered: int = 0


@dataclass
class PullResult:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cursor: int = 0


@dataclass
class SyncReport:
    push: PushResult
    pull: PullResult
    clock_offset_seconds: float | None

    def summary(self) -> str:
        offset = (
            "unknown"
            if self.clock_offset_seconds is None
            else f"{self.clock_offset_seconds:+.1f} s"
        )
        return (
            f"pushed {self.push.accepted} new, {self.push.duplicates} already there, "
            f"{len(self.push.rejected)} rejected; pulled {self.pull.received} events "
            f"({self.pull.applied} applied, {self.pull.duplicates} known, "
            f"{len(self.pull.skipped)} skipped), cursor {self.pull.cursor}; clock offset {offset}"
        )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SyncClient:
    """One kiosk database talking to one server."""

    def __init__(
        self,
        engine: Engine,
        *,
        base_url: str,
        token: str,
        origin: str,
        ca_file: str | None = None,
        timeout: float = 10.0,
        numbering_offset: int = 0,
        push_batch: int = PUSH_BATCH,
        pull_page: int = PULL_PAGE,
        clock: Callable[[], dt.datetime] = _utc_now,
        http: requests.Session | None = None,
    ) -> None:
        self.connection = ServerConnection(
            base_url,
            token,
            who="this kiosk",
            user_agent=USER_AGENT,
            ca_file=ca_file,
            timeout=timeout,
            http=http,
            on_answer=self._observe_answer,
        )
        self.engine = engine
        self.base_url = self.connection.base_url
        self.http = self.connection.http
        self.origin = origin
        self.numbering_offset = numbering_offset
        self.timeout = timeout
        self.push_batch = push_batch
        self.pull_page = pull_page
        self.clock = clock
        self.cursor_name = f"pull:{self.base_url}"[:200]
        self.clock_offset_seconds: float | None = None
        # How far `clock_offset_seconds` can be from the truth: half the round trip of the
        # exchange it came from, plus 1.5 s for the Date header (whole seconds, and servers
        # such as uvicorn refresh it once a second).
        self.clock_offset_error_seconds: float | None = None
        self._clock_samples: collections.deque[tuple[float, float]] = collections.deque(
            maxlen=CLOCK_SAMPLES
        )
        self._clock_warned = False

    @classmethod
    def from_config(cls, engine: Engine, config: Config) -> SyncClient:
        server = config.server
        return cls(
            engine,
            base_url=server.url,
            token=read_token(server),
            origin=config.kiosk.id,
            numbering_offset=config.numbering.offset,
            ca_file=server.ca_file or None,
            timeout=server.timeout_seconds,
        )

    def close(self) -> None:
        self.connection.close()

    # -- HTTP ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        return self.connection.request(method, path, timeout=timeout, **kw)

    def _observe_answer(self, response: requests.Response, sent: float, received: float) -> None:
        self._observe_clock(response.headers.get("Date"), sent, received)

    def _observe_clock(self, date_header: str | None, sent: float, received: float) -> None:
        """Offset = server time − local time at the middle of the exchange. Positive: this
        kiosk's clock is behind.

        The server stamped its Date somewhere between `sent` and `received`, so one exchange
        is only good to half its round trip (plus 1.5 s: the header has whole seconds and may
        be up to a second old). As NTP
        does, the estimate is the offset of the exchange with the smallest round trip among
        the last CLOCK_SAMPLES: a slow answer on a busy machine does not move it."""
        if not date_header:
            return
        try:
            server_time = email.utils.parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            return
        # The header truncates to the second: its true moment is on average 0.5 s later.
        round_trip = max(0.0, received - sent)
        self._clock_samples.append((round_trip, server_time + 0.5 - (sent + received) / 2))
        round_trip, offset = min(self._clock_samples, key=lambda sample: sample[0])
        self.clock_offset_seconds = offset
        self.clock_offset_error_seconds = round_trip / 2 + 1.5
        if abs(offset) > CLOCK_WARN_SECONDS:
            if not self._clock_warned:
                log.warning(
                    "this kiosk's clock is %+.0f s off the server's; fix the time (NTP): "
                    "ticket times and service dates depend on it",
                    offset,
                )
                self._clock_warned = True
        elif self._clock_warned:
            log.info("clock agrees with the server again (offset %+.1f s)", offset)
            self._clock_warned = False

    def probe(self) -> dict[str, Any]:
        """Health, then an authenticated read: ServerUnreachable or ServerRefused (401/403) say
        what is wrong; afterwards `clock_offset_seconds` holds the measured offset."""
        health = self._request("GET", "/api/v1/health")
        self._request("GET", "/api/v1/departments")
        return dict(health) if isinstance(health, dict) else {}

    # -- push ------------------------------------------------------------------------------

    def push(self) -> PushResult:
        """Send every unsynced event of this kiosk, oldest first, batch by batch.

        The server answers what it accepted, already had, or rejected, and the seq it expects
        next. From that the kiosk also learns when it is out of step: events it took as synced
        that the server lacks (sent again), or seqs the server already holds under other events
        (this store was behind: it moves past the server's marks and renumbers those events).
        """
        result = PushResult()
        stalled = 0
        while True:
            PATIENTS.step_aside()  # reading and encoding a batch takes the interpreter a while
            with read_session(self.engine) as session:
                batch, more = outbox_batch(session, self.origin, self.push_batch, PUSH_BYTES)
            if not batch:
                return result
            answer = self._request(
                "POST", "/api/v1/sync/events", json={"origin": self.origin, "events": batch}
            )
            accepted = [str(i) for i in answer.get("accepted", [])]
            duplicates = [str(i) for i in answer.get("duplicates", [])]
            rejections = [
                (str(r.get("id")), str(r.get("code", "")), str(r.get("reason", "")))
                for r in answer.get("rejected", [])
                if isinstance(r, dict)
            ]
            taken = [event_id for event_id, code, _ in rejections if code == SeqTaken.code]
            rejected = [
                (event_id, f"{code}: {reason}" if code else reason)
                for event_id, code, reason in rejections
                if code != SeqTaken.code
            ]
            self._mark(accepted + duplicates, rejected)
            result.accepted += len(accepted)
            result.duplicates += len(duplicates)
            result.rejected.extend(rejected)
            for event_id, reason in rejected:
                log.error("the server rejected event %s: %s", event_id, reason)
            realigned = self._realign(answer.get("expected_seq"), batch, taken)
            result.renumbered += len(taken)
            if accepted or duplicates or rejected:
                stalled = 0
            elif realigned:
                stalled += 1
                if stalled > 3:
                    raise SyncError(
                        "the server and this kiosk disagree on its event sequence and "
                        "realigning did not help; see kiosk doctor"
                    )
            else:
                raise ServerRefused(200, "the server answered a push without judging any event")
            if not more and not realigned:
                return result

    def _realign(self, expected: object, batch: list[dict[str, Any]], taken: list[str]) -> bool:
        """Bring this store in step with what the server holds; whether anything changed."""
        changed = False
        if isinstance(expected, int) and expected >= 1:
            with read_session(self.engine) as session:
                local = local_seq(session, self.origin)
            if expected - 1 > local:
                log.warning(
                    "the server holds seq %d of %s but this store only %d: it is behind "
                    "(restored or rebuilt); moving past the server's marks",
                    expected - 1,
                    self.origin,
                    local,
                )
                self.reconcile()
                changed = True
            elif expected < int(batch[0]["seq"]):
                changed = self._unmark_from(expected, int(batch[0]["seq"]))
        if taken:
            if not changed:
                self.reconcile()
            self._renumber(taken)
            changed = True
        return changed

    def _unmark_from(self, expected: int, first_sent: int) -> bool:
        """The server lacks events this store took as synced (its database was restored?):
        send them again."""
        with Session(self.engine) as session, session.begin():
            events = session.scalars(
                select(Event).where(
                    Event.origin == self.origin, Event.seq >= expected, Event.seq < first_sent
                )
            ).all()
            for event in events:
                event.synced_at = None
                event.rejected_reason = None
        if events:
            log.warning(
                "the server lacks events %d–%d of this kiosk; sending them again",
                expected,
                first_sent - 1,
            )
        return bool(events)

    def _renumber(self, event_ids: list[str]) -> None:
        """Give events whose seq the server already holds new seqs after every seq it holds
        (the counter was moved past the server's marks first); their order is kept."""
        with Session(self.engine) as session, session.begin():
            events = session.scalars(
                select(Event).where(Event.id.in_(event_ids)).order_by(Event.seq)
            ).all()
            for event in events:
                event.seq = bump_sequence(session, seq_counter(self.origin))
                session.flush()
        log.warning("sent %d events again under new seqs", len(event_ids))

    def reconcile(self) -> int:
        """Fetch the server's high-water marks for this kiosk and move the local counters past
        them; lifts a hold on issuing. Returns how many counters moved."""
        answer = self._request("GET", "/api/v1/sync/high-water")
        try:
            origin = str(answer["origin"])
            last_seq = int(answer["last_seq"])
            numbers = {
                (str(m["department"]), dt.date.fromisoformat(str(m["service_date"]))): int(
                    m["number"]
                )
                for m in answer["numbers"]
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ServerRefused(
                200, f"the server's high-water marks cannot be read: {exc}"
            ) from None
        if origin != self.origin:
            raise ServerRefused(
                200, f"the server answered marks for {origin!r}, not this kiosk's {self.origin!r}"
            )
        with Session(self.engine) as session, session.begin():
            moved = move_counters_past(
                session,
                origin=self.origin,
                offset=self.numbering_offset,
                last_seq=last_seq,
                numbers=numbers,
            )
            lifted = clear_hold(session)
        if moved or lifted:
            log.info(
                "moved %d counters past the server's marks (seq %d)%s",
                moved,
                last_seq,
                "; issuing again" if lifted else "",
            )
        return moved

    def on_hold(self) -> bool:
        with read_session(self.engine) as session:
            return issuing_hold(session) is not None

    def _mark(self, synced: list[str], rejected: list[tuple[str, str]]) -> None:
        """Mark a push's answer, MARK_CHUNK events per transaction: a patient's issue waits
        for one short commit at most (a crash in between only sends some again, which the
        server answers as duplicates)."""
        now = self.clock()
        for start in range(0, len(synced), MARK_CHUNK):
            chunk = synced[start : start + MARK_CHUNK]
            with collector_paused(), self.engine.begin() as connection:
                connection.execute(update(Event).where(Event.id.in_(chunk)).values(synced_at=now))
        if not rejected:
            return
        with self.engine.begin() as connection:
            for event_id, reason in rejected:
                connection.execute(
                    update(Event).where(Event.id == event_id).values(rejected_reason=reason)
                )

    # -- pull ------------------------------------------------------------------------------

    def cursor(self) -> int:
        with read_session(self.engine) as session:
            row = session.get(SyncCursor, self.cursor_name)
            return row.position if row else 0

    def pull(self, wait: float = 0.0) -> PullResult:
        """Fetch and apply the server's feed after our cursor, page by page."""
        result = PullResult(cursor=self.cursor())
        while True:
            PATIENTS.step_aside()  # decoding a page takes the interpreter a while
            answer = self._request(
                "GET",
                "/api/v1/events",
                params={"after": result.cursor, "wait": wait, "limit": self.pull_page},
                timeout=self.timeout + wait,
            )
            events: list[dict[str, Any]] = list(answer.get("events", []))
            new_cursor = int(answer.get("cursor", result.cursor))
            self._apply(events, new_cursor, result)
            result.received += len(events)
            if len(events) < self.pull_page or new_cursor <= result.cursor:
                result.cursor = max(result.cursor, new_cursor)
                return result
            result.cursor = new_cursor
            wait = 0.0

    def _apply(self, events: list[dict[str, Any]], cursor: int, result: PullResult) -> None:
        """The page's events read and validated first (no lock held), then applied set-based
        in steps of APPLY_STEP events, in short local transactions (at most APPLY_CHUNK events
        or about APPLY_SECONDS each), the cursor moved with the last: a patient's ticket never
        waits behind a whole page. A crash between them leaves the cursor before the page;
        its events applied again are found duplicates."""
        now = self.clock()
        # Our own events (a server that still sends them): this store has them, or was
        # restored without them and must not take them back as new.
        own = sum(1 for wire in events if wire.get("origin") == self.origin)
        result.duplicates += own
        feed = []
        for wire in events:
            if wire.get("origin") != self.origin:
                PATIENTS.step_aside()  # validating a page takes the interpreter a while
                feed.append(read_feed_event(wire))
        steps = iter([feed[at : at + APPLY_STEP] for at in range(0, len(feed), APPLY_STEP)])
        done = False
        with PatientWatch(self.engine) as patients:
            while not done:
                started = time.monotonic()
                done = self._apply_chunk(steps, cursor, now, result, patients)
                if APPLY_REST > 0:
                    time.sleep(APPLY_REST * (time.monotonic() - started))

    def _apply_chunk(
        self,
        steps: Iterator[list[FeedEvent]],
        cursor: int,
        now: dt.datetime,
        result: PullResult,
        patients: PatientWatch,
    ) -> bool:
        """One short transaction; it ends early when a patient's ticket waits for the write
        lock, or is being issued in this process (the next transaction then waits until it
        is: `PATIENTS`). No garbage collection starts inside it (`collector_paused`): one
        walking the process would hold the write lock with it. Whether the page is done (the
        cursor moved)."""
        with collector_paused(), Session(self.engine) as session, session.begin():
            started = time.monotonic()
            count = 0
            for step in steps:
                self._apply_step(session, step, now, result)
                count += len(step)
                if (
                    count >= APPLY_CHUNK
                    or time.monotonic() - started >= APPLY_SECONDS
                    or PATIENTS.busy()
                    or patients.waiting()
                ):
                    return False
            row = session.get(SyncCursor, self.cursor_name)
            if row is None:
                session.add(SyncCursor(name=self.cursor_name, position=cursor, updated_at=now))
            elif cursor > row.position:
                row.position = cursor
                row.updated_at = now
        return True

    @staticmethod
    def _apply_step(
        session: Session, step: list[FeedEvent], now: dt.datetime, result: PullResult
    ) -> None:
        for item, outcome in zip(step, apply_feed_events(session, step, now), strict=True):
            if isinstance(outcome, QueueError):
                # Not ours to fix here (e.g. a department this kiosk doesn't know); staying
                # stuck on it would stop every later update.
                log.warning("skipped server event %s: %s", item.id, outcome)
                result.skipped.append((item.id, str(outcome)))
            elif outcome == "accepted":
                result.applied += 1
            else:
                result.duplicates += 1

    # -- both ------------------------------------------------------------------------------

    def sync_once(self, wait: float = 0.0) -> SyncReport:
        if self.on_hold():
            self.reconcile()
        pushed = self.push()
        pulled = self.pull(wait=wait)
        return SyncReport(pushed, pulled, self.clock_offset_seconds)


class SyncWorker:
    """Background sync: a plain thread, stopped by an event; backs off when the server fails."""

    def __init__(
        self,
        client: SyncClient,
        *,
        interval: float = 5.0,
        base: float = BACKOFF_BASE_SECONDS,
        cap: float = BACKOFF_CAP_SECONDS,
        rng: random.Random | None = None,
        on_report: Callable[[SyncReport], None] | None = None,
        on_error: Callable[[SyncError, float], None] | None = None,
    ) -> None:
        self.client = client
        self.interval = interval
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()
        self.on_report = on_report
        self.on_error = on_error
        self.failures = 0
        self.last_report: SyncReport | None = None
        self.last_error: SyncError | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-sync", daemon=True)
        self._heartbeat: Callable[[float | None], None] | None = None
        self._heartbeat_interval = HEARTBEAT_SECONDS
        self._heartbeat_due = 0.0

    def set_heartbeat(
        self, report: Callable[[float | None], None], interval: float = HEARTBEAT_SECONDS
    ) -> None:
        """Call `report(clock offset)` after the first good round and then every `interval`
        seconds of good rounds; what it records (a `device.status` event) goes out at once."""
        self._heartbeat_interval = interval
        self._heartbeat_due = 0.0
        self._heartbeat = report

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the worker to stop and wait for it (a request in flight ends by its timeout)."""
        self._stop.set()
        self._wake.set()
        if self._thread.ident is None:
            return  # never started (the kiosk closed before its first screen)
        self._thread.join(timeout if timeout is not None else self.client.timeout + 5)

    def wake(self) -> None:
        """Sync now (e.g. right after a ticket is issued) instead of at the next interval."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def next_delay(self, error: SyncError | None) -> float:
        if error is None:
            return self.interval
        if error.retry_after is not None:
            return min(self.cap, error.retry_after)
        return full_jitter(self.failures - 1, self.base, self.cap, self.rng)

    def _beat(self) -> None:
        report = self._heartbeat
        if report is None or time.monotonic() < self._heartbeat_due:
            return
        self._heartbeat_due = time.monotonic() + self._heartbeat_interval
        try:
            report(self.client.clock_offset_seconds)
        except Exception:  # the fleet page misses one status; syncing goes on
            log.exception("could not record the heartbeat status")
            return
        self._wake.set()  # send it now, not a sync interval later

    def _run(self) -> None:
        while not self._stop.is_set():
            error: SyncError | None = None
            try:
                report = self.client.sync_once()
            except SyncError as exc:
                error = exc
                self.failures += 1
                self.last_error = exc
            except Exception:  # a bug: log it whole, keep the kiosk syncing
                log.exception("sync round failed unexpectedly")
                error = SyncError("unexpected failure")
                self.failures += 1
            else:
                if self.failures:
                    log.info("sync works again after %d failed rounds", self.failures)
                self.failures = 0
                self.last_error = None
                self.last_report = report
                if report.push.accepted or report.pull.applied or report.push.rejected:
                    log.info("sync: %s", report.summary())
                if self.on_report is not None:
                    self.on_report(report)
                self._beat()
            delay = self.next_delay(error)
            if error is not None:
                log.warning("sync failed (%s); next try in %.1f s", error, delay)
                if self.on_error is not None:
                    self.on_error(error, delay)
            self._wake.wait(delay)
            self._wake.clear()
