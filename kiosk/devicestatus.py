"""What a kiosk reports about itself in its `device.status` events (no Qt, no HTTP).

The console's fleet page and `/metrics` read these fields; the kiosk sends one at start-up,
whenever its printer changes state, and every few minutes, through the sync it already does.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from kiosk.queue.db import read_session
from kiosk.queue.events import format_timestamp
from kiosk.queue.models import Department, Event, Ticket

MAX_REASONS = 5


def kiosk_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("hospital-queue-kiosk")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def build_device_status(
    *,
    version: str,
    printer: str,
    printer_detail: str = "",
    last_ticket: str | None = None,
    last_ticket_at: dt.datetime | None = None,
    disk_free_bytes: int | None = None,
    unsynced: int = 0,
    rejected: int = 0,
    rejected_reasons: list[str] | None = None,
    clock_offset_seconds: float | None = None,
    paused_departments: list[str] | None = None,
) -> dict[str, Any]:
    """The `data` of a `device.status` event: plain JSON, bounded in size."""
    return {
        "kind": "kiosk",
        "version": version[:40],
        "printer": printer[:32],
        "printer_detail": printer_detail[:200],
        "last_ticket": last_ticket,
        "last_ticket_at": format_timestamp(last_ticket_at) if last_ticket_at else None,
        "disk_free_mb": None if disk_free_bytes is None else disk_free_bytes // (1024 * 1024),
        "unsynced": unsynced,
        "rejected": rejected,
        "rejected_reasons": [r[:200] for r in (rejected_reasons or [])[:MAX_REASONS]],
        "clock_offset_seconds": (
            None if clock_offset_seconds is None else round(clock_offset_seconds, 1)
        ),
        "paused_departments": sorted(paused_departments or []),
    }


def collect_device_status(
    engine: Engine,
    origin: str,
    *,
    version: str,
    printer: str,
    printer_detail: str = "",
    data_dir: Path | None = None,
    clock_offset_seconds: float | None = None,
) -> dict[str, Any]:
    """`build_device_status` with what the kiosk's own database and disk say."""
    with read_session(engine) as session:
        mine = Event.origin == origin
        unsynced = session.scalar(
            select(func.count()).where(
                mine, Event.synced_at.is_(None), Event.rejected_reason.is_(None)
            )
        )
        reasons = list(
            session.scalars(
                select(Event.rejected_reason)
                .where(mine, Event.rejected_reason.is_not(None))
                .order_by(Event.seq.desc())
                .limit(MAX_REASONS)
            )
        )
        rejected = session.scalar(
            select(func.count()).where(mine, Event.rejected_reason.is_not(None))
        )
        last = session.execute(
            select(Ticket.code, Ticket.issued_at)
            .where(Ticket.origin == origin, Ticket.number.is_not(None))
            .order_by(Ticket.issued_at.desc())
            .limit(1)
        ).first()
        paused = list(session.scalars(select(Department.code).where(Department.paused.is_(True))))
    free = None
    if data_dir is not None:
        try:
            free = shutil.disk_usage(data_dir).free
        except OSError:
            free = None
    return build_device_status(
        version=version,
        printer=printer,
        printer_detail=printer_detail,
        last_ticket=last[0] if last else None,
        last_ticket_at=last[1] if last else None,
        disk_free_bytes=free,
        unsynced=int(unsynced or 0),
        rejected=int(rejected or 0),
        rejected_reasons=[r for r in reasons if r],
        clock_offset_seconds=clock_offset_seconds,
        paused_departments=paused,
    )
