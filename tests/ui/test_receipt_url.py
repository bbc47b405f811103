"""The desk window without the receipt's QR base URL: F9 says why the receipt did not print and how to set it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desk.app import build_main_window, build_services
from desk.config import Settings
from desk.core.clock import FixedClock
from desk.store.session import Store
from desk.ui.printing import ReceiptPrinter
from tests.conftest import staff
from tests.ui.test_printing import FakeDefaultPrinter, register_with_ticket
from tests.ui.waiting import settle


def test_the_window_says_why_the_receipt_did_not_print(
    qtbot: QtBot, sqlite_store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    services = build_services(
        sqlite_store,
        clock,
        settings=Settings(),
        principal=staff("测试前台"),
    )  # no status_base_url
    default_printer = FakeDefaultPrinter(tmp_path)
    window = build_main_window(
        services,
        clock=clock,
        speech_engine="mock",
        receipt_printer=ReceiptPrinter(default_printer=default_printer),
    )
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
    settle(qtbot)
    case_no = register_with_ticket(qtbot, window)
    with qtbot.waitSignal(window.intake.sig_print_failed) as blocker:
        qtbot.keyClick(window.form.name_edit, Qt.Key.Key_F9)
    assert (
        "未设置 status_base_url" in blocker.args[0] and "desk settings set status_base_url" in blocker.args[0]
    )
    message = window.intake.banner.print_message
    assert message.isVisible() and message.level == "error"
    assert message.text().startswith("回执未打印：未设置 status_base_url")
    assert window.intake.receipt_case == case_no
    assert not default_printer.jobs  # nothing went to the printer
    window.grab().save(str(tmp_path / "refused.png"))
