"""Every text that is not drawn by Qt, in Vietnamese and English: one table, one lookup.

The printed ticket (`printer/ticket.py`), the patients' status page
(`server_sync/server/pages.py`) and the names of the priority groups, wherever they are shown
(the kiosk's screens, the counter, the ticket), read their words here with `say` and
`priority_name`. The Qt screens translate the rest of their own text with Qt's translator
(`kiosk/ui/i18n.py`, `vi.ts`). No imports beyond the standard library: anything may use it.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        # the printed ticket
        "ticket.number": "SỐ THỨ TỰ CỦA BẠN",
        "ticket.go_to": "Nơi khám",
        "ticket.ahead": "Số người đang chờ trước bạn",
        "ticket.wait": "Thời gian chờ dự kiến",
        "ticket.wait_value": "khoảng {minutes} phút",
        "ticket.next": "Sắp đến lượt bạn",
        "ticket.issued": "Giờ lấy số",
        "ticket.scan": "Quét mã để xem lượt của bạn",
        "ticket.priority": "Ưu tiên",
        "ticket.reprint": "IN LẠI",
        # the patients' status page: a ticket's status
        "status.waiting": "Đang chờ gọi số",
        "status.called": "Mời quý khách vào phòng khám",
        "status.served": "Đã khám xong",
        "status.no_show": "Đã gọi nhưng vắng mặt — vui lòng báo quầy tiếp đón",
        "status.transferred": "Đã chuyển sang khoa khác",
        "status.cancelled": "Phiếu đã huỷ",
        # the patients' status page
        "page.ahead": "Số người phía trước",
        "page.wait": "Thời gian chờ dự kiến",
        "page.minutes": "phút",
        "page.near": "Sắp đến lượt",
        "page.near_hint": "Vui lòng quay lại khu chờ, gần phòng khám.",
        "page.next": "Bạn là người tiếp theo",
        "page.called": "Mời vào {room}",
        "page.called_hint": "Số {code} — vui lòng vào ngay.",
        "page.alerts": "Bật rung và chuông báo",
        "page.alerts_on": "Đã bật báo khi sắp đến lượt",
        "page.updates": "Trang tự cập nhật",
        "page.other_language": "English",
        "page.not_found": "Không tìm thấy phiếu",
        "page.new_ticket": "Xem phiếu mới",
        # the groups the Law on Medical Examination and Treatment 2023, Art. 3(2), puts first
        "priority.emergency": "Cấp cứu",
        "priority.child_under_6": "Trẻ em dưới 6 tuổi",
        "priority.pregnant": "Phụ nữ có thai",
        "priority.disability": "Người khuyết tật nặng",
        "priority.elderly_75": "Người từ 75 tuổi",
        "priority.merit": "Người có công với cách mạng",
        # the same, where room is short (the counter's list)
        "priority_short.emergency": "Cấp cứu",
        "priority_short.child_under_6": "Trẻ dưới 6 tuổi",
        "priority_short.pregnant": "Phụ nữ có thai",
        "priority_short.disability": "Khuyết tật nặng",
        "priority_short.elderly_75": "Người từ 75 tuổi",
        "priority_short.merit": "Người có công",
    },
    "en": {
        "ticket.number": "YOUR NUMBER",
        "ticket.go_to": "Where to go",
        "ticket.ahead": "People ahead of you",
        "ticket.wait": "Estimated wait",
        "ticket.wait_value": "about {minutes} min",
        "ticket.next": "You are next",
        "ticket.issued": "Issued",
        "ticket.scan": "Scan to follow your turn",
        "ticket.priority": "Priority",
        "ticket.reprint": "REPRINT",
        "status.waiting": "Waiting to be called",
        "status.called": "Please go in now",
        "status.served": "Finished",
        "status.no_show": "Called but absent — please see the reception desk",
        "status.transferred": "Sent to another department",
        "status.cancelled": "This ticket was cancelled",
        "page.ahead": "People ahead",
        "page.wait": "Estimated wait",
        "page.minutes": "min",
        "page.near": "Your turn is near",
        "page.near_hint": "Please come back to the waiting area by the room.",
        "page.next": "You are next",
        "page.called": "Please go to {room}",
        "page.called_hint": "Number {code} — please go in now.",
        "page.alerts": "Turn on vibration and sound",
        "page.alerts_on": "Alerts are on for when your turn is near",
        "page.updates": "This page updates itself",
        "page.other_language": "Tiếng Việt",
        "page.not_found": "Ticket not found",
        "page.new_ticket": "See the new ticket",
        "priority.emergency": "Emergency",
        "priority.child_under_6": "Child under 6",
        "priority.pregnant": "Pregnant woman",
        "priority.disability": "Person with a severe disability",
        "priority.elderly_75": "Aged 75 or over",
        "priority.merit": "Person with merit to the revolution",
        "priority_short.emergency": "Emergency",
        "priority_short.child_under_6": "Child under 6",
        "priority_short.pregnant": "Pregnant",
        "priority_short.disability": "Disability",
        "priority_short.elderly_75": "Aged 75+",
        "priority_short.merit": "Merit to the revolution",
    },
}


def language_of(language: str) -> str:
    """`language` if there are texts in it, else the default (Vietnamese)."""
    return language if language in TEXTS else DEFAULT_LANGUAGE


def say(key: str, language: str, **values: object) -> str:
    """The text of `key` in `language` (Vietnamese when missing there), `{name}`s filled in."""
    text = TEXTS[language_of(language)].get(key) or TEXTS[DEFAULT_LANGUAGE].get(key, key)
    return text.format(**values) if values else text


def section(prefix: str, language: str) -> dict[str, str]:
    """Every text under `prefix.` in `language`, without the prefix ("ticket" -> {"number": …})."""
    start = f"{prefix}."
    texts = TEXTS[language_of(language)]
    return {key.removeprefix(start): text for key, text in texts.items() if key.startswith(start)}


def priority_name(reason: str, language: str, *, short: bool = False) -> str:
    """The name of a priority group; an unknown (configured) reason is shown as written."""
    key = f"{'priority_short' if short else 'priority'}.{reason}"
    if key in TEXTS[language_of(language)]:
        return say(key, language)
    return reason.replace("_", " ").capitalize()
