"""Reading PDFs back in tests: poppler's pdftotext / pdffonts / pdftoppm, and zxing-cpp for QR codes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

THERMAL_DPI = 203


def need_poppler() -> None:
    """Skip when poppler-utils is missing; in CI that is a failure (make install provides it)."""
    missing = [t for t in ("pdftotext", "pdffonts", "pdftoppm") if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(
                f"poppler-utils is missing ({', '.join(missing)}): `make install` should have installed it"
            )
        pytest.skip(f"poppler-utils not installed ({', '.join(missing)}; make install adds it)")


def _file(pdf: bytes | Path, tmp: Path) -> Path:
    if isinstance(pdf, Path):
        return pdf
    path = tmp / f"doc-{len(list(tmp.glob('doc-*.pdf')))}.pdf"
    path.write_bytes(pdf)
    return path


def pdftotext(pdf: bytes | Path, tmp: Path, *, layout: bool = True, first_page_only: bool = False) -> str:
    """The PDF's text: `-layout` keeps lines as printed; without it each table cell reads as a run."""
    need_poppler()
    args = (
        ["pdftotext", "-enc", "UTF-8"]
        + (["-layout"] if layout else [])
        + (["-l", "1"] if first_page_only else [])
    )
    return subprocess.run(
        [*args, str(_file(pdf, tmp)), "-"], capture_output=True, text=True, check=True
    ).stdout


def compact(text: str) -> str:
    """The text without whitespace: table cells and wrapped lines read as one run."""
    return "".join(text.split())


def embedded_fonts(pdf: bytes | Path, tmp: Path) -> list[tuple[str, bool]]:
    """(font name, embedded?) for every font of the PDF, from `pdffonts`."""
    need_poppler()
    out = subprocess.run(
        ["pdffonts", str(_file(pdf, tmp))], capture_output=True, text=True, check=True
    ).stdout
    rows = []
    for line in out.splitlines()[2:]:
        cols = line.split()
        # name type... encoding emb sub uni object ID: emb/sub/uni are the 5th-3rd columns from the end
        rows.append((cols[0], cols[-5] == "yes"))
    return rows


def render_png(pdf: bytes | Path, tmp: Path, dpi: int = THERMAL_DPI) -> Path:
    need_poppler()
    src = _file(pdf, tmp)
    prefix = tmp / f"{src.stem}-{dpi}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(src), str(prefix)], check=True)
    return prefix.with_suffix(".png")


def decode_qr(pdf: bytes | Path, tmp: Path, dpi: int = THERMAL_DPI) -> list[str]:
    import zxingcpp
    from PIL import Image

    with Image.open(render_png(pdf, tmp, dpi)) as img:
        return [b.text for b in zxingcpp.read_barcodes(img) if b.format == zxingcpp.BarcodeFormat.QRCode]
