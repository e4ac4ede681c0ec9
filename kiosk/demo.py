"""`kiosk demo`: the whole product on this machine, talking over real HTTP on 127.0.0.1.

One of the two composition roots (the other is the command line, `kiosk/cli.py` and
`kiosk/commands/`): the only modules that wire the screens to the server and its clients.

The central server (SQLite) runs in-process on server.port (a free one for screenshots and
tests); its devices (kiosk, counter,
board) get tokens; the example hospital is seeded into the server's and the kiosk's
databases; then the patient kiosk (with a preview printer: tickets on screen and as PNG), a
counter and a board open. The kiosk pushes its tickets with `server_sync.client.SyncWorker`
(the kiosk screen itself does not start one), woken at once after each ticket.

Each demo gets a fresh directory under the data directory (or $KIOSK_DATA_DIR)/demo, so it
can be run again and again. The staff screens' offscreen screenshots (`kiosk counter|board
--screenshot` without a configured server) use the same scripted set-up.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QWidget
from sqlalchemy import Engine

from kiosk.announcer import Announcer
from kiosk.app.backend import READY, KioskBackend, TicketView
from kiosk.app.counter import Action
from kiosk.app.kiosk_flow import KioskTimings
from kiosk.config import Config, default_data_dir, parse_config
from kiosk.queue.db import open_database
from kiosk.queue.seeds import seed_database
from kiosk.queue.service import QueueService
from kiosk.resources import EXAMPLE_SEEDS, seed_file
from kiosk.ui.app import build_window
from kiosk.ui.board_window import BoardTimings, BoardWindow
from kiosk.ui.counter_window import CounterTimings, CounterWindow
from kiosk.ui.kiosk_window import KioskWindow
from kiosk.ui.qapp import create_application, exec_until_interrupted
from kiosk.ui.screenshot import grab, wait_for
from kiosk.ui.style import apply_style, load_fonts
from server_sync.client import SyncClient, SyncWorker
from server_sync.server import create_app
from server_sync.server.devices import add_device
from server_sync.server.embedded import EmbeddedServer
from server_sync.staff import StaffClient

log = logging.getLogger(__name__)

SEEDS_FILE = seed_file(EXAMPLE_SEEDS)
DEMO_COUNTER = ("NOI", "101")
DEMO_NOTICE = (
    "Bệnh viện Đa khoa tỉnh kính chào quý khách  ·  Vui lòng giữ phiếu số và chờ đến lượt  ·  "
    "Người từ 75 tuổi, phụ nữ có thai, trẻ em dưới 6 tuổi được ưu tiên  ·  "
    "Xin giữ trật tự trong phòng chờ"
)
# The scripted morning of the screenshots: (department, priority) in issue order.
SCRIPT_TICKETS: tuple[tuple[str, str | None], ...] = (
    ("NOI", None),
    ("NOI", None),
    ("TIEPDON", None),
    ("NOI", "elderly_75"),
    ("NOI", None),
    ("TIEPDON", None),
    ("NHI", None),
    ("NOI", "pregnant"),
    ("NOI", None),
    ("TIEPDON", None),
    ("NOI", None),
    ("NOI", None),
)
# Issued after the calls: they wait, priority first, in the counter's list.
SCRIPT_LATE_TICKETS: tuple[tuple[str, str | None], ...] = (
    ("NOI", "child_under_6"),
    ("NOI", None),
    ("NOI", "elderly_75"),
)
SCRIPT_CALLS: tuple[tuple[str, str, bool], ...] = (  # department, room, then served
    ("TIEPDON", "Q1", True),
    ("NOI", "102", True),
    ("NHI", "110", False),
    ("TIEPDON", "Q2", False),
    ("NOI", "103", False),
)


def new_demo_directory(base: Path | None = None) -> Path:
    """A fresh directory for one demo (data, tokens, ticket PNGs)."""
    root = (base or default_data_dir()) / "demo"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    directory = root / f"{stamp}-{os.getpid()}"
    suffix = 1
    while directory.exists():
        suffix += 1
        directory = root / f"{stamp}-{os.getpid()}-{suffix}"
    directory.mkdir(parents=True)
    return directory


@dataclass
class DemoSetup:
    directory: Path
    config: Config
    server: EmbeddedServer
    server_engine: Engine
    kiosk_engine: Engine
    tokens: dict[str, str]
    sync: SyncWorker | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def staff_client(self, role: str) -> StaffClient:
        return StaffClient(self.server.url, self.tokens[role], timeout=5.0)

    def close(self) -> None:
        if self.sync is not None:
            self.sync.stop(timeout=5)
            self.sync.client.close()
            self.sync = None
        for close in reversed(self.closers):
            close()
        self.closers.clear()
        self.server.stop()
        self.server_engine.dispose()
        self.kiosk_engine.dispose()


class DemoPortBusy(Exception):
    """The demo's fixed port (server.port) is taken: one line for the user."""


