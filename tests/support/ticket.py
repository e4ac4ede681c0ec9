"""A ticket's content as the printer tests print it: long names, every Vietnamese letter."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from printer.ticket import (
    TicketContent,
)

HANOI = dt.timezone(dt.timedelta(hours=7))
URL = "https://queue.benhvien.example.vn/t/3f2b8c1e-7d4a-4e6b-9c2d-1a2b3c4d5e6f"


LONG_NAME = "Khám Phục hồi chức năng và Vật lý trị liệu - Y học cổ truyền kết hợp điều trị"
VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)


def content(**changes: object) -> TicketContent:
    base = TicketContent(
        hospital_name="Bệnh viện Đa khoa tỉnh Hà Giang",
        department_name="Khám Nội",
        code="B012",
        priority_label=None,
        directions="Tầng 1, dãy nhà A, phòng 101 đến 103",
        ahead=5,
        estimated_wait_minutes=14,
        issued_at=dt.datetime(2026, 11, 28, 9, 5, tzinfo=HANOI),
        status_url=URL,
        footer="Xin cảm ơn! Vui lòng giữ phiếu này.",
    )
    return replace(base, **changes)  # type: ignore[arg-type]
