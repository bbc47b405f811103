"""Printing the desk's PDFs (the receipt, the mediation agreement): to the default printer with one key, or through
Qt's print preview.

QtPdf draws each page of the PDF that `desk/printing` made as an image at the printer's resolution (capped, see
`MAX_RASTER_DPI`), on a page of the PDF's own size: a custom 80 mm page for the receipt roll, A5 where the PDF is
A5. A printer that writes a PDF file gets the PDF itself instead, so its text stays text.

The drawing runs on the UI thread. One receipt is one or two pages and takes well under a second to draw and
spool (measured: 0.03 s for the 80 mm roll at 203 dpi, 0.1 s at 600 dpi); a worker would buy nothing the clerk
feels, and a QPrinter's driver dialogs and errors belong to the UI thread anyway. What the store does around it —
reading the receipt's data and rendering its PDF, recording the print — runs off the UI thread, as ops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QMarginsF,
    QObject,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPaintEngine, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo, QPrintPreviewDialog
from PySide6.QtWidgets import QWidget

from desk.errors import DeskError
from desk.ui.ops import Op, OpRunner

if TYPE_CHECKING:
    from desk.core.documents import AgreementData, ReceiptData
    from desk.services.documents import DocumentService

logger = logging.getLogger(__name__)

MAX_RASTER_DPI = (
    600  # a 1200 dpi "printer" (Qt's PDF writer) would need 280 MB per A5 page for no visible gain
)
RECEIPT = "receipt"


def _tr(text: str) -> str:
    return QCoreApplication.translate("desk.ui.printing", text)


def no_default_printer_message() -> str:
    return _tr("未找到默认打印机：请在系统中设置默认打印机，或用“预览打印”另存为 PDF。")


class PrintError(DeskError):
    """The document could not be printed; the message says why and what to do. Nothing was recorded as printed."""


def system_default_printer() -> QPrinter | None:
    """The operating system's default printer, or None when there is none (a desk PC without a printer set up)."""
    info = QPrinterInfo.defaultPrinter()
    if info.isNull():
        return None
    return QPrinter(info, QPrinter.PrinterMode.HighResolution)


def load_pdf(pdf: bytes, parent: QObject) -> QPdfDocument:
    """The PDF as a QtPdf document; its buffer is a child of the document, so it lives as long as the document."""
    doc = QPdfDocument(parent)
    buffer = QBuffer(doc)
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    doc.load(buffer)  # a QBuffer is read at once: status is Ready or Error on return
    if doc.status() != QPdfDocument.Status.Ready or doc.pageCount() < 1:
        logger.error("PDF of %d bytes unreadable: %s", len(pdf), doc.error())
        raise PrintError(
            _tr("要打印的文件无法读取（{error}），请重试；如仍不行，请联系技术人员。").format(
                error=doc.error().name
            )
        )
    return doc


def page_layout(doc: QPdfDocument, page: int) -> QPageLayout:
    """The page's own size, no margins: the PDF already has its margins. A5 is recognised as A5 (trays know it);
    the receipt roll stays a custom 80 mm page as long as its content."""
    size = QPageSize(doc.pagePointSize(page), QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.FuzzyMatch)
    return QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))


def _use_page_layout(printer: QPrinter, layout: QPageLayout) -> None:
    """Give the printer the page's layout unless it has it, or cannot change it now: Qt's PDF and CUPS engines
    change page size between pages, a preview or a Windows driver in mid-job cannot (the page is then shrunk to
    fit)."""
    if printer.pageLayout().isEquivalentTo(layout):
        return
    engine = printer.paintEngine()
    pdf_engine = engine is not None and engine.type() == QPaintEngine.Type.Pdf
    if pdf_engine or printer.printerState() != QPrinter.PrinterState.Active:
        printer.setPageLayout(layout)


def printer_name(printer: QPrinter) -> str:
    return printer.printerName() or printer.outputFileName() or _tr("打印机")


