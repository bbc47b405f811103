"""The sign-in dialog the desk opens with: login and password, checked by `AuthService.sign_in` off the UI thread;
a refusal (a wrong password, an account locked for 15 minutes) is said under the fields, in Chinese."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.core.permissions import Principal
from desk.errors import DeskError
from desk.forms.fields import FieldMessage
from desk.ui.access.api import AuthApi
from desk.ui.access.widgets import BusyLine, secret_edit
from desk.ui.ops import Op, OpRunner

logger = logging.getLogger(__name__)


class SignInDialog(QDialog):
    """Who is at this terminal. `exec()` gives Accepted with `principal` set once someone signed in; Rejected
    when they pressed Esc (the app does not start).

    Keyboard: the login, Enter (or Tab) to the password, Enter to sign in; Esc cancels."""

    sig_signed_in = Signal(object)
    """Someone signed in; carries their `Principal`."""

    def __init__(
        self,
        auth: AuthApi,
        *,
        hall_name: str,
        terminal: str,
        login: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._auth = auth
        self.principal: Principal | None = None
        self._busy = False
        self._cancelled = False
        self.setWindowTitle(self.tr("一厅通 · 登录"))
        self.setModal(True)

        self.hall_label = QLabel(hall_name, self)
        font = QFont(self.hall_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.hall_label.setFont(font)
        self.hall_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.terminal_label = QLabel(self.tr("终端：{terminal}").format(terminal=terminal), self)
        self.terminal_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.terminal_label.setStyleSheet("color: #555;")
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        self.login_edit = QLineEdit(login, self)
        self.login_edit.setMaxLength(64)
        self.login_edit.setPlaceholderText(self.tr("用户名"))
        self.password_edit = secret_edit(self, self.tr("密码"))
        width = self.fontMetrics().horizontalAdvance("0") * 30
        self.login_edit.setMinimumWidth(width)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        login_label = QLabel(self.tr("用户名(&U)"), self)
        login_label.setBuddy(self.login_edit)
        password_label = QLabel(self.tr("密码(&P)"), self)
        password_label.setBuddy(self.password_edit)
        form.addRow(login_label, self.login_edit)
        form.addRow(password_label, self.password_edit)

        self.message = FieldMessage(self)
        self.busy = BusyLine(self.tr("正在验证…"), self)
        self.sign_in_button = QPushButton(self.tr("登录 (Enter)"), self)
        self.cancel_button = QPushButton(self.tr("退出 (Esc)"), self)
        for button in (self.sign_in_button, self.cancel_button):
            button.setAutoDefault(False)  # Enter is handled by the fields: one Enter, one attempt
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.addWidget(self.hall_label)
        layout.addWidget(self.terminal_label)
        layout.addWidget(line)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addLayout(buttons)

        QWidget.setTabOrder(self.login_edit, self.password_edit)
        QWidget.setTabOrder(self.password_edit, self.sign_in_button)
        QWidget.setTabOrder(self.sign_in_button, self.cancel_button)
        self.login_edit.returnPressed.connect(self._on_login_entered)
        self.password_edit.returnPressed.connect(self.submit)
        self.sign_in_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self.ops = OpRunner(self, report=self.message.show_error)
        (self.password_edit if login else self.login_edit).setFocus()
        self._check_users()

    def _check_users(self) -> None:
        """A store without any account cannot be signed in to: say how the first admin is made."""
        self.ops.run(self._auth.has_users, name="has_users", success=self._on_users_checked)

    def _on_users_checked(self, has_users: bool) -> None:
        if not has_users:
            self.message.show_error(
                self.tr("本厅尚未创建任何用户：请管理员先在命令行运行 desk init 创建管理员")
            )
            self.sign_in_button.setEnabled(False)

    # --- signing in ------------------------------------------------------------------------------

    def submit(self) -> Op[Principal] | None:
        """Check the login and password (off the UI thread); None when nothing was asked (busy, a field empty)."""
        if self._busy or not self.sign_in_button.isEnabled():
            return None
        login = self.login_edit.text().strip()
        password = self.password_edit.text()
        if not login:
            self.message.show_error(self.tr("请输入用户名"))
            self.login_edit.setFocus()
            return None
        if not password:
            self.message.show_error(self.tr("请输入密码"))
            self.password_edit.setFocus()
            return None
        self.message.clear_message()
        self._set_busy(True)
        auth = self._auth
        return self.ops.run(
            lambda: auth.sign_in(login, password),
            name="sign_in",
            success=self._on_signed_in,
            failure=self._on_refused,
            finished=lambda: self._set_busy(False),
        )

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy.set_busy(busy)
        for w in (self.login_edit, self.password_edit, self.sign_in_button):
            w.setEnabled(not busy)
        if not busy and self.isVisible() and self.focusWidget() is None:
            self.password_edit.setFocus()

    def _on_signed_in(self, principal: Principal) -> None:
        if self._cancelled:
            return
        self.principal = principal
        self.password_edit.clear()
        logger.info("signed in at this terminal")  # who is in the audit, not in the log
        self.sig_signed_in.emit(principal)
        self.accept()

    def _on_refused(self, error: DeskError) -> None:
        self.message.show_error(error.message)
        self.password_edit.clear()
        self.password_edit.setEnabled(True)
        self.password_edit.setFocus()

    # --- keys ----------------------------------------------------------------------------------

    def _on_login_entered(self) -> None:
        """Enter in the login: on to the password while it is empty, else sign in."""
        if self.login_edit.text().strip() and not self.password_edit.text():
            self.message.clear_message()
            self.password_edit.setFocus()
            return
        self.submit()

    def reject(self) -> None:
        self._cancelled = True
        self.password_edit.clear()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.password_edit.clear()
        super().closeEvent(event)


def ask_sign_in(
    auth: AuthApi, *, hall_name: str, terminal: str, login: str = "", parent: QWidget | None = None
) -> Principal | None:
    """Show the sign-in dialog and wait: who signed in, or None when it was cancelled (Esc)."""
    dialog = SignInDialog(auth, hall_name=hall_name, terminal=terminal, login=login, parent=parent)
    try:
        if dialog.exec() == QDialog.DialogCode.Accepted:
            return dialog.principal
        return None
    finally:
        dialog.deleteLater()
