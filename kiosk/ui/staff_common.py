"""Pieces shared by the staff screens (counter and board): per-window translations, the
event-feed long-poll, the offline banner, priority words.

The counter and the board talk to the central server through `server_sync.staff.StaffClient`
on `Worker` threads only; this module adds the long-poll loop on its own worker, which stops
cooperatively (the poll in flight ends by its `wait`, nothing is terminated).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QTranslator, Signal

from kiosk.app.counter import Failure
from kiosk.texts import priority_name
from kiosk.ui.i18n import I18N_DIR, SOURCE_LANGUAGE
from kiosk.ui.worker import Worker
from server_sync.backoff import Backoff
from server_sync.http import ServerRefused, ServerUnreachable, SyncError
from server_sync.staff import EventsPage, StaffClient

log = logging.getLogger(__name__)

# Seconds one long-poll may wait on the server for news. News ends it at once, so this only
# bounds how long stopping a screen can take.
FEED_WAIT_SECONDS = 5.0
RECONNECT_BASE_SECONDS = 0.5
RECONNECT_CAP_SECONDS = 10.0


class ScreenText:
    """The translations of one staff window, in its own language.

    The kiosk switches the application-wide language when a patient taps the language
    button; a counter or a board in the same process (`kiosk demo`) must not follow it, so
    each keeps a private QTranslator over the same `vi.qm` and asks it directly.
    """

    def __init__(self, language: str, directory: Path = I18N_DIR) -> None:
        self.language = language
        self._translator: QTranslator | None = None
        if language != SOURCE_LANGUAGE:
            translator = QTranslator()
            path = directory / f"{language}.qm"
            if translator.load(str(path)):
                self._translator = translator
            else:
                log.error("no translations for %r (%s); showing English", language, path)

    def translate(self, context: str, source: str) -> str:
        if self._translator is None:
            return source
        return self._translator.translate(context, source) or source


def priority_word(text: ScreenText, reason: str | None) -> str:
    """The short name of a priority group in the window's language (kiosk/texts.py)."""
    return priority_name(reason, text.language, short=True) if reason else ""


def minutes_since(moment: dt.datetime | None, now: dt.datetime) -> int:
    if moment is None:
        return 0
    return max(0, int((now - moment).total_seconds() // 60))


class FeedPoller(QObject):
    """Long-polls GET /events on its own worker and reports news on the GUI thread.

    `online_changed(False)` as soon as a poll fails (or `lost()` is called); it then retries
    with the clients' one backoff policy (server_sync/backoff.py) and says
    `online_changed(True)` when the server answers again. With `types`, the server sends only
    those events, and an answer with none whose cursor moved is reported as an empty list:
    the queue changed (a board refreshes its counts) though nothing was called.
    """

    events_received = Signal(object)  # list[FeedEvent]
    online_changed = Signal(bool)

    def __init__(
        self,
        client: StaffClient,
        *,
        department: str | None = None,
        wait: float = FEED_WAIT_SECONDS,
        reconnect_base: float = RECONNECT_BASE_SECONDS,
        reconnect_cap: float = RECONNECT_CAP_SECONDS,
        name: str = "feed",
        types: Collection[str] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.department = department
        self.types = frozenset(types)
        self.wait = wait
        self.reconnect_base = reconnect_base
        self.reconnect_cap = reconnect_cap
        self.cursor = 0
        self.online: bool | None = None
        self.backoff = Backoff(reconnect_base, reconnect_cap)
        self.last_error: BaseException | None = None
        self._stopped = True
        self.worker = Worker(f"{name}-poll", self)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._poll)

    def start(self, cursor: int) -> None:
        self.cursor = cursor
        self._stopped = False
        if not self.worker.is_pending("poll"):
            self._poll()

    @property
    def failures(self) -> int:
        return self.backoff.failures

    def lost(self) -> None:
        """Another request found the server unreachable: offline until a poll is answered.

        The screen's only reconnect loop is this poller's: the poll in flight (or the next
        one, after the backoff) says `online_changed(True)` when the server answers again.
        """
        self._set_online(False)

    def move_to(self, cursor: int) -> None:
        """Skip ahead (a fresh snapshot already includes everything up to `cursor`)."""
        self.cursor = max(self.cursor, cursor)

    def stop(self) -> None:
        self._stopped = True
        self._retry.stop()
        self.worker.stop(int((self.wait + self.client.timeout + 2) * 1000))
        self.client.close()

    def _poll(self) -> None:
        if self._stopped:
            return
        client, after, wait, department = self.client, self.cursor, self.wait, self.department
        types = self.types

        def job() -> EventsPage:
            return client.events(after, wait=wait, department=department, types=types)

        self.worker.submit(job, self._answered, self._failed, name="poll")

    def _set_online(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self.online_changed.emit(online)

    def _answered(self, page: Any) -> None:
        assert isinstance(page, EventsPage)
        if self._stopped:
            return
        if self.failures:
            log.info("the server answers again after %d failed polls", self.failures)
        self.backoff.reset()
        self.last_error = None
        self._set_online(True)
        moved = page.cursor > self.cursor
        self.cursor = max(self.cursor, page.cursor)
        if page.events or (self.types and moved):
            # Filtered by type, a moved cursor with no events still says the queue changed.
            self.events_received.emit(page.events)
        self._poll()

    def _failed(self, error: BaseException) -> None:
        if self._stopped:
            return
        if not isinstance(error, SyncError):
            log.error("event feed poll failed unexpectedly", exc_info=error)
        self.last_error = error
        delay = self.backoff.next_delay()
        if self.failures == 1:
            log.warning("lost the server (%s); reconnecting", error)
        else:
            log.debug("server still unreachable (%s); next try in %.1f s", error, delay)
        self._set_online(False)
        self._retry.start(int(delay * 1000))


def failure_of(error: BaseException, what: str) -> Failure:
    """What a failed request means for a staff screen; logged here, once, the way it deserves
    (a bug with its traceback)."""
    if isinstance(error, ServerUnreachable):
        log.warning("%s: server unreachable: %s", what, error)
        return Failure.UNREACHABLE
    if isinstance(error, ServerRefused):
        log.warning("%s refused: %s", what, error)
        if error.status == 409:
            return Failure.CONFLICT
        if error.status in (401, 403):
            return Failure.FORBIDDEN
        return Failure.NOT_FOUND if error.status == 404 else Failure.REFUSED
    log.error("%s failed unexpectedly", what, exc_info=error)
    return Failure.BUG


def run_job(
    worker: Worker,
    job: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    name: str,
) -> None:
    """Submit unless a job of this name is already queued (polls and refreshes pile up)."""
    if not worker.is_pending(name):
        worker.submit(job, on_done, on_error, name=name)
