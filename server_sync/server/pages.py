"""The patient's status page `/t/{id}`: the target of the QR code on the ticket.

Small, mobile-first HTML in Vietnamese with English beneath, no script, no external assets,
refreshing itself. It shows the ticket and the queue, never anything about the person.
"""

from __future__ import annotations

import re
from html import escape
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from kiosk.queue.errors import UnknownTicket
from kiosk.queue.models import TicketStatus
from kiosk.texts import say
from server_sync.server.deps import StateDep

REFRESH_SECONDS = 20
TICKET_ID = r"^[A-Za-z0-9-]{1,36}$"

router = APIRouter(tags=["public"])

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;
background:#f4f6f8;color:#1b1f23}
main{max-width:28rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 4px #0002;
text-align:center}
.code{font-size:4.5rem;font-weight:800;letter-spacing:.05em;margin:.25rem 0;color:var(--c)}
.dept{font-size:1.35rem;font-weight:600}
.en{color:#57606a;font-size:.95rem}
.status{font-size:1.3rem;font-weight:700;margin-top:1rem}
.big{font-size:2.2rem;font-weight:800}
dl{display:grid;grid-template-columns:1fr 1fr;gap:.5rem;margin:1rem 0 0}
dt{font-size:.9rem;color:#57606a}dd{margin:0}
footer{font-size:.8rem;color:#57606a;text-align:center;margin-top:1rem}
"""


def _page(title: str, body: str, refresh: bool) -> str:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex">{meta}<title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def _not_found() -> HTMLResponse:
    body = (
        '<div class="card"><p class="status">Không tìm thấy phiếu</p>'
        '<p class="en">Ticket not found</p></div>'
    )
    return HTMLResponse(_page("Không tìm thấy phiếu", body, refresh=False), status_code=404)


@router.get(
    "/t/{ticket_id}",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, 404: {"content": {"text/html": {}}}},
)
def patient_page(state: StateDep, ticket_id: Annotated[str, Path(max_length=200)]) -> HTMLResponse:
    """The ticket's status for the patient's phone (HTML; the JSON is `/api/v1/tickets/{id}`)."""
    if not re.match(TICKET_ID, ticket_id):
        return _not_found()
    try:
        ticket = state.service.get(ticket_id)
        position = state.service.position(ticket_id)
    except UnknownTicket:
        return _not_found()
    hospital = state.config.hospital
    place = state.service.whereabouts(ticket)
    name_vi, name_en, color = place.name_vi, place.name_en, place.color
    directions_vi, directions_en = place.directions_vi, place.directions_en
    room_vi, room_en, moved_to = place.room_vi, place.room_en, place.moved_to

    status_vi, status_en = (say(f"status.{ticket.status}", lang) for lang in ("vi", "en"))
    parts = [
        f'<div class="card" style="--c:{escape(color)}">',
        f'<div class="dept">{escape(name_vi)}</div><div class="en">{escape(name_en)}</div>',
        f'<div class="code">{escape(ticket.code)}</div>',
        f'<div class="status">{escape(status_vi)}</div><div class="en">{escape(status_en)}</div>',
    ]
    if ticket.status == TicketStatus.WAITING:
        parts.append(
            "<dl>"
            f'<dt>Số người phía trước<br><span class="en">People ahead</span></dt>'
            f'<dd class="big">{position.ahead}</dd>'
            f'<dt>Thời gian chờ dự kiến<br><span class="en">Estimated wait</span></dt>'
            f'<dd class="big">~{position.estimated_wait_minutes}&nbsp;<small>phút / min'
            "</small></dd></dl>"
        )
        if directions_vi or directions_en:
            parts.append(f"<p>{escape(directions_vi)}</p><p class='en'>{escape(directions_en)}</p>")
    elif ticket.status == TicketStatus.CALLED:
        parts.append(f'<p class="big">{escape(room_vi)}</p><p class="en">{escape(room_en)}</p>')
    elif moved_to is not None:
        parts.append(
            f'<p><a href="/t/{escape(moved_to)}">Xem phiếu mới</a> · '
            f'<a class="en" href="/t/{escape(moved_to)}">See the new ticket</a></p>'
        )
    parts.append("</div>")
    parts.append(
        f"<footer>{escape(hospital.name)} · {escape(hospital.name_en)}<br>"
        f"Trang tự cập nhật · This page updates itself</footer>"
    )
    live = ticket.status in (TicketStatus.WAITING, TicketStatus.CALLED)
    return HTMLResponse(_page(f"{ticket.code} — {name_vi}", "".join(parts), refresh=live))
