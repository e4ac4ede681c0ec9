"""The fast search of `text_problem` names exactly the characters its careful loop names."""

from __future__ import annotations

import unicodedata

from kiosk.queue.validation import BIDI_CONTROLS, text_problem


def test_every_code_point_is_judged_as_the_rules_say() -> None:
    for point in range(0x110000):
        char = chr(point)
        unsafe = (
            0xD800 <= point <= 0xDFFF or char in BIDI_CONTROLS or unicodedata.category(char) == "Cc"
        )
        assert (text_problem(f"ok{char}ok") is not None) == unsafe, hex(point)
    assert text_problem("A0\u202e12") == "a bidirectional control U+202E at 2"
