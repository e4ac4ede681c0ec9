"""The console in real browsers (Playwright driving Debian's Chromium and Firefox ESR)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.admin import PASSWORD, login_in_browser
from tests.support.server import LiveServer


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The browser tests test pages, not databases: SQLite only."""
    return str(request.getfixturevalue("sqlite_url"))


def test_log_in_and_out(console: LiveServer, browser_page: Any) -> None:
    page = browser_page
    page.goto(f"{console.url}/admin/audit")
    assert page.url.startswith(f"{console.url}/admin/login?next=")
    page.fill("input[name=name]", "an")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector("p.alert")
    assert "Sai tên đăng nhập" in page.inner_text("p.alert")
    page.fill("input[name=name]", "an")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{console.url}/admin/audit")
    assert "login.failed" in page.inner_text("#audit")
    page.click("#language")
    page.wait_for_selector("h1:has-text('Audit log')")
    page.click("text=Log out")
    page.wait_for_url(f"{console.url}/admin/login")


def test_the_monitor_updates_itself(
    console: LiveServer, tokens: dict[str, str], browser_page: Any
) -> None:
    """A ticket issued at a kiosk and called at a counter shows on the open monitor, no reload."""
    from kiosk.queue.service import QueueService
    from tests.support.server import Api

    page = browser_page
    login_in_browser(page, console.url, "lan")
    page.wait_for_url(f"{console.url}/admin/monitor")
    page.goto(f"{console.url}/admin/monitor?department=NOI")
    page.evaluate("window.notReloaded = true")
    kiosk = QueueService(console.app.state.kiosk.engine, origin="kiosk-direct")
    issued = kiosk.issue("NOI").ticket
    row = page.locator(f"#waiting-list tr[data-ticket='{issued.code}']")
    row.wait_for(timeout=30_000)
    assert page.inner_text("#departments tr[data-code='NOI'] td.waiting") == "1"
    counter = Api(console.url, tokens["counter"])
    assert counter.post("/api/v1/departments/NOI/call-next", json={"room": "101"}).ok
    page.locator("#called-list", has_text=issued.code).wait_for(timeout=30_000)
    called = "#departments tr[data-code='NOI'] td.called"
    page.wait_for_function(
        f"document.querySelector(\"{called}\").textContent === '1'", timeout=30_000
    )
    assert page.evaluate("window.notReloaded") is True


def test_supervisor_cannot_open_it_pages_in_the_browser(
    console: LiveServer, browser_page: Any
) -> None:
    page = browser_page
    login_in_browser(page, console.url, "lan")
    page.wait_for_url(f"{console.url}/admin/monitor")
    answer = page.goto(f"{console.url}/admin/fleet")
    assert answer is not None and answer.status == 403
    assert "không có quyền" in page.inner_text("main")
    assert page.locator("nav a[href='/admin/fleet']").count() == 0


def _busy_morning(console: LiveServer, tokens: dict[str, str]) -> None:
    """Queues in every department, some calls, a paused department, three kiosks reporting."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from kiosk.devicestatus import build_device_status
    from kiosk.queue.departments import pause_department
    from kiosk.queue.service import QueueService
    from server_sync.server.devices import add_device, list_devices
    from tests.support.database import FakeClock

    engine = console.app.state.kiosk.engine
    clock = FakeClock(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=100))
    service = QueueService(engine, origin="kiosk-hall-1", clock=clock)
    departments = service.departments()
    for index, department in enumerate(departments):
        for n in range(3 + (index * 7) % 17):
            service.issue(department.code, "elderly_75" if n % 9 == 4 else None)
            clock.advance(seconds=20 + (n * 37) % 60)
    for index, department in enumerate(departments):
        for room in department.rooms[: 1 + index % 2]:
            called = service.call_next(department.code, room)
            clock.advance(minutes=1)
            if called and index % 3 == 0:
                service.serve(called.id)
                service.call_next(department.code, room)
    codes = [d.code for d in departments]
    with service.transaction() as session:
        pause_department(
            session,
            origin="server",
            code=codes[2],
            paused=True,
            reason="Bác sĩ đi hội chẩn đến 10 giờ",
            by="lan",
            now=service.now(),
        )
    now = dt.datetime.now(dt.UTC)
    reports = {
        "kiosk-hall-1": build_device_status(
            version="0.2.0",
            printer="online",
            last_ticket="A031",
            last_ticket_at=now,
            disk_free_bytes=40 * 1024**3,
            clock_offset_seconds=0.4,
        ),
        "kiosk-hall-2": build_device_status(
            version="0.2.0",
            printer="paper_out",
            printer_detail="paper end sensor",
            last_ticket="B118",
            last_ticket_at=now - dt.timedelta(minutes=7),
            disk_free_bytes=38 * 1024**3,
            clock_offset_seconds=1.2,
            unsynced=3,
        ),
        "kiosk-east": build_device_status(
            version="0.1.0",
            printer="paper_near_end",
            last_ticket="C007",
            last_ticket_at=now - dt.timedelta(minutes=2),
            disk_free_bytes=700 * 1024**2,
            clock_offset_seconds=-48.0,
            paused_departments=[codes[0]],
        ),
    }
    existing = {d.name for d in list_devices(engine)}  # kiosk-hall-1 comes with `tokens`
    for name, data in reports.items():
        if name not in existing:
            add_device(engine, name, "kiosk")
        QueueService(engine, origin=name).record_device_status(data)
    with Session(engine) as session, session.begin():
        from kiosk.queue.models import Device

        for device in session.query(Device).all():
            device.last_seen_at = now


def _yesterday() -> str:
    import datetime as dt
    from zoneinfo import ZoneInfo

    return str(dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() - dt.timedelta(days=1))


def _past_weeks(console: LiveServer, days: int = 27) -> None:
    """Four weeks of mornings: busier early in the week and between 7 and 10 o'clock."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from kiosk.queue.service import QueueService
    from tests.support.database import FakeClock

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    engine = console.app.state.kiosk.engine
    today = dt.datetime.now(tz).date()
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() == 6:
            continue
        clock = FakeClock(dt.datetime.combine(day, dt.time(6, 30), tz).astimezone(dt.UTC))
        service = QueueService(engine, origin="kiosk-history", clock=clock)
        crowd = 26 - 3 * day.weekday()
        for n in range(crowd + 4):
            if n < crowd:
                service.issue(("NOI", "NHI", "NGOAI", "SAN")[n % 4])
            clock.advance(minutes=3 + (n * 7) % 9 + (8 if n > crowd * 0.6 else 0))
            if n >= 3:
                for code in ("NOI", "NHI", "NGOAI", "SAN")[(n % 2) :: 2]:
                    called = service.call_next(code, "101")
                    if called is None:
                        continue
                    clock.advance(minutes=1 + (n * 5) % 4)
                    if n % 8 == 7:
                        service.no_show(called.id)
                    else:
                        service.serve(called.id)


