"""The console's HTTP plumbing: sessions, roles, CSRF, security headers, templates.

Every console page goes through `ConsoleRoute`, which turns "log in first", "not for your role"
and "bad CSRF token" into the right page and adds the security headers to every answer.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from kiosk.queue.models import StaffRole
from server_sync.server.admin.accounts import Staff, session_staff
from server_sync.server.admin.i18n import LANGUAGES, translator
from server_sync.server.deps import StateDep, get_state

COOKIE = "kiosk_console"
LOGIN_CSRF_COOKIE = "kiosk_console_login"
LANG_COOKIE = "kiosk_lang"
MAX_FORM_BYTES = 64 * 1024
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\.(css|js|svg|txt)$")

# The console loads nothing but its own files: no inline script, no other origin, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class LoginRequired(Exception):
    """No valid session: the browser goes to the login page."""


class Forbidden(Exception):
    """A session whose role may not open this page."""


class CsrfFailed(Exception):
    """A form posted without its CSRF token, or with another session's."""


templates = Environment(
    loader=PackageLoader("server_sync.server.admin", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "vi")
    return chosen if chosen in LANGUAGES else "vi"


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def render(
    request: Request,
    template: str,
    *,
    staff: Staff | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = language(request)
    html = templates.get_template(template).render(
        t=translator(lang),
        lang=lang,
        staff=staff,
        path=request.url.path,
        query=request.url.query,
        roles=StaffRole,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET" or request.headers.get("accept") == "application/json":
                    response = Response("log in first", status_code=401)
                else:
                    response = RedirectResponse(
                        f"/admin/login?next={quote(target, safe='')}", status_code=303
                    )
            except Forbidden:
                response = render(request, "message.html", message="forbidden", status=403)
            except CsrfFailed:
                response = render(request, "message.html", message="csrf", status=403)
            return add_security_headers(response)

        return route


async def current_staff(request: Request, state: StateDep) -> Staff:
    token = request.cookies.get(COOKIE, "")
    if not token:
        raise LoginRequired
    staff = await run_in_threadpool(session_staff, state.engine, token, state.now())
    if staff is None:
        raise LoginRequired
    return staff


StaffDep = Annotated[Staff, Depends(current_staff)]


def role(*roles: StaffRole) -> Callable[[Staff], Staff]:
    def check(staff: StaffDep) -> Staff:
        if not staff.may(*roles):
            raise Forbidden
        return staff

    return check


Supervisor = Annotated[Staff, Depends(role(StaffRole.SUPERVISOR))]
ItStaff = Annotated[Staff, Depends(role(StaffRole.IT))]
AdminStaff = Annotated[Staff, Depends(role())]


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body (the console's forms post nothing else)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        return {}
    return dict(pairs)


async def checked_form(request: Request, staff: StaffDep) -> dict[str, str]:
    """The posted form, once its CSRF token is the session's."""
    import hmac

    form = await read_form(request)
    if not hmac.compare_digest(form.get("csrf", ""), staff.csrf_token):
        raise CsrfFailed
    return form


FormDep = Annotated[dict[str, str], Depends(checked_form)]


def static_file(name: str) -> tuple[bytes, str] | None:
    if not STATIC_NAME.match(name):
        return None
    resource = importlib.resources.files("server_sync.server.admin").joinpath("static", name)
    if not resource.is_file():
        return None
    kind = {
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml",
        "txt": "text/plain; charset=utf-8",
    }[name.rsplit(".", 1)[1]]
    return resource.read_bytes(), kind


__all__ = ["get_state"]
