"""One worker pattern for every screen: blocking jobs on a QThread, results back as signals.

The GUI thread calls `Worker.submit(job, on_done, on_error)`. The job (a callable without
arguments returning T; `on_done` takes that T, as mypy checks) runs on the worker's own
thread, one at a time in submission order; it must not touch widgets. Its result or exception
comes back to the GUI thread through a queued signal, where the callbacks run. Nothing is ever
terminated: `stop()` lets the running job finish, drops the queued ones and ends the thread.

`submit(..., urgent=True)` runs a job on a second thread of the worker's own, so it never waits
behind the ordinary jobs queued or running (a patient's ticket behind a refresh of the counts);
urgent jobs run one at a time in their order too, and may run while an ordinary job does.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[], object]
OnDone = Callable[[Any], None]  # stored untyped; `submit` pairs it with its job's type
OnError = Callable[[BaseException], None]


class _Executor(QObject):
    """Lives on the worker thread; runs jobs and reports. Knows nothing about widgets."""

    succeeded = Signal(int, object)
    failed = Signal(int, object)

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = False

    @Slot(int, object)
    def execute(self, job_id: int, job: Job) -> None:
        if self.cancelled:
            return
        try:
            result = job()
        except Exception as exc:  # reported to the GUI thread, which decides what it means
            self.failed.emit(job_id, exc)
        else:
            self.succeeded.emit(job_id, result)


@dataclass
class _Pending:
    name: str
    on_done: OnDone | None
    on_error: OnError | None


class Worker(QObject):
    """GUI-side handle of one background thread."""

    # Every submitted job has finished (success or error) and nothing is queued.
    idle = Signal()
    _submit = Signal(int, object)
    _urgent = Signal(int, object)

    def __init__(self, name: str = "kiosk-worker", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._thread, self._executor = self._start(name, self._submit)
        self._urgent_thread, self._urgent_executor = self._start(f"{name}-urgent", self._urgent)

    def _start(self, name: str, submit: Any) -> tuple[QThread, _Executor]:
        thread = QThread()
        thread.setObjectName(name)
        executor = _Executor()
        executor.moveToThread(thread)
        submit.connect(executor.execute)
        executor.succeeded.connect(self._on_succeeded)
        executor.failed.connect(self._on_failed)
        thread.finished.connect(executor.deleteLater)
        thread.start()
        return thread, executor

    def submit(
        self,
        job: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: OnError | None = None,
        *,
        name: str = "job",
        urgent: bool = False,
    ) -> int:
        job_id = next(self._ids)
        self._pending[job_id] = _Pending(name, on_done, on_error)
        (self._urgent if urgent else self._submit).emit(job_id, job)
        return job_id

    def is_pending(self, name: str) -> bool:
        """Whether a job of this name is queued or running (polls use it to avoid piling up)."""
        return any(p.name == name for p in self._pending.values())

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Let the running jobs finish, drop the rest, end the threads; False if one hung."""
        self._pending.clear()
        finished = True
        for thread, executor in (
            (self._urgent_thread, self._urgent_executor),
            (self._thread, self._executor),
        ):
            if not thread.isRunning():
                continue
            executor.cancelled = True
            thread.quit()
            if not thread.wait(timeout_ms):
                log.error("worker %s did not stop within %d ms", thread.objectName(), timeout_ms)
                finished = False
        return finished

    @Slot(int, object)
    def _on_succeeded(self, job_id: int, result: object) -> None:
        pending = self._pending.pop(job_id, None)
        if pending is not None and pending.on_done is not None:
            pending.on_done(result)
        self._maybe_idle()

    @Slot(int, object)
    def _on_failed(self, job_id: int, error: object) -> None:
        pending = self._pending.pop(job_id, None)
        assert isinstance(error, BaseException)
        if pending is None:
            return
        if pending.on_error is not None:
            pending.on_error(error)
        else:
            log.error("background job %s failed", pending.name, exc_info=error)
        self._maybe_idle()

    def _maybe_idle(self) -> None:
        if not self._pending:
            self.idle.emit()
