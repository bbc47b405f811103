"""The sign-in dialog, walked from the keyboard: Enter and Tab, a refusal said under the fields (the password
emptied, the login kept), the lockout after five failures, the busy line while the check runs, Esc."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from desk.core.permissions import Role
from desk.ui.access.sign_in import SignInDialog
from tests.ui.access_fakes import FakeAuth, hall_auth
from tests.ui.waiting import settle


@pytest.fixture
def auth() -> FakeAuth:
    return hall_auth()


@pytest.fixture
def dialog(qtbot: QtBot, auth: FakeAuth) -> SignInDialog:
    d = SignInDialog(auth, hall_name="甘州区综治中心", terminal="前台1")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    d.activateWindow()
    qtbot.waitUntil(d.login_edit.hasFocus)
    settle(qtbot)
    return d


def focused() -> object:
    return QApplication.focusWidget()


def test_shows_the_hall_and_the_terminal(dialog: SignInDialog) -> None:
    assert dialog.hall_label.text() == "甘州区综治中心"
    assert dialog.terminal_label.text() == "终端：前台1"
    assert dialog.password_edit.echoMode() == dialog.password_edit.EchoMode.Password


def test_signing_in_with_enter(qtbot: QtBot, dialog: SignInDialog) -> None:
    qtbot.keyClicks(dialog.login_edit, "zhangsan")
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Return)  # on to the password
    assert focused() is dialog.password_edit
    qtbot.keyClicks(dialog.password_edit, "desk-pass-1")
    with qtbot.waitSignal(dialog.sig_signed_in) as signed:
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    principal = signed.args[0]
    assert (principal.login, principal.name, principal.terminal) == ("zhangsan", "张三", "前台1")
    assert principal.roles == frozenset({Role.DESK})
    assert dialog.principal == principal
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.password_edit.text() == ""  # nothing secret left in the widget


def test_tab_order(qtbot: QtBot, dialog: SignInDialog) -> None:
    order = [dialog.password_edit, dialog.sign_in_button, dialog.cancel_button, dialog.login_edit]
    for expected in order:
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        assert focused() is expected


def test_a_wrong_password_is_said_in_place(qtbot: QtBot, dialog: SignInDialog, auth: FakeAuth) -> None:
    dialog.login_edit.setText("zhangsan")
    dialog.password_edit.setText("wrong")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    settle(qtbot)
    assert dialog.message.text() == "用户名或密码不正确" and dialog.message.isVisible()
    assert dialog.login_edit.text() == "zhangsan"  # kept
    assert dialog.password_edit.text() == ""  # emptied for the next try
    assert focused() is dialog.password_edit
    assert dialog.isVisible() and dialog.principal is None
    # the next try from where the refusal left the keyboard
    qtbot.keyClicks(focused(), "desk-pass-1")
    with qtbot.waitSignal(dialog.sig_signed_in):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)


def test_five_failures_lock_the_account(qtbot: QtBot, dialog: SignInDialog) -> None:
    qtbot.keyClicks(dialog.login_edit, "zhangsan")
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Tab)
    for _ in range(5):
        qtbot.keyClicks(focused(), "guess")
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
        settle(qtbot)
    assert dialog.message.text() == "账户已锁定，请于 10:15 后再试"
    # the right password does not help until then
    qtbot.keyClicks(focused(), "desk-pass-1")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    settle(qtbot)
    assert dialog.message.text() == "账户已锁定，请于 10:15 后再试" and dialog.principal is None


def test_empty_fields_are_asked_for_without_a_check(
    qtbot: QtBot, dialog: SignInDialog, auth: FakeAuth
) -> None:
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Return)
    assert dialog.message.text() == "请输入用户名" and focused() is dialog.login_edit
    dialog.login_edit.setText("zhangsan")
    dialog.sign_in_button.click()
    assert dialog.message.text() == "请输入密码" and focused() is dialog.password_edit
    assert auth.calls == []


def test_busy_while_the_password_is_checked(qtbot: QtBot, dialog: SignInDialog, auth: FakeAuth) -> None:
    auth.gate = threading.Event()
    dialog.login_edit.setText("zhangsan")
    dialog.password_edit.setText("desk-pass-1")
    op = dialog.submit()
    assert op is not None
    assert (
        dialog.busy.isVisible()
        and not dialog.login_edit.isEnabled()
        and not dialog.sign_in_button.isEnabled()
    )
    assert dialog.submit() is None  # a second Enter is not a second check
    auth.gate.set()
    with qtbot.waitSignal(dialog.sig_signed_in):
        pass
    settle(qtbot)
    assert not dialog.busy.isVisible()
    assert [c for c, _ in auth.calls] == ["sign_in"]


def test_escape_cancels(qtbot: QtBot, dialog: SignInDialog) -> None:
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and dialog.principal is None


def test_a_store_without_accounts_says_how_to_make_one(qtbot: QtBot) -> None:
    d = SignInDialog(FakeAuth(), hall_name="甘州区综治中心", terminal="前台1")
    qtbot.addWidget(d)
    settle(qtbot)
    assert "desk init" in d.message.text() and not d.sign_in_button.isEnabled()
