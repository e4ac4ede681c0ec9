"""The geometry checks themselves: each finds the fault it names and passes a clean screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel, QLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.ui import style
from kiosk.ui.widgets import QrCodeWidget
from tests.ui import geometry
from tests.ui.geometry import PaintedText


@pytest.fixture(autouse=True)
def plain_style(qapp: Any) -> Iterator[None]:
    """Fonts set here are the fonts drawn: no style sheet an earlier screen test left behind."""
    sheet = qapp.styleSheet()
    qapp.setStyleSheet("")
    yield
    qapp.setStyleSheet(sheet)


def shown(qtbot: Any, widget: QWidget, width: int, height: int) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_a_clean_column_has_no_problems(qtbot: Any) -> None:
    root = QWidget()
    column = QVBoxLayout(root)
    column.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # no size hints offscreen
    column.addWidget(QLabel("Chạm vào khoa bạn cần khám"))
    wrapped = QLabel("Nếu có, hãy chạm vào nhóm của bạn. Nếu không, hãy chạm vào nút màu xanh.")
    wrapped.setWordWrap(True)
    column.addWidget(wrapped)
    column.addWidget(QPushButton("Quay lại"))
    shown(qtbot, root, 900, 400)
    assert geometry.check_screen(root) == []


def test_overlapping_siblings_and_a_child_outside_its_parent(qtbot: Any) -> None:
    root = shown(qtbot, QWidget(), 400, 300)
    first, second = QLabel("Một", root), QLabel("Hai", root)
    first.setGeometry(0, 0, 200, 100)
    second.setGeometry(150, 50, 200, 100)
    outside = QLabel("Ba", root)
    outside.setGeometry(300, 250, 200, 100)
    for label in (first, second, outside):
        label.show()
    kinds = {(p.kind, p.widget) for p in geometry.check_screen(root)}
    assert ("overlap", "QLabel 'Một'") in kinds
    assert ("outside", "QLabel 'Ba'") in kinds
    # Touching edges are not an overlap.
    second.setGeometry(200, 0, 100, 100)
    assert [p for p in geometry.overlapping_siblings(root) if p.widget == "QLabel 'Một'"] == []


def test_text_cut_in_either_axis_is_found(qtbot: Any) -> None:
    root = shown(qtbot, QWidget(), 600, 400)
    wide = QLabel("Không thuộc nhóm ưu tiên", root)
    wide.setFont(style.font(wide.font().family(), 40, bold=True))
    wide.setGeometry(0, 0, 200, 80)  # too narrow: "hông thuộc nhóm ưu tiê"
    low = QLabel("Ẩm ướt Ộ", root)
    low.setFont(style.font(low.font().family(), 40))
    low.setObjectName("low")
    low.setGeometry(0, 100, 400, 30)  # too low: the stacked accents are cut
    wrapped = QLabel("Trẻ em dưới 6 tuổi cần được ưu tiên khám trước", root)
    wrapped.setWordWrap(True)
    wrapped.setFont(style.font(wrapped.font().family(), 32))
    wrapped.setGeometry(0, 150, 300, 50)  # wraps to three lines in one line's height
    fine = QLabel("Ẩm ướt Ộ", root)
    fine.setFont(style.font(fine.font().family(), 40))
    fine.setObjectName("fine")
    fine.setGeometry(0, 220, 400, 80)
    for label in (wide, low, wrapped, fine):
        label.show()
    cut = {p.widget for p in geometry.clipped_texts(root)}
    assert {geometry.widget_name(w) for w in (wide, low, wrapped)} <= cut
    assert geometry.widget_name(fine) not in cut
    small = {p.widget for p in geometry.small_texts(root, 36)}
    assert geometry.widget_name(wrapped) in small and geometry.widget_name(fine) not in small


def test_a_button_too_narrow_for_its_label(qtbot: Any) -> None:
    root = shown(qtbot, QWidget(), 600, 300)
    button = QPushButton("Emergency", root)
    button.setFont(style.font(button.font().family(), 40))
    button.setGeometry(0, 0, 120, 100)
    button.show()
    assert [p.kind for p in geometry.clipped_texts(root)] == ["clipped"]
    button.setGeometry(0, 0, 400, 100)
    assert geometry.clipped_texts(root) == []


class Painted(QWidget):
    def __init__(self, box: QRectF, px: int) -> None:
        super().__init__()
        self.box, self.px = box, px

    def painted_texts(self) -> list[PaintedText]:
        font = style.font(self.font().family(), self.px, bold=True)
        return [PaintedText(["B001"], font, self.box, centred=True)]


def test_painted_text_is_checked_against_its_box(qtbot: Any) -> None:
    fits = shown(qtbot, Painted(QRectF(0, 0, 600, 300), 200), 600, 300)
    assert geometry.clipped_texts(fits) == []
    cut = shown(qtbot, Painted(QRectF(0, 0, 300, 300), 300), 600, 300)
    assert [p.kind for p in geometry.clipped_texts(cut)] == ["clipped"]
    assert [p.kind for p in geometry.small_texts(cut, 400)] == ["small"]


def test_a_qr_code_decodes_from_a_grab(qtbot: Any) -> None:
    url = "https://benhvien.example.vn/t/d10256b5-0a1b"
    qr = QrCodeWidget()
    qr.set_data(url)
    shown(qtbot, qr, 240, 240)
    assert geometry.decode_qr(qr.grab().toImage()) == [url]
    blank = shown(qtbot, QWidget(), 240, 240)
    assert geometry.decode_qr(blank.grab().toImage()) == []


def test_the_qr_made_with_the_ticket_is_drawn_without_making_it_again(
    qtbot: Any, monkeypatch: Any
) -> None:
    """The number screen's QR comes made from the worker (with the printed one): the GUI
    thread, which shows the number, makes none; a ticket without a status URL, none at all."""
    import printer.ticket

    url = "https://benhvien.example.vn/t/d10256b5-0a1b"
    modules = printer.ticket.qr_modules(url)

    def not_here(data: str) -> list[list[bool]]:
        raise AssertionError(f"QR made on the GUI thread for {data!r}")

    monkeypatch.setattr(printer.ticket, "qr_modules", not_here)
    qr = QrCodeWidget()
    qr.set_data(url, modules)
    shown(qtbot, qr, 240, 240)
    assert geometry.decode_qr(qr.grab().toImage()) == [url]
    qr.set_data("")
    assert geometry.decode_qr(qr.grab().toImage()) == []
