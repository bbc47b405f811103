"""The idle lock: after the (injected) idle time the window is covered, nothing of it shows or takes a key; only the
same person's password or PIN unlocks; 换人登录 hands over; a modal dialog open at the time gets the panel."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QMainWindow, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from desk.core.permissions import Principal
from desk.ui.access.lock import COVER_COLOUR, IdleLock
from tests.ui.access_fakes import FakeAuth, hall_auth
from tests.ui.waiting import settle

IDLE_MS = 150


class Window(QMainWindow):
    """A window with personal data on it, and a shortcut."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("一厅通 · 前台")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.data = QLabel("张三　身份证号 620702198501011234　电话 13912345678", body)
        self.data.setStyleSheet("background: white; color: black; font-size: 20px;")
        self.edit = QLineEdit(body)
        layout.addWidget(self.data)
        layout.addWidget(self.edit)
        layout.addStretch(1)
        self.setCentralWidget(body)
        self.statusBar().showMessage("已同步")
        self.shortcut_hits = 0
        QShortcut(QKeySequence("Ctrl+K"), self).activated.connect(self._on_shortcut)
        self.resize(900, 560)

    def _on_shortcut(self) -> None:
        self.shortcut_hits += 1


@pytest.fixture
def auth() -> FakeAuth:
    return hall_auth()


@pytest.fixture
def principal(auth: FakeAuth) -> Principal:
    return auth.sign_in("zhangsan", "desk-pass-1")


@pytest.fixture
def window(qtbot: QtBot) -> Window:
    w = Window()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.edit.setFocus()
    return w


def make_lock(window: QWidget, auth: FakeAuth, principal: Principal, **kwargs: object) -> IdleLock:
    kwargs.setdefault("timeout_ms", IDLE_MS)
    return IdleLock(window, auth, principal, **kwargs)  # type: ignore[arg-type]


def covered(window: Window) -> bool:
    """The personal data's pixels are the cover's, not the label's."""
    image = window.grab().toImage()
    corner = window.data.mapTo(window, window.data.rect().topLeft() + QPoint(3, 3))
    return image.pixelColor(corner) == QColor(COVER_COLOUR)


def unlock_with(qtbot: QtBot, lock: IdleLock, secret: str) -> None:
    qtbot.keyClicks(lock.panel.secret_edit, secret)
    qtbot.keyClick(lock.panel.secret_edit, Qt.Key.Key_Return)
    settle(qtbot)


def test_idle_time_locks_and_covers_everything(
    qtbot: QtBot, window: Window, auth: FakeAuth, principal: Principal
) -> None:
    lock = make_lock(window, auth, principal)
    assert not covered(window)
    with qtbot.waitSignal(lock.sig_locked, timeout=3000):
        pass
    assert lock.is_locked()
    assert covered(window)
    assert "张三（zhangsan）" in lock.panel.who_label.text()
    cover = lock.panel.parentWidget()
    assert cover is not None and cover.geometry() == window.rect()  # the menus and status bar too
    qtbot.waitUntil(lock.panel.secret_edit.hasFocus)
    window.resize(1100, 700)  # the cover follows the window
    qtbot.waitUntil(lambda: cover.geometry() == window.rect())


def test_only_the_same_persons_secret_unlocks(
    qtbot: QtBot, window: Window, auth: FakeAuth, principal: Principal
) -> None:
    lock = make_lock(window, auth, principal)
    lock.lock_now()
    unlock_with(qtbot, lock, "admin-pass-1")  # someone else's password
    assert lock.is_locked() and lock.panel.message.text() == "密码或 PIN 不正确"
    assert lock.panel.secret_edit.text() == "" and lock.panel.secret_edit.hasFocus()
    with qtbot.waitSignal(lock.sig_unlocked) as unlocked:
        unlock_with(qtbot, lock, "desk-pass-1")
    assert unlocked.args[0].login == "zhangsan"
    assert not lock.is_locked() and not covered(window)
    assert window.edit.hasFocus()  # the keyboard goes back where it was
    assert lock._timer.isActive()  # and the idle time counts again
    assert ("unlock", ("zhangsan",)) in auth.calls


def test_a_pin_unlocks_too(qtbot: QtBot, window: Window, auth: FakeAuth) -> None:
    mediator = auth.switch_on_duty("liuxy", "1234")
    lock = make_lock(window, auth, mediator)
    lock.lock_now()
    unlock_with(qtbot, lock, "1234")
    assert not lock.is_locked()


