"""A real central server on 127.0.0.1 (seeded, devices registered) and a kiosk database beside it,
for the counter, board and demo tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from kiosk.config import Config, parse_config
from kiosk.queue.service import QueueService
from server_sync.server.embedded import EmbeddedServer
from server_sync.staff import StaffClient


@dataclass
class Hospital:
    """The server (seeded, devices registered) and a kiosk database beside it."""

    server: EmbeddedServer
    engine: Engine
    kiosk_engine: Engine
    config: Config
    tokens: dict[str, str]

    def client(self, role: str) -> StaffClient:
        return StaffClient(self.server.url, self.tokens[role], timeout=30.0)

    def server_service(self) -> QueueService:
        """Issues straight into the server's database (as if pushed by a kiosk)."""
        return QueueService(self.engine, origin="kiosk-direct")

    def kiosk_service(self) -> QueueService:
        return QueueService.from_config(self.kiosk_engine, self.config)


def staff_config(url: str, tmp_path: Path, token: str, **sections: dict[str, object]) -> Config:
    token_file = tmp_path / "kiosk.token"
    token_file.write_text(token, encoding="utf-8")
    data: dict[str, object] = {
        "kiosk": {"id": "kiosk-hall-1"},
        "server": {"url": url, "token_file": str(token_file), "timeout_seconds": 30},
        **sections,
    }
    return parse_config(data)


# Long names, as hospitals write them: the layouts must hold them at every size.
EXTRA_DEPARTMENTS = (
    ("Khám Phục hồi chức năng - Vật lý trị liệu", "Rehabilitation & Physiotherapy"),
    ("Khám Da liễu - Thẩm mỹ da", "Dermatology & Skin Care"),
    ("Khám Tim mạch - Huyết áp", "Cardiology & Blood Pressure"),
    ("Khám Thần kinh - Đột quỵ", "Neurology & Stroke"),
    ("Khám Nội tiết - Đái tháo đường", "Endocrinology & Diabetes"),
    ("Khám Hô hấp - Lao và bệnh phổi", "Respiratory Medicine & Tuberculosis"),
    ("Khám Tiêu hoá - Gan mật", "Gastroenterology & Hepatology"),
    ("Khám Cơ xương khớp", "Rheumatology & Joints"),
    ("Khám Ung bướu - Hoá trị ban ngày", "Oncology & Day Chemotherapy"),
    ("Khám Truyền nhiễm - Nhiệt đới", "Infectious & Tropical Diseases"),
    ("Khám Tâm thần - Sức khoẻ tâm lý", "Psychiatry & Mental Health"),
    ("Khám Dinh dưỡng lâm sàng", "Clinical Nutrition"),
)


def set_department_count(engine: Engine, count: int) -> list[str]:
    """Make the seeded hospital have `count` active departments (4 to 24): the example's
    twelve, the first of them only, or with long-named ones added (each with two rooms).
    Returns their codes in display order."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from kiosk.queue.models import Department, Room

    assert 1 <= count <= 12 + len(EXTRA_DEPARTMENTS)
    with Session(engine) as session, session.begin():
        existing = session.scalars(
            select(Department).order_by(Department.sort_order, Department.code)
        ).all()
        for index, department in enumerate(existing):
            department.active = index < count
        for index, (name_vi, name_en) in enumerate(EXTRA_DEPARTMENTS[: max(0, count - 12)]):
            code = f"X{index + 1:02d}"
            department = Department(
                code=code,
                name_vi=name_vi,
                name_en=name_en,
                prefix=f"X{chr(ord('A') + index)}",
                color="#2E7D32",
                sort_order=100 + index,
            )
            department.rooms = [
                Room(code=f"{code}{n}", name_vi=f"Phòng khám {code}{n}", name_en=f"Room {code}{n}")
                for n in (1, 2)
            ]
            session.add(department)
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Department.code)
                .where(Department.active)
                .order_by(Department.sort_order, Department.code)
            )
        )
