"""The patient's status page `/t/{id}` (the QR code on the ticket) and its live feed.

A small mobile-first page, Vietnamese by default with English one tap away (`?lang=en`), no
external assets and nothing about the person: the ticket, the queue, where to go.

- With script, it follows `GET /api/v1/tickets/{id}/live` (a long-poll scoped to the ticket's
  unguessable id, public like the page) and swaps its card in place: "Sắp đến lượt" when at
  most `server.status_near_ahead` people are ahead, "Mời vào …" with the room when called.
  After one tap it vibrates, beeps and shows a Web Notification where the browser can.
- Without script the `<noscript>` meta refresh reloads it every REFRESH_SECONDS.
- The long-poll holds no database connection while it waits: it reads the ticket in a short
  session (at most LIVE_READERS at once per process), then awaits the feed's in-process
  notifier, so hundreds of phones cost hundreds of idle sockets, not the database's pool.
- The page's Content-Security-Policy allows its own inline script by hash and nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import weakref
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kiosk.queue.db import is_sqlite
from kiosk.queue.errors import UnknownTicket
from kiosk.queue.models import TicketStatus
from kiosk.texts import say
from server_sync.server.deps import ServerState, StateDep
from server_sync.server.feed import RECHECK_SQLITE_SECONDS, RECHECK_UNLISTENED_SECONDS
from server_sync.server.responses import NOT_FOUND

REFRESH_SECONDS = 20
TICKET_ID = r"^[A-Za-z0-9-]{1,36}$"
MAX_LIVE_WAIT = 55.0  # below the usual 60 s idle timeout of proxies
DEFAULT_LIVE_WAIT = 25.0
# Status reads running at once in one server process; the rest queue without a connection.
LIVE_READERS = 4
LIVE_STATES = ("waiting", "near", "called")

Lang = Literal["vi", "en"]

router = APIRouter(tags=["public"])

SCRIPT = resources.files("server_sync.server").joinpath("static/live.js").read_text("utf-8")
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    f"script-src 'sha256-{SCRIPT_HASH}'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;
background:#f4f6f8;color:#1b1f23;line-height:1.35}
main{max-width:28rem;margin:0 auto;padding:.75rem}
.top{display:flex;justify-content:flex-end;margin-bottom:.5rem}
.top a{display:inline-block;padding:.6rem 1rem;border:2px solid #0b5cad;border-radius:999px;
color:#0b5cad;font-weight:700;text-decoration:none;min-height:44px}
.card{background:#fff;border-radius:12px;padding:1.1rem;box-shadow:0 1px 4px #0002;
text-align:center;border-top:8px solid var(--c)}
.code{font-size:4.2rem;font-weight:800;letter-spacing:.04em;margin:.1rem 0;line-height:1.1}
.dept{font-size:1.3rem;font-weight:600}
.status{font-size:1.25rem;font-weight:700;margin:.8rem 0 0}
.big{font-size:2.1rem;font-weight:800}
.alert{border-radius:10px;padding:.9rem;margin:.9rem 0 0;font-weight:800}
.near{background:#fff4d6;color:#5c3c00;border:3px solid #b87a00;font-size:1.6rem}
.called{background:#0a6b2d;color:#fff;font-size:1.9rem}
.alert small{display:block;font-size:1.05rem;font-weight:600;margin-top:.3rem}
dl{display:grid;grid-template-columns:1fr 1fr;gap:.5rem;margin:1rem 0 0}
dt{font-size:.95rem;color:#57606a}dd{margin:0}
.where{margin:.9rem 0 0}
#alerts{display:block;width:100%;margin:1rem 0 0;padding:.9rem;font-size:1.15rem;
font-weight:700;border:0;border-radius:10px;background:#0b5cad;color:#fff;min-height:52px}
#alerts:disabled{background:#d8e6f5;color:#0b3a6b}
#alerts[hidden]{display:none}
footer{font-size:.85rem;color:#57606a;text-align:center;margin-top:1rem}
"""


@dataclass(frozen=True)
class View:
    """What the page shows of one ticket at one moment (never anything about the person)."""

    state: str  # waiting, near, called, or the ticket's final status
    html: str  # the card
    title: str
    say: str  # one line for a notification
    live: bool  # worth following: the ticket may still change

    @property
    def version(self) -> str:
        digest = hashlib.sha256(f"{self.state}\n{self.title}\n{self.html}".encode())
        return digest.hexdigest()[:20]


