"""A malformed county URL in the window: the sync corner says what is wrong, in red, as its status text -- no
traceback dialog, no password."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desk.app import build_main_window, build_services
from desk.core.clock import FixedClock
from desk.store.session import Store
from desk.sync.engine import sync_status
from tests.conftest import staff
from tests.ui.waiting import settle

ROUND_MS = 30_000


def test_a_malformed_county_url_is_the_sync_corners_message(
    qtbot: QtBot, sqlite_store: Store, clock: FixedClock
) -> None:
    url = "postgresql+psycopg://desk:secret-pw@county.lan:99999/county"
    services = build_services(sqlite_store, clock, county_url=url, principal=staff("测试前台"))
    window = build_main_window(services, clock=clock, speech_engine="mock")
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
    settle(qtbot)
    bar = window.sync_bar
    assert bar is not None and bar.runner is not None
    with qtbot.waitSignal(bar.runner.sig_failed, timeout=ROUND_MS) as blocker:
        qtbot.mouseClick(bar.sync_button, Qt.MouseButton.LeftButton)
    message = blocker.args[0]
    assert message.startswith("县级数据库地址无效：端口 99999 超出范围")
    qtbot.waitUntil(lambda: bar.error_label.isVisible())
    assert bar.error_label.text() == "县级数据库地址无效"  # the first clause; all of it in the tooltip
    assert bar.error_label.toolTip() == message == sync_status(sqlite_store).last_error
    assert bar.sync_button.isEnabled()  # the next round may try again (after the address is fixed)
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    for text in (message, bar.error_label.text(), bar.state_label.toolTip(), bar.sync_button.toolTip()):
        assert "secret-pw" not in text
