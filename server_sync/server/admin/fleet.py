"""Fleet health: every device's latest `device.status` and its last contact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from kiosk.queue.db import read_session
from kiosk.queue.events import EventType
from kiosk.queue.models import Event


@dataclass(frozen=True)
class ReportedStatus:
    origin: str
    occurred_at: dt.datetime
    stored_at: dt.datetime
    data: dict[str, Any]


def latest_statuses(engine: Engine) -> dict[str, ReportedStatus]:
    """Origin -> its newest `device.status` event (one grouped query over an index)."""
    with read_session(engine) as session:
        newest = (
            select(Event.origin, func.max(Event.position).label("position"))
            .where(Event.type == EventType.DEVICE_STATUS)
            .group_by(Event.origin)
            .subquery()
        )
        rows = session.scalars(
            select(Event).join(newest, Event.position == newest.c.position)
        ).all()
        return {
            e.origin: ReportedStatus(e.origin, e.occurred_at, e.stored_at, dict(e.data or {}))
            for e in rows
        }


# Longer than this without a word from a device: it is offline (kiosks sync every few seconds).
SILENT_MINUTES = 10
CLOCK_WARN_SECONDS = 30
CLOCK_FAIL_SECONDS = 300
DISK_WARN_MB = 1024
DISK_FAIL_MB = 200
UNSYNCED_WARN = 50

PRINTER_PROBLEMS: dict[str, tuple[str, str, str]] = {
    # state -> (severity, Vietnamese hint, English hint)
    "paper_out": ("bad", "Hết giấy: thay cuộn giấy in.", "Out of paper: load a new roll."),
    "cover_open": ("bad", "Nắp máy in đang mở: đóng nắp.", "Printer cover open: close it."),
    "offline": (
        "bad",
        "Máy in không phản hồi: kiểm tra nguồn, cáp; chạy kiosk doctor.",
        "Printer not answering: check power and cable; run kiosk doctor.",
    ),
    "print_failed": (
        "bad",
        "In phiếu thất bại: xem kiosk doctor trên ki-ốt.",
        "A print failed: see kiosk doctor on the kiosk.",
    ),
    "error": (
        "bad",
        "Máy in báo lỗi: xem kiosk doctor trên ki-ốt.",
        "Printer error: see kiosk doctor on the kiosk.",
    ),
    "storage_full": (
        "bad",
        "Ki-ốt hết dung lượng đĩa: giải phóng chỗ trống.",
        "Kiosk disk full: free some space.",
    ),
    "paper_near_end": ("warn", "Giấy sắp hết: chuẩn bị cuộn mới.", "Paper near end: get a roll."),
}


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str  # "bad" or "warn"
    hint_vi: str
    hint_en: str

    def hint(self, language: str) -> str:
        return self.hint_en if language == "en" else self.hint_vi


@dataclass(frozen=True)
class FleetLine:
    name: str
    role: str
    last_contact: dt.datetime | None
    status: ReportedStatus | None
    problems: tuple[Problem, ...]

    @property
    def severity(self) -> str:
        if any(p.severity == "bad" for p in self.problems):
            return "bad"
        return "warn" if self.problems else "ok"

    def field(self, key: str) -> Any:
        return None if self.status is None else self.status.data.get(key)


def problems_of(
    role: str, last_contact: dt.datetime | None, status: ReportedStatus | None, now: dt.datetime
) -> tuple[Problem, ...]:
    """What is wrong with one device, worst first, each with what to do about it."""
    found: list[Problem] = []
    if last_contact is None or now - last_contact > dt.timedelta(minutes=SILENT_MINUTES):
        found.append(
            Problem(
                "silent",
                "bad",
                f"Không liên lạc quá {SILENT_MINUTES} phút: kiểm tra nguồn điện và mạng.",
                f"No contact for over {SILENT_MINUTES} min: check power and network.",
            )
        )
    data = status.data if status else {}
    printer = data.get("printer")
    if isinstance(printer, str) and printer in PRINTER_PROBLEMS:
        severity, vi, en = PRINTER_PROBLEMS[printer]
        found.append(Problem(f"printer.{printer}", severity, vi, en))
    offset = data.get("clock_offset_seconds")
    if isinstance(offset, int | float) and abs(offset) > CLOCK_WARN_SECONDS:
        severity = "bad" if abs(offset) > CLOCK_FAIL_SECONDS else "warn"
        found.append(
            Problem(
                "clock",
                severity,
                f"Đồng hồ lệch {offset:+.0f} giây: bật đồng bộ giờ (timedatectl set-ntp true).",
                f"Clock off by {offset:+.0f} s: turn on time sync (timedatectl set-ntp true).",
            )
        )
    rejected = data.get("rejected")
    if isinstance(rejected, int) and rejected > 0:
        found.append(
            Problem(
                "rejected",
                "bad",
                f"{rejected} sự kiện bị máy chủ từ chối: xem kiosk doctor (numbering.offset?).",
                f"{rejected} events rejected by the server: see kiosk doctor (numbering.offset?).",
            )
        )
    unsynced = data.get("unsynced")
    if isinstance(unsynced, int) and unsynced > UNSYNCED_WARN:
        found.append(
            Problem(
                "unsynced",
                "warn",
                f"{unsynced} sự kiện chưa gửi: kiểm tra mạng tới máy chủ.",
                f"{unsynced} events not sent yet: check the network to the server.",
            )
        )
    disk = data.get("disk_free_mb")
    if isinstance(disk, int) and disk < DISK_WARN_MB:
        found.append(
            Problem(
                "disk",
                "bad" if disk < DISK_FAIL_MB else "warn",
                f"Còn {disk} MB đĩa trống: dọn nhật ký, bản sao lưu cũ.",
                f"{disk} MB of disk left: clear old logs and backups.",
            )
        )
    return tuple(sorted(found, key=lambda p: p.severity != "bad"))


def fleet(engine: Engine, now: dt.datetime) -> list[FleetLine]:
    """Every device (registered, or only heard of through its status), problems first."""
    from kiosk.queue.models import Device

    statuses = latest_statuses(engine)
    with read_session(engine) as session:
        devices = [
            (d.name, d.role, d.last_seen_at)
            for d in session.scalars(select(Device).where(Device.revoked_at.is_(None)))
        ]
    lines: list[FleetLine] = []
    named = set()
    for name, role, seen in devices:
        named.add(name)
        status = statuses.get(name)
        contact = max(
            [m for m in (seen, status.stored_at if status else None) if m is not None],
            default=None,
        )
        lines.append(
            FleetLine(name, role, contact, status, problems_of(role, contact, status, now))
        )
    for origin, status in statuses.items():
        if origin not in named:
            contact = status.stored_at
            lines.append(
                FleetLine(
                    origin, "kiosk", contact, status, problems_of("kiosk", contact, status, now)
                )
            )
    order = {"bad": 0, "warn": 1, "ok": 2}
    return sorted(lines, key=lambda line: (order[line.severity], line.name))