def test_screenshots(console: LiveServer, tokens: dict[str, str], browser_page: Any) -> None:
    """Monitor, fleet and the login at 1366×768 and 1920×1080; KIOSK_SCREENSHOT_DIR keeps them
    (docs/images for the README), else they go to the test's temporary directory."""
    import os
    import tempfile
    from pathlib import Path

    _past_weeks(console)
    _busy_morning(console, tokens)
    target = Path(os.environ.get("KIOSK_SCREENSHOT_DIR") or tempfile.mkdtemp())
    page = browser_page
    # The README's pictures are Chromium's; Firefox's sit beside them, named so.
    engine = page.context.browser.browser_type.name
    suffix = "" if engine == "chromium" else f"-{engine}"
    login_in_browser(page, console.url, "an")
    page.wait_for_url(f"{console.url}/admin/monitor")
    shots = {
        "monitor": "/admin/monitor?department=NOI",
        "fleet": "/admin/fleet",
        # The month of yesterday: the four weeks of history above.
        "stats": f"/admin/stats?period=month&date={_yesterday()}",
    }
    for width, height in ((1366, 768), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        for name, path in shots.items():
            page.goto(f"{console.url}{path}")
            page.wait_for_load_state("networkidle") if name != "monitor" else None
            # Nothing sticks out sideways at this width.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} at {width}x{height} overflows by {overflow} px"
            page.screenshot(
                path=str(target / f"console-{name}-{width}x{height}{suffix}.png"),
                full_page=name == "stats",
            )
    page.goto(f"{console.url}/admin/fleet")
    assert page.locator("#fleet tbody tr").first.get_attribute("data-device") == "kiosk-hall-2"


def test_statistics_charts_and_downloads(
    console: LiveServer, sqlite_url: str, browser_page: Any, tmp_path: Any
) -> None:
    from openpyxl import load_workbook

    from tests.support.statistics import REPORT_FIELDS, a_morning, kiosk_report

    day = a_morning(console.app.state.kiosk.engine)
    report = kiosk_report(sqlite_url, day)
    page = browser_page
    login_in_browser(page, console.url, "lan")
    page.wait_for_url(f"{console.url}/admin/monitor")
    page.goto(f"{console.url}/admin/stats?period=day&date={day}")
    for chart in ("#chart-arrivals", "#chart-calls", "#chart-heat"):
        assert page.locator(chart).is_visible()
    bars = page.locator("#chart-arrivals rect.bar")
    drawn = sum(int(bars.nth(i).get_attribute("data-value") or 0) for i in range(bars.count()))
    assert drawn == sum(int(d["issued"]) for d in report.values())  # type: ignore[call-overload]
    for code, expected in report.items():
        row = page.locator(f"#stats-table tr[data-code='{code}']")
        for theirs, ours in REPORT_FIELDS.items():
            shown = row.locator(f"td[data-field='{ours}']").inner_text().split(" ")[0]
            value = expected[theirs]
            assert shown == ("—" if value is None else str(value)), (code, ours)
    with page.expect_download() as csv_download:
        page.click("#download-csv")
    csv_path = tmp_path / "stats.csv"
    csv_download.value.save_as(csv_path)
    assert "NOI" in csv_path.read_text(encoding="utf-8-sig")
    with page.expect_download() as xlsx_download:
        page.click("#download-xlsx")
    xlsx_path = tmp_path / "stats.xlsx"
    xlsx_download.value.save_as(xlsx_path)
    assert load_workbook(xlsx_path)["Departments"]["A2"].value is not None
