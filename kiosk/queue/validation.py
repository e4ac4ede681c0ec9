"""Checks on text and JSON that come from outside (a kiosk's push, a config, a seed file).

Everything a screen shows or a feed sends must be valid Unicode text that prints as what it
says: no lone surrogates (they cannot be encoded, so one stored in the feed would make it fail
for every reader), no control characters, no bidirectional overrides (a code such as "A0‮12"
reads backwards on a screen). Pure functions, no database.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

# Bidirectional formatting characters: embeddings, overrides, isolates, marks.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
MAX_JSON_DEPTH = 8
# Any character `text_problem` names: surrogates, the bidi controls above, and the control
# characters (Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F). One search in
# C: a kiosk's push carries tens of thousands of strings, nearly all of them plain.
_UNSAFE = re.compile(
    r"[\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\x00-\x1f\x7f-\x9f]"
)


class UnsafeText(ValueError):
    """Text that is not plain printable Unicode; the message says what was found and where."""


def text_problem(value: str) -> str | None:
    """Why `value` is not safe plain text, or None when it is."""
    if _UNSAFE.search(value) is None:
        return None
    for index, char in enumerate(value):
        point = ord(char)
        if 0xD800 <= point <= 0xDFFF:
            return f"a lone surrogate U+{point:04X} at {index}"
        if char in BIDI_CONTROLS:
            return f"a bidirectional control U+{point:04X} at {index}"
        if unicodedata.category(char) == "Cc":
            return f"a control character U+{point:04X} at {index}"
    return None


def check_text(value: str, where: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise UnsafeText(f"{where} holds {problem}")
    return value


def check_json(value: Any, where: str, depth: int = 0) -> None:
    """Every key and string in a JSON value is safe text; nesting is bounded."""
    if depth > MAX_JSON_DEPTH:
        raise UnsafeText(f"{where} is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        check_text(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(str(key), f"{where} key")
            check_json(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, float) and value != value:  # NaN is not JSON
        raise UnsafeText(f"{where} is not a number")


def canonical_json(value: Any) -> str:
    """One spelling of a JSON value (sorted keys, ASCII), to compare and hash content."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def json_size(value: Any) -> int:
    return len(canonical_json(value))


def plain(value: str) -> str:
    """Text safe to show whatever it holds: surrogates and controls become visible escapes."""
    if text_problem(value) is None:
        return value
    out = []
    for char in value:
        point = ord(char)
        if 0xD800 <= point <= 0xDFFF or char in BIDI_CONTROLS or unicodedata.category(char) == "Cc":
            out.append(f"\\u{point:04x}")
        else:
            out.append(char)
    return "".join(out)


def plain_json(value: Any) -> Any:
    """A JSON value with every string made safe to send: whitespace controls become spaces,
    other unsafe characters visible escapes."""
    if isinstance(value, str):
        return plain(" ".join(value.split()) if any(c in value for c in "\t\n\r\f\v") else value)
    if isinstance(value, dict):
        return {plain(str(k)): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    return value
