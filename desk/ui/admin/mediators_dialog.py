"""The mediator roster (调解员名册): add, correct and retire mediators; rooms pick from it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.core.catalog import Category
from desk.errors import DeskError, ValidationError
from desk.forms.fields import FieldMessage
from desk.services.rooms import MediatorView, RoomsService
from desk.ui.ops import Op, OpRunner

logger = logging.getLogger(__name__)


class MediatorsDialog(QDialog):
    """A list of the roster on the left, the selected (or new) mediator's particulars on the right."""

    sig_saved = Signal(object)
    """A mediator was added or corrected (the `MediatorView`)."""

    def __init__(
        self, rooms: RoomsService, categories: Sequence[Category], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._rooms = rooms
        self._categories = list(categories)
        self._current: str | None = None
        self.setWindowTitle(self.tr("调解员名册"))
        self.resize(820, 520)

        self.roster = QListWidget(self)
        self.new_button = QPushButton(self.tr("新增调解员 (Ctrl+N)"), self)
        self.new_button.setShortcut("Ctrl+N")
        self.retire_button = QPushButton(self.tr("停用…"), self)
        left = QVBoxLayout()
        left.addWidget(self.roster, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.retire_button)
        left.addLayout(buttons)

        self.name_edit = QLineEdit(self)
        self.grade_edit = QLineEdit(self)
        self.grade_edit.setPlaceholderText(self.tr("如：金牌调解员、一级调解员、律师"))
        self.phone_edit = QLineEdit(self)
        self.messages = {f: FieldMessage(self) for f in ("name", "grade", "phone", "specialties")}
        form = QFormLayout()
        for label, editor, key in (
            (self.tr("姓名"), self.name_edit, "name"),
            (self.tr("等级"), self.grade_edit, "grade"),
            (self.tr("联系电话"), self.phone_edit, "phone"),
        ):
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(editor)
            column.addWidget(self.messages[key])
            form.addRow(label, column)
        grid = QGridLayout()
        self.specialty_boxes: dict[str, QCheckBox] = {}
        for i, c in enumerate(self._categories):
            box = QCheckBox(c.name, self)
            self.specialty_boxes[c.code] = box
            grid.addWidget(box, i // 3, i % 3)
        spec = QVBoxLayout()
        spec.addLayout(grid)
        spec.addWidget(self.messages["specialties"])
        form.addRow(self.tr("擅长类别"), spec)
        self.status = QLabel(self)
        self.save_button = QPushButton(self.tr("保存 (Enter)"), self)
        # Enter in a field saves (returnPressed); no default button, so one Enter is one save.
        self.save_button.setAutoDefault(False)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        for button in (self.new_button, self.retire_button, *close.buttons()):
            if isinstance(button, QPushButton):
                button.setAutoDefault(False)  # Enter in a field must save, not press the first button
        right = QVBoxLayout()
        right.addLayout(form)
        right.addStretch(1)
        right.addWidget(self.status)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        row.addWidget(close)
        right.addLayout(row)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addLayout(right, 3)

        self.roster.currentItemChanged.connect(self._on_current_changed)
        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self.save)
        self.retire_button.clicked.connect(self._on_retire_clicked)
        for edit in (self.name_edit, self.grade_edit, self.phone_edit):
            edit.returnPressed.connect(self.save)
        self.ops = OpRunner(self, report=self.status.setText)
        self.reload()

    # --- the roster -------------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> Op[list[MediatorView]] | None:
        """Read the roster again (off the UI thread) and show `select` (else the current mediator)."""
        return self.ops.run(
            self._rooms.mediators, name="mediators", success=lambda roster: self._show_roster(roster, select)
        )

    def _show_roster(self, roster: list[MediatorView], select: str | None = None) -> None:
        self.roster.blockSignals(True)
        self.roster.clear()
        for m in roster:
            item = QListWidgetItem(f"{m.name}　{m.grade}" if m.grade else m.name)
            item.setData(Qt.ItemDataRole.UserRole, m)
            self.roster.addItem(item)
        self.roster.blockSignals(False)
        target = select or self._current
        for i in range(self.roster.count()):
            if self.roster.item(i).data(Qt.ItemDataRole.UserRole).id == target:
                self.roster.setCurrentRow(i)
                return
        if self.roster.count():
            self.roster.setCurrentRow(0)
        else:
            self.start_new()

    def _on_current_changed(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is None:
            return
        self._show(item.data(Qt.ItemDataRole.UserRole))

    def _show(self, m: MediatorView) -> None:
        self._current = m.id
        self.name_edit.setText(m.name)
        self.grade_edit.setText(m.grade)
        self.phone_edit.setText(m.phone)
        for code, box in self.specialty_boxes.items():
            box.setChecked(code in m.specialties)
        self._clear_messages()
        self.retire_button.setEnabled(True)

    def start_new(self) -> None:
        """Empty particulars for a new mediator; the name field has the focus."""
        self._current = None
        self.roster.clearSelection()
        for edit in (self.name_edit, self.grade_edit, self.phone_edit):
            edit.clear()
        for box in self.specialty_boxes.values():
            box.setChecked(False)
        self._clear_messages()
        self.retire_button.setEnabled(False)
        self.status.setText(self.tr("新增调解员：填写后按 Enter 保存"))
        self.name_edit.setFocus()

    # --- saving ---------------------------------------------------------------------------------------

    def save(self) -> Op[tuple[MediatorView, list[MediatorView]]] | None:
        """Store the particulars as typed (off the UI thread); `sig_saved` says when they are stored."""
        self._clear_messages()
        rooms, current = self._rooms, self._current
        name, grade, phone = self.name_edit.text(), self.grade_edit.text(), self.phone_edit.text()
        specialties = [c for c, box in self.specialty_boxes.items() if box.isChecked()]

        def work() -> tuple[MediatorView, list[MediatorView]]:
            saved = rooms.save_mediator(current, name=name, grade=grade, specialties=specialties, phone=phone)
            return saved, rooms.mediators()

        return self.ops.run(
            work, key="save", name="save mediator", success=self._on_saved, failure=self._on_refused
        )

    def _on_saved(self, result: tuple[MediatorView, list[MediatorView]]) -> None:
        saved, roster = result
        self._show_roster(roster, saved.id)
        self.status.setText(self.tr("已保存：{name}").format(name=saved.name))
        self.sig_saved.emit(saved)

    def _on_refused(self, error: DeskError) -> None:
        if not isinstance(error, ValidationError):
            self.ops.report(error)
            return
        # Kept local: each problem under its field.
        for p in error.problems:
            self.messages.get(p.field, self.messages["name"]).show_error(p.message)
        self.status.setText(self.tr("未保存：有 {n} 处需要更正").format(n=len(error.problems)))

    def _on_retire_clicked(self) -> None:
        if self._current is None:
            return
        answer = QMessageBox.question(
            self,
            self.tr("停用调解员"),
            self.tr("停用“{name}”？此人将从名册和各功能室的驻室人员中移除，已有的办理记录不受影响。").format(
                name=self.name_edit.text()
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.retire_current()

    def retire_current(self) -> Op[list[MediatorView]] | None:
        if self._current is None:
            return None
        name, rooms, mediator = self.name_edit.text(), self._rooms, self._current

        def work() -> list[MediatorView]:
            rooms.retire_mediator(mediator)
            return rooms.mediators()

        def retired(roster: list[MediatorView]) -> None:
            self._current = None
            self._show_roster(roster)
            self.status.setText(self.tr("已停用：{name}").format(name=name))

        return self.ops.run(work, name="retire mediator", success=retired)

    def _clear_messages(self) -> None:
        for m in self.messages.values():
            m.clear_message()
        self.status.clear()
