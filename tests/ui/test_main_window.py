"""The main window: title and status bar, Ctrl+N / Ctrl+F / Ctrl+Q, case search and a case's history."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desk.app import ErrorReporter, Services, build_main_window, describe_store
from desk.app import main as app_main
from desk.config import default_db_url
from desk.core.clock import FixedClock
from desk.errors import DeskError
from desk.services.registration import RegistrationService
from desk.ui.case_history import CaseHistoryDialog
from desk.ui.display.hall_display import HallDisplay
from desk.ui.fonts import register_cjk_font
from desk.ui.main_window import MainWindow
from desk.ui.room.terminal import RoomTerminal
from tests.conftest import staff, valid_id, visit
from tests.ui.waiting import settle

APPLICANT_ID = valid_id("62070219850101123")


@pytest.fixture
def window(qtbot: QtBot, services: Services, clock: FixedClock) -> Iterator[MainWindow]:
    w = build_main_window(
        services, store_label="数据库：本机 SQLite（测试）", clock=clock, speech_engine="mock"
    )
    qtbot.addWidget(w)
    with qtbot.waitActive(w):
        w.show()
    settle(qtbot)  # its first reads (the sync corner, the diverted count), off the UI thread
    yield w


def _answer(monkeypatch: pytest.MonkeyPatch, button: QMessageBox.StandardButton) -> list[str]:
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def test_title_and_status_bar_name_the_hall_and_the_store(window: MainWindow) -> None:
    assert window.windowTitle() == "一厅通 · 甘州区东街街道综治中心"
    assert window.hall_label.text() == "甘州区东街街道综治中心（620702001）"
    assert window.store_label.text() == "数据库：本机 SQLite（测试）"
    assert window.hall_label.isVisible() and window.store_label.isVisible()
    assert window.centralWidget() is window.intake and window.form is window.intake.form


def test_the_cursor_starts_in_the_applicant_name(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.form.name_edit)


def test_menus_carry_the_shortcuts(window: MainWindow) -> None:
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["文件(&F)", "案件(&C)", "大厅(&H)"]
    assert window.new_action.shortcut().toString() == "Ctrl+N"
    assert window.find_action.shortcut().toString() == "Ctrl+F"
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"


def test_ctrl_n_asks_before_discarding_typed_text(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = window.form
    form.name_edit.setFocus()
    qtbot.keyClicks(form.name_edit, "Zhang")

    asked = _answer(monkeypatch, QMessageBox.StandardButton.No)
    qtbot.keyClick(form.name_edit, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["表单中有尚未登记的内容，确定要清空吗？"]
    assert form.name_edit.text() == "Zhang"

    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    qtbot.keyClick(form.name_edit, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert asked
    assert form.name_edit.text() == ""


def test_ctrl_n_on_an_empty_form_does_not_ask(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _answer(monkeypatch, QMessageBox.StandardButton.No)
    window.intake.banner.show()
    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert asked == []
    assert not window.intake.banner.isVisible()


def test_ctrl_q_closes_after_confirmation(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    qtbot.keyClicks(window.form.name_edit, "Li")
    _answer(monkeypatch, QMessageBox.StandardButton.No)
    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert window.isVisible()
    _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_registering_reports_in_the_status_bar(qtbot: QtBot, window: MainWindow) -> None:
    form = window.form
    data = visit()
    with qtbot.waitSignal(window.intake.sig_registered) as blocker:
        qtbot.keyClicks(form.category_edit, "ljjf")
        form.name_edit.setText("张三")
        form.id_edit.setText(APPLICANT_ID)
        form.narrative_edit.setPlainText(str(data["narrative"]))
        qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    assert window.statusBar().currentMessage() == f"已登记 {blocker.args[0].case_no}"


def test_ctrl_f_finds_cases_and_double_click_opens_the_full_history(
    qtbot: QtBot, window: MainWindow, sqlite_service: RegistrationService
) -> None:
    first = sqlite_service.register(visit())
    sqlite_service.register(visit(), repeat_of=first.case_no)
    sqlite_service.register(
        visit(
            category="劳动争议纠纷", parties=[{"role": "applicant", "name": "李四", "phone": "13898765432"}]
        )
    )

    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    dialog = window.search_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.query_edit)

    qtbot.keyClicks(dialog.query_edit, APPLICANT_ID)
    with qtbot.waitSignal(dialog.sig_searched):  # searched off the UI thread
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    assert dialog.model.rowCount() == 1
    assert dialog.model.case_at(0).case_no == first.case_no
    assert "找到 1 件" in dialog.status.text()

    index = dialog.model.index(0, 0)
    rect = dialog.view.visualRect(index)
    with qtbot.waitSignal(dialog.sig_case_opened) as blocker:
        # A real double click is press, release, double-click; QTest's mouseDClick alone sends no release first.
        qtbot.mouseClick(dialog.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(dialog.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    history = blocker.args[0]
    assert isinstance(history, CaseHistoryDialog)
    qtbot.addWidget(history)
    assert len(dialog.history_dialogs) == 1  # one dialog per double click
    assert history.windowTitle() == f"案件 {first.case_no} 的全部记录"
    events = [history.event_model.index(r, 1).data() for r in range(history.event_model.rowCount())]
    assert events == ["登记受理", "期限", "重复访", "风险评估"]
    assert history.event_model.index(0, 2).data() == "测试前台（tester）"
    assert history.event_model.index(0, 0).data() == "2026-11-27 10:00"
    cells = [history.party_model.index(0, c).data() for c in range(history.party_model.columnCount())]
    assert cells[:2] == ["申请人", "张三"]
    assert APPLICANT_ID not in cells and cells[2] == APPLICANT_ID[:6] + "********" + APPLICANT_ID[-4:]
    assert history.narrative.toPlainText() == visit()["narrative"]

    with qtbot.waitSignal(dialog.sig_searched) as found:
        dialog.search("ls")
    assert found.args == [1]  # pinyin initials of 李四
    with qtbot.waitSignal(dialog.sig_searched) as found:
        dialog.search("无此人")
    assert found.args == [0]
    assert dialog.status.text() == "未找到匹配的案件"


def test_enter_on_a_search_result_opens_it(
    qtbot: QtBot, window: MainWindow, sqlite_service: RegistrationService
) -> None:
    first = sqlite_service.register(visit())
    dialog = window.open_search()
    dialog.search(first.case_no)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.view)
    with qtbot.waitSignal(dialog.sig_case_opened) as blocker:
        qtbot.keyClick(dialog.view, Qt.Key.Key_Return)
    qtbot.addWidget(blocker.args[0])
    assert blocker.args[0].detail.case_no == first.case_no


# --- the composition root's pieces -------------------------------------------------------------------


def test_the_cjk_font_is_registered(qtbot: QtBot) -> None:
    assert register_cjk_font() == "WenQuanYi Micro Hei"
    assert register_cjk_font() == "WenQuanYi Micro Hei"  # once per file


def test_store_description_hides_credentials() -> None:
    assert describe_store("sqlite:////var/lib/desk/desk.db") == "数据库：本机 SQLite（/var/lib/desk/desk.db）"
    text = describe_store("postgresql+psycopg://desk:s3cret@10.0.0.5:5432/county")
    assert text == "数据库：PostgreSQL（10.0.0.5:5432/county）"
    assert "s3cret" not in text and "desk:" not in text


def _open_box(reporter: ErrorReporter) -> QMessageBox | None:
    return reporter._box


def test_error_reporter_logs_and_shows_one_dialog(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reporter = ErrorReporter(tmp_path / "desk.log")
    try:
        raise RuntimeError("boom")
    except RuntimeError as e:
        with caplog.at_level(logging.ERROR, logger="desk.app"):
            reporter(RuntimeError, e, e.__traceback__)
            reporter(RuntimeError, e, e.__traceback__)
    assert [r.message for r in caplog.records] == ["unhandled RuntimeError", "unhandled RuntimeError"]
    box = reporter._box
    assert box is not None and box.isVisible()
    qtbot.addWidget(box)
    assert "意外错误" in box.text()
    box.close()
    assert _open_box(reporter) is None

    reporter(DeskError, DeskError("数据库已被锁定"), None)
    box = reporter._box
    assert box is not None and box.text() == "数据库已被锁定"
    qtbot.addWidget(box)
    box.close()


def test_main_opens_a_fresh_store_seeded_and_shows_the_desk(qapp: QApplication, tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    def look_and_close() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["title"] = windows[0].windowTitle()
        seen["store"] = windows[0].store_label.text()
        seen["categories"] = str(windows[0].form.category_list.count())
        for w in windows:
            w.close()
        qapp.quit()

    hook = sys.excepthook
    QTimer.singleShot(0, look_and_close)
    # the first start on the default store creates it
    assert app_main(db_url=default_db_url()) == 0
    assert seen["title"] == "一厅通 · 甘州区东街街道综治中心"
    assert seen["store"].startswith("数据库：本机 SQLite（")
    assert int(seen["categories"]) > 10
    assert sys.excepthook is hook  # put back on the way out
    log = (Path(os.environ["DESK_LOG_DIR"]) / "desk.log").read_text(encoding="utf-8")
    assert "initialised hall 620702001 on first start" in log


def test_main_shows_why_the_store_cannot_be_opened(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []

    def critical(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(critical))
    assert app_main(db_url="mysql://desk@localhost/desk") == 1
    assert shown == ["不支持的数据库地址：mysql（只支持 sqlite 与 postgresql）"]


# --- the hall's windows -------------------------------------------------------------------------------


def test_the_hall_menu_opens_a_room_terminal_the_display_and_the_rooms_settings(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert [a.text() for a in (window.terminal_action, window.display_action, window.rooms_action)] == [
        "功能室终端…",
        "大厅叫号屏",
        "功能室设置…",
    ]
    offered: list[list[str]] = []

    def get_item(
        _parent: object, _title: str, _label: str, items: list[str], *_args: object
    ) -> tuple[str, bool]:
        offered.append(items)
        return items[1], True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    window.terminal_action.trigger()
    settle(qtbot)  # the rooms to offer are read off the UI thread
    assert offered[0][:2] == ["R01  1号人民调解室（一楼东侧）", "R02  2号法律援助/律师调解室（一楼西侧）"]
    assert len(window.terminals) == 1
    # not given to qtbot: the window closes (and deletes) its hall windows itself, and qtbot would close a deleted one
    terminal = window.terminals[0]
    assert terminal.room.code == "R02" and terminal.isVisible()

    window.display_action.trigger()
    display = window.displays[0]
    assert display.isVisible() and display.hall_label.text() == "甘州区东街街道综治中心"

    window.rooms_action.trigger()
    settle(qtbot)
    assert window.rooms_dialog is not None and window.rooms_dialog.isVisible()
    assert window.rooms_dialog.room_list.count() == 9

    window.close()  # takes the hall's windows with it
    assert not terminal.isVisible() and not display.isVisible()


def test_a_terminal_opened_from_the_menu_has_its_own_on_duty_mediator(
    qtbot: QtBot, window: MainWindow
) -> None:
    first = window.open_room_terminal("R01")
    second = window.open_room_terminal("R01")
    for t in (first, second):
        qtbot.addWidget(t)
    first.set_on_duty(staff("刘秀英"))
    assert first.on_duty() == "刘秀英" and second.on_duty() != "刘秀英"
    assert first._queue is not second._queue


def test_a_ticket_is_reported_in_the_status_bar(qtbot: QtBot, window: MainWindow) -> None:
    form = window.form
    data = visit()
    qtbot.keyClicks(form.category_edit, "ljjf")
    form.name_edit.setText("张三")
    form.id_edit.setText(APPLICANT_ID)
    form.narrative_edit.setPlainText(str(data["narrative"]))
    with qtbot.waitSignal(window.intake.sig_route_proposed):
        qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    with qtbot.waitSignal(window.intake.sig_ticket_issued) as blocker:
        qtbot.keyClick(window.intake.routing.confirm_button, Qt.Key.Key_Return)
    case_no = blocker.args[0].ticket.case_no
    assert window.statusBar().currentMessage() == f"{case_no}：排队号 A001，1号人民调解室"


# --- the roles -------------------------------------------------------------------------------------


def _run_role(qapp: QApplication, window_type: type, **kwargs: object) -> tuple[int, list[QWidget]]:
    seen: list[QWidget] = []

    def look_and_close() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, window_type) and w.isVisible():
                seen.append(w)
                w.close()
        qapp.quit()

    QTimer.singleShot(0, look_and_close)
    return app_main(**kwargs), seen  # type: ignore[arg-type]


def test_role_room_opens_the_terminal_of_that_room(qapp: QApplication, tmp_path: Path) -> None:
    code, seen = _run_role(
        qapp,
        RoomTerminal,
        db_url=default_db_url(),
        role="room",
        room="R03",
        terminal="心理室电脑",
    )
    assert code == 0
    assert len(seen) == 1
    terminal = seen[0]
    assert isinstance(terminal, RoomTerminal)
    assert terminal.room.code == "R03" and terminal._queue.terminal == "心理室电脑"
    assert terminal._queue.actor == "测试员（tester）@心理室电脑" and terminal.on_duty() == "测试员"


def test_role_display_opens_the_calling_screen_full_screen(qapp: QApplication, tmp_path: Path) -> None:
    config = Path(os.environ["DESK_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text('{"speech_engine": "mock"}', encoding="utf-8")  # never a real voice
    code, seen = _run_role(qapp, HallDisplay, db_url=default_db_url(), role="display")
    assert code == 0
    assert len(seen) == 1
    assert seen[0].windowState() & Qt.WindowState.WindowFullScreen


def test_a_room_terminal_needs_a_known_room(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []

    def critical(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(critical))
    url = default_db_url()
    assert app_main(db_url=url, role="room") == 2
    assert app_main(db_url=url, role="room", room="R99") == 1
    assert app_main(db_url=url, role="lobby") == 2
    assert shown == [
        "功能室终端需要指定功能室：--room 功能室代码",
        "功能室 R99 不存在",
        "未知的窗口角色：lobby",
    ]