class LiveAnswer(BaseModel):
    """One answer of the live status: the card to show and whether to keep following."""

    v: str = Field(description="this view's version; send it back as `v` to wait for a change")
    state: str = Field(description="waiting, near, called, served, no_show, transferred, …")
    html: str = Field(description="the page's card, ready to show")
    title: str
    say: str = Field(description="one line for a notification")
    live: bool = Field(description="false once the ticket cannot change any more")


def ticket_view(state: ServerState, ticket_id: str, lang: str) -> View:
    """The ticket's card in `lang`; raises UnknownTicket. Short reads, no lock held."""
    ticket = state.service.get(ticket_id)
    position = state.service.position(ticket_id)
    place = state.service.whereabouts(ticket)
    english = lang == "en"
    name = place.name_en if english else place.name_vi
    room = place.room_en if english else place.room_vi
    directions = place.directions_en if english else place.directions_vi
    near_ahead = state.config.server.status_near_ahead

    view_state = str(ticket.status)
    status = say(f"status.{ticket.status}", lang)
    notice = status
    parts = [
        f'<div class="dept">{escape(name)}</div>',
        f'<div class="code">{escape(ticket.code)}</div>',
    ]
    if ticket.status == TicketStatus.WAITING:
        near = position.ahead <= near_ahead
        view_state = "near" if near else "waiting"
        if near:
            hint = say("page.next", lang) if position.ahead == 0 else say("page.near_hint", lang)
            notice = say("page.near", lang)
            parts.append(
                f'<p class="alert near" role="alert">{escape(notice)}'
                f"<small>{escape(hint)}</small></p>"
            )
        else:
            parts.append(f'<p class="status">{escape(status)}</p>')
        parts.append(
            f"<dl><dt>{escape(say('page.ahead', lang))}</dt>"
            f'<dd class="big" id="ahead">{position.ahead}</dd>'
            f"<dt>{escape(say('page.wait', lang))}</dt>"
            f'<dd class="big">~{position.estimated_wait_minutes}&nbsp;'
            f"<small>{escape(say('page.minutes', lang))}</small></dd></dl>"
        )
        if directions:
            parts.append(f'<p class="where">{escape(directions)}</p>')
    elif ticket.status == TicketStatus.CALLED:
        notice = say("page.called", lang, room=room or ticket.room or "")
        hint = say("page.called_hint", lang, code=ticket.code)
        parts.append(
            f'<p class="alert called" role="alert">{escape(notice)}'
            f"<small>{escape(hint)}</small></p>"
        )
    else:
        parts.append(f'<p class="status">{escape(status)}</p>')
        if place.moved_to is not None:
            suffix = "?lang=en" if english else ""
            parts.append(
                f'<p><a href="/t/{escape(place.moved_to)}{suffix}">'
                f"{escape(say('page.new_ticket', lang))}</a></p>"
            )
    card = f'<div class="card" style="--c:{escape(place.color)}">{"".join(parts)}</div>'
    return View(
        state=view_state,
        html=card,
        title=f"{ticket.code} — {notice}",
        say=f"{ticket.code} · {name}: {notice}",
        live=ticket.status in (TicketStatus.WAITING, TicketStatus.CALLED),
    )


def _page(title: str, body: str, lang: str, *, refresh: bool) -> str:
    meta = (
        f'<noscript><meta http-equiv="refresh" content="{REFRESH_SECONDS}"></noscript>'
        if refresh
        else ""
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex">{meta}<title>{escape(title)}</title>'
        f'<link rel="icon" href="data:,"><style>{STYLE}</style></head>'
        f"<body><main>{body}</main></body></html>"
    )


def _language_link(ticket_id: str, lang: str) -> str:
    other = "vi" if lang == "en" else "en"
    return (
        f'<nav class="top"><a href="/t/{escape(ticket_id)}?lang={other}" hreflang="{other}" '
        f'lang="{other}">{escape(say("page.other_language", lang))}</a></nav>'
    )


def _not_found(lang: str) -> HTMLResponse:
    text = escape(say("page.not_found", lang))
    body = f'<div class="card" style="--c:#57606a"><p class="status">{text}</p></div>'
    return HTMLResponse(_page(text, body, lang, refresh=False), status_code=404)


