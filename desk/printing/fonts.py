"""The CJK TrueType font shipped in resources/fonts/, registered with ReportLab so PDFs embed real Chinese glyphs."""

from __future__ import annotations

import logging
from pathlib import Path

from desk.config import RESOURCES
from desk.errors import DeskError

logger = logging.getLogger(__name__)

CJK_FONT_FILE = RESOURCES / "fonts" / "wqy-microhei.ttc"
CJK_FONT_NAME = "CJK"


def register_cjk_font(path: Path = CJK_FONT_FILE) -> str:
    """Register (once) and return the ReportLab font name. TrueType only: ReportLab cannot embed CFF (Noto CJK)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if CJK_FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return CJK_FONT_NAME
    if not path.exists():
        raise DeskError(f"找不到中文字体文件 {path}：请重新安装一厅通（字体随程序发布于 resources/fonts/）")
    pdfmetrics.registerFont(TTFont(CJK_FONT_NAME, str(path), subfontIndex=0))
    logger.info("registered CJK font %s", path.name)
    return CJK_FONT_NAME
