"""Qt translations of the patient-facing text: English sources, `vi.ts` compiled to `vi.qm`.

Rebuild the .qm after editing a .ts with `make i18n` (pyside6-lrelease from the venv).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent / "i18n"
SOURCE_LANGUAGE = "en"
LOCALES = {"vi": "vi_VN", "en": "en_GB"}


class Translations:
    """Switches the application between languages; widgets retranslate on LanguageChange."""

    def __init__(self, directory: Path = I18N_DIR) -> None:
        self.directory = directory
        self.language = SOURCE_LANGUAGE
        self._translator: QTranslator | None = None

    def set_language(self, language: str) -> None:
        if self._translator is not None:
            QCoreApplication.removeTranslator(self._translator)
            self._translator = None
        self.language = language
        if language == SOURCE_LANGUAGE:
            return
        translator = QTranslator()
        path = self.directory / f"{language}.qm"
        if not translator.load(str(path)):
            log.error("no translations for %r (%s); showing English", language, path)
            return
        QCoreApplication.installTranslator(translator)
        self._translator = translator

    def close(self) -> None:
        """Take this window's translator out of the application (the window is closing)."""
        if self._translator is not None:
            QCoreApplication.removeTranslator(self._translator)
            self._translator = None

    def locale(self) -> QLocale:
        return QLocale(LOCALES.get(self.language, "en_GB"))
