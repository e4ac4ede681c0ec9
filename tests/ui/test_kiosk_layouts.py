"""The kiosk's screens at the sizes hospitals buy, measured: nothing overlaps, nothing is cut,
no text is too small to read at arm's length, the number fits its box, the QR decodes.

A matrix of sizes (768x1024 to 3840x2160, both orientations) x 4/12/24 departments (the seed's
longest names among them) x Vietnamese and English x every patient screen. The screens that do
not depend on the departments (printing, number, message) are checked once per size and
language; the home grid and the priority step with each department count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.app.backend import TicketView, sample_issued
from kiosk.config import parse_config
from kiosk.queue.service import DepartmentStatus, QueueService
from kiosk.ui.kiosk_window import KioskWindow
from tests.support.kiosk import PIN
from tests.ui import geometry

SIZES = [
    (768, 1024),
    (1024, 768),
    (800, 1280),
    (1280, 800),
    (768, 1080),
    (1366, 768),
    (1080, 1920),
    (1920, 1080),
    (2160, 3840),
    (3840, 2160),
]
MIN_TEXT_PX = 24
URL_BASE = "https://queue.benhvien-tinh.vn"


def departments(service: QueueService, count: int) -> list[DepartmentStatus]:
    """`count` departments; the seed's longest names always among them."""
    real = service.departments()
    longest = sorted(real, key=lambda d: -len(d.name_vi))
    if count <= len(real):
        chosen = longest[:2] + [d for d in real if d not in longest[:2]]
        return chosen[:count]
    extra = [
        d.model_copy(update={"code": f"{d.code}2", "prefix": "Z"})
        for d in real[: count - len(real)]
    ]
    return real + extra


def settle() -> None:
    app = QApplication.instance()
    assert app is not None
    for _ in range(3):
        app.processEvents()


def check(window: KioskWindow, what: str) -> list[str]:
    settle()
    return [f"{what}: {p}" for p in geometry.check_screen(window, min_text_px=MIN_TEXT_PX)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_kiosk_screen_holds_at_this_size(
    qtbot: Any, make_window: Any, service: QueueService, size: tuple[int, int]
) -> None:
    config = parse_config({"server": {"public_url": URL_BASE}, "kiosk": {"admin_pin_hash": ""}})
    window = make_window(config, size=size)
    problems: list[str] = []
    view = TicketView.of(sample_issued(service, config), config)
    for language in ("vi", "en"):
        window.set_language(language)
        for count in (4, 12, 24):
            window.apply_departments(departments(service, count))
            window.home.grid.first_page()
            window.go_home()
            grid = window.home.grid
            for page in range(grid.pages):
                grid.turn(page - grid.page)
                problems += check(window, f"{language} {count} home page {page + 1}")
                shown = [b for b in grid.buttons.values() if b.isVisible()]
                assert shown, "a page without departments"
                for tile in shown:
                    name, status = tile.text_blocks()
                    if name.font.pixelSize() < status.font.pixelSize():
                        problems.append(f"{language} {count} {tile.code}: name below status")
            # The priority step after a tap on a tile in the middle of the first page.
            grid.turn(-grid.page)
            shown = [code for code, b in grid.buttons.items() if b.isVisible()]
            window.department_tapped(shown[len(shown) // 2])
            problems += check(window, f"{language} {count} priority")
        window.show_page(window.printing)
        problems += check(window, f"{language} printing")
        window.ticket.show_ticket(view, language)
        window.ticket.set_seconds_left(15)
        window.show_page(window.ticket)
        problems += check(window, f"{language} ticket")
        decoded = geometry.decode_qr(window.grab().toImage())
        if decoded != [view.status_url]:
            problems.append(f"{language} ticket: QR read as {decoded}")
        for kind in ("print_failed", "error"):
            window.message.show_message(kind)
            window.show_page(window.message)
            problems += check(window, f"{language} message {kind}")
    assert not problems, "\n".join(problems)


def test_the_number_fills_its_box_at_every_width(qtbot: Any, make_window: Any) -> None:
    """ "B001" read "3001" at 800 px wide when the number had a fixed 300 px font."""
    window = make_window(size=(800, 1280))
    for width in (640, 768, 800, 1080, 1366, 1920, 3840):
        window.resize(width, 1280 if width < 1000 else 1080)
        window.ticket.code.setText("B001")
        window.show_page(window.ticket)
        settle()
        block = window.ticket.code.text_block()
        ink = geometry.ink_rect("B001", block.font, block.starts[0], block.baselines[0])
        box = window.ticket.code.inner()
        assert box.contains(ink), (width, ink, box)
        assert ink.width() > box.width() * 0.6 or ink.height() > box.height() * 0.6
    assert PIN  # the fixture's config keeps its PIN


STAFF_SIZES = SIZES


@pytest.mark.parametrize("size", STAFF_SIZES, ids=[f"{w}x{h}" for w, h in STAFF_SIZES])
def test_the_pin_pad_and_the_admin_panel_hold_at_this_size(
    qtbot: Any,
    make_window: Any,
    service: QueueService,
    size: tuple[int, int],
    tmp_path: Path,
) -> None:
    """The staff's pages (behind the hidden corner) at the same sizes as the patients': the PIN
    pad with its lockout message and the admin panel with everything it can say (a printer
    detail, the sync line, a result, departments paused here and by the hospital with reasons,
    24 of them), in Vietnamese and English."""
    import datetime as dt

    from kiosk.app.backend import PrinterHealth, SyncInfo

    window = make_window(size=size)
    problems: list[str] = []
    for language in ("vi", "en"):
        window.set_language(language)
        window.staff.open_pin()
        window.pin.reset(window.staff._pin_status() or "Mã PIN sai. Còn 4 lần thử.")
        for key in "2468":
            window.pin.keys[key].click()
        problems += check(window, f"{language} pin")
        shots = [(f"pin-{language}", window.grab())]

        chosen = departments(service, 24)
        chosen[0] = chosen[0].model_copy(
            update={
                "unavailable": "paused",
                "hospital_paused": True,
                "pause_reason": "Bác sĩ đang hội chẩn ca cấp cứu, xin mời quay lại sau 14 giờ",
            }
        )
        chosen[1] = chosen[1].model_copy(update={"unavailable": "paused", "paused_here": True})
        window.apply_departments(chosen)
        window.staff.open_admin()
        qtbot.waitUntil(lambda: not window.worker.busy, timeout=30_000)
        window.admin.health = PrinterHealth(
            "paper_near_end", True, "usb:04b8:0202 — paper near end"
        )
        window.admin.sync_info = SyncInfo(
            pending=1234,
            rejected=12,
            last_synced_at=dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC),
            server_url="",
        )
        window.admin.show_result(
            "Lỗi: không gửi được phiếu thử tới máy in (usb:04b8:0202)"
            if language == "vi"
            else "Failed: the test ticket could not be sent to the printer (usb:04b8:0202)"
        )
        window.admin.retranslate()
        problems += check(window, f"{language} admin")
        shots.append((f"admin-{language}", window.grab()))
        window.go_home()
        for name, shot in shots:
            shot.save(str(tmp_path / f"{name}-{size[0]}x{size[1]}.png"))
    assert not problems, "\n".join(problems)