@router.get(
    "/t/{ticket_id}",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, 404: {"content": {"text/html": {}}}},
)
async def patient_page(
    state: StateDep,
    ticket_id: Annotated[str, Path(max_length=200)],
    lang: Annotated[str, Query(max_length=8)] = "vi",
) -> HTMLResponse:
    """The ticket's status for the patient's phone (HTML; the JSON is `/api/v1/tickets/{id}`)."""
    language = "en" if lang == "en" else "vi"
    if not re.match(TICKET_ID, ticket_id):
        return _not_found(language)
    try:
        view = await _read(state, ticket_id, language)
    except UnknownTicket:
        return _not_found(language)
    hospital = state.config.hospital
    live_url = f"/api/v1/tickets/{ticket_id}/live?lang={language}"
    alerts = escape(say("page.alerts", language))
    alerts_on = escape(say("page.alerts_on", language))
    body = (
        f"{_language_link(ticket_id, language)}"
        f'<div id="live" aria-live="polite" data-src="{escape(live_url)}" '
        f'data-v="{view.version}" data-state="{view.state}">{view.html}</div>'
        f'<button id="alerts" type="button" hidden data-on="{alerts_on}">{alerts}</button>'
        f"<footer>{escape(hospital.name_en if language == 'en' else hospital.name)}<br>"
        f"{escape(say('page.updates', language))}</footer>"
    )
    if view.live:
        body += f"<script>{SCRIPT}</script>"
    html = _page(view.title, body, language, refresh=view.live)
    return HTMLResponse(
        html, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
    )


@router.get(
    "/api/v1/tickets/{ticket_id}/live",
    response_model=LiveAnswer,
    responses=NOT_FOUND,
)
async def live_status(
    request: Request,
    state: StateDep,
    ticket_id: Annotated[str, Path(max_length=36, pattern=TICKET_ID)],
    v: Annotated[str, Query(max_length=64, description="the version the page shows")] = "",
    wait: Annotated[
        float, Query(ge=0, le=MAX_LIVE_WAIT, description="seconds to wait for a change")
    ] = DEFAULT_LIVE_WAIT,
    lang: Annotated[Lang, Query()] = "vi",
) -> LiveAnswer:
    """The status page's card as soon as it differs from version `v` (or after `wait` s).

    Public like the page: anyone holding the unguessable ticket id. No database connection
    is held while waiting."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        token = state.notifier.current()  # before reading: no change slips between
        view = await _read(state, ticket_id, lang)
        remaining = deadline - loop.time()
        if view.version != v or remaining <= 0 or not view.live:
            return LiveAnswer(
                v=view.version,
                state=view.state,
                html=view.html,
                title=view.title,
                say=view.say,
                live=view.live,
            )
        if is_sqlite(state.engine):
            remaining = min(remaining, RECHECK_SQLITE_SECONDS)
        elif not state.notifier.listening_to_database:
            remaining = min(remaining, RECHECK_UNLISTENED_SECONDS)
        if not await _wait_unless_gone(request, state, token, remaining):
            # The phone went away (tab closed, network lost): nobody reads the answer.
            return LiveAnswer(
                v=view.version, state=view.state, html="", title="", say="", live=False
            )


async def _wait_unless_gone(
    request: Request, state: ServerState, token: asyncio.Event, timeout: float
) -> bool:
    """Wait for the feed's next notification (or `timeout`); False if the client left."""
    news = asyncio.ensure_future(state.notifier.wait(token, timeout))
    gone = asyncio.ensure_future(_disconnect(request))
    try:
        await asyncio.wait({news, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (news, gone):
            task.cancel()
        await asyncio.gather(news, gone, return_exceptions=True)
    return not gone.done() or gone.cancelled()


async def _disconnect(request: Request) -> None:
    """Return when the client has closed the connection (a GET has no body to read)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


_readers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _read(state: ServerState, ticket_id: str, lang: str) -> View:
    """ticket_view in a worker thread, at most LIVE_READERS at once in this event loop."""
    loop = asyncio.get_running_loop()
    readers = _readers.get(loop)
    if readers is None:
        readers = _readers[loop] = asyncio.Semaphore(LIVE_READERS)
    async with readers:
        return await run_in_threadpool(ticket_view, state, ticket_id, lang)
