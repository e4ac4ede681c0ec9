"""Seeds: the example hospital loads, reloading changes nothing, edits update in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.models import Department, Room
from kiosk.queue.seeds import SeedError, load_seed_file, parse_seeds, seed_database
from tests.support.database import SEED_FILE


def test_example_hospital_has_what_a_provincial_hospital_needs() -> None:
    seeds = load_seed_file(SEED_FILE)
    codes = {d.code for d in seeds.departments}
    assert len(codes) >= 10
    assert {
        "TIEPDON",
        "NOI",
        "NGOAI",
        "SAN",
        "NHI",
        "TMH",
        "MAT",
        "RHM",
        "YHCT",
        "XN",
        "CDHA",
    } <= codes
    for department in seeds.departments:
        assert department.rooms and department.name_en and department.avg_service_minutes > 0


def test_seed_is_idempotent_and_updates(engine: Engine, tmp_path: Path) -> None:
    first = seed_database(engine, SEED_FILE)
    assert first.added >= 10 and first.updated == 0
    again = seed_database(engine, SEED_FILE)
    assert again.added == 0 and again.updated == 0 and again.unchanged == first.added

    edited = tmp_path / "edited.toml"
    text = SEED_FILE.read_text(encoding="utf-8")
    text = text.replace('name_en = "Eye"', 'name_en = "Ophthalmology"')
    text = text.replace('{ code = "105", name_vi = "Phòng khám 105", name_en = "Room 105" },\n', "")
    edited.write_text(text, encoding="utf-8")
    result = seed_database(engine, edited)
    assert result.updated == 2 and result.added == 0
    with Session(engine) as session:
        assert session.get_one(Department, "MAT").name_en == "Ophthalmology"
        room = session.scalars(select(Room).where(Room.code == "105")).one()
        assert room.active is False  # kept for history, no longer offered


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "departments"),
        (
            {"departments": [{"code": "noi", "name_vi": "x", "name_en": "x", "prefix": "A"}]},
            "departments.0.code",
        ),
        (
            {
                "departments": [
                    {"code": "NOI", "name_vi": "x", "name_en": "x", "prefix": "A", "color": "red"}
                ]
            },
            "departments.0.color",
        ),
        (
            {
                "departments": [
                    {"code": "NOI", "name_vi": "x", "name_en": "x", "prefix": "A"},
                    {"code": "NGOAI", "name_vi": "y", "name_en": "y", "prefix": "A"},
                ]
            },
            "share a prefix: A",
        ),
        (
            {
                "departments": [
                    {"code": "NOI", "name_vi": "x", "name_en": "x", "prefix": "A", "room": []}
                ]
            },
            "departments.0.room",
        ),
    ],
)
def test_bad_seeds_say_where(data: dict, expected: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(SeedError) as caught:
        parse_seeds(data, "h.toml")
    assert expected in str(caught.value) and "\n" not in str(caught.value)
