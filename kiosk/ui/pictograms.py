"""Simple pictograms for the priority groups, drawn with QPainter (no image files to lose).

Each is drawn in a 100 x 100 box, dark figures on a light tile, so they read at 96-160 px.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen

INK = QColor("#0B3D91")
RED = QColor("#C62828")
GOLD = QColor("#F2B705")


def _pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _person(p: QPainter, x: float, y: float, scale: float, color: QColor = INK) -> None:
    """A standing person, feet at (x, y + 60*scale), head on top."""
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(color))
    p.drawEllipse(QPointF(x, y + 8 * scale), 8 * scale, 8 * scale)
    body = QPainterPath()
    body.addRoundedRect(QRectF(x - 11 * scale, y + 19 * scale, 22 * scale, 24 * scale), 5, 5)
    p.drawPath(body)
    p.setPen(_pen(color, 7 * scale))
    p.drawLine(QPointF(x - 5 * scale, y + 42 * scale), QPointF(x - 6 * scale, y + 60 * scale))
    p.drawLine(QPointF(x + 5 * scale, y + 42 * scale), QPointF(x + 6 * scale, y + 60 * scale))


def _emergency(p: QPainter) -> None:
    p.setPen(_pen(RED, 6))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QPointF(50, 50), 42, 42)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(RED))
    p.drawRect(QRectF(40, 22, 20, 56))
    p.drawRect(QRectF(22, 40, 56, 20))


def _child(p: QPainter) -> None:
    _person(p, 36, 14, 1.15)
    _person(p, 72, 46, 0.68)
    p.setPen(_pen(INK, 5))
    p.drawLine(QPointF(46, 48), QPointF(66, 66))  # holding hands


def _pregnant(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(INK))
    p.drawEllipse(QPointF(46, 16), 10, 10)
    body = QPainterPath(QPointF(38, 30))
    body.lineTo(54, 30)
    body.cubicTo(QPointF(58, 38), QPointF(80, 50), QPointF(70, 66))  # the belly
    body.lineTo(56, 70)
    body.lineTo(36, 70)
    body.cubicTo(QPointF(34, 55), QPointF(34, 40), QPointF(38, 30))
    p.drawPath(body)
    p.setPen(_pen(INK, 8))
    p.drawLine(QPointF(42, 70), QPointF(42, 92))
    p.drawLine(QPointF(54, 70), QPointF(56, 92))


def _disability(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(INK))
    p.drawEllipse(QPointF(44, 12), 9, 9)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(_pen(INK, 8))
    p.drawLine(QPointF(42, 28), QPointF(44, 56))  # back
    p.drawLine(QPointF(43, 38), QPointF(62, 38))  # arm
    p.drawLine(QPointF(44, 56), QPointF(66, 56))  # seat
    p.drawLine(QPointF(66, 56), QPointF(76, 80))  # leg
    p.drawLine(QPointF(76, 80), QPointF(86, 80))  # foot
    p.drawArc(QRectF(16, 46, 46, 46), 100 * 16, 250 * 16)  # wheel


def _elderly(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(INK))
    p.drawEllipse(QPointF(50, 14), 9, 9)
    body = QPainterPath(QPointF(40, 28))
    body.lineTo(56, 26)
    body.lineTo(60, 58)
    body.lineTo(42, 60)
    body.closeSubpath()
    p.drawPath(body)
    p.setPen(_pen(INK, 7))
    p.drawLine(QPointF(46, 60), QPointF(40, 92))
    p.drawLine(QPointF(56, 60), QPointF(60, 92))
    p.drawLine(QPointF(56, 34), QPointF(72, 50))  # arm to the cane
    p.setPen(_pen(INK, 5))
    p.drawLine(QPointF(72, 50), QPointF(74, 94))  # cane
    p.drawArc(QRectF(66, 44, 12, 12), 0, 180 * 16)


def _merit(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(RED))
    ribbon = QPainterPath(QPointF(34, 6))
    ribbon.lineTo(66, 6)
    ribbon.lineTo(58, 40)
    ribbon.lineTo(42, 40)
    ribbon.closeSubpath()
    p.drawPath(ribbon)
    p.setBrush(QBrush(GOLD))
    p.setPen(_pen(QColor("#8A6100"), 3))
    p.drawEllipse(QPointF(50, 64), 28, 28)
    star = QPainterPath()
    for i in range(10):
        radius = 20 if i % 2 == 0 else 8
        angle = math.radians(-90 + i * 36)
        point = QPointF(50 + radius * math.cos(angle), 64 + radius * math.sin(angle))
        if i == 0:
            star.moveTo(point)
        else:
            star.lineTo(point)
    star.closeSubpath()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(RED))
    p.drawPath(star)


def _generic(p: QPainter) -> None:
    _person(p, 50, 14, 1.2)


PICTOGRAMS: dict[str, Callable[[QPainter], None]] = {
    "emergency": _emergency,
    "child_under_6": _child,
    "pregnant": _pregnant,
    "disability": _disability,
    "elderly_75": _elderly,
    "merit": _merit,
}


def paint_pictogram(painter: QPainter, rect: QRectF, reason: str) -> None:
    """Draw the pictogram of a priority reason, centred and square in `rect`."""
    side = min(rect.width(), rect.height())
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.translate(rect.center().x() - side / 2, rect.center().y() - side / 2)
    painter.scale(side / 100, side / 100)
    PICTOGRAMS.get(reason, _generic)(painter)
    painter.restore()
