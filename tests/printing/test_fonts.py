"""The shipped CJK font embeds in PDFs, and the Chinese text reads back exactly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from desk.printing.fonts import CJK_FONT_FILE, register_cjk_font

TEXT = "张掖市甘州区综治中心 受理回执 阿依古丽·买买提"


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    from reportlab.lib.pagesizes import A6
    from reportlab.pdfgen import canvas

    out = tmp_path / "cjk.pdf"
    c = canvas.Canvas(str(out), pagesize=A6)
    c.setFont(register_cjk_font(), 10)
    c.drawString(20, 300, TEXT)
    c.save()
    return out


def test_font_ships_with_its_licence() -> None:
    assert CJK_FONT_FILE.exists() and CJK_FONT_FILE.stat().st_size > 1_000_000
    assert (CJK_FONT_FILE.parent / "LICENSE-wqy-microhei.txt").read_text(encoding="utf-8").count("Apache-2.0")


def test_pdf_embeds_font_and_text_reads_back(pdf: Path) -> None:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("poppler-utils is missing: `make install` should have installed it")
        pytest.skip("poppler-utils not installed (make install adds it)")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    row = next(line for line in fonts.splitlines() if "WenQuanYi" in line or "CJK" in line)
    assert " yes " in row  # the "emb" column
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert TEXT in text
