"""Console pages: log in and out, the language switch, the audit log, static files."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from kiosk.queue.models import StaffRole
from server_sync.server.admin.accounts import (
    LoginRefused,
    LoginThrottled,
    login,
    logout,
    recent_audit,
)
from server_sync.server.admin.web import (
    COOKIE,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    AdminStaff,
    ConsoleRoute,
    CsrfFailed,
    FormDep,
    ItStaff,
    StaffDep,
    client_address,
    is_https,
    read_form,
    render,
    static_file,
)
from server_sync.server.deps import StateDep

router = APIRouter(prefix="/admin", route_class=ConsoleRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: a login link cannot send anyone elsewhere."""
    if target and target.startswith("/admin") and "//" not in target and "\\" not in target:
        return target
    return "/admin"


@router.get("")
def home(staff: StaffDep) -> Response:
    if staff.may(StaffRole.SUPERVISOR):
        return RedirectResponse("/admin/monitor", status_code=303)
    return RedirectResponse("/admin/fleet", status_code=303)


def _login_page(
    request: Request, next_: str, error: str | None = None, status: int = 200, **values: object
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        csrf=token,
        next=_safe_next(next_),
        error=error,
        values=values,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/admin/login",
    )
    return response


@router.get("/login")
def login_page(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    return _login_page(request, next or "/admin")


@router.post("/login")
async def login_submit(request: Request, state: StateDep) -> Response:
    form = await read_form(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
        raise CsrfFailed
    console = state.config.console
    next_ = _safe_next(form.get("next"))
    try:
        token, _staff = await run_in_threadpool(
            login,
            state.engine,
            form.get("name", ""),
            form.get("password", ""),
            client_address(request),
            state.now(),
            session_hours=console.session_hours,
            max_failures=console.login_max_failures,
            window_minutes=console.login_window_minutes,
        )
    except LoginThrottled as exc:
        response = _login_page(
            request, next_, "throttled", 429, minutes=max(1, -(-exc.retry_after // 60))
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except LoginRefused:
        return _login_page(request, next_, "wrong_login", 401)
    response = RedirectResponse(next_, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(console.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin/login")
    return response


@router.post("/logout")
async def logout_submit(
    request: Request, state: StateDep, staff: StaffDep, form: FormDep
) -> Response:
    await run_in_threadpool(logout, state.engine, staff, client_address(request), state.now())
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/language/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in ("vi", "en"):
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", secure=is_https(request)
        )
    return response


@router.get("/audit")
def audit_page(
    request: Request, state: StateDep, staff: AdminStaff, user: str | None = None
) -> Response:
    lines = recent_audit(state.engine, limit=300, user=user or None)
    return render(request, "audit.html", staff=staff, lines=lines, tz=state.config.hospital.tz)


@router.get("/fleet")
def fleet_page(request: Request, state: StateDep, staff: ItStaff) -> Response:
    from server_sync.server.admin.fleet import fleet

    lines = fleet(state.engine, state.now())
    return render(request, "fleet.html", staff=staff, lines=lines, tz=state.config.hospital.tz)


@router.get("/static/{name}")
def static(name: str) -> Response:
    found = static_file(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body, kind = found
    return Response(body, media_type=kind, headers={"Cache-Control": "max-age=3600"})
