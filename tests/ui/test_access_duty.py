"""Switching the mediator on duty at a room terminal: F2, a digit, the PIN and Enter; the title and the status bar
name who took over; a wrong PIN is said in place."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
from pytestqt.qtbot import QtBot

from desk.ui.access.duty import OnDutyDialog, OnDutySwitch
from tests.ui.access_fakes import FakeAuth, hall_auth
from tests.ui.waiting import settle

TITLE = "一厅通 · 1号人民调解室 · 功能室终端"


@pytest.fixture
def auth() -> FakeAuth:
    return hall_auth(terminal="调解一室")


@pytest.fixture
def terminal(qtbot: QtBot) -> QMainWindow:
    w = QMainWindow()
    w.setWindowTitle(TITLE)
    w.setCentralWidget(QLabel("排队：3 人", w))
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w


@pytest.fixture
def switch(terminal: QMainWindow, auth: FakeAuth) -> OnDutySwitch:
    return OnDutySwitch(terminal, auth, "R01", room_label="1号人民调解室")


def press_f2(qtbot: QtBot, terminal: QMainWindow, switch: OnDutySwitch) -> OnDutyDialog:
    qtbot.keyClick(terminal, Qt.Key.Key_F2)
    dialog = switch.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(dialog.list.hasFocus)
    return dialog


def test_f2_digit_pin_enter(
    qtbot: QtBot, terminal: QMainWindow, switch: OnDutySwitch, auth: FakeAuth
) -> None:
    assert terminal.windowTitle() == TITLE
    dialog = press_f2(qtbot, terminal, switch)
    settle(qtbot)
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == [
        "1　刘秀英（liuxy）",
        "2　马建国（majg）",
        "3　扎西·次仁（zhaxi）",
    ]
    qtbot.keyClick(dialog.list, Qt.Key.Key_2)  # the second keystroke
    assert QApplication.focusWidget() is dialog.secret_edit
    assert dialog.chosen_label.text() == "接班人：马建国（majg）"
    qtbot.keyClicks(dialog.secret_edit, "5678")
    with qtbot.waitSignal(switch.sig_switched) as switched:
        qtbot.keyClick(dialog.secret_edit, Qt.Key.Key_Return)
    principal = switched.args[0]
    assert (principal.login, principal.terminal) == ("majg", "调解一室")
    assert terminal.windowTitle() == f"{TITLE} · 值班：马建国"
    assert switch.status_label is not None and switch.status_label.text().startswith("值班：马建国（majg）")
    settle(qtbot)
    assert not dialog.isVisible()
    assert ("switch_on_duty", ("majg",)) in auth.calls


def test_a_password_does_too(qtbot: QtBot, terminal: QMainWindow, switch: OnDutySwitch) -> None:
    dialog = press_f2(qtbot, terminal, switch)
    settle(qtbot)
    qtbot.keyClick(dialog.list, Qt.Key.Key_3)  # 扎西 has no PIN
    qtbot.keyClicks(dialog.secret_edit, "zhaxi-pass-1")
    with qtbot.waitSignal(switch.sig_switched):
        qtbot.keyClick(dialog.secret_edit, Qt.Key.Key_Return)
    assert "扎西·次仁" in terminal.windowTitle()


def test_a_wrong_pin_is_said_in_place(qtbot: QtBot, terminal: QMainWindow, switch: OnDutySwitch) -> None:
    dialog = press_f2(qtbot, terminal, switch)
    settle(qtbot)
    qtbot.keyClick(dialog.list, Qt.Key.Key_1)
    qtbot.keyClicks(dialog.secret_edit, "0000")
    qtbot.keyClick(dialog.secret_edit, Qt.Key.Key_Return)
    settle(qtbot)
    assert dialog.isVisible() and dialog.message.text() == "PIN 或密码不正确"
    assert dialog.secret_edit.text() == "" and QApplication.focusWidget() is dialog.secret_edit
    assert dialog.chosen() is not None and dialog.chosen().login == "liuxy"  # still picked
    assert switch.principal is None and terminal.windowTitle() == TITLE
    qtbot.keyClicks(dialog.secret_edit, "1234")
    with qtbot.waitSignal(switch.sig_switched):
        qtbot.keyClick(dialog.secret_edit, Qt.Key.Key_Return)


def test_a_number_nobody_has(qtbot: QtBot, terminal: QMainWindow, switch: OnDutySwitch) -> None:
    dialog = press_f2(qtbot, terminal, switch)
    settle(qtbot)
    qtbot.keyClick(dialog.list, Qt.Key.Key_7)
    assert dialog.message.text() == "没有 7 号" and dialog.list.hasFocus()


def test_a_digit_typed_before_the_list_came_is_kept(
    qtbot: QtBot, terminal: QMainWindow, switch: OnDutySwitch, auth: FakeAuth
) -> None:
    auth.gate = threading.Event()
    dialog = press_f2(qtbot, terminal, switch)
    qtbot.keyClick(dialog.list, Qt.Key.Key_2)  # faster than the store
    auth.gate.set()
    qtbot.waitUntil(dialog.secret_edit.hasFocus)
    assert dialog.chosen() is not None and dialog.chosen().login == "majg"


def test_escape_leaves_who_was_on_duty(qtbot: QtBot, terminal: QMainWindow, switch: OnDutySwitch) -> None:
    dialog = press_f2(qtbot, terminal, switch)
    settle(qtbot)
    qtbot.keyClick(dialog.list, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and switch.principal is None and terminal.windowTitle() == TITLE


def test_a_room_without_mediator_accounts(qtbot: QtBot, terminal: QMainWindow, auth: FakeAuth) -> None:
    switch = OnDutySwitch(terminal, auth, "R09")
    dialog = press_f2(qtbot, terminal, switch)
    settle(qtbot)
    assert dialog.list.count() == 0 and dialog.message.text() == "本室没有可以值班的调解员账户"
