"""Fuzzing the seeds loader: any document or file gives seeds or one SeedError line."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.queue.seeds import (
    DepartmentSeed,
    HospitalSeed,
    RoomSeed,
    SeedError,
    load_seed_file,
    parse_seeds,
)

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "seeds" / "provincial-general-hospital.toml"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["NOI", "A", "AB", "#1565C0", "#zzzzzz", "P101", "", "x" * 250, "a\nb"]),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
room_keys = st.sampled_from(list(RoomSeed.model_fields)) | st.just("x\ny") | st.text(max_size=8)
dept_keys = (
    st.sampled_from(list(DepartmentSeed.model_fields)) | st.just("x\ny") | st.text(max_size=8)
)


@st.composite
def departments(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    department: dict[str, Any] = draw(st.dictionaries(dept_keys, values, max_size=6))
    if draw(st.booleans()):
        department["rooms"] = draw(
            st.lists(st.dictionaries(room_keys, values, max_size=4), max_size=3) | values
        )
    return department


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        doc["departments"] = draw(st.lists(departments(), max_size=4) | values)
    if draw(st.booleans()):
        doc[draw(st.text(max_size=8))] = draw(values)
    return doc


VALID_ROOM: dict[str, Any] = {"code": "P101", "name_vi": "Phòng 101", "name_en": "Room 101"}
VALID_DEPARTMENT: dict[str, Any] = {
    "code": "NOI",
    "name_vi": "Khoa Nội",
    "name_en": "Internal medicine",
    "prefix": "A",
    "rooms": [VALID_ROOM],
}


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document with a few changes: the errors past the first field get reached."""
    room = dict(VALID_ROOM)
    department = {**VALID_DEPARTMENT, "rooms": [room]}
    for _ in range(draw(st.integers(1, 3))):
        target = department if draw(st.booleans()) else room
        keys = dept_keys if target is department else room_keys
        if draw(st.integers(0, 3)) == 0 and target:
            target.pop(draw(st.sampled_from(sorted(target))), None)
        else:
            target[draw(keys)] = draw(values)
    others = draw(st.lists(st.just(VALID_DEPARTMENT), max_size=1))
    return {"departments": [department, *others]}


def check_one_line(error: SeedError) -> None:
    message = str(error)
    assert message and "\n" not in message and "\r" not in message, repr(message)


@FUZZ
@given(documents() | near_valid())
def test_any_document_gives_seeds_or_one_seed_error(doc: dict[str, Any]) -> None:
    try:
        seeds = parse_seeds(doc, "fuzz.toml")
    except SeedError as exc:
        check_one_line(exc)
    else:
        assert isinstance(seeds, HospitalSeed) and seeds.departments


@FUZZ
@given(data=st.data())
def test_mutated_real_seed_file_gives_seeds_or_one_seed_error(
    tmp_path: Path, data: st.DataObject
) -> None:
    content = bytearray(SEED_FILE.read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(content)))
        piece = data.draw(
            st.sampled_from([b"=", b"[[", b"]", b'"', b"\n", b"\xff", b"#", b"0" * 25, b"'"])
        )
        if data.draw(st.booleans()):
            content[at:at] = piece
        else:
            del content[at : at + data.draw(st.integers(1, 40))]
    path = tmp_path / "seeds.toml"
    path.write_bytes(bytes(content))
    try:
        seeds = load_seed_file(path)
    except SeedError as exc:
        check_one_line(exc)
    else:
        assert isinstance(seeds, HospitalSeed)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")))
def test_any_bytes_give_seeds_or_one_seed_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "seeds.toml"
    path.write_bytes(content)
    try:
        load_seed_file(path)
    except SeedError as exc:
        check_one_line(exc)


def test_the_real_seed_file_still_parses() -> None:
    seeds = parse_seeds(tomllib.loads(SEED_FILE.read_text(encoding="utf-8")), str(SEED_FILE))
    assert seeds.departments
