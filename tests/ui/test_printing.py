"""Printing receipts from the desk: F9 after a registration, Shift+F9 to preview, 补打 from a case's history.

No real printer exists here: the "default printer" is a QPrinter that writes a PDF file into tmp_path, and the
output is read back with QtPdf (pages and sizes) and pdftotext (the Chinese text).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desk.app import Services, build_main_window
from desk.core.clock import FixedClock
from desk.core.documents import ReceiptData
from desk.store.repositories import EventView
from desk.ui.case_history import CaseHistoryDialog
from desk.ui.main_window import MainWindow
from desk.ui.ops import OpRunner
from desk.ui.printing import (
    CaseReceipts,
    PreviewDialog,
    PrintError,
    ReceiptPrinter,
    load_pdf,
    no_default_printer_message,
)
from tests.conftest import valid_id, visit
from tests.ui.waiting import finish, settle

APPLICANT_ID = valid_id("62070219850101123")
MM = 72 / 25.4
ROLL = (80 * MM, 150 * MM)
A5 = (148 * MM, 210 * MM)
TEXT = "受理回执 张*三 甘州区综治中心"


def tiny_pdf(*pages: tuple[float, float], text: str = TEXT) -> bytes:
    """A PDF of the given page sizes (points), each with a line of Chinese and a black bar, drawn with ReportLab
    and the shipped CJK font: the printer's input without depending on the receipt's layout."""
    from reportlab.pdfgen.canvas import Canvas

    from desk.printing.fonts import register_cjk_font

    buf = io.BytesIO()
    c = Canvas(buf)
    for width, height in pages or (ROLL,):
        c.setPageSize((width, height))
        c.setFont(register_cjk_font(), 10)
        c.drawString(12, height - 40, text)
        c.rect(12, height - 80, width - 24, 20, fill=1)
        c.showPage()
    c.save()
    return buf.getvalue()


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


class FakeDefaultPrinter:
    """The system's default printer as the tests see it: a PDF file per job in tmp_path, or none at all."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.jobs: list[Path] = []
        self.present = True

    def __call__(self) -> QPrinter | None:
        if not self.present:
            return None
        path = self.directory / f"job{len(self.jobs) + 1}.pdf"
        self.jobs.append(path)
        return pdf_printer(path)


def read_pdf(path: Path) -> tuple[int, list[tuple[float, float]]]:
    """Pages and their sizes in points, read back with QtPdf."""
    doc = load_pdf(path.read_bytes(), QApplication.instance())
    try:
        sizes = [
            (doc.pagePointSize(i).width(), doc.pagePointSize(i).height()) for i in range(doc.pageCount())
        ]
        return doc.pageCount(), sizes
    finally:
        doc.deleteLater()


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("poppler-utils is missing: `make install` should have installed it")
        pytest.skip("poppler-utils not installed (make install adds it)")
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def assert_size(actual: tuple[float, float], expected: tuple[float, float]) -> None:
    assert actual == pytest.approx(expected, abs=1.0)


def printed(events: list[EventView]) -> list[dict[str, object]]:
    return [e.body.to_json() for e in events if e.kind == "document_printed"]


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    """QPrinter and QtPdf need the application object, also in tests that show no widget."""


# --- the printer ------------------------------------------------------------------------------------------


