"""One connection to the central server, shared by the kiosk's sync client and the staff
screens' client: token, TLS verification, timeouts, and the typed errors of a failed call."""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from kiosk.config import ServerConfig


class SyncError(Exception):
    """A call to the server failed; callers retry with backoff."""

    retry_after: float | None = None


class ServerUnreachable(SyncError):
    """No answer: network down, server stopped, TLS failure or timeout."""


class ServerRefused(SyncError):
    """The server answered with an error; `status` and `code` (e.g. invalid_transition) say why."""

    def __init__(
        self, status: int, message: str, retry_after: float | None = None, code: str = ""
    ) -> None:
        super().__init__(f"server answered {status}: {message}")
        self.status = status
        self.retry_after = retry_after
        self.code = code


class SyncNotConfigured(SyncError):
    """No server URL or token in the config."""


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def read_token(server: ServerConfig) -> str:
    """The device token from `server.token_file` ("" when none is configured)."""
    if not server.token_file:
        return ""
    try:
        return Path(server.token_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SyncNotConfigured(
            f"cannot read server.token_file {server.token_file}: {exc.strerror}"
        ) from None


# Called with the response and the wall-clock times it was sent and received.
AnswerObserver = Callable[[requests.Response, float, float], None]


class ServerConnection:
    """Authenticated JSON calls to one server, each bounded by a timeout.

    One per thread: a `requests.Session` is not shared between threads.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        who: str,
        user_agent: str,
        ca_file: str | None = None,
        timeout: float = 10.0,
        http: requests.Session | None = None,
        on_answer: AnswerObserver | None = None,
    ) -> None:
        if not base_url:
            raise SyncNotConfigured(f"server.url is empty: {who} has no server to talk to")
        if not token:
            raise SyncNotConfigured("no device token: set server.token_file")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ca_file = ca_file
        self.timeout = timeout
        self.on_answer = on_answer
        self.http = http or requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.http.headers["User-Agent"] = user_agent
        # Passed on every request: requests lets REQUESTS_CA_BUNDLE override a session's
        # `verify`, which would silently drop the hospital's CA.
        self.verify: str | bool = ca_file or True
        self.http.verify = self.verify

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        """The decoded JSON answer; ServerUnreachable or ServerRefused otherwise."""
        url = f"{self.base_url}{path}"
        sent = time.time()
        try:
            response = self.http.request(
                method, url, timeout=timeout or self.timeout, verify=self.verify, **kw
            )
        except requests.RequestException as exc:
            raise ServerUnreachable(f"{method} {url}: {exc}") from exc
        if self.on_answer is not None:
            self.on_answer(response, sent, time.time())
        if response.status_code >= 400:
            code = ""
            try:
                body = response.json()
                detail = body.get("detail", response.text)
                code = str(body.get("code") or "")
            except (ValueError, AttributeError):
                detail = response.text
            raise ServerRefused(
                response.status_code,
                str(detail)[:300],
                parse_retry_after(response.headers.get("Retry-After")),
                code,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ServerRefused(response.status_code, "the answer is not JSON") from exc