class PreviewDialog(QPrintPreviewDialog):
    """Qt's print preview of one PDF. It keeps the printer (a preview dialog does not own the printer it is given)
    and the document its pages are drawn from."""

    def __init__(self, printer: QPrinter, document: QPdfDocument, parent: QWidget | None = None) -> None:
        super().__init__(printer, parent)
        self.preview_printer = printer
        self.document = document
        document.setParent(self)


class ReceiptPrinter(QObject):
    """Prints PDF bytes on a QPrinter: the default printer without a dialog, or through a print preview.

    `default_printer` finds the printer `print_default` uses (the system's default unless the caller says
    otherwise: tests give one that writes a PDF file). Failures are `PrintError`s with a plain message.
    """

    sig_paint_failed = Signal(str)
    """Painting for the preview (or the preview's own print button) failed; carries the message."""

    def __init__(
        self,
        *,
        default_printer: Callable[[], QPrinter | None] = system_default_printer,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._default_printer = default_printer

    def print_default(self, pdf: bytes, *, printer: QPrinter | None = None, doc_name: str = "") -> str:
        """Print without asking; returns the printer's name. Raises `PrintError` when there is no usable printer
        or the printer refuses the job."""
        if printer is None:
            printer = self._default_printer()
        if printer is None:
            raise PrintError(no_default_printer_message())
        if not printer.isValid():
            raise PrintError(
                self.tr(
                    "打印机“{name}”不可用：请检查打印机是否开机、已连接，或在系统中另设默认打印机后重试。"
                ).format(name=printer_name(printer))
            )
        doc = load_pdf(pdf, self)
        try:
            if doc_name:
                printer.setDocName(doc_name)
            if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
                self._write_pdf(pdf, printer.outputFileName())
            else:
                self.paint(doc, printer)
        finally:
            doc.deleteLater()
        logger.info(
            "printed %s (%d pages) on %s", doc_name or "document", doc.pageCount(), printer.printerName()
        )
        return printer_name(printer)

    def _write_pdf(self, pdf: bytes, path: str) -> None:
        try:
            with open(path, "wb") as f:
                f.write(pdf)
        except OSError as e:
            logger.warning("cannot write PDF to %s: %s", path, e.strerror)
            raise PrintError(
                self.tr("无法保存 PDF 文件“{path}”：{why}").format(path=path, why=e.strerror)
            ) from e

    def paint(self, doc: QPdfDocument, printer: QPrinter) -> None:
        """Draw every page of `doc` on `printer`, each page at its own size. Raises `PrintError`."""
        printer.setFullPage(True)
        _use_page_layout(printer, page_layout(doc, 0))
        painter = QPainter()
        if not painter.begin(printer):
            raise PrintError(
                self.tr(
                    "无法开始打印：打印机“{name}”没有响应。请检查打印机是否开机、联网、有纸，然后重试。"
                ).format(name=printer_name(printer))
            )
        try:
            for page in range(doc.pageCount()):
                if page:
                    _use_page_layout(printer, page_layout(doc, page))
                    if not printer.newPage():
                        raise PrintError(
                            self.tr("打印中断：打印机“{name}”不接受新的一页，请检查后重试。").format(
                                name=printer_name(printer)
                            )
                        )
                self._paint_page(doc, page, printer, painter)
        finally:
            ended = painter.end()
        if not ended or printer.printerState() == QPrinter.PrinterState.Error:
            raise PrintError(
                self.tr("打印失败：打印机“{name}”报告错误。请检查打印机后重试。").format(
                    name=printer_name(printer)
                )
            )

    def _paint_page(self, doc: QPdfDocument, page: int, printer: QPrinter, painter: QPainter) -> None:
        points = doc.pagePointSize(page)
        dpi = min(printer.resolution(), MAX_RASTER_DPI)
        size = QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72))
        # QtPdf leaves the page's background transparent; an opaque image on white is what every driver takes.
        page_image = QImage(size, QImage.Format.Format_RGB32)
        page_image.fill(Qt.GlobalColor.white)
        onto = QPainter(page_image)
        onto.drawImage(0, 0, doc.render(page, size))
        onto.end()
        # The PDF page at its size in device pixels, shrunk to the paper where the printer could not change its
        # page size (a preview, or a Windows driver in mid-job).
        paper = printer.paperRect(QPrinter.Unit.DevicePixel)
        width, height = (
            points.width() * printer.resolution() / 72,
            points.height() * printer.resolution() / 72,
        )
        scale = min(1.0, paper.width() / width, paper.height() / height) if width and height else 1.0
        painter.drawImage(QRectF(0, 0, width * scale, height * scale), page_image)

    def preview(self, pdf: bytes, parent: QWidget | None = None, *, doc_name: str = "") -> PreviewDialog:
        """Open Qt's print preview of the PDF (window-modal, not blocking) and return it. Its print button prints
        on the default printer, or, where there is none, saves a PDF. The dialog deletes itself when closed."""
        printer = self._default_printer()
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        if doc_name:
            printer.setDocName(doc_name)
        dialog = PreviewDialog(printer, load_pdf(pdf, self), parent)
        dialog.setWindowTitle(doc_name or self.tr("打印预览"))
        printer.setPageLayout(page_layout(dialog.document, 0))
        dialog.paintRequested.connect(self._on_paint_requested)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _on_paint_requested(self, printer: QPrinter) -> None:
        dialog = self.sender()
        if not isinstance(dialog, PreviewDialog):
            return
        try:
            self.paint(dialog.document, printer)
        except PrintError as e:
            logger.warning("preview print failed: %s", e.message)
            self.sig_paint_failed.emit(e.message)