def test_a_pdf_printer_gets_the_pdf_itself_with_its_pages_sizes_and_chinese_text(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    name = ReceiptPrinter().print_default(tiny_pdf(ROLL, A5), printer=pdf_printer(out), doc_name="受理回执")
    assert name == str(out)
    assert out.read_bytes().startswith(b"%PDF")
    pages, sizes = read_pdf(out)
    assert pages == 2
    assert_size(sizes[0], ROLL)
    assert_size(sizes[1], A5)
    assert "受理回执" in pdf_text(out) and "甘州区综治中心" in pdf_text(out)


def test_pages_are_painted_at_their_own_size_80mm_roll_then_a5(qtbot: QtBot, tmp_path: Path) -> None:
    """The path a real printer takes: each page drawn as an image on a page of the PDF's size."""
    printer = ReceiptPrinter()
    doc = load_pdf(tiny_pdf(ROLL, A5), printer)
    out = tmp_path / "painted.pdf"
    printer.paint(doc, pdf_printer(out))
    pages, sizes = read_pdf(out)
    assert pages == 2
    assert_size(sizes[0], ROLL)
    assert_size(sizes[1], A5)
    # The black bar came out black where the source has it (y = 60..80 pt from the top, inset 12 pt).
    back = load_pdf(out.read_bytes(), printer)
    image = back.render(0, QSize(round(ROLL[0]), round(ROLL[1])))
    assert QColor(image.pixel(round(ROLL[0] / 2), 70)).lightness() < 60
    assert QColor(image.pixel(round(ROLL[0] / 2), 120)).lightness() > 200


def test_no_default_printer_is_a_plain_message() -> None:
    with pytest.raises(PrintError) as caught:
        ReceiptPrinter(default_printer=lambda: None).print_default(tiny_pdf())
    assert caught.value.message == "未找到默认打印机：请在系统中设置默认打印机，或用“预览打印”另存为 PDF。"
    assert caught.value.message == no_default_printer_message()


@pytest.mark.qt_log_ignore(r"QPainter::begin\(\): Returned false")
def test_a_painter_that_cannot_begin_is_a_plain_message(tmp_path: Path) -> None:
    printer = ReceiptPrinter()
    doc = load_pdf(tiny_pdf(), printer)
    target = pdf_printer(tmp_path / "no-such-dir" / "out.pdf")  # the PDF engine cannot open the file
    with pytest.raises(PrintError) as caught:
        printer.paint(doc, target)
    assert "无法开始打印" in caught.value.message


def test_a_broken_pdf_is_a_plain_message(tmp_path: Path) -> None:
    with pytest.raises(PrintError) as caught:
        ReceiptPrinter().print_default(b"not a pdf", printer=pdf_printer(tmp_path / "x.pdf"))
    assert "无法读取" in caught.value.message


def test_the_preview_paints_the_pages_when_asked(qtbot: QtBot, tmp_path: Path) -> None:
    printer = ReceiptPrinter(default_printer=lambda: None)
    dialog = printer.preview(tiny_pdf(ROLL, A5), None, doc_name="受理回执 测试")
    qtbot.addWidget(dialog)
    assert isinstance(dialog, PreviewDialog) and dialog.isVisible()
    assert dialog.windowTitle() == "受理回执 测试"
    # Without a default printer the preview's print button saves a PDF.
    assert dialog.preview_printer.outputFormat() == QPrinter.OutputFormat.PdfFormat
    out = tmp_path / "preview.pdf"
    dialog.paintRequested.emit(pdf_printer(out))
    pages, sizes = read_pdf(out)
    assert pages == 2
    assert_size(sizes[0], ROLL)
    dialog.reject()


# --- the desk ---------------------------------------------------------------------------------------------


@pytest.fixture
def default_printer(tmp_path: Path) -> FakeDefaultPrinter:
    return FakeDefaultPrinter(tmp_path)


@pytest.fixture
def window(
    qtbot: QtBot, services: Services, clock: FixedClock, default_printer: FakeDefaultPrinter
) -> Iterator[MainWindow]:
    w = build_main_window(
        services,
        clock=clock,
        speech_engine="mock",
        receipt_printer=ReceiptPrinter(default_printer=default_printer),
    )
    qtbot.addWidget(w)
    with qtbot.waitActive(w):
        w.show()
    settle(qtbot)  # its first reads (the sync corner, the diverted count), off the UI thread
    yield w


def open_history(qtbot: QtBot, window: MainWindow, case_no: str) -> CaseHistoryDialog:
    """Open a case's history from the search dialog (read off the UI thread)."""
    search = window.open_search()
    with qtbot.waitSignal(search.sig_case_opened) as opened:
        search.open_case(case_no)
    dialog = opened.args[0]
    assert isinstance(dialog, CaseHistoryDialog)
    return dialog


def register_with_ticket(qtbot: QtBot, window: MainWindow) -> str:
    form = window.form
    qtbot.keyClicks(form.category_edit, "ljjf")
    form.name_edit.setText("张三")
    form.id_edit.setText(APPLICANT_ID)
    form.narrative_edit.setPlainText(str(visit()["narrative"]))
    with qtbot.waitSignal(window.intake.sig_route_proposed):
        qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    with qtbot.waitSignal(window.intake.sig_ticket_issued) as blocker:
        qtbot.keyClick(window.intake.routing.confirm_button, Qt.Key.Key_Return)
    case_no: str = blocker.args[0].ticket.case_no
    return case_no


def test_f9_prints_the_receipt_of_the_registered_case_and_records_it(
    qtbot: QtBot, window: MainWindow, services: Services, default_printer: FakeDefaultPrinter
) -> None:
    form = window.form
    case_no = register_with_ticket(qtbot, window)
    banner = window.intake.banner
    assert banner.print_row.isVisible() and banner.print_button.isEnabled()
    assert banner.print_button.text() == "打印回执 (F9)" and banner.preview_button.text() == "预览 (Shift+F9)"
    with qtbot.waitSignal(window.intake.sig_receipt_printed) as blocker:
        qtbot.keyClick(form.name_edit, Qt.Key.Key_F9)
    assert blocker.args == [case_no]
    assert printed(services.registration.case(case_no).events) == [{"document": "receipt", "reprint": False}]
    job = default_printer.jobs[-1]
    pages, sizes = read_pdf(job)
    assert pages == 1 and sizes[0][0] == pytest.approx(80 * MM, abs=1.0)
    text = pdf_text(job)
    assert "受理回执" in text and case_no in text and "A001" in text and "补打" not in text
    assert banner.print_message.text() == f"回执已送到打印机“{job}”"
    assert window.statusBar().currentMessage() == f"已打印 {case_no} 的回执"
    assert QApplication.focusWidget() is form.name_edit


def test_f9_waits_for_the_room_to_be_confirmed(qtbot: QtBot, window: MainWindow, services: Services) -> None:
    form = window.form
    qtbot.keyClicks(form.category_edit, "ljjf")
    form.name_edit.setText("张三")
    form.id_edit.setText(APPLICANT_ID)
    form.narrative_edit.setPlainText(str(visit()["narrative"]))
    with qtbot.waitSignal(window.intake.sig_route_proposed):
        qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    assert window.intake.banner.print_row.isVisible() and not window.intake.banner.print_button.isEnabled()
    assert window.intake.print_receipt() is None
    assert window.intake.banner.print_message.text() == "请先确认功能室（回车）或暂不取号（Esc），再打印回执"
    assert window.intake.receipt_case is not None
    assert printed(services.registration.case(window.intake.receipt_case).events) == []
    intake = window.intake
    qtbot.keyClick(intake.routing, Qt.Key.Key_Escape)  # no ticket now: the receipt can print without one
    assert window.intake.banner.print_button.isEnabled()
    with qtbot.waitSignal(window.intake.sig_receipt_printed):
        assert window.intake.print_receipt() is not None


def test_without_a_default_printer_the_message_is_plain_and_the_case_stays(
    qtbot: QtBot, window: MainWindow, services: Services, default_printer: FakeDefaultPrinter
) -> None:
    form = window.form
    case_no = register_with_ticket(qtbot, window)
    default_printer.present = False
    with qtbot.waitSignal(window.intake.sig_print_failed) as blocker:
        qtbot.keyClick(form.name_edit, Qt.Key.Key_F9)
    assert blocker.args == [no_default_printer_message()]
    message = window.intake.banner.print_message
    assert message.isVisible() and message.level == "error"
    assert message.text() == "回执未打印：" + no_default_printer_message()
    assert window.intake.banner.case_no_label.text() == case_no and window.intake.receipt_case == case_no
    detail = services.registration.case(case_no)
    assert detail.case_no == case_no and printed(detail.events) == []
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.inherits("QMessageBox")]
    # The clerk fixes the printer and presses F9 again.
    default_printer.present = True
    with qtbot.waitSignal(window.intake.sig_receipt_printed):
        qtbot.keyClick(form.name_edit, Qt.Key.Key_F9)
    assert printed(services.registration.case(case_no).events) == [{"document": "receipt", "reprint": False}]


