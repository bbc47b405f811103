"""What the sign-in, lock and on-duty windows share: the secret field and the busy line shown while a password
is checked (Argon2 takes a noticeable moment, on a worker thread)."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QProgressBar, QWidget

logger = logging.getLogger(__name__)


def secret_edit(parent: QWidget, placeholder: str = "") -> QLineEdit:
    """A password (or PIN) field: dots, no autocompletion, nothing the input method remembers."""
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setInputMethodHints(
        Qt.InputMethodHint.ImhHiddenText
        | Qt.InputMethodHint.ImhSensitiveData
        | Qt.InputMethodHint.ImhNoPredictiveText
    )
    edit.setMaxLength(128)
    edit.setPlaceholderText(placeholder)
    return edit


class BusyLine(QWidget):
    """A running bar and what is under way ("正在验证…"); hidden when nothing is. Keeps its height when hidden,
    so the dialog does not jump."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # no end known: the bar runs
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(self.fontMetrics().horizontalAdvance("0") * 14)
        self.bar.setFixedHeight(self.fontMetrics().height() // 2 + 2)
        self.label = QLabel(text, self)
        self.label.setStyleSheet("color: #555;")
        row.addWidget(self.bar)
        row.addWidget(self.label)
        row.addStretch(1)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.hide()

    def set_busy(self, busy: bool) -> None:
        self.setVisible(busy)
