"""The receipt's QR code: the case's status URL, drawn as vector squares snapped to whole thermal-printer dots."""

from __future__ import annotations

from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

PRINTER_DPI = 203  # 8 dots/mm: the common 80 mm thermal receipt printer
DOT = inch / PRINTER_DPI  # one printer dot in points
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks
MIN_DOTS_PER_MODULE = 4


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR symbol's modules (no quiet zone), error correction M (15 %), the smallest version that fits."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


class QrCode(Flowable):
    """A QR code at most `max_size` points wide (quiet zone included); each module is a whole number of printer
    dots (at least MIN_DOTS_PER_MODULE), so a 203 dpi printer prints every module the same size."""

    def __init__(self, data: str, max_size: float = 36 * mm) -> None:
        super().__init__()
        self.data = data
        self.matrix = qr_matrix(data)
        modules = len(self.matrix) + 2 * QUIET_ZONE
        dots = max(MIN_DOTS_PER_MODULE, int(max_size / DOT) // modules)
        self.module = dots * DOT
        self.size = modules * self.module
        self.hAlign = "CENTER"

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        draw_qr(self.canv, self.matrix, 0, 0, self.module)


def draw_qr(c: Canvas, matrix: list[list[bool]], x: float, y: float, module: float) -> None:
    """Draw `matrix` with its lower-left quiet-zone corner at (x, y): one filled path of horizontal runs, so no
    seams appear between neighbouring modules when it is rasterised."""
    n = len(matrix)
    left = x + QUIET_ZONE * module
    top = y + (QUIET_ZONE + n) * module
    path = c.beginPath()
    for r, row in enumerate(matrix):
        col = 0
        while col < n:
            if not row[col]:
                col += 1
                continue
            start = col
            while col < n and row[col]:
                col += 1
            path.rect(left + start * module, top - (r + 1) * module, (col - start) * module, module)
    c.saveState()
    c.setFillColorRGB(0, 0, 0)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()
