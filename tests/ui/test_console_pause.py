"""A department paused in the operations console greys out on a kiosk's screen (pytest-qt)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from server_sync.server import create_app
from server_sync.server.admin.accounts import add_user
from server_sync.server.devices import add_device
from tests.support.admin import PASSWORD, Browserless
from tests.support.database import seed
from tests.support.server import LiveServer, sync_client


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
        with qtbot.waitSignal(window.departments_changed, timeout=5000):
            window.refresh_departments()
        button = window.home.grid.buttons["NOI"]
        assert not button.isEnabled()
        assert button.texts.unavailable == "Tạm ngừng cấp số"
        assert window.home.grid.buttons["NHI"].isEnabled()
    finally:
        live.stop()
        server_engine.dispose()
