"""Guard against a PySide6 release that mis-counts references to None/True/False.

PySide6 6.12.0 on Python 3.11 dropped one reference per call of a method returning None or a
bool; a kiosk updating its clock every second would abort with "Fatal Python error:
none_dealloc" within hours. pyproject.toml keeps that release out; this test catches another.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot


def test_widget_calls_keep_none_true_false_references(qtbot: QtBot) -> None:
    label, button = QLabel(), QPushButton("x")
    qtbot.addWidget(label)
    qtbot.addWidget(button)
    calls = 3000
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(calls):
        label.setText("A012")
        label.isVisible()
        button.setEnabled(True)
        button.setEnabled(False)
        button.isEnabled()
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    # Caches may hold a few more; a leak or a loss shows as thousands.
    assert all(abs(a - b) < calls // 10 for a, b in zip(after, before, strict=True)), (
        before,
        after,
    )
