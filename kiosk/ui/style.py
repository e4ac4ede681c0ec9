"""Shared look of the Qt screens: fonts with Vietnamese glyphs, colours, the style sheet.

Sizes for a touchscreen read at arm's length: body text >= 32 px, department names 40-48 px, the
issued number >= 200 px, touch targets >= 120 px tall, contrast >= 4.5:1 (7:1 for the number).
"""

from __future__ import annotations

import logging
import re

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication

from kiosk.resources import font_files

log = logging.getLogger(__name__)

# Families that carry every Vietnamese letter, best first (not DejaVu Sans Mono: it lacks 46).
PREFERRED_FAMILIES = ("Noto Sans", "DejaVu Sans", "Liberation Sans", "FreeSans")

# Colours (each text/background pair here passes WCAG AA; tests/ui/test_pure.py checks them).
BACKGROUND = "#EEF1F5"
SURFACE = "#FFFFFF"
TEXT = "#111827"
TEXT_MUTED = "#374151"
HEADER = "#0B3D91"
ON_HEADER = "#FFFFFF"
PRIMARY = "#0B5CAD"
ON_PRIMARY = "#FFFFFF"
DANGER = "#A4161A"
ON_DANGER = "#FFFFFF"
NOTICE_BG = "#FFF1C2"
NOTICE_TEXT = "#4A2F00"
DISABLED_BG = "#D9DDE3"
DISABLED_TEXT = "#2F3640"
BORDER = "#9AA3AF"
PRESSED = "#DCE8F7"

# Pixel sizes for a 1080-px-wide (portrait) or 1080-px-tall (landscape) kiosk panel.
BODY_PX = 34
SMALL_PX = 30
TITLE_PX = 48
NAME_PX = 44
NAME_MIN_PX = 32
TARGET_PX = 120
GAP_PX = 20

TEXT_PAIRS = (
    (TEXT, BACKGROUND),
    (TEXT, SURFACE),
    (TEXT_MUTED, SURFACE),
    (TEXT_MUTED, BACKGROUND),
    (ON_HEADER, HEADER),
    (ON_PRIMARY, PRIMARY),
    (ON_DANGER, DANGER),
    (NOTICE_TEXT, NOTICE_BG),
    (DISABLED_TEXT, DISABLED_BG),
    (TEXT, PRESSED),
)


def load_fonts() -> str:
    """Register the bundled fonts and return the family to use for every screen."""
    for path in font_files():
        if QFontDatabase.addApplicationFont(str(path)) < 0:
            log.warning("could not load font %s", path)
    families = set(QFontDatabase.families())
    for family in PREFERRED_FAMILIES:
        if family in families:
            return family
    log.warning("none of %s is installed; Vietnamese letters may be missing", PREFERRED_FAMILIES)
    return QApplication.font().family()


def font(family: str, pixel_size: int, bold: bool = False) -> QFont:
    result = QFont(family)
    result.setPixelSize(pixel_size)
    result.setBold(bold)
    result.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return result


def style_sheet(family: str, scale: float = 1.0) -> str:
    """The screens' style sheet; `scale` > 1 enlarges every size in it (a 4K kiosk)."""
    sheet = _sheet(family)
    if scale == 1.0:
        return sheet
    return re.sub(r"(\d+)px", lambda m: f"{round(int(m.group(1)) * scale)}px", sheet)


def _sheet(family: str) -> str:
    return f"""
* {{ font-family: "{family}"; color: {TEXT}; }}
QWidget#KioskRoot, QStackedWidget, QWidget[page="true"] {{ background: {BACKGROUND}; }}
QWidget#Header {{ background: {HEADER}; }}
QLabel {{ font-size: {BODY_PX}px; background: transparent; }}
QLabel[role="onHeader"] {{ color: {ON_HEADER}; font-size: 40px; font-weight: bold; }}
QLabel[role="clock"] {{ color: {ON_HEADER}; font-size: 40px; font-weight: bold; }}
QLabel[role="date"] {{ color: {ON_HEADER}; font-size: 32px; }}
QLabel[role="attract"] {{
    font-size: {TITLE_PX}px; font-weight: bold; color: {ON_PRIMARY}; background: {PRIMARY};
    border-radius: 16px; padding: 12px 24px;
}}
QLabel[role="title"] {{ font-size: {TITLE_PX}px; font-weight: bold; }}
QLabel[role="pin"] {{ font-size: 56px; font-weight: bold; letter-spacing: 8px; }}
QLabel[role="body"] {{ font-size: {BODY_PX}px; }}
QLabel[role="lead"] {{ font-size: 40px; }}
QLabel[role="large"] {{ font-size: 52px; font-weight: bold; }}
QLabel[role="huge"] {{ font-size: 64px; font-weight: bold; }}
QLabel[role="notice"][size="lead"] {{ font-size: 38px; }}
QLabel[role="muted"] {{ font-size: {SMALL_PX}px; color: {TEXT_MUTED}; }}
QLabel[role="notice"] {{
    background: {NOTICE_BG}; color: {NOTICE_TEXT}; font-size: {BODY_PX}px; font-weight: bold;
    border: 3px solid {NOTICE_TEXT}; border-radius: 12px; padding: 16px 24px;
}}
QLabel[role="alert"] {{
    background: {DANGER}; color: {ON_DANGER}; font-size: 40px; font-weight: bold;
    border-radius: 12px; padding: 20px 28px;
}}
QPushButton {{
    font-size: {BODY_PX}px; font-weight: bold; min-height: {TARGET_PX}px;
    padding: 8px 28px; border-radius: 16px;
    background: {SURFACE}; color: {TEXT}; border: 3px solid {BORDER};
}}
QPushButton:pressed {{ background: {PRESSED}; }}
QPushButton:disabled {{ background: {DISABLED_BG}; color: {DISABLED_TEXT}; }}
QPushButton[kind="primary"] {{
    background: {PRIMARY}; color: {ON_PRIMARY}; border-color: {PRIMARY};
}}
QPushButton[kind="primary"]:pressed {{ background: {HEADER}; }}
QPushButton[size="large"] {{ font-size: 44px; }}
QPushButton[pager="true"] {{ min-height: 0px; padding: 0px 8px; font-size: 32px; }}
QPushButton[kind="language"] {{
    background: {SURFACE}; color: {HEADER}; border: 3px solid {SURFACE}; font-size: 36px;
}}
QPushButton[kind="danger"] {{ background: {DANGER}; color: {ON_DANGER}; border-color: {DANGER}; }}
QPushButton[kind="key"] {{ font-size: 52px; min-width: 150px; }}
QWidget[staff="true"] QPushButton {{ min-height: 72px; padding: 4px 16px; }}
QScrollArea {{ border: none; background: transparent; }}
"""


def apply_style(app: QApplication, family: str) -> None:
    app.setFont(font(family, BODY_PX))
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(BACKGROUND))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Base, QColor(SURFACE))
    palette.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(TEXT))
    app.setPalette(palette)
    app.setStyleSheet(style_sheet(family))