def test_shift_f9_previews_and_printing_from_the_preview_is_recorded(
    qtbot: QtBot, window: MainWindow, services: Services, tmp_path: Path
) -> None:
    form = window.form
    case_no = register_with_ticket(qtbot, window)
    qtbot.keyClick(form.name_edit, Qt.Key.Key_F9, Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot)  # the receipt is read and rendered off the UI thread
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PreviewDialog) and w.isVisible())
    assert dialog.parent() is window.intake
    out = tmp_path / "from-preview.pdf"
    dialog.paintRequested.emit(pdf_printer(out))
    pages, sizes = read_pdf(out)
    assert pages == 1 and sizes[0][0] == pytest.approx(80 * MM, abs=1.0)  # painted: pages, not text
    assert printed(services.registration.case(case_no).events) == []  # looking is not printing
    assert window.receipts is not None
    with qtbot.waitSignal(window.receipts.sig_printed):
        dialog.accept()  # what the preview's print button does once the pages went to the printer
    assert printed(services.registration.case(case_no).events) == [{"document": "receipt", "reprint": False}]


def test_reprint_from_the_case_history_is_marked_and_recorded(
    qtbot: QtBot, window: MainWindow, services: Services, default_printer: FakeDefaultPrinter
) -> None:
    case_no = register_with_ticket(qtbot, window)
    dialog = open_history(qtbot, window, case_no)
    qtbot.addWidget(dialog)
    assert dialog.reprint_button.isVisible() and dialog.reprint_button.text() == "补打回执"
    rows_before = dialog.event_model.rowCount()
    assert window.receipts is not None
    with qtbot.waitSignal(window.receipts.sig_printed) as blocker:
        dialog.reprint_button.click()
    assert blocker.args == [case_no, True]
    assert printed(services.registration.case(case_no).events) == [{"document": "receipt", "reprint": True}]
    text = pdf_text(default_printer.jobs[-1])
    assert "补打" in text and case_no in text
    # The history shows the print at once (read again off the UI thread).
    settle(qtbot)
    model = dialog.event_model
    assert model.rowCount() == rows_before + 1
    assert model.index(model.rowCount() - 1, 1).data() == "补打回执"
    assert dialog.print_message.text().startswith("已补打回执")


