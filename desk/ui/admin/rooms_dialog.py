"""The rooms of "one hall + N rooms" as data the hall's administrator edits: name, kind, the categories a room
handles, ticket prefix, capacity, where it is, who is stationed there (and how), departments, open or closed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desk.core.routing import ROOM_KINDS, STATION_MODES
from desk.errors import DeskError, ValidationError
from desk.forms.fields import FieldMessage
from desk.ui.ops import Op, OpRunner

if TYPE_CHECKING:
    from desk.core.catalog import Category
    from desk.services.rooms import MediatorView, RoomsService, RoomView

logger = logging.getLogger(__name__)

FIELDS = ("name", "kind", "prefix", "capacity", "location", "categories", "staff", "departments")
# update_room's field names that are shown at another field's message
_SHOWN_AT = {"primary_categories": "categories"}


@dataclass(frozen=True)
class _Roster:
    """The rooms and the mediators who can be stationed in them, as read on a worker."""

    rooms: list[RoomView]
    mediators: list[MediatorView]


def _mode_combo(parent: QWidget, mode: str) -> QComboBox:
    combo = QComboBox(parent)
    for value, label in STATION_MODES.items():
        combo.addItem(label, value)
    index = combo.findData(mode)
    if index >= 0:
        combo.setCurrentIndex(index)
    return combo


class _StationRow(QWidget):
    """One stationed mediator or department: who (or which), how (常驻 / 轮驻 / 随叫随驻), and a remove button."""

    sig_remove_requested = Signal(object)
    """The row's remove button was pressed; carries the row."""

    def __init__(self, who: QWidget, mode: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.who = who
        who.setParent(self)
        self.mode_combo = _mode_combo(self, mode)
        self.remove_button = QPushButton(self.tr("删除"), self)
        self.remove_button.setAutoDefault(False)
        row.addWidget(who, 1)
        row.addWidget(self.mode_combo)
        row.addWidget(self.remove_button)
        self.remove_button.clicked.connect(lambda: self.sig_remove_requested.emit(self))

    def mode(self) -> str:
        return str(self.mode_combo.currentData())


class RoomsDialog(QDialog):
    """Edit the hall's rooms one at a time; "保存" sends the room to `RoomsService.update_room` and shows each
    refused field's message under that field."""

    sig_saved = Signal(object)
    """A room was saved; carries the `RoomView` as stored."""

    def __init__(
        self, rooms: RoomsService, categories: Sequence[Category], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._rooms_service = rooms
        self._categories = list(categories)
        self._mediators: list[MediatorView] = []
        self._rooms: list[RoomView] = []
        self._current: RoomView | None = None
        self._loaded: dict[str, Any] = {}
        self.staff_rows: list[_StationRow] = []
        self.department_rows: list[_StationRow] = []
        self.setWindowTitle(self.tr("功能室设置"))
        self.resize(1040, 680)

        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addWidget(QLabel(self.tr("功能室"), self))
        self.room_list = QListWidget(self)
        self.room_list.setFixedWidth(self.fontMetrics().horizontalAdvance("0") * 40)
        left.addWidget(self.room_list, 1)
        outer.addLayout(left)

        right = QVBoxLayout()
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        body = QWidget(scroll)
        scroll.setWidget(body)
        columns = QHBoxLayout(body)
        columns.addLayout(self._build_fields(body), 3)
        columns.addWidget(self._build_categories(body), 2)
        right.addWidget(scroll, 1)

        bottom = QHBoxLayout()
        self.message = FieldMessage(self)
        self.save_button = QPushButton(self.tr("保存 (Ctrl+S)"), self)
        self.save_button.setAutoDefault(False)
        self.close_button = QPushButton(self.tr("关闭"), self)
        self.close_button.setAutoDefault(False)
        bottom.addWidget(self.message, 1)
        bottom.addStretch(0)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        right.addLayout(bottom)
        outer.addLayout(right, 1)

        self.save_button.clicked.connect(self._on_save_requested)
        self.close_button.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+S"), self).activated.connect(self._on_save_requested)
        self.room_list.currentRowChanged.connect(self._on_room_chosen)
        self.ops = OpRunner(self, report=self.message.show_error)
        self.reload()

    # --- building ------------------------------------------------------------------------------

    def _build_fields(self, body: QWidget) -> QVBoxLayout:
        column = QVBoxLayout()
        form = QFormLayout()
        self.messages: dict[str, FieldMessage] = {f: FieldMessage(body) for f in FIELDS}
        self.name_edit = QLineEdit(body)
        self.kind_combo = QComboBox(body)
        for kind in ROOM_KINDS:
            self.kind_combo.addItem(self.tr(kind), kind)
        self.prefix_edit = QLineEdit(body)
        self.prefix_edit.setMaxLength(2)  # one letter; a second typed shows the message rather than vanishing
        self.prefix_edit.setFixedWidth(self.fontMetrics().horizontalAdvance("0") * 6)
        self.capacity_spin = QSpinBox(body)
        self.capacity_spin.setRange(0, 999)
        self.capacity_spin.setSuffix(self.tr(" 人"))
        self.location_edit = QLineEdit(body)
        self.location_edit.setPlaceholderText(self.tr("如：一楼东侧"))
        self.open_box = QCheckBox(self.tr("开放（可分派来访人）"), body)

        def add(label: str, editor: QWidget, field: str | None) -> None:
            box = QVBoxLayout()
            box.setSpacing(1)
            box.addWidget(editor)
            if field:
                box.addWidget(self.messages[field])
            form.addRow(self.tr(label), box)

        add("名称", self.name_edit, "name")
        add("类型", self.kind_combo, "kind")
        add("排队号前缀", self.prefix_edit, "prefix")
        add("容纳人数", self.capacity_spin, "capacity")
        add("位置", self.location_edit, "location")
        add("状态", self.open_box, None)
        for edit in (self.name_edit, self.prefix_edit, self.location_edit):
            edit.textEdited.connect(self._on_edited)
        column.addLayout(form)

        staff = QGroupBox(self.tr("驻室调解员"), body)
        self._staff_box = QVBoxLayout(staff)
        self.add_staff_button = QPushButton(self.tr("添加调解员"), staff)
        self.add_staff_button.setAutoDefault(False)
        self.add_staff_button.clicked.connect(self._on_add_staff_requested)
        self._staff_box.addWidget(self.messages["staff"])
        self._staff_box.addWidget(self.add_staff_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(staff)

        departments = QGroupBox(self.tr("入驻部门"), body)
        self._department_box = QVBoxLayout(departments)
        self.add_department_button = QPushButton(self.tr("添加部门"), departments)
        self.add_department_button.setAutoDefault(False)
        self.add_department_button.clicked.connect(self._on_add_department_requested)
        self._department_box.addWidget(self.messages["departments"])
        self._department_box.addWidget(self.add_department_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(departments)
        column.addStretch(1)
        return column

    def _build_categories(self, body: QWidget) -> QGroupBox:
        """Per category: handled here, and whether this is the category's dedicated room (ties go to it)."""
        group = QGroupBox(self.tr("受理的纠纷类别"), body)
        layout = QVBoxLayout(group)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(2)
        heading = QLabel(self.tr("专门调解室"), group)
        heading.setStyleSheet("color: #555;")
        heading.setToolTip(self.tr("同等候时间时，此类纠纷优先分到专门调解室"))
        grid.addWidget(heading, 0, 1)
        self.category_boxes: dict[str, QCheckBox] = {}
        self.primary_boxes: dict[str, QCheckBox] = {}
        for row, c in enumerate(self._categories, start=1):
            handled = QCheckBox(c.name, group)
            primary = QCheckBox(group)
            primary.setAccessibleName(self.tr("{name}：专门调解室").format(name=c.name))
            primary.setEnabled(False)
            handled.toggled.connect(lambda on, p=primary: self._on_handled_toggled(p, on))
            self.category_boxes[c.code] = handled
            self.primary_boxes[c.code] = primary
            grid.addWidget(handled, row, 0)
            grid.addWidget(primary, row, 1, Qt.AlignmentFlag.AlignHCenter)
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)
        layout.addStretch(1)
        hint = QLabel(self.tr("不勾选任何类别：此室不参与自动分派（如视频会商室）"), group)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666;")
        layout.addWidget(hint)
        layout.addWidget(self.messages["categories"])
        return group

    def _on_handled_toggled(self, primary: QCheckBox, handled: bool) -> None:
        primary.setEnabled(handled)
        if not handled:
            primary.setChecked(False)

    # --- loading -------------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> Op[_Roster] | None:
        """Read the rooms (and the mediators to station) again, off the UI thread, and show `select` (else the
        current room, else the first)."""
        keep = select or (self._current.code if self._current else None)
        rooms = self._rooms_service
        return self.ops.run(
            lambda: _Roster(rooms.rooms(), rooms.mediators()),
            name="rooms",
            success=lambda roster: self._show_roster(roster, keep),
        )

    def _show_roster(self, roster: _Roster, keep: str | None) -> None:
        self._rooms, self._mediators = roster.rooms, roster.mediators
        self.room_list.blockSignals(True)
        self.room_list.clear()
        for r in self._rooms:
            state = self.tr("开放") if r.is_open else self.tr("关闭")
            item = QListWidgetItem(f"{r.code}  {r.number}号{r.name}（{state}）", self.room_list)
            item.setData(Qt.ItemDataRole.UserRole, r.code)
        self.room_list.blockSignals(False)
        row = next((i for i, r in enumerate(self._rooms) if r.code == keep), 0)
        if self._rooms:
            self.room_list.setCurrentRow(row)
            self._show_room(self._rooms[row])

    def select_room(self, code: str) -> None:
        row = next((i for i, r in enumerate(self._rooms) if r.code == code), -1)
        if row < 0:
            raise ValueError(f"no room {code}")
        self.room_list.setCurrentRow(row)

    def _show_room(self, room: RoomView) -> None:
        self._current = room
        self.name_edit.setText(room.name)
        index = self.kind_combo.findData(room.kind)
        if index < 0:  # a kind from an older catalog: keep it selectable
            self.kind_combo.addItem(room.kind, room.kind)
            index = self.kind_combo.count() - 1
        self.kind_combo.setCurrentIndex(index)
        self.prefix_edit.setText(room.prefix)
        self.capacity_spin.setValue(room.capacity)
        self.location_edit.setText(room.location)
        self.open_box.setChecked(room.is_open)
        handled, primary = set(room.categories), set(room.primary_categories)
        for code, box in self.category_boxes.items():
            box.setChecked(code in handled)
            self.primary_boxes[code].setChecked(code in primary and code in handled)
        for row in [*self.staff_rows, *self.department_rows]:
            self._drop_row(row)
        self.staff_rows, self.department_rows = [], []
        for st in room.staff:
            self.add_staff(st.get("mediator_id", ""), st.get("mode", "resident"))
        for dep in room.departments:
            self.add_department(dep.get("name", ""), dep.get("mode", "resident"))
        self._clear_messages()
        self._loaded = self.values()

    # --- editing -------------------------------------------------------------------------------

    def add_staff(self, mediator_id: str = "", mode: str = "resident") -> _StationRow:
        combo = QComboBox()
        for m in self._mediators:
            combo.addItem(self.tr("{name}（{grade}）").format(name=m.name, grade=m.grade), m.id)
        index = combo.findData(mediator_id)
        if index >= 0:
            combo.setCurrentIndex(index)
        row = _StationRow(combo, mode)
        row.sig_remove_requested.connect(self._on_remove_row_requested)
        self.staff_rows.append(row)
        self._staff_box.insertWidget(len(self.staff_rows) - 1, row)
        return row

    def add_department(self, name: str = "", mode: str = "resident") -> _StationRow:
        edit = QLineEdit(name)
        edit.setPlaceholderText(self.tr("部门名称，如：县司法局"))
        row = _StationRow(edit, mode)
        row.sig_remove_requested.connect(self._on_remove_row_requested)
        self.department_rows.append(row)
        self._department_box.insertWidget(len(self.department_rows) - 1, row)
        return row

    def _drop_row(self, row: _StationRow) -> None:
        row.hide()
        row.setParent(None)
        row.deleteLater()

    def values(self) -> dict[str, Any]:
        """The room as edited, in `update_room`'s keyword shape (plus `is_open`)."""
        categories = [code for code, box in self.category_boxes.items() if box.isChecked()]
        primary = [code for code in categories if self.primary_boxes[code].isChecked()]
        staff = []
        for row in self.staff_rows:
            assert isinstance(row.who, QComboBox)
            staff.append({"mediator_id": str(row.who.currentData() or ""), "mode": row.mode()})
        departments = []
        for row in self.department_rows:
            assert isinstance(row.who, QLineEdit)
            if row.who.text().strip():
                departments.append({"name": row.who.text().strip(), "mode": row.mode()})
        return {
            "name": self.name_edit.text(),
            "kind": str(self.kind_combo.currentData() or ""),
            "prefix": self.prefix_edit.text(),
            "capacity": self.capacity_spin.value(),
            "location": self.location_edit.text(),
            "categories": categories,
            "primary_categories": primary,
            "staff": staff,
            "departments": departments,
            "is_open": self.open_box.isChecked(),
        }

    def is_dirty(self) -> bool:
        return self._current is not None and self.values() != self._loaded

    def save(self) -> Op[_Roster] | None:
        """Store the room as edited (off the UI thread); on refusal every problem is shown under its field and
        nothing is stored. `sig_saved` says when it is stored."""
        if self._current is None:
            return None
        values = self.values()
        is_open = values.pop("is_open")
        code, was_open, rooms = self._current.code, self._current.is_open, self._rooms_service
        self._clear_messages()

        def work() -> _Roster:
            rooms.update_room(code, **values)
            if is_open != was_open:
                rooms.set_room_open(code, is_open)
            return _Roster(rooms.rooms(), rooms.mediators())

        def refused(error: DeskError) -> None:
            if isinstance(error, ValidationError):
                self._show_problems(error)  # kept local: each problem under its field
            else:
                self.ops.report(error)

        return self.ops.run(
            work,
            key="save",
            name=f"save room {code}",
            success=lambda r: self._on_saved(code, r),
            failure=refused,
        )

    def _on_saved(self, code: str, roster: _Roster) -> None:
        logger.info("room %s saved", code)
        self._show_roster(roster, code)
        saved = next(r for r in self._rooms if r.code == code)
        self.message.setStyleSheet("color: #2e7d32;")
        self.message.level = ""
        self.message.setText(self.tr("已保存 {room}").format(room=f"{saved.number}号{saved.name}"))
        self.message.show()
        self.sig_saved.emit(saved)

    def error_text(self, field: str) -> str:
        m = self.messages.get(field)
        return m.text() if m is not None and m.level else ""

    def _show_problems(self, e: ValidationError) -> None:
        shown: dict[str, list[str]] = {}
        unplaced = []
        for p in e.problems:
            field = p.field.split(".")[0].split("[")[0]
            field = _SHOWN_AT.get(field, field)
            if field in self.messages:
                shown.setdefault(field, []).append(p.message)
            else:
                unplaced.append(p.message)
        for field, texts in shown.items():
            self.messages[field].show_error("；".join(dict.fromkeys(texts)))
        self.message.show_error(
            "；".join([self.tr("未保存：有 {n} 处需要更正").format(n=len(e.problems)), *unplaced])
        )
        editors = {
            "name": self.name_edit,
            "kind": self.kind_combo,
            "prefix": self.prefix_edit,
            "capacity": self.capacity_spin,
            "location": self.location_edit,
        }
        first = next((editors[f] for f in FIELDS if f in shown and f in editors), None)
        if first is not None:
            first.setFocus()

    def _clear_messages(self) -> None:
        for m in self.messages.values():
            m.clear_message()
        self.message.clear_message()

    def _confirm_discard(self) -> bool:
        if not self.is_dirty():
            return True
        answer = QMessageBox.question(
            self,
            self.tr("功能室设置"),
            self.tr("当前功能室有未保存的修改，确定放弃吗？"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    # --- slots -----------------------------------------------------------------------------------

    def _on_room_chosen(self, row: int) -> None:
        if not 0 <= row < len(self._rooms):
            return
        if (
            self._current is not None
            and self._rooms[row].code != self._current.code
            and not self._confirm_discard()
        ):
            back = next((i for i, r in enumerate(self._rooms) if r.code == self._current.code), 0)
            self.room_list.blockSignals(True)
            self.room_list.setCurrentRow(back)
            self.room_list.blockSignals(False)
            return
        self._show_room(self._rooms[row])

    def _on_save_requested(self) -> None:
        self.save()

    def _on_add_staff_requested(self) -> None:
        row = self.add_staff()
        row.who.setFocus()

    def _on_add_department_requested(self) -> None:
        row = self.add_department()
        row.who.setFocus()

    def _on_remove_row_requested(self, row: object) -> None:
        if row in self.staff_rows:
            self.staff_rows.remove(row)
        elif row in self.department_rows:
            self.department_rows.remove(row)
        if isinstance(row, _StationRow):
            self._drop_row(row)

    def _on_edited(self, _text: str) -> None:
        if self.message.level == "" and self.message.isVisible():
            self.message.clear_message()

    def reject(self) -> None:
        """Esc, the close button and the window's X all come here: ask before throwing edits away."""
        if self._confirm_discard():
            super().reject()
