"""The QR code: error correction M, modules a whole number of 203 dpi printer dots, decodable from a render."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib.units import mm

from desk.printing.qr import DOT, MIN_DOTS_PER_MODULE, QUIET_ZONE, QrCode, qr_matrix
from tests.printing.pdftools import decode_qr

URL = "https://zz.example.gov.cn/s/Xq3vB0kT9mZpL2rW8sYdQA"


def test_error_correction_m_and_smallest_version() -> None:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    m = qr_matrix(URL)
    ref = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    ref.add_data(URL)
    ref.make(fit=True)
    assert m == [list(r) for r in ref.get_matrix()] and len(m) == 17 + 4 * ref.version


@pytest.mark.parametrize("max_size", [20 * mm, 36 * mm, 48 * mm])
def test_modules_are_whole_printer_dots(max_size: float) -> None:
    q = QrCode(URL, max_size=max_size)
    dots = q.module / DOT
    assert dots == pytest.approx(round(dots)) and round(dots) >= MIN_DOTS_PER_MODULE
    assert q.size == pytest.approx((len(q.matrix) + 2 * QUIET_ZONE) * q.module)
    assert q.size <= max(max_size, (len(q.matrix) + 2 * QUIET_ZONE) * MIN_DOTS_PER_MODULE * DOT) + 1e-6


def test_decodes_from_a_203_dpi_render(tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    q = QrCode(URL, max_size=30 * mm)
    out = tmp_path / "qr.pdf"
    c = Canvas(str(out), pagesize=(q.size + 20, q.size + 20))
    q.wrapOn(c, q.size, q.size)
    q.drawOn(c, 10, 10)
    c.save()
    assert decode_qr(out, tmp_path) == [URL]
