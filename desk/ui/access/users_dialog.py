"""The accounts of the hall (an admin's dialog): who may sign in, with which roles and rooms; a new account's
password typed twice, an optional PIN for the room terminals; an account locked by failed sign-ins unlocked, and
an account disabled (after a confirmation) or enabled again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QItemSelection, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.core.clock import Clock, SystemClock
from desk.core.permissions import Role
from desk.errors import DeskError, ValidationError
from desk.forms.fields import FieldMessage
from desk.ui.access.api import AuthApi, UserRow
from desk.ui.access.widgets import secret_edit
from desk.ui.models.access_tables import UserTableModel, is_locked
from desk.ui.ops import Op, OpRunner

logger = logging.getLogger(__name__)

FIELDS = ("login", "name", "roles", "rooms", "password", "pin")


@dataclass(frozen=True)
class _Saved:
    """What a save came back with: the account's login and the list read right after it."""

    login: str
    users: Sequence[UserRow]


class UsersDialog(QDialog):
    """The list of accounts on the left; the selected (or new) account on the right. `rooms` are the hall's
    rooms (code → name) a mediator may serve."""

    sig_saved = Signal(str)
    """An account was added or changed; carries its login."""

    def __init__(
        self,
        auth: AuthApi,
        rooms: Mapping[str, str],
        *,
        clock: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._auth = auth
        self._rooms = dict(rooms)
        self._clock = clock or SystemClock()
        self._current: UserRow | None = None  # None: a new account
        self.setWindowTitle(self.tr("用户管理"))
        self.resize(1100, 620)

        self.model = UserTableModel(now=self._clock.now(), parent=self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(UserTableModel.ROLES, QHeaderView.ResizeMode.Stretch)
        self.new_button = QPushButton(self.tr("新增用户 (Ctrl+N)"), self)
        self.unlock_button = QPushButton(self.tr("解除锁定"), self)
        self.active_button = QPushButton(self.tr("停用…"), self)
        left = QVBoxLayout()
        left.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.unlock_button)
        row.addWidget(self.active_button)
        row.addStretch(1)
        left.addLayout(row)

        right = QVBoxLayout()
        self.heading = QLabel(self)
        right.addWidget(self.heading)
        right.addLayout(self._build_form())
        right.addStretch(1)
        self.status = FieldMessage(self)
        right.addWidget(self.status)
        self.save_button = QPushButton(self.tr("保存 (Ctrl+S)"), self)
        self.close_button = QPushButton(self.tr("关闭"), self)
        for button in (
            self.new_button,
            self.unlock_button,
            self.active_button,
            self.save_button,
            self.close_button,
        ):
            button.setAutoDefault(False)  # Enter in a field saves (returnPressed); no button takes it
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        right.addLayout(bottom)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

        self.new_button.clicked.connect(self.start_new)
        self.unlock_button.clicked.connect(self._on_unlock_clicked)
        self.active_button.clicked.connect(self._on_active_clicked)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+N"), self).activated.connect(self.start_new)
        QShortcut(QKeySequence("Ctrl+S"), self).activated.connect(self.save)
        for edit in (self.login_edit, self.name_edit, self.password_edit, self.repeat_edit, self.pin_edit):
            edit.returnPressed.connect(self.save)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.ops = OpRunner(self, report=self.status.show_error)
        self.start_new()
        self.reload()

    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        self.messages: dict[str, FieldMessage] = {f: FieldMessage(self) for f in FIELDS}
        self.login_edit = QLineEdit(self)
        self.login_edit.setMaxLength(64)
        self.login_edit.setPlaceholderText(self.tr("字母、数字，如 zhangsan"))
        self.name_edit = QLineEdit(self)
        self.role_boxes: dict[Role, QCheckBox] = {r: QCheckBox(r.label, self) for r in Role}
        roles = QGridLayout()
        for i, box in enumerate(self.role_boxes.values()):
            roles.addWidget(box, i // 3, i % 3)
        self.room_boxes: dict[str, QCheckBox] = {}
        self._room_grid = QGridLayout()
        for code, name in self._rooms.items():
            self._add_room_box(code, name)
        self.password_edit = secret_edit(self)
        self.repeat_edit = secret_edit(self)
        self.pin_edit = secret_edit(self, self.tr("可不填；4–8 位数字，功能室终端换班用"))
        self.pin_edit.setMaxLength(8)
        self.clear_pin_box = QCheckBox(self.tr("清除 PIN"), self)

        def add(label: str, editor: QWidget | QGridLayout, field: str | None) -> None:
            box = QVBoxLayout()
            box.setSpacing(1)
            if isinstance(editor, QGridLayout):
                box.addLayout(editor)
            else:
                box.addWidget(editor)
            if field:
                box.addWidget(self.messages[field])
            form.addRow(label, box)

        add(self.tr("用户名"), self.login_edit, "login")
        add(self.tr("姓名"), self.name_edit, "name")
        add(self.tr("角色"), roles, "roles")
        add(self.tr("功能室"), self._room_grid, "rooms")
        add(self.tr("密码"), self.password_edit, None)
        add(self.tr("再次输入密码"), self.repeat_edit, "password")
        pin_row = QHBoxLayout()
        pin_row.addWidget(self.pin_edit, 1)
        pin_row.addWidget(self.clear_pin_box)
        pin_box = QVBoxLayout()
        pin_box.setSpacing(1)
        pin_box.addLayout(pin_row)
        pin_box.addWidget(self.messages["pin"])
        form.addRow(self.tr("PIN"), pin_box)
        self.role_boxes[Role.MEDIATOR].toggled.connect(self._on_mediator_toggled)
        return form

    def _add_room_box(self, code: str, name: str) -> QCheckBox:
        box = QCheckBox(f"{code} {name}".strip(), self)
        i = len(self.room_boxes)
        self.room_boxes[code] = box
        self._room_grid.addWidget(box, i // 2, i % 2)
        return box

    # --- the list ------------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> Op[Sequence[UserRow]] | None:
        """Read the accounts again (off the UI thread) and show `select` (else the one shown)."""
        keep = select or (self._current.login if self._current is not None else None)
        return self.ops.run(
            self._auth.users, name="users", success=lambda users: self._show_users(users, keep)
        )

    def _show_users(self, users: Sequence[UserRow], select: str | None) -> None:
        self.model.set_users(users, now=self._clock.now())
        row = self.model.row_of(select) if select else None
        if row is not None:
            self.table.selectRow(row)
            self._show(self.model.item(row))
        elif self._current is not None:
            self.start_new()
        self._update_buttons()

    def select_user(self, login: str) -> None:
        row = self.model.row_of(login)
        if row is None:
            raise ValueError("no such account")
        self.table.selectRow(row)

    def _on_selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = {i.row() for i in selected.indexes()}
        if len(rows) == 1:
            self._show(self.model.item(rows.pop()))

    # --- the form ------------------------------------------------------------------------------

    def start_new(self) -> None:
        """An empty form for a new account (the password is then required)."""
        self._current = None
        self.table.clearSelection()
        self.heading.setText(self.tr("新增用户"))
        self.login_edit.setReadOnly(False)
        self.login_edit.clear()
        self.name_edit.clear()
        for box in [*self.role_boxes.values(), *self.room_boxes.values()]:
            box.setChecked(False)
        self._clear_secrets()
        self.password_edit.setPlaceholderText(self.tr("至少 8 位"))
        self.clear_pin_box.hide()
        self._clear_messages()
        self._on_mediator_toggled(False)
        self._update_buttons()
        self.login_edit.setFocus()

    def _show(self, user: UserRow) -> None:
        self._current = user
        self.heading.setText(self.tr("修改用户：{name}（{login}）").format(name=user.name, login=user.login))
        self.login_edit.setText(user.login)
        self.login_edit.setReadOnly(True)  # the login names the account in the audit: it never changes
        self.name_edit.setText(user.name)
        for role, box in self.role_boxes.items():
            box.setChecked(role in user.roles)
        for code in user.rooms:
            if code not in self.room_boxes:  # a room no longer in the hall's list: keep it visible
                self._add_room_box(code, "")
        for code, box in self.room_boxes.items():
            box.setChecked(code in user.rooms)
        self._clear_secrets()
        self.password_edit.setPlaceholderText(self.tr("不修改请留空"))
        self.pin_edit.setPlaceholderText(
            self.tr("已设置；输入新 PIN 则替换")
            if user.has_pin
            else self.tr("可不填；4–8 位数字，功能室终端换班用")
        )
        self.clear_pin_box.setVisible(user.has_pin)
        self._clear_messages()
        self._on_mediator_toggled(Role.MEDIATOR in user.roles)
        self._update_buttons()

    def _clear_secrets(self) -> None:
        for edit in (self.password_edit, self.repeat_edit, self.pin_edit):
            edit.clear()
        self.clear_pin_box.setChecked(False)

    def _on_mediator_toggled(self, on: bool) -> None:
        # rooms matter to a mediator (the cases their rooms hold); others may have them, greyed as a hint
        for box in self.room_boxes.values():
            box.setStyleSheet("" if on else "color: #888;")

    def _update_buttons(self) -> None:
        user = self._current
        self.unlock_button.setEnabled(user is not None and is_locked(user, self._clock.now()))
        self.active_button.setEnabled(user is not None)
        self.active_button.setText(
            self.tr("启用") if user is not None and not user.active else self.tr("停用…")
        )

    def values(self) -> dict[str, Any]:
        """The account as edited."""
        return {
            "login": self.login_edit.text().strip(),
            "name": self.name_edit.text().strip(),
            "roles": frozenset(r for r, box in self.role_boxes.items() if box.isChecked()),
            "rooms": tuple(code for code, box in self.room_boxes.items() if box.isChecked()),
        }

    # --- saving --------------------------------------------------------------------------------

    def save(self) -> Op[_Saved] | None:
        """Add the new account, or change the one shown; refusals are shown under their fields."""
        self._clear_messages()
        v = self.values()
        password, repeat = self.password_edit.text(), self.repeat_edit.text()
        pin = self.pin_edit.text()
        problems: dict[str, str] = {}
        if not v["login"]:
            problems["login"] = self.tr("请填写用户名")
        if not v["name"]:
            problems["name"] = self.tr("请填写姓名")
        if not v["roles"]:
            problems["roles"] = self.tr("至少选择一个角色")
        if self._current is None and not password:
            problems["password"] = self.tr("新用户需要设置密码")
        elif password != repeat:
            problems["password"] = self.tr("两次输入的密码不一致")
        if problems:
            self._show_problems(problems)
            return None
        auth, current = self._auth, self._current
        login = v["login"]
        clear_pin = self.clear_pin_box.isChecked()

        def run() -> _Saved:
            if current is None:
                auth.add_user(login, v["name"], v["roles"], v["rooms"], password, pin or None)
            else:
                auth.update_user(login, name=v["name"], roles=v["roles"], rooms=v["rooms"])
                if password:
                    auth.set_password(login, password)
                if clear_pin:
                    auth.set_pin(login, None)
                elif pin:
                    auth.set_pin(login, pin)
            return _Saved(login, auth.users())

        return self.ops.run(run, name="save_user", success=self._on_saved, failure=self._on_refused)

    def _on_saved(self, saved: _Saved) -> None:
        logger.info("account saved")
        self._current = None
        self._show_users(saved.users, saved.login)
        self.status.setStyleSheet("color: #2e7d32;")
        self.status.level = ""
        self.status.setText(self.tr("已保存：{login}").format(login=saved.login))
        self.status.show()
        self.sig_saved.emit(saved.login)

    def _on_refused(self, error: DeskError) -> None:
        if isinstance(error, ValidationError):
            shown: dict[str, str] = {}
            for p in error.problems:
                field = p.field.split(".")[0]
                if field in self.messages:
                    shown[field] = "；".join(filter(None, [shown.get(field, ""), p.message]))
            if shown:
                self._show_problems(shown)
                return
        self.status.show_error(error.message)

    def _show_problems(self, problems: Mapping[str, str]) -> None:
        for field, text in problems.items():
            self.messages[field].show_error(text)
        self.status.show_error(self.tr("未保存：有 {n} 处需要更正").format(n=len(problems)))
        editors: dict[str, QWidget] = {
            "login": self.login_edit,
            "name": self.name_edit,
            "password": self.password_edit,
            "pin": self.pin_edit,
        }
        first = next((editors[f] for f in FIELDS if f in problems and f in editors), None)
        if first is not None:
            first.setFocus()
        if "password" in problems:
            self.password_edit.clear()
            self.repeat_edit.clear()

    def _clear_messages(self) -> None:
        for m in self.messages.values():
            m.clear_message()
        self.status.clear_message()

    def error_text(self, field: str) -> str:
        m = self.messages[field]
        return m.text() if m.level else ""

    # --- unlock, disable -------------------------------------------------------------------------

    def _act(self, fn: Callable[[], object], login: str, done: str) -> Op[Sequence[UserRow]] | None:
        auth = self._auth

        def run() -> Sequence[UserRow]:
            fn()
            return auth.users()

        def shown(users: Sequence[UserRow]) -> None:
            self._show_users(users, login)
            self.status.setStyleSheet("color: #2e7d32;")
            self.status.level = ""
            self.status.setText(done)
            self.status.show()

        return self.ops.run(run, name="user_action", success=shown)

    def unlock_account(self) -> Op[Sequence[UserRow]] | None:
        user = self._current
        if user is None:
            return None
        login = user.login
        return self._act(
            lambda: self._auth.unlock_account(login),
            login,
            self.tr("已解除锁定：{login}").format(login=login),
        )

    def set_active(self, active: bool) -> Op[Sequence[UserRow]] | None:
        """Enable or disable the account shown; disabling asks first."""
        user = self._current
        if user is None:
            return None
        login = user.login
        if not active:
            answer = QMessageBox.question(
                self,
                self.tr("停用用户"),
                self.tr("停用 {name}（{login}）后，此人将不能再登录。确定停用吗？").format(
                    name=user.name, login=login
                ),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
        done = self.tr("已启用：{login}") if active else self.tr("已停用：{login}")
        return self._act(
            lambda: self._auth.update_user(login, active=active), login, done.format(login=login)
        )

    def _on_unlock_clicked(self) -> None:
        self.unlock_account()

    def _on_active_clicked(self) -> None:
        if self._current is not None:
            self.set_active(not self._current.active)