def prepare_demo(directory: Path, *, port: int = 0, notice: str = DEMO_NOTICE) -> DemoSetup:
    """Seed both databases, register the devices, start the server; nothing on screen yet.
    `port` 0 takes a free one (tests, screenshots)."""
    try:
        server = EmbeddedServer(port=port)
    except OSError as exc:
        raise DemoPortBusy(
            f"cannot serve the demo on 127.0.0.1:{port}: {exc.strerror or exc}; set "
            "[server] port in the config or pass --port N (0: any free port)"
        ) from None
    token_file = directory / "kiosk.token"
    config = parse_config(
        {
            "kiosk": {
                "id": "kiosk-demo",
                "database_url": f"sqlite:///{directory / 'kiosk.db'}",
                "cooldown_seconds": 1,
            },
            "server": {
                "url": server.url,
                "token_file": str(token_file),
                "database_url": f"sqlite:///{directory / 'server.db'}",
                "timeout_seconds": 5,
                "sync_interval_seconds": 1,
            },
            "printer": {"connection": f"preview:{directory / 'tickets'}"},
            "board": {"notice": notice},
        },
        source="kiosk demo",
    )
    server_engine = open_database(config.server_database_url)
    kiosk_engine = open_database(config.kiosk_database_url)
    try:
        seed_database(server_engine, SEEDS_FILE)
        seed_database(kiosk_engine, SEEDS_FILE)
        tokens = {
            # The kiosk's device is named after its kiosk.id: it pushes only under that origin.
            role: add_device(
                server_engine, config.kiosk.id if role == "kiosk" else f"demo-{role}", role
            )
            for role in ("kiosk", "counter", "board")
        }
        token_file.write_text(tokens["kiosk"] + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        server.app = create_app(server_engine, config)
        server.start()
    except BaseException:
        server.stop()
        server_engine.dispose()
        kiosk_engine.dispose()
        raise
    log.info("demo data in %s; server on %s", directory, server.url)
    return DemoSetup(directory, config, server, server_engine, kiosk_engine, tokens)


def start_sync(setup: DemoSetup) -> SyncWorker:
    client = SyncClient.from_config(setup.kiosk_engine, setup.config)
    worker = SyncWorker(client, interval=setup.config.server.sync_interval_seconds, cap=5.0)
    worker.start()
    setup.sync = worker
    return worker


def silent_announcer(config: Config) -> Announcer:
    """For screenshots: the phrase is made and logged, no sound is played."""
    return Announcer(
        config.board.announcement,
        config.board.language,
        chime=False,
        speech=False,
        player=lambda clip: None,
    )


@dataclass
class DemoWindows:
    kiosk: KioskWindow
    counter: CounterWindow
    board: BoardWindow
    backend: KioskBackend

    def all(self) -> list[QWidget]:
        return [self.kiosk, self.counter, self.board]

    def shutdown(self) -> None:
        self.kiosk.shutdown()
        self.counter.shutdown()
        self.board.shutdown()
        for window in self.all():
            window.close()
            window.deleteLater()


def open_windows(
    setup: DemoSetup,
    *,
    family: str,
    announcer: Announcer | None = None,
    counter: tuple[str, str] = DEMO_COUNTER,
    kiosk_timings: KioskTimings | None = None,
) -> DemoWindows:
    from printer.output import TicketPrinter

    config = setup.config
    service = QueueService.from_config(setup.kiosk_engine, config)
    printer = TicketPrinter(config.printer, data_dir=setup.directory)
    kiosk = build_window(config, service, printer, timings=kiosk_timings)
    if setup.sync is not None:
        sync = setup.sync
        kiosk.ticket_shown.connect(lambda _view: sync.wake())
        sync.set_heartbeat(kiosk.backend.report_status)
    counter_window = CounterWindow(
        config,
        setup.staff_client("counter"),
        department=counter[0],
        room=counter[1],
        family=family,
        timings=CounterTimings(feed_wait=2.0),
    )
    board = BoardWindow(
        config,
        setup.staff_client("board"),
        family=family,
        announcer=announcer,
        timings=BoardTimings(feed_wait=2.0),
    )
    return DemoWindows(kiosk, counter_window, board, kiosk.backend)


def place_windows(windows: DemoWindows, screen: QRect) -> None:
    """Kiosk on the left, full height; counter top right, board bottom right. A window manager
    may still move them; without one (a bare X server) they would all sit at the corner."""
    x, y, width, height = screen.x(), screen.y(), screen.width(), screen.height()
    kiosk_width = min(900, max(600, width * 2 // 5))
    right = width - kiosk_width
    windows.kiosk.setGeometry(x, y, kiosk_width, height)
    windows.counter.setGeometry(x + kiosk_width, y, right, height // 2)
    windows.board.setGeometry(x + kiosk_width, y + height // 2, right, height - height // 2)


def run_demo(
    directory: Path | None = None, *, quit_after: float | None = None, port: int = 0
) -> int:
    """Open the kiosk, a counter and a board; returns when the windows are closed. The server
    listens on `port` (`kiosk demo` passes server.port: the tickets' QR codes point at a fixed
    address)."""
    setup = prepare_demo(directory or new_demo_directory(), port=port)
    try:
        app = create_application()
        app.setQuitOnLastWindowClosed(True)
        family = load_fonts()
        apply_style(app, family)
        start_sync(setup)
        windows = open_windows(setup, family=family)
        place_windows(windows, app.primaryScreen().availableGeometry())
        for window in windows.all():
            window.show()
        windows.kiosk.start()
        windows.counter.start()
        windows.board.start()
        log.info(
            "demo ready: server %s, kiosk, counter %s/%s and board open; tickets in %s",
            setup.server.url,
            *DEMO_COUNTER,
            setup.directory / "tickets",
        )
        if quit_after is not None:
            QTimer.singleShot(int(quit_after * 1000), app.quit)
        windows.kiosk.allow_close = True  # in the demo, closing the window ends it
        code = exec_until_interrupted(app)
        windows.shutdown()
        return code
    finally:
        setup.close()


def script_morning(setup: DemoSetup, backend: KioskBackend) -> list[TicketView]:
    """Issue the scripted tickets at the kiosk (printed as PNG), push them, make some calls."""
    views = [backend.issue(code, priority, "vi") for code, priority in SCRIPT_TICKETS]
    client = SyncClient.from_config(setup.kiosk_engine, setup.config)
    try:
        client.sync_once()
    finally:
        client.close()
    staff = setup.staff_client("counter")
    try:
        for department, room, served in SCRIPT_CALLS:
            ticket = staff.call_next(department, room, f"script-{department}-{room}")
            if ticket is not None and served:
                staff.serve(ticket.id)
        views += [backend.issue(code, priority, "vi") for code, priority in SCRIPT_LATE_TICKETS]
        client = SyncClient.from_config(setup.kiosk_engine, setup.config)
        try:
            client.sync_once()
        finally:
            client.close()
    finally:
        staff.close()
    return views


@contextmanager
def scripted_demo(directory: Path) -> Iterator[tuple[DemoSetup, DemoWindows, list[TicketView]]]:
    """The demo after a scripted morning, with a live call at the counter (for screenshots)."""
    app = create_application(offscreen=True)
    family = load_fonts()
    apply_style(app, family)
    setup = prepare_demo(directory)
    windows: DemoWindows | None = None
    try:
        windows = open_windows(
            setup,
            family=family,
            announcer=silent_announcer(setup.config),
            kiosk_timings=KioskTimings(idle_ms=0, refresh_ms=600_000, printer_poll_ms=600_000),
        )
        views = script_morning(setup, windows.backend)
        counter, board = windows.counter, windows.board
        counter.start()
        board.start()
        wait_for(lambda: counter.online is True and bool(counter.waiting), 20, "the counter")
        wait_for(lambda: board.online is True and bool(board.calls), 20, "the board")
        counter.trigger(Action.CALL_NEXT)
        wait_for(lambda: counter.current is not None, 20, "the counter's call")
        current = counter.current
        assert current is not None
        wait_for(lambda: bool(board.calls) and board.calls[0].code == current.code, 20, "board")
        counter.trigger(Action.RECALL)
        wait_for(lambda: counter.current is not None and counter.current.recalls == 1, 20, "recall")
        wait_for(lambda: not counter.worker.busy and not board.worker.busy, 20, "idle screens")
        yield setup, windows, views
    finally:
        if windows is not None:
            windows.shutdown()
            app.processEvents()
        setup.close()


def show_ticket(windows: DemoWindows, view: TicketView) -> None:
    kiosk = windows.kiosk
    kiosk.apply_printer(READY)
    kiosk.ticket.show_ticket(view, kiosk.language)
    kiosk.ticket.set_seconds_left(15)
    kiosk.show_page(kiosk.ticket)


def render_demo_screenshots(
    target: Path, *, data_dir: Path | None = None, extra_sizes: bool = True
) -> list[Path]:
    """`kiosk demo --screenshot DIR`: demo-kiosk.png, demo-counter.png, demo-board.png and
    the staff screens at their other usual sizes."""
    written: list[Path] = []
    with scripted_demo(data_dir or new_demo_directory()) as (_setup, windows, views):
        written.append(grab(windows.counter, (1366, 768), target / "demo-counter.png"))
        written.append(grab(windows.board, (1920, 1080), target / "demo-board.png"))
        if extra_sizes:
            written.append(grab(windows.counter, (1920, 1080), target / "counter-1920x1080.png"))
            written.append(grab(windows.counter, (1366, 768), target / "counter-1366x768.png"))
            written.append(grab(windows.board, (1920, 1080), target / "board-1920x1080.png"))
            written.append(grab(windows.board, (1366, 768), target / "board-1366x768.png"))
            written.append(grab(windows.board, (1080, 1920), target / "board-1080x1920.png"))
        windows.kiosk.apply_departments(windows.backend.departments())
        show_ticket(windows, views[-1])
        written.append(grab(windows.kiosk, (1080, 1920), target / "demo-kiosk.png"))
    return written


def render_staff_screenshot(
    kind: str, path: Path, size: tuple[int, int], *, data_dir: Path | None = None
) -> Path:
    """`kiosk counter|board --screenshot PATH` without a configured server: the scripted demo."""
    with scripted_demo(data_dir or new_demo_directory()) as (_setup, windows, _views):
        window: Any = windows.counter if kind == "counter" else windows.board
        return grab(window, size, path)
