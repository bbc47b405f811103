"""Switching the mediator on duty at a room terminal in two keystrokes plus a password or PIN: F2 lists the room's
mediators numbered 1–9, a digit picks one, and their PIN (or password) and Enter hand them the terminal
(`AuthService.switch_on_duty`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.core.permissions import Principal
from desk.errors import DeskError
from desk.forms.fields import FieldMessage
from desk.ui.access.api import AuthApi, UserRow
from desk.ui.access.widgets import BusyLine, secret_edit
from desk.ui.ops import Op, OpRunner

logger = logging.getLogger(__name__)

SWITCH_KEY = Qt.Key.Key_F2
MAX_NUMBERED = 9


class _CandidateList(QListWidget):
    """The room's mediators; a digit picks the one of that number (`sig_digit`)."""

    sig_digit = Signal(int)
    """A digit 1–9 was pressed; carries it."""

    sig_chosen = Signal()
    """Enter was pressed on a row."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        text = event.text()
        if len(text) == 1 and "1" <= text <= "9":
            self.sig_digit.emit(int(text))
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.sig_chosen.emit()
            return
        super().keyPressEvent(event)


class OnDutyDialog(QDialog):
    """Who takes the terminal: a digit picks the person, their PIN or password and Enter switch. A refusal (a
    wrong PIN, an account locked) is said in place; the person stays picked and the field is emptied."""

    sig_switched = Signal(object)
    """The terminal was handed over; carries the new `Principal`."""

    def __init__(
        self, auth: AuthApi, room_code: str, *, room_label: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._auth = auth
        self._room_code = room_code
        self._candidates: list[UserRow] = []
        self._loaded = False
        self._early_digit: int | None = None  # a digit typed before the list came back
        self._busy = False
        self.principal: Principal | None = None
        self.setWindowTitle(self.tr("换班：值班调解员"))
        self.setModal(True)

        heading = QLabel(
            self.tr("{room}：按数字选择接班人，再输入其 PIN 或密码").format(room=room_label or room_code),
            self,
        )
        heading.setWordWrap(True)
        self.list = _CandidateList(self)
        self.list.setMinimumWidth(self.fontMetrics().horizontalAdvance("0") * 44)
        self.list.setMinimumHeight(self.fontMetrics().height() * 8)
        self.chosen_label = QLabel(self.tr("接班人：（未选择）"), self)
        self.secret_edit = secret_edit(self, self.tr("PIN 或密码"))
        self.message = FieldMessage(self)
        self.busy = BusyLine(self.tr("正在验证…"), self)
        self.switch_button = QPushButton(self.tr("换班 (Enter)"), self)
        self.cancel_button = QPushButton(self.tr("取消 (Esc)"), self)
        for button in (self.switch_button, self.cancel_button):
            button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.switch_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.chosen_label)
        layout.addWidget(self.secret_edit)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addLayout(buttons)

        self.list.sig_digit.connect(self.pick)
        self.list.sig_chosen.connect(lambda: self.pick(self.list.currentRow() + 1))
        self.list.itemDoubleClicked.connect(lambda _item: self.pick(self.list.currentRow() + 1))
        self.secret_edit.returnPressed.connect(self.submit)
        self.switch_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self.ops = OpRunner(self, report=self.message.show_error)
        self.list.setFocus()
        self.reload()

    # --- the candidates --------------------------------------------------------------------------

    def reload(self) -> Op[Sequence[UserRow]] | None:
        auth, room = self._auth, self._room_code
        return self.ops.run(lambda: auth.on_duty_candidates(room), name="on_duty", success=self._show)

    def _show(self, candidates: Sequence[UserRow]) -> None:
        self._candidates = list(candidates)
        self.list.clear()
        for i, user in enumerate(self._candidates, start=1):
            number = str(i) if i <= MAX_NUMBERED else " "
            item = QListWidgetItem(
                self.tr("{number}　{name}（{login}）").format(number=number, name=user.name, login=user.login)
            )
            item.setData(Qt.ItemDataRole.UserRole, user.login)
            self.list.addItem(item)
        self._loaded = True
        if not self._candidates:
            self.message.show_error(self.tr("本室没有可以值班的调解员账户"))
        elif self._early_digit is not None:
            digit, self._early_digit = self._early_digit, None
            self.pick(digit)
        else:
            self.list.setCurrentRow(0)

    def candidates(self) -> list[UserRow]:
        return list(self._candidates)

    # --- picking and switching -----------------------------------------------------------------

    def pick(self, number: int) -> None:
        """The person numbered `number` (1-based) is the one taking over: on to their PIN."""
        if not self._loaded:
            self._early_digit = number
            return
        if not 1 <= number <= len(self._candidates):
            self.message.show_error(self.tr("没有 {n} 号").format(n=number))
            return
        user = self._candidates[number - 1]
        self.list.setCurrentRow(number - 1)
        self.chosen_label.setText(
            self.tr("接班人：{name}（{login}）").format(name=user.name, login=user.login)
        )
        self.message.clear_message()
        self.secret_edit.clear()
        self.secret_edit.setFocus()

    def chosen(self) -> UserRow | None:
        row = self.list.currentRow()
        return self._candidates[row] if 0 <= row < len(self._candidates) else None

    def submit(self) -> Op[Principal] | None:
        if self._busy:
            return None
        user = self.chosen()
        if user is None:
            self.message.show_error(self.tr("请先按数字选择接班人"))
            self.list.setFocus()
            return None
        secret = self.secret_edit.text()
        if not secret:
            self.message.show_error(self.tr("请输入 PIN 或密码"))
            self.secret_edit.setFocus()
            return None
        self._set_busy(True)
        auth, login = self._auth, user.login
        return self.ops.run(
            lambda: auth.switch_on_duty(login, secret),
            name="switch_on_duty",
            success=self._on_switched,
            failure=self._on_refused,
            finished=lambda: self._set_busy(False),
        )

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy.set_busy(busy)
        for w in (self.list, self.secret_edit, self.switch_button):
            w.setEnabled(not busy)

    def _on_switched(self, principal: Principal) -> None:
        self.principal = principal
        self.secret_edit.clear()
        logger.info("on duty switched at this terminal")
        self.sig_switched.emit(principal)
        self.accept()

    def _on_refused(self, error: DeskError) -> None:
        self.secret_edit.clear()
        self.secret_edit.setEnabled(True)
        self.message.show_error(error.message)
        self.secret_edit.setFocus()

    def reject(self) -> None:
        self.secret_edit.clear()
        super().reject()


class OnDutySwitch(QObject):
    """F2 at a room terminal: opens the `OnDutyDialog`; once someone took over, the window's title and its status
    bar name them, and `sig_switched` carries their `Principal` (the services' actor follows it)."""

    sig_switched = Signal(object)
    """The mediator on duty changed; carries the new `Principal`."""

    def __init__(
        self,
        window: QWidget,
        auth: AuthApi,
        room_code: str,
        *,
        room_label: str = "",
        principal: Principal | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._auth = auth
        self._room_code = room_code
        self._room_label = room_label
        self._base_title = window.windowTitle()
        self.principal = principal
        self.dialog: OnDutyDialog | None = None
        self.status_label: QLabel | None = None
        if isinstance(window, QMainWindow):
            self.status_label = QLabel(window)
            window.statusBar().addPermanentWidget(self.status_label)
        self.shortcut = QShortcut(QKeySequence(SWITCH_KEY), window)
        self.shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.shortcut.activated.connect(self.open)
        self._show_on_duty()

    def open(self) -> OnDutyDialog:
        """The switch dialog (one at a time: F2 again brings the open one forward)."""
        if self.dialog is not None and shiboken6.isValid(self.dialog) and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        dialog = OnDutyDialog(self._auth, self._room_code, room_label=self._room_label, parent=self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_switched.connect(self._on_switched)
        self.dialog = dialog
        dialog.open()
        dialog.list.setFocus()
        return dialog

    def set_principal(self, principal: Principal | None) -> None:
        """Who is on duty, told by the window (at sign-in): the title and the status bar name them."""
        self.principal = principal
        self._show_on_duty()

    def _on_switched(self, principal: Principal) -> None:
        self.principal = principal
        self._show_on_duty()
        self.sig_switched.emit(principal)

    def _show_on_duty(self) -> None:
        p = self.principal
        if p is None:
            self._window.setWindowTitle(self._base_title)
            if self.status_label is not None:
                self.status_label.setText(self.tr("值班：（无）  F2 换班"))
            return
        self._window.setWindowTitle(
            self.tr("{title} · 值班：{name}").format(title=self._base_title, name=p.name)
        )
        if self.status_label is not None:
            self.status_label.setText(
                self.tr("值班：{name}（{login}）  F2 换班").format(name=p.name, login=p.login)
            )
