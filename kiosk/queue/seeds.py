"""Load a hospital's departments and rooms from a seeds/ TOML file, idempotently."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiosk.config import one_line
from kiosk.queue.errors import SeedError as SeedError  # raised here, defined there
from kiosk.queue.models import Department, Room

log = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoomSeed(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    name_vi: str = Field(min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)


class DepartmentSeed(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")
    name_vi: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    prefix: str = Field(pattern=r"^[A-Z]{1,3}$")
    color: str = Field("#1565C0", pattern=r"^#[0-9A-Fa-f]{6}$")
    avg_service_minutes: float = Field(10, gt=0, le=600)
    daily_capacity: int | None = Field(None, ge=1, le=100_000)
    active: bool = True
    directions_vi: str = Field("", max_length=300)
    directions_en: str = Field("", max_length=300)
    rooms: list[RoomSeed] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_rooms(self) -> DepartmentSeed:
        codes = [room.code for room in self.rooms]
        if len(codes) != len(set(codes)):
            raise ValueError(f"department {self.code} lists a room code twice")
        return self


class HospitalSeed(_Strict):
    departments: list[DepartmentSeed] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> HospitalSeed:
        for attribute in ("code", "prefix"):
            values = [getattr(d, attribute) for d in self.departments]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"departments share a {attribute}: {', '.join(dupes)}")
        return self


@dataclass(frozen=True)
class SeedResult:
    added: int
    updated: int
    unchanged: int


def parse_seeds(data: dict[str, Any], source: str = "seeds") -> HospitalSeed:
    try:
        return HospitalSeed.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        where = f" at {loc}" if loc else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        value = f" (got {error['input']!r})" if loc and error["type"] != "missing" else ""
        raise SeedError(one_line(f"{source}{where}: {message}{value}")) from None


def load_seed_file(path: Path) -> HospitalSeed:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"{path}: cannot read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: not valid UTF-8 TOML: {exc}") from None
    return parse_seeds(data, str(path))


def apply_seeds(session: Session, seeds: HospitalSeed) -> SeedResult:
    """Insert new departments, update changed ones; rooms missing from the file are
    deactivated, not deleted, so past tickets keep their meaning."""
    added = updated = unchanged = 0
    for order, seed in enumerate(seeds.departments):
        fields = seed.model_dump(exclude={"rooms"})
        fields["sort_order"] = order
        department = session.get(Department, seed.code)
        is_new = department is None
        changed = False
        if department is None:
            department = Department(**fields, paused=False)
            session.add(department)
        else:
            for key, value in fields.items():
                if getattr(department, key) != value:
                    setattr(department, key, value)
                    changed = True
        existing = {room.code: room for room in department.rooms}
        for room_seed in seeds_rooms(seed):
            room = existing.pop(room_seed["code"], None)
            if room is None:
                department.rooms.append(Room(**room_seed, active=True))
                changed = True
                continue
            for key, value in {**room_seed, "active": True}.items():
                if getattr(room, key) != value:
                    setattr(room, key, value)
                    changed = True
        for room in existing.values():
            if room.active:
                room.active = False
                changed = True
        if is_new:
            added += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return SeedResult(added=added, updated=updated, unchanged=unchanged)


def seeds_rooms(seed: DepartmentSeed) -> list[dict[str, Any]]:
    return [
        {"code": r.code, "name_vi": r.name_vi, "name_en": r.name_en or r.name_vi}
        for r in seed.rooms
    ]


def seed_database(engine: Engine, path: Path) -> SeedResult:
    seeds = load_seed_file(path)
    with Session(engine) as session, session.begin():
        result = apply_seeds(session, seeds)
        log.info("seeded %s: %s", path, result)
        return result