def render_receipt_pdf(data: ReceiptData, fmt: str) -> bytes:
    from desk.printing.receipt import render_receipt

    return render_receipt(data, fmt=fmt)


class CaseReceipts(QObject):
    """A case's receipt from the store to paper: its data, its PDF, the printer, and the print recorded as an
    event of the case (a reprint, 补打, marked as one on the receipt and in the event)."""

    sig_printed = Signal(str, bool)
    """A receipt was printed and recorded; carries the case number and whether it was a reprint."""

    def __init__(
        self,
        documents: DocumentService,
        printer: ReceiptPrinter | None = None,
        *,
        fmt: str = "80mm",
        render: Callable[[ReceiptData, str], bytes] = render_receipt_pdf,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._documents = documents
        self._ops = OpRunner(self, report=lambda message: logger.warning("print not recorded: %s", message))
        self.printer = printer or ReceiptPrinter(parent=self)
        self._fmt = fmt
        self._render = render

    def _pdf(self, case_no: str, reprint: bool) -> bytes:
        return self._render(self._documents.receipt_data(case_no, reprint=reprint), self._fmt)

    def _doc_name(self, case_no: str, reprint: bool) -> str:
        return (self.tr("补打回执 {case_no}") if reprint else self.tr("受理回执 {case_no}")).format(
            case_no=case_no
        )

    def print_receipt(
        self,
        ops: OpRunner,
        case_no: str,
        *,
        reprint: bool = False,
        success: Callable[[str], object],
        failure: Callable[[DeskError], object],
    ) -> Op[bytes] | None:
        """Print on the default printer, no dialog: the receipt read and rendered by `ops` (the caller's runner),
        printed on the UI thread, then the print recorded; `success` gets the printer's name. A `DeskError` (no
        printer, the printer failed, no such case) goes to `failure` and leaves nothing recorded; the case itself
        is untouched either way."""

        def rendered(pdf: bytes) -> None:
            try:
                name = self.printer.print_default(pdf, doc_name=self._doc_name(case_no, reprint))
            except PrintError as e:  # Qt's printer, on the UI thread: its refusal takes the op's failure path
                logger.info("receipt for %s not printed: %s", case_no, type(e).__name__)
                failure(e)
                return
            self._record(case_no, reprint, done=ops.guard(lambda: success(name)), failure=ops.guard(failure))

        return ops.run(
            lambda: self._pdf(case_no, reprint),
            name=f"receipt {case_no}",
            success=rendered,
            failure=failure,
        )

    def preview_receipt(
        self,
        ops: OpRunner,
        case_no: str,
        *,
        reprint: bool = False,
        parent: QWidget | None = None,
        success: Callable[[PreviewDialog], object],
        failure: Callable[[DeskError], object],
    ) -> Op[bytes] | None:
        """Open the preview (the receipt read and rendered by `ops`); `success` gets the dialog. The print is
        recorded when the clerk prints from it (the dialog is accepted)."""

        def rendered(pdf: bytes) -> None:
            dialog = self.printer.preview(pdf, parent, doc_name=self._doc_name(case_no, reprint))
            dialog.accepted.connect(lambda: self._record(case_no, reprint))
            success(dialog)

        return ops.run(
            lambda: self._pdf(case_no, reprint),
            name=f"receipt preview {case_no}",
            success=rendered,
            failure=failure,
        )

    def _record(
        self,
        case_no: str,
        reprint: bool,
        *,
        done: Callable[[], object] | None = None,
        failure: Callable[[DeskError], object] | None = None,
    ) -> None:
        """Record the print as an event of the case, by this object's own runner: the paper is out, so the
        record must not depend on the window that asked for it staying open."""
        documents = self._documents

        def recorded(_none: None) -> None:
            self.sig_printed.emit(case_no, reprint)
            if done is not None:
                done()

        self._ops.run(
            lambda: documents.record_printed(case_no, document=RECEIPT, reprint=reprint),
            name=f"record print {case_no}",
            success=recorded,
            failure=failure,
        )


AGREEMENT = "agreement"


class CaseAgreements(QObject):
    """A case's people's mediation agreement (人民调解协议书) from its outcome to paper: the agreement's data
    (`agreement_data`, e.g. `CaseHandlingService.agreement_data`), its PDF (`render_agreement`), the default
    printer, and the print recorded as an event of the case (`record`, e.g. `DocumentService.record_printed`;
    a second print is a 补打)."""

    sig_printed = Signal(str, bool)
    """An agreement was printed and recorded; carries the case number and whether it was a reprint."""

    def __init__(
        self,
        agreement_data: Callable[[str], AgreementData],
        record: Callable[..., None],
        was_printed: Callable[[str, str], bool],
        printer: ReceiptPrinter | None = None,
        *,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._data = agreement_data
        self._record_printed = record
        self._was_printed = was_printed
        self._ops = OpRunner(self, report=lambda message: logger.warning("print not recorded: %s", message))
        self.printer = printer or ReceiptPrinter(parent=self)

    def _pdf(self, case_no: str) -> tuple[bytes, bool]:
        from desk.printing.sheets import render_agreement

        return render_agreement(self._data(case_no)), self._was_printed(case_no, AGREEMENT)

    def print_agreement(
        self,
        ops: OpRunner,
        case_no: str,
        *,
        success: Callable[[str], object],
        failure: Callable[[DeskError], object],
    ) -> Op[tuple[bytes, bool]] | None:
        """Print on the default printer, no dialog (the agreement read and rendered by `ops`), then record the
        print; `success` gets the printer's name. A `DeskError` goes to `failure` and nothing is recorded."""

        def rendered(made: tuple[bytes, bool]) -> None:
            pdf, reprint = made
            name_of = (
                self.tr("补打人民调解协议书 {case_no}") if reprint else self.tr("人民调解协议书 {case_no}")
            )
            try:
                name = self.printer.print_default(pdf, doc_name=name_of.format(case_no=case_no))
            except PrintError as e:
                logger.info("agreement for %s not printed: %s", case_no, type(e).__name__)
                failure(e)
                return
            record = self._record_printed

            def recorded(_none: None) -> None:
                self.sig_printed.emit(case_no, reprint)
                ops.guard(lambda: success(name))()

            self._ops.run(
                lambda: record(case_no, document=AGREEMENT, reprint=reprint),
                name=f"record agreement print {case_no}",
                success=recorded,
                failure=ops.guard(failure),
            )

        return ops.run(
            lambda: self._pdf(case_no), name=f"agreement {case_no}", success=rendered, failure=failure
        )
