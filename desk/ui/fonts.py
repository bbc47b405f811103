"""Registering the shipped CJK font with Qt, so Chinese renders the same on every machine (no tofu)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from desk.config import RESOURCES

logger = logging.getLogger(__name__)

CJK_FONT = RESOURCES / "fonts" / "wqy-microhei.ttc"
# Registered families by file: addApplicationFont loads a file again each time it is called.
_registered: dict[Path, str] = {}


def register_cjk_font(path: Path = CJK_FONT) -> str:
    """Register the CJK font file with Qt and return its (first) family name; "" if it cannot be loaded.

    Needs a QGuiApplication. The same file serves ReportLab, so screen and paper agree.
    """
    if path in _registered:
        return _registered[path]
    font_id = QFontDatabase.addApplicationFont(str(path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        logger.error("could not load the CJK font %s; Chinese may show as boxes", path)
        return ""
    _registered[path] = families[0]
    logger.info("registered font family %r from %s", families[0], path.name)
    return families[0]


def use_cjk_font(app: QApplication, *, point_size: float = 11.0) -> str:
    """Register the CJK font and make it the application font; returns the family name."""
    family = register_cjk_font()
    if family:
        font = QFont(family)
        font.setPointSizeF(point_size)
        app.setFont(font)
    return family
