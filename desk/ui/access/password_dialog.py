"""修改密码: the signed-in person changes their own password -- the old one, the new one typed twice; the check
runs off the UI thread (Argon2), a refusal is said in place and nothing typed is kept in the fields after it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from desk.errors import DeskError
from desk.ui.access.widgets import BusyLine, secret_edit
from desk.ui.ops import OpRunner


class PasswordDialog(QDialog):
    """Enter moves from field to field and submits from the last; Esc closes without a change."""

    def __init__(self, change: Callable[[str, str], None], *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._change = change
        self.ops = OpRunner(self, report=lambda text: self.message.setText(text))
        self.setWindowTitle(self.tr("修改本人密码"))
        self.old_edit = secret_edit(self, self.tr("原密码"))
        self.new_edit = secret_edit(self, self.tr("至少 8 个字符，不能全是数字"))
        self.again_edit = secret_edit(self, self.tr("再输入一次新密码"))
        form = QFormLayout()
        form.addRow(self.tr("原密码(&O)"), self.old_edit)
        form.addRow(self.tr("新密码(&N)"), self.new_edit)
        form.addRow(self.tr("确认新密码(&A)"), self.again_edit)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b91c1c;")
        self.busy = BusyLine(self.tr("正在保存…"), self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("保存 (Enter)"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消 (Esc)"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.old_edit.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        """Enter moves to the next field and submits from the last (the dialog's default button never sees it)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            focus = self.focusWidget()
            if focus is self.old_edit:
                self.new_edit.setFocus()
            elif focus is self.new_edit:
                self.again_edit.setFocus()
            else:
                self.submit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        old, new, again = self.old_edit.text(), self.new_edit.text(), self.again_edit.text()
        if not old or not new:
            self._say(DeskError(self.tr("请输入原密码和新密码")))
            return
        if new != again:
            self.new_edit.clear()
            self.again_edit.clear()
            self.new_edit.setFocus()
            self._say(DeskError(self.tr("两次输入的新密码不一致")))
            return
        change = self._change
        self.busy.set_busy(True)
        self.buttons.setEnabled(False)
        self.ops.run(
            lambda: change(old, new), name="change own password", success=self._done, failure=self._say
        )

    def _done(self, _result: object) -> None:
        self.busy.set_busy(False)
        self.accept()

    def _say(self, error: DeskError) -> None:
        self.busy.set_busy(False)
        self.buttons.setEnabled(True)
        for edit in (self.old_edit, self.new_edit, self.again_edit):
            edit.clear()
        self.old_edit.setFocus()
        self.message.setText(error.message)
