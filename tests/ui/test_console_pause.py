"""A department paused in the operations console greys out on a kiosk's screen (pytest-qt)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import Config
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from server_sync.server import create_app
from server_sync.server.admin.accounts import add_user
from server_sync.server.devices import add_device
from tests.support.admin import PASSWORD, Browserless
from tests.support.database import seed
from tests.support.server import LiveServer, sync_client
from tests.ui import geometry


def test_console_pause_reaches_the_kiosk_screen(
    qtbot: Any, make_window: Any, service: QueueService, tmp_path: Path
) -> None:
    server_engine = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    seed(server_engine)
    add_user(server_engine, "lan", "supervisor", PASSWORD, dt.datetime.now(dt.UTC))
    token = add_device(server_engine, "kiosk-test", "kiosk")
    live = LiveServer(create_app(server_engine, Config())).start()
    try:
        window = make_window()
        assert window.home.grid.buttons["NOI"].isEnabled()

        supervisor = Browserless(live.url)
        assert supervisor.login("lan").status_code == 303
        csrf = supervisor.csrf("/admin/monitor?department=NOI")
        paused = supervisor.post(
            "/admin/departments/NOI/pause", {"csrf": csrf, "reason": "Hết bác sĩ trực"}
        )
        assert paused.status_code == 303

        client = sync_client(service.engine, live.url, token, origin="kiosk-test")
        client.pull()
        client.close()
        with qtbot.waitSignal(window.departments_changed, timeout=30_000):
            window.refresh_departments()
        button = window.home.grid.buttons["NOI"]
        assert not button.isEnabled()
        assert button.texts.unavailable == "Tạm ngừng cấp số"
        # The console's reason travels with the pause and is on the tile, as drawn.
        assert button.visible_texts()[1] in (
            "Tạm ngừng cấp số: Hết bác sĩ trực",  # on one line
            "Tạm ngừng cấp số Hết bác sĩ trực",  # the reason on the line below
        )
        assert window.home.grid.buttons["NHI"].isEnabled()

        # The kiosk's own pause stays its own: the admin panel shows the hospital's pause with
        # its reason, and its button pauses this kiosk (not "resumes" the hospital's pause).
        noi = next(d for d in window.departments if d.code == "NOI")
        assert (noi.hospital_paused, noi.pause_reason, noi.paused_here) == (
            True,
            "Hết bác sĩ trực",
            False,
        )
        window.staff.open_admin()
        row = window.admin.pause_buttons["NOI"]
        assert row.text() == "Tạm ngừng"
        assert "bệnh viện tạm ngừng: Hết bác sĩ trực" in admin_row_text(window, "NOI")
    finally:
        live.stop()
        server_engine.dispose()


def admin_row_text(window: Any, code: str) -> str:
    from PySide6.QtWidgets import QLabel

    button = window.admin.pause_buttons[code]
    name = button.parentWidget().findChild(QLabel, "name")
    return str(name.text())


def departments(service: QueueService, count: int) -> list[Any]:
    """`count` departments (4 to 24), the seed's two longest names first."""
    real = service.departments()
    longest = sorted(real, key=lambda d: -len(d.name_vi))[:2]
    chosen = longest + [d for d in real if d not in longest]
    extra = [
        d.model_copy(update={"code": f"{d.code}2", "prefix": "Z"})
        for d in real[: max(0, count - len(real))]
    ]
    return (chosen + extra)[:count]


def settle() -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert app is not None
    for _ in range(3):
        app.processEvents()


LONG_REASON = {
    "vi": "Bác sĩ đang hội chẩn ca cấp cứu, xin mời quay lại sau 14 giờ hoặc hỏi quầy hướng dẫn",
    "en": "The doctors are in an emergency consultation, please come back after 2 pm or ask "
    "at the information desk",
}


@pytest.mark.parametrize("size", [(1366, 768), (1080, 1920)], ids=["1366x768", "1080x1920"])
@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("count", [4, 12, 24])
def test_the_pause_reason_fits_its_tile(
    qtbot: Any,
    make_window: Any,
    service: QueueService,
    size: tuple[int, int],
    language: str,
    count: int,
    tmp_path: Path,
) -> None:
    """A short reason is shown whole; a long one is cut between words, with "…"; nothing on
    the page overlaps or is clipped."""
    window = make_window(size=size)
    window.set_language(language)
    short, long = departments(service, count)[:2]
    chosen = [
        short.model_copy(
            update={"unavailable": "paused", "hospital_paused": True, "pause_reason": "Hết giờ"}
        ),
        long.model_copy(
            update={
                "unavailable": "paused",
                "hospital_paused": True,
                "pause_reason": LONG_REASON[language],
            }
        ),
        *departments(service, count)[2:],
    ]
    window.apply_departments(chosen)
    window.home.grid.first_page()
    window.go_home()
    settle()
    window.grab().save(str(tmp_path / f"pause-{language}-{count}-{size[0]}x{size[1]}.png"))
    problems = geometry.check_screen(window, min_text_px=24)
    assert not problems, geometry.describe(problems)
    label = "Tạm ngừng cấp số" if language == "vi" else "Not giving numbers now"
    # On a tile with room for one status line, the pause in a word: "Tạm ngừng: <reason>".
    labels = (label, "Tạm ngừng" if language == "vi" else "Paused")
    tiles = window.home.grid.buttons
    assert tiles[short.code].visible_texts()[1] in [
        f"{lab}{sep} Hết giờ" for lab in labels for sep in (":", "")
    ]
    shown = tiles[long.code].visible_texts()[1]
    lab = next((lab for lab in labels if shown.startswith(lab)), None)
    assert lab, shown
    reason = shown.removeprefix(lab).removeprefix(":").strip()
    words = LONG_REASON[language].split()
    if reason.endswith("…"):
        kept = reason.removesuffix("…").split()
        assert kept, f"nothing of the reason is shown: {shown!r}"
        assert kept == words[: len(kept)], f"cut inside a word: {shown!r}"
    else:
        assert reason == LONG_REASON[language]