def test_reprint_failure_is_said_in_the_history_dialog(
    qtbot: QtBot, window: MainWindow, services: Services, default_printer: FakeDefaultPrinter
) -> None:
    case_no = register_with_ticket(qtbot, window)
    default_printer.present = False
    dialog = open_history(qtbot, window, case_no)
    qtbot.addWidget(dialog)
    finish(qtbot, dialog.reprint_receipt())
    assert dialog.print_message.text() == "回执未补打：" + no_default_printer_message()
    assert printed(services.registration.case(case_no).events) == []


def test_the_reprint_preview_opens_and_records_a_reprint(
    qtbot: QtBot, window: MainWindow, services: Services, tmp_path: Path
) -> None:
    case_no = register_with_ticket(qtbot, window)
    dialog = open_history(qtbot, window, case_no)
    qtbot.addWidget(dialog)
    finish(qtbot, dialog.preview_reprint())
    preview = dialog.preview
    assert isinstance(preview, PreviewDialog) and preview.isVisible()
    out = tmp_path / "reprint-preview.pdf"
    preview.paintRequested.emit(pdf_printer(out))
    assert read_pdf(out)[0] == 1
    preview.accept()
    settle(qtbot)  # recorded, and the history read again, off the UI thread
    assert printed(services.registration.case(case_no).events) == [{"document": "receipt", "reprint": True}]
    assert dialog.event_model.index(dialog.event_model.rowCount() - 1, 1).data() == "补打回执"


def test_case_receipts_render_the_receipt_data_for_the_case(
    qtbot: QtBot, services: Services, default_printer: FakeDefaultPrinter
) -> None:
    """The data handed to the renderer is the service's, with the reprint mark passed through."""
    case_no = services.registration.register(visit()).case_no
    seen: list[tuple[ReceiptData, str]] = []

    def render(data: ReceiptData, fmt: str) -> bytes:
        seen.append((data, fmt))
        return tiny_pdf(A5)

    receipts = CaseReceipts(
        services.documents, ReceiptPrinter(default_printer=default_printer), fmt="a5", render=render
    )
    ops = OpRunner()
    with qtbot.waitSignal(receipts.sig_printed):
        receipts.print_receipt(ops, case_no, reprint=True, success=lambda _name: None, failure=pytest.fail)
    assert [(d.case_no, d.reprint, fmt) for d, fmt in seen] == [(case_no, True, "a5")]
    assert_size(read_pdf(default_printer.jobs[-1])[1][0], A5)


def test_printing_is_labelled_in_the_history() -> None:
    from desk.core.events import DocumentPrinted, RiskFlagged
    from desk.ui.models.case_table import event_label

    assert event_label(DocumentPrinted("receipt", False)) == "打印回执"
    assert event_label(DocumentPrinted("receipt", True)) == "补打回执"
    assert event_label(DocumentPrinted("agreement", False)) == "打印调解协议书"
    assert event_label(RiskFlagged(("extreme",))) == "风险标记"
