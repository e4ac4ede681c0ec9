"""The patient kiosk driven like a patient: taps with qtbot, waits on signals, no sleeps."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractButton, QLabel

from kiosk.queue.service import QueueService
from kiosk.ui.department_tile import DepartmentButton
from kiosk.ui.kiosk_window import KioskWindow
from printer.status import PrinterState
from tests.support.kiosk import PIN, FakePrinter, make_config
from tests.support.kiosk_screen import click, tap
from tests.ui import geometry


def take_number(qtbot: Any, window: KioskWindow, code: str, reason: str | None = None) -> Any:
    tap(qtbot, window.home.grid.buttons[code])
    assert window.current_page() == "priority"
    target = (
        window.priority.skip
        if reason is None
        else next(b for b in window.priority.buttons if b.reason == reason)
    )
    with qtbot.waitSignal(window.ticket_shown, timeout=30_000) as blocker:
        tap(qtbot, target)
    return blocker.args[0]


def test_tap_a_department_shows_its_committed_number(
    qtbot: Any, make_window: Any, service: QueueService, fake_printer: FakePrinter
) -> None:
    window = make_window()
    view = take_number(qtbot, window, "NOI")
    assert window.current_page() == "ticket"
    assert view.code == "B001"
    assert window.ticket.code.text() == "B001"
    stored = service.get(view.ticket_id)
    assert stored.status == "waiting" and stored.code == "B001" and stored.priority is None
    assert [c.code for c in fake_printer.printed] == ["B001"]
    assert "Khám Nội" in window.ticket.department.text()
    # Working alone (no server.url): no QR to an address no phone can open.
    assert view.status_url == "" and not window.ticket.qr.isVisible()
    assert geometry.decode_qr(window.grab().toImage()) == []


def test_a_patients_number_does_not_wait_behind_a_slow_refresh_of_the_counts(
    qtbot: Any, make_window: Any
) -> None:
    import threading

    window = make_window()
    backend = window.backend
    release = threading.Event()
    counting = threading.Event()
    plain = backend.departments

    def stuck() -> Any:  # a refresh of the counts that takes its time (a busy store)
        counting.set()
        release.wait(60)
        return plain()

    backend.departments = stuck
    try:
        window.refresh_departments()
        qtbot.waitUntil(counting.is_set, timeout=30_000)
        view = take_number(qtbot, window, "NOI")  # while the refresh still runs
        assert window.ticket.code.text() == view.code == "B001"
        assert window.worker.is_pending("departments")
    finally:
        release.set()
        backend.departments = plain
    qtbot.waitUntil(lambda: not window.worker.busy, timeout=30_000)


def test_without_priority_groups_a_tap_goes_straight_to_the_number(
    qtbot: Any, make_window: Any
) -> None:
    from kiosk.config import parse_config

    config = parse_config({"queue": {"priority_reasons": []}})
    window = make_window(config)
    with qtbot.waitSignal(window.ticket_shown, timeout=30_000) as blocker:
        tap(qtbot, window.home.grid.buttons["NHI"])
    assert blocker.args[0].code == window.ticket.code.text() == "E001"


def test_priority_group_is_recorded_and_shown(
    qtbot: Any, make_window: Any, service: QueueService
) -> None:
    window = make_window()
    view = take_number(qtbot, window, "NOI", "pregnant")
    assert service.get(view.ticket_id).priority == "pregnant"
    assert window.ticket.priority.isVisible()
    assert "Phụ nữ có thai" in window.ticket.priority.text()


def test_back_from_priority_issues_nothing(
    qtbot: Any, make_window: Any, service: QueueService
) -> None:
    window = make_window()
    tap(qtbot, window.home.grid.buttons["NOI"])
    tap(qtbot, window.priority.back_button)
    assert window.current_page() == "home"
    assert service.tickets_on(service.service_date()) == []


def test_cooldown_after_a_ticket_blocks_the_grid_until_it_ends(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(cooldown_ms=600_000)
    take_number(qtbot, window, "NOI")
    tap(qtbot, window.ticket.done_button)
    assert window.current_page() == "home"
    assert not any(b.isEnabled() for b in window.home.grid.buttons.values())
    assert window.home.banner.isVisible()
    window.cooldown_timer.setInterval(1)  # the cooldown ends now instead of in ten minutes
    window.cooldown_timer.start()
    qtbot.waitUntil(lambda: window.home.grid.buttons["NOI"].isEnabled(), timeout=30_000)
    assert not window.home.banner.isVisible()


def visible_texts(window: KioskWindow) -> list[str]:
    page = window.stack.currentWidget()
    assert page is not None
    texts: list[str] = []
    for widget in page.findChildren(QLabel) + page.findChildren(QAbstractButton):
        if not widget.isVisible():
            continue
        if isinstance(widget, DepartmentButton):
            texts += widget.visible_texts()
        elif isinstance(widget, QLabel | QAbstractButton) and widget.text():
            texts.append(widget.text())
    return texts


def test_language_switch_changes_every_visible_text(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    window.home.header.time.setText("")  # the time of day reads the same in both languages
    before = visible_texts(window)
    assert "Chạm vào khoa bạn cần khám" in before
    assert len(before) > 20
    tap(qtbot, window.home.header.language)
    window.home.header.time.setText("")
    after = visible_texts(window)
    assert "Tap the department you need" in after
    assert len(after) == len(before)
    unchanged = [text for text in before if text in after]
    assert unchanged == []
    tap(qtbot, window.home.header.language)
    assert window.home.instruction.text() == "Chạm vào khoa bạn cần khám"


def test_priority_and_ticket_pages_are_translated(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    tap(qtbot, window.home.header.language)
    view = take_number(qtbot, window, "NOI", "elderly_75")
    assert window.ticket.title.text() == "Your number"
    assert window.ticket.department.text() == "Internal Medicine"
    assert view.code in window.ticket.code.text()
    tap(qtbot, window.ticket.done_button)
    assert window.language == "vi"  # the next patient starts in Vietnamese


def test_paper_out_disables_the_grid_and_recovery_enables_it(
    qtbot: Any, make_window: Any, fake_printer: FakePrinter, service: QueueService
) -> None:
    window = make_window(printer_poll_ms=10)
    buttons = list(window.home.grid.buttons.values())
    fake_printer.state = PrinterState.PAPER_OUT
    qtbot.waitUntil(lambda: not any(b.isEnabled() for b in buttons), timeout=30_000)
    assert window.home.banner.isVisible()
    assert "hết giấy" in window.home.banner.text()
    assert "quầy tiếp đón" in window.home.banner.text()
    click(qtbot, buttons[0])  # a tap on a disabled tile does nothing
    assert window.current_page() == "home"
    fake_printer.state = PrinterState.READY
    qtbot.waitUntil(lambda: all(b.isEnabled() for b in buttons), timeout=30_000)
    assert not window.home.banner.isVisible()
    assert service.tickets_on(service.service_date()) == []


def test_printer_found_faulty_at_issue_commits_nothing(
    qtbot: Any, make_window: Any, fake_printer: FakePrinter, service: QueueService
) -> None:
    window = make_window()
    tap(qtbot, window.home.grid.buttons["NOI"])
    fake_printer.state = PrinterState.COVER_OPEN
    with qtbot.waitSignal(window.issue_failed, timeout=30_000) as blocker:
        tap(qtbot, window.priority.skip)
    assert blocker.args == ["printer"]
    assert window.current_page() == "home"
    assert "Nắp máy in" in window.home.banner.text()
    assert not window.home.grid.buttons["NOI"].isEnabled()
    assert service.tickets_on(service.service_date()) == []


def test_failed_print_cancels_the_ticket_and_shows_no_number(
    qtbot: Any, make_window: Any, fake_printer: FakePrinter, service: QueueService
) -> None:
    window = make_window()
    fake_printer.fail = True
    tap(qtbot, window.home.grid.buttons["NOI"])
    with qtbot.waitSignal(window.issue_failed, timeout=30_000) as blocker:
        tap(qtbot, window.priority.skip)
    assert blocker.args == ["print_failed"]
    assert window.current_page() == "message"
    assert "không in được" in window.message.title.text()
    assert "quầy tiếp đón" in window.message.hint.text()
    texts = " ".join(visible_texts(window))
    assert "B001" not in texts
    (ticket,) = service.tickets_on(service.service_date())
    assert ticket.status == "cancelled" and ticket.cancel_reason == "print_failed"
    tap(qtbot, window.message.ok)
    assert window.current_page() == "home"


def open_pin(qtbot: Any, window: KioskWindow) -> None:
    for _ in range(5):
        click(qtbot, window, pos=QPoint(20, 20))
    assert window.current_page() == "pin"


def enter_pin(qtbot: Any, window: KioskWindow, pin: str) -> str:
    for digit in pin:
        click(qtbot, window.pin.keys[digit])
    with qtbot.waitSignal(window.admin_result, timeout=30_000) as blocker:
        click(qtbot, window.pin.enter)
    return str(blocker.args[0])


def test_four_taps_do_not_open_the_admin_pin(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    for _ in range(4):
        click(qtbot, window, pos=QPoint(20, 20))
    click(qtbot, window, pos=QPoint(600, 20))
    click(qtbot, window, pos=QPoint(20, 20))
    assert window.current_page() == "home"


def test_five_wrong_pins_lock_the_admin_panel(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    open_pin(qtbot, window)
    results = [enter_pin(qtbot, window, "1111") for _ in range(5)]
    assert results == ["wrong"] * 4 + ["locked"]
    assert "Thử lại sau" in window.pin.message.text()
    assert enter_pin(qtbot, window, PIN) == "locked"  # even the right PIN, while locked
    assert window.current_page() == "pin"


def test_admin_pin_opens_the_panel_which_pauses_a_department(
    qtbot: Any, make_window: Any, fake_printer: FakePrinter
) -> None:
    window = make_window()
    open_pin(qtbot, window)
    assert enter_pin(qtbot, window, PIN) == "ok"
    assert window.current_page() == "admin"
    with qtbot.waitSignal(window.admin_result, timeout=30_000) as blocker:
        click(qtbot, window.admin.pause_buttons["NOI"])
    assert blocker.args == ["pause"]
    assert not window.home.grid.buttons["NOI"].isEnabled()
    assert window.home.grid.buttons["NOI"].texts.unavailable == "Tạm ngừng cấp số"
    with qtbot.waitSignal(window.admin_result, timeout=30_000) as blocker:
        click(qtbot, window.admin.test_button)
    assert blocker.args == ["test_print"]
    assert len(fake_printer.printed) == 1
    click(qtbot, window.admin.close_button)
    assert window.current_page() == "home"


def test_idle_timer_returns_home_then_lights_up_the_attract_state(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window()
    tap(qtbot, window.home.header.language)
    tap(qtbot, window.home.grid.buttons["NOI"])
    assert window.current_page() == "priority"
    pages: list[str] = []
    window.page_changed.connect(pages.append)
    window.idle_timer.setInterval(1)  # the patient walked away: idle from now on
    window.idle_timer.start()
    qtbot.waitUntil(lambda: window.home.attract, timeout=30_000)
    assert pages == ["home"]  # back home, then (still idle) the attract state of the home page
    assert window.language == "vi"
    window.idle_timer.stop()
    # The attract screen is the grid: the next patient's first tap chooses the department.
    tap(qtbot, window.home.grid.buttons["NHI"])
    assert window.current_page() == "priority"
    assert not window.home.attract


def test_number_screen_goes_home_by_itself(qtbot: Any, make_window: Any) -> None:
    window = make_window(result_ms=30)
    take_number(qtbot, window, "NOI")
    qtbot.waitUntil(lambda: window.current_page() == "home", timeout=30_000)


def test_a_patient_cannot_close_the_kiosk(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    window.close()
    assert window.isVisible()


def test_landscape_and_many_departments_keep_touch_sized_tiles(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(size=(1920, 1080))
    heights = {b.height() for b in window.home.grid.buttons.values()}
    assert min(heights) >= 120
    assert window.width() == 1920 and window.height() == 1080


def test_unused_config_helper_is_importable() -> None:
    assert make_config().kiosk.admin_pin_hash.startswith("pbkdf2_sha256$")


def test_full_disk_stops_issuing_until_space_is_back(
    qtbot: Any,
    make_window: Any,
    service: QueueService,
    monkeypatch: Any,
) -> None:
    from collections import namedtuple

    from kiosk.queue.errors import StorageFull

    window = make_window(printer_poll_ms=10)
    buttons = list(window.home.grid.buttons.values())
    usage = namedtuple("usage", "total used free")
    free = {"bytes": 0}
    monkeypatch.setattr("shutil.disk_usage", lambda path: usage(10**9, 10**9, free["bytes"]))

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise StorageFull("the kiosk's disk")

    monkeypatch.setattr(service, "issue", disk_full)
    tap(qtbot, window.home.grid.buttons["NOI"])
    with qtbot.waitSignal(window.issue_failed, timeout=30_000) as blocker:
        tap(qtbot, window.priority.skip)
    assert blocker.args == ["storage_full"]
    assert window.current_page() == "home"
    # The printer poll keeps it off while the disk stays full.
    qtbot.waitUntil(lambda: not any(b.isEnabled() for b in buttons), timeout=30_000)
    assert "hết chỗ lưu dữ liệu" in window.home.banner.text()
    assert "quầy tiếp đón" in window.home.banner.text()
    for _ in range(3):  # printer polls come and go; the disk is still full
        with qtbot.waitSignal(window.printer_changed, timeout=30_000):
            pass
        assert not any(b.isEnabled() for b in buttons)
    free["bytes"] = 10**9
    qtbot.waitUntil(lambda: all(b.isEnabled() for b in buttons), timeout=30_000)


def test_a_store_on_hold_offers_no_number_until_the_hold_is_lifted(
    qtbot: Any, make_window: Any, service: QueueService
) -> None:
    import datetime as dt

    from sqlalchemy.orm import Session

    from kiosk.queue.store import clear_hold, set_hold

    with Session(service.engine) as session, session.begin():
        set_hold(session, "restored from a backup", 0, dt.datetime.now(dt.UTC))
    window = make_window(printer_poll_ms=10)
    buttons = list(window.home.grid.buttons.values())
    qtbot.waitUntil(lambda: not any(b.isEnabled() for b in buttons), timeout=30_000)
    assert "kết nối với hệ thống" in window.home.banner.text()
    with Session(service.engine) as session, session.begin():
        clear_hold(session)  # what the sync worker does once it has the server's marks
    qtbot.waitUntil(lambda: all(b.isEnabled() for b in buttons), timeout=30_000)


def test_a_damaged_store_found_after_start_stops_issuing(
    qtbot: Any, make_window: Any, monkeypatch: Any
) -> None:
    window = make_window(printer_poll_ms=10)
    buttons = list(window.home.grid.buttons.values())
    monkeypatch.setattr(
        "kiosk.queue.store.integrity_problem", lambda engine: "row 7 missing from index"
    )
    assert window.backend.check_store() == "row 7 missing from index"
    qtbot.waitUntil(lambda: not any(b.isEnabled() for b in buttons), timeout=30_000)
    assert "cần bảo trì" in window.home.banner.text()


def test_markup_in_config_and_department_names_is_shown_as_text(
    qtbot: Any, make_window: Any, service: QueueService
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from kiosk.config import parse_config
    from kiosk.queue.models import Department

    markup = "<b>BV</b><img src=x>"
    with Session(service.engine) as session, session.begin():
        session.execute(update(Department).values(name_vi=markup + " Nội", name_en=markup))
    base = make_config().model_dump()
    config = parse_config({**base, "hospital": {**base["hospital"], "name": markup}})
    window = make_window(config)
    qtbot.waitUntil(lambda: bool(window.home.grid.buttons), timeout=30_000)
    window.home.grid.buttons["NOI"].click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is not window.home, timeout=30_000)
    shown = [
        label
        for label in window.findChildren(QLabel)
        if "<b>" in label.text() or "<img" in label.text()
    ]
    assert len(shown) >= 2, [label.text() for label in shown]  # hospital and department
    for label in shown:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()


def test_the_background_store_check_of_start_up_and_each_night_stops_issuing(
    qtbot: Any, make_window: Any, monkeypatch: Any
) -> None:
    from kiosk.ui.app import check_store_in_background

    window = make_window(printer_poll_ms=10)
    buttons = list(window.home.grid.buttons.values())
    qtbot.waitUntil(lambda: all(b.isEnabled() for b in buttons), timeout=30_000)
    monkeypatch.setattr(
        "kiosk.queue.store.integrity_problem", lambda engine: "row 7 missing from index"
    )
    check_store_in_background(window)  # what `kiosk run` starts after the first screen
    qtbot.waitUntil(lambda: not any(b.isEnabled() for b in buttons), timeout=30_000)
    assert "cần bảo trì" in window.home.banner.text()


def test_a_quick_ticket_goes_straight_to_its_number_and_the_rest_waits_for_its_paint(
    qtbot: Any, make_window: Any
) -> None:
    """No "printing" page flashes by for a ticket quicker than `printing_page_ms`; the counts'
    refresh and `ticket_shown` (the sync's wake-up) come once the number is painted."""
    window = make_window(printing_page_ms=60_000)
    events: list[str] = []
    window.page_changed.connect(lambda page: events.append(f"page {page}"))
    window.ticket.code.painted.connect(
        lambda: events.append(f"painted {window.ticket.code.text()}")
    )
    window.ticket_shown.connect(lambda view: events.append(f"shown {view.code}"))
    plain = window.backend.departments

    def departments() -> Any:
        events.append("counts")  # on the worker's thread; a list append is atomic
        return plain()

    window.backend.departments = departments
    view = take_number(qtbot, window, "NOI")
    qtbot.waitUntil(lambda: "counts" in events, timeout=30_000)
    assert view.code == "B001"
    pages = [event for event in events if event.startswith("page")]
    assert pages == ["page priority", "page ticket"]
    painted = events.index("painted B001")
    assert painted < events.index("shown B001") and painted < events.index("counts")


def test_a_slow_ticket_says_it_is_printing_and_the_choice_cannot_be_undone_meanwhile(
    qtbot: Any, make_window: Any, fake_printer: FakePrinter, service: QueueService
) -> None:
    import threading

    window = make_window(printing_page_ms=20, printer_poll_ms=600_000)
    fake_printer.gate = threading.Event()
    tap(qtbot, window.home.grid.buttons["NOI"])
    tap(qtbot, window.priority.skip)
    assert window.busy and window.guard_remaining() > 0  # the chosen page's touches ignored
    window.back_from_priority()  # "Back", had it been reached: the ticket is on its way
    window.periodic_poll()  # the printer poll waits: issuing asks the printer itself
    assert window.current_page() == "priority" and not window.worker.is_pending("printer")
    qtbot.waitUntil(lambda: window.current_page() == "printing", timeout=30_000)
    with qtbot.waitSignal(window.ticket_shown, timeout=30_000) as blocker:
        fake_printer.gate.set()
    assert blocker.args[0].code == window.ticket.code.text() == "B001"
    assert window.current_page() == "ticket"
    assert [t.code for t in service.tickets_on(service.service_date())] == ["B001"]
