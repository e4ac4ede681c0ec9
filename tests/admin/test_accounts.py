"""Staff accounts: add-user, login, cookies, CSRF, throttling, roles, logout, audit log."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.models import AuditEntry, StaffSession, StaffUser
from server_sync.server.admin.accounts import (
    AccountError,
    LoginRefused,
    LoginThrottled,
    add_user,
    hash_password,
    login,
    verify_password,
)
from server_sync.server.admin.web import CONTENT_SECURITY_POLICY
from tests.support.admin import PASSWORD, Browserless
from tests.support.database import ROOT
from tests.support.server import LiveServer


def test_scrypt_hash_round_trip() -> None:
    stored = hash_password("đúng mật khẩu 123")
    assert stored.startswith("scrypt$32768$8$1$")
    assert verify_password("đúng mật khẩu 123", stored)
    assert not verify_password("dung mat khau 123", stored)
    assert not verify_password("x", "bcrypt$whatever")
    assert hash_password("same") != hash_password("same")  # salted


def test_add_user_checks_name_role_and_password(server_engine: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(AccountError, match="role"):
        add_user(server_engine, "lan", "nurse", PASSWORD, now)
    with pytest.raises(AccountError, match="at least"):
        add_user(server_engine, "lan", "supervisor", "short", now)
    with pytest.raises(AccountError, match="not allowed"):
        add_user(server_engine, "lan hoa", "supervisor", PASSWORD, now)
    add_user(server_engine, "lan", "supervisor", PASSWORD, now)
    with Session(server_engine) as session:
        user = session.scalars(select(StaffUser)).one()
        assert (user.name, user.role) == ("lan", "supervisor")
        assert PASSWORD not in user.password_hash


def test_add_user_command_reads_the_password_from_stdin(tmp_path: object, sqlite_url: str) -> None:
    command = [sys.executable, "-m", "kiosk", "server", "add-user", "hoa", "--role", "it"]
    done = subprocess.run(
        [*command, "--database", sqlite_url],
        input=f"{PASSWORD}\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "hoa" in done.stdout and PASSWORD not in done.stdout
    from kiosk.queue.db import open_database

    engine = open_database(sqlite_url)
    token, staff = login(
        engine,
        "hoa",
        PASSWORD,
        "127.0.0.1",
        dt.datetime.now(dt.UTC),
        session_hours=1,
        max_failures=5,
        window_minutes=15,
    )
    assert staff.role == "it" and token
    engine.dispose()
    # A password on the command line is refused: argparse knows no such option.
    refused = subprocess.run(
        [*command, "--database", sqlite_url, "--password", PASSWORD],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2


def test_throttling_counts_failures_in_the_database(server_engine: Engine) -> None:
    now = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    add_user(server_engine, "lan", "supervisor", PASSWORD, now)
    settings = {"session_hours": 1.0, "max_failures": 3, "window_minutes": 15.0}
    for _ in range(3):
        with pytest.raises(LoginRefused):
            login(server_engine, "lan", "wrong password!", "10.0.0.9", now, **settings)
    # Even the right password waits now, and says how long.
    with pytest.raises(LoginThrottled) as throttled:
        login(server_engine, "lan", PASSWORD, "10.0.0.9", now, **settings)
    assert 14 * 60 < throttled.value.retry_after <= 15 * 60 + 1
    later = now + dt.timedelta(minutes=16)
    _, staff = login(server_engine, "lan", PASSWORD, "10.0.0.9", later, **settings)
    assert staff.name == "lan"


def test_login_sets_a_safe_cookie_and_the_pages_send_security_headers(
    console: LiveServer,
) -> None:
    client = Browserless(console.url)
    page = client.get("/admin/login")
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert '<html lang="vi">' in page.text and "Đăng nhập" in page.text
    answer = client.login("lan")
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    assert "kiosk_console=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on 127.0.0.1; behind TLS it is Secure
    home = client.get("/admin")
    assert home.status_code == 303 and home.headers["Location"] == "/admin/monitor"


def test_wrong_password_then_throttled(console: LiveServer) -> None:
    client = Browserless(console.url)
    for _ in range(5):
        answer = client.login("lan", "not the password")
        assert answer.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu" in answer.text
    answer = client.login("lan")
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 0
    assert "thử lại sau" in answer.text


def test_forms_without_their_csrf_token_are_refused(
    console: LiveServer, as_staff: Callable[[str], Browserless]
) -> None:
    client = Browserless(console.url)
    client.get("/admin/login")
    answer = client.post("/admin/login", {"name": "lan", "password": PASSWORD})
    assert answer.status_code == 403
    staff = as_staff("an")
    assert staff.post("/admin/logout", {}).status_code == 403
    assert staff.post("/admin/logout", {"csrf": "forged"}).status_code == 403
    assert staff.get("/admin/audit").status_code == 200  # still logged in


def test_roles_guard_the_pages(as_staff: Callable[[str], Browserless]) -> None:
    supervisor = as_staff("lan")
    assert supervisor.get("/admin/audit").status_code == 403
    assert "không có quyền" in supervisor.get("/admin/audit").text
    it = as_staff("minh")
    assert it.get("/admin/audit").status_code == 403
    assert it.get("/admin").headers["Location"] == "/admin/fleet"


def test_logged_out_pages_go_to_the_login(console: LiveServer) -> None:
    client = Browserless(console.url)
    answer = client.get("/admin/audit")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/admin/login?next=%2Fadmin%2Faudit"
    client.http.cookies.set("kiosk_console", "made-up")
    assert client.get("/admin/audit").status_code == 303


def test_logout_ends_the_session_everywhere_and_everything_is_audited(
    server_engine: Engine, as_staff: Callable[[str], Browserless]
) -> None:
    admin = as_staff("an")
    csrf = admin.csrf("/admin/audit")
    assert admin.post("/admin/logout", {"csrf": csrf}).status_code == 303
    assert admin.get("/admin/audit").status_code == 303
    with Session(server_engine) as session:
        assert session.scalars(select(StaffSession)).all() == []
        actions = [(e.user_name, e.action) for e in session.scalars(select(AuditEntry))]
    assert ("an", "login") in actions and ("an", "logout") in actions
    assert ("command line", "user.added") in actions
    viewer = as_staff("an")
    page = viewer.get("/admin/audit")
    assert "logout" in page.text and "user.added" in page.text


def test_language_switch_is_one_click(as_staff: Callable[[str], Browserless]) -> None:
    admin = as_staff("an")
    answer = admin.get("/admin/language/en?next=/admin/audit")
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/audit"
    page = admin.get("/admin/audit")
    assert '<html lang="en">' in page.text and "Audit log" in page.text
    # Never a way out of the console through the switch.
    assert admin.get("/admin/language/vi?next=//evil.example").headers["Location"] == "/admin"