def test_nothing_reaches_the_window_while_locked(
    qtbot: QtBot, window: Window, auth: FakeAuth, principal: Principal
) -> None:
    lock = make_lock(window, auth, principal)
    qtbot.keyClick(window.edit, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.shortcut_hits == 1
    lock.lock_now()
    qtbot.keyClick(lock.panel.secret_edit, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.edit, "abc")  # sent straight at the covered field
    qtbot.mouseClick(window.edit, Qt.MouseButton.LeftButton)
    assert window.shortcut_hits == 1 and window.edit.text() == ""
    assert lock.is_locked()


def test_input_puts_the_lock_off(qtbot: QtBot, window: Window, auth: FakeAuth, principal: Principal) -> None:
    lock = make_lock(window, auth, principal, timeout_ms=2000)
    qtbot.waitUntil(lambda: lock._timer.remainingTime() < 1500)
    qtbot.keyClick(window.edit, Qt.Key.Key_A)
    assert lock._timer.remainingTime() > 1800 and not lock.is_locked()


def test_zero_minutes_never_locks(window: Window, auth: FakeAuth, principal: Principal) -> None:
    lock = IdleLock(window, auth, principal, minutes=0)
    assert not lock._timer.isActive() and lock.timeout_ms() == 0
    lock.lock_now()  # but it can still be locked at once
    assert lock.is_locked()


def test_switch_user_signs_the_next_person_in(
    qtbot: QtBot, window: Window, auth: FakeAuth, principal: Principal
) -> None:
    handed: list[Principal] = []
    lock = make_lock(window, auth, principal, hall_name="甘州区综治中心", on_switch_user=handed.append)
    lock.lock_now()
    assert lock.panel.switch_button.isVisible()
    lock.panel.switch_button.click()
    dialog = lock.sign_in_dialog
    assert dialog is not None and dialog.isVisible() and dialog not in lock._covers
    settle(qtbot)
    assert dialog.terminal_label.text() == "终端：前台1"
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Escape)  # changed their mind: back to the lock
    assert lock.is_locked() and handed == []
    lock.panel.switch_button.click()
    dialog = lock.sign_in_dialog
    assert dialog is not None
    settle(qtbot)
    qtbot.keyClicks(dialog.login_edit, "zhaomin")  # typed through the lock: the dialog takes input
    qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.password_edit, "super-pass-1")
    with qtbot.waitSignal(lock.sig_user_switched):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert [p.login for p in handed] == ["zhaomin"]
    assert not lock.is_locked() and lock.principal.login == "zhaomin"
    lock.lock_now()
    assert "赵敏（zhaomin）" in lock.panel.who_label.text()


def test_without_an_owner_to_ask_there_is_no_switch_button(
    window: Window, auth: FakeAuth, principal: Principal
) -> None:
    lock = make_lock(window, auth, principal)
    lock.lock_now()
    assert not lock.panel.switch_button.isVisible()


def test_a_modal_dialog_open_at_the_time_takes_the_panel(
    qtbot: QtBot, window: Window, auth: FakeAuth, principal: Principal
) -> None:
    dialog = QDialog(window)
    qtbot.addWidget(dialog)
    dialog.setWindowTitle("案件详情")
    QVBoxLayout(dialog).addWidget(QLabel("李四　13800001111", dialog))
    dialog.resize(600, 400)
    dialog.open()
    qtbot.waitExposed(dialog)
    lock = make_lock(window, auth, principal)
    lock.lock_now()
    assert dialog in lock._covers and window in lock._covers
    assert lock._covers[dialog].isAncestorOf(lock.panel)  # where the keyboard can reach it
    qtbot.keyClick(lock.panel.secret_edit, Qt.Key.Key_Escape)
    assert dialog.isVisible()  # Esc does not close the dialog and its cover with it
    unlock_with(qtbot, lock, "desk-pass-1")
    assert not lock.is_locked() and dialog.isVisible()
    assert not any(
        isinstance(c, QWidget) and c.objectName() == "lockCover" and c.isVisible() for c in dialog.children()
    )


def test_a_window_opening_while_locked_is_covered(
    qtbot: QtBot, window: Window, auth: FakeAuth, principal: Principal
) -> None:
    lock = make_lock(window, auth, principal)
    lock.lock_now()
    late = QDialog(window)
    qtbot.addWidget(late)
    late.resize(400, 300)
    late.show()
    qtbot.waitUntil(lambda: late in lock._covers)
    assert QApplication.activePopupWidget() is None
    unlock_with(qtbot, lock, "desk-pass-1")
    assert not lock.is_locked()


def test_the_panel_survives_its_dialog(
    qtbot: QtBot, window: Window, auth: FakeAuth, principal: Principal
) -> None:
    """A modal dialog the panel sat on is deleted while locked (its owner closed it): the panel comes back on the
    window, and the lock holds."""
    dialog = QDialog(window)
    dialog.open()
    qtbot.waitExposed(dialog)
    lock = make_lock(window, auth, principal)
    lock.lock_now()
    assert lock._covers[dialog].isAncestorOf(lock.panel)
    dialog.deleteLater()
    qtbot.waitUntil(lambda: lock._covers[window].isAncestorOf(lock.panel) and lock.panel.isVisible())
    assert lock.is_locked() and covered(window)
    unlock_with(qtbot, lock, "desk-pass-1")
    assert not lock.is_locked()
