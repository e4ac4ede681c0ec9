"""Fuzzing the config loader: any TOML document or file gives a Config or one ConfigError line.

Hypothesis builds documents from the real section and key names (plus unknown ones) with values
of every TOML type, and raw file bytes (mutated valid configs, random text, broken UTF-8).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.config import Config, ConfigError, load_config, parse_config

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

SECTIONS: dict[str, list[str]] = {
    name: list(field.annotation.model_fields)  # type: ignore[union-attr]
    for name, field in Config.model_fields.items()
    if name != "source"
}

toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "preview",
            "none",
            "network:127.0.0.1:9100",
            "usb:04b8:0202",
            "Asia/Ho_Chi_Minh",
            "../../etc/passwd",
            "Etc/GMT+99",
            "vi",
            "en",
            "http://10.0.0.1",
            "https://server.example",
            "ftp://x",
            "a\x00b",
            "x" * 300,
        ]
    ),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=8,
)
key_names = st.one_of(
    st.sampled_from(sorted({k for keys in SECTIONS.values() for k in keys})), st.text(max_size=12)
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from([*SECTIONS, "extra", "x\ny"]), max_size=4)):
        if draw(st.booleans()) and section in SECTIONS:
            keys = st.sampled_from(SECTIONS[section]) | key_names
        else:
            keys = key_names
        doc[section] = draw(st.dictionaries(keys, toml_values, max_size=5))
    if draw(st.booleans()):
        doc[draw(key_names)] = draw(toml_values)
    return doc


def check_one_line(error: ConfigError) -> None:
    message = str(error)
    assert message and "\n" not in message and "\r" not in message, repr(message)


@FUZZ
@given(documents())
def test_any_document_gives_config_or_one_config_error(doc: dict[str, Any]) -> None:
    try:
        config = parse_config(doc, "fuzz.toml")
    except ConfigError as exc:
        check_one_line(exc)
    else:
        assert isinstance(config, Config)
        assert math.isfinite(config.printer.timeout_seconds)


VALID = """\
[hospital]
name = "Bệnh viện"
timezone = "Asia/Ho_Chi_Minh"
[kiosk]
id = "kiosk-1"
idle_seconds = 60
[printer]
connection = "network:10.0.0.5:9100"
paper_width_mm = 80
[server]
url = "https://queue.example"
"""


@st.composite
def files(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["mutated", "text", "bytes"]))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    data = bytearray(VALID.encode("utf-8"))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from([b"=", b"[", b"]", b'"', b"\n", b"\xff", b"#", b"9" * 30]))
        if action == "insert":
            data[at:at] = piece
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 10))]
        else:
            data[at : at + len(piece)] = piece
    return bytes(data)


@FUZZ
@given(content=files())
def test_any_file_gives_config_or_one_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes(content)
    try:
        config = load_config(path)
    except ConfigError as exc:
        check_one_line(exc)
    else:
        assert isinstance(config, Config)
