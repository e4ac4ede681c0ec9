"""Departments as the kiosk flow sees them."""

from __future__ import annotations

from kiosk.queue.service import DepartmentStatus


def department(code: str) -> DepartmentStatus:
    return DepartmentStatus(
        code=code, name_vi=f"Khoa {code}", name_en=f"{code} department", prefix="B",
        color="#000", rooms=["101"], directions_vi="", directions_en="", daily_capacity=None,
        issued_today=0, waiting=0, serving=0, estimated_wait_minutes=0, unavailable=None,
    )  # fmt: skip
