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


TOFU = "\u25a1"  # □: what a character the font lacks is drawn as (its text still extracts)


def cover(text: str, font_name: str = CJK_FONT_NAME) -> str:
    """Make every character of `text` printable with the font, and return the text unchanged.

    ReportLab draws a character the font has no glyph for as glyph 0 and maps it to U+0000 in the PDF's ToUnicode
    table, so the character is lost: a name with 𠮷 (U+20BB7, CJK Extension B; WenQuanYi Micro Hei covers the BMP
    only) would read back without it. Here such a character is drawn with the font's □ glyph but keeps its own code,
    so the page shows a visible box where the glyph is missing and copying or extracting the text gives the
    real character.
    """
    from reportlab.pdfbase import pdfmetrics

    face = pdfmetrics.getFont(font_name).face
    missing = {ord(ch) for ch in text if ord(ch) not in face.charToGlyph and ch not in "\n\r\t"}
    if missing:
        _patch_to_unicode()
        box = ord(TOFU)
        for code in missing:
            face.charToGlyph[code] = face.charToGlyph.get(box, 0)
            face.charWidths[code] = face.charWidths.get(box, face.defaultWidth)
        logger.info(
            "font %s lacks %s; drawn as %s", font_name, " ".join(f"U+{c:04X}" for c in sorted(missing)), TOFU
        )
    return text


_patched = False


def _patch_to_unicode() -> None:
    """ReportLab writes ToUnicode values as `<%04X>`: wrong for code points above U+FFFF (UTF-16 needs a surrogate
    pair). Wrap its CMap writer so those are written as surrogate pairs; BMP entries are unchanged."""
    global _patched
    if _patched:
        return
    from reportlab.pdfbase import ttfonts

    original = ttfonts.makeToUnicodeCMap

    def make_to_unicode_cmap(fontname: str, subset: list[int]) -> str:
        text = original(fontname, [c if c <= 0xFFFF else 0 for c in subset])
        for i, c in enumerate(subset):
            if c > 0xFFFF:
                utf16 = chr(c).encode("utf-16-be").hex().upper()
                text = text.replace(f"<{i:02X}> <0000>", f"<{i:02X}> <{utf16}>", 1)
        return text

    ttfonts.makeToUnicodeCMap = make_to_unicode_cmap
    _patched = True
