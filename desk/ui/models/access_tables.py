"""The accounts (for the admin's users dialog) and the audit log (for the supervisor's panel) as tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor

from desk.core.permissions import Role
from desk.ui.models.base import ListModel
from desk.ui.models.case_table import china_time

if TYPE_CHECKING:
    from desk.ui.access.api import AuditRow, UserRow

MUTED = "#888888"
LOCKED = "#c62828"


def role_labels(roles: Iterable[Role]) -> str:
    """The roles in Chinese, in the table's order (前台登记员、调解员…)."""
    held = set(roles)
    return "、".join(r.label for r in Role if r in held)


def is_locked(user: UserRow, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


class UserTableModel(ListModel["UserRow"]):
    """Accounts as `AuthService.users()` gives them; a disabled one greyed, a locked one in red. `now` decides
    which lockouts are still running (the dialog's clock)."""

    LOGIN, NAME, ROLES, ROOMS, STATE = range(5)

    def __init__(
        self, users: Sequence[UserRow] = (), *, now: dt.datetime | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._rows = list(users)
        self.now = now or dt.datetime.now(dt.UTC)

    def set_users(self, users: Sequence[UserRow], now: dt.datetime | None = None) -> None:
        if now is not None:
            self.now = now
        self._set(users)

    def row_of(self, login: str) -> int | None:
        return next((i for i, u in enumerate(self._rows) if u.login == login), None)

    def _headers(self) -> list[str]:
        return [self.tr("用户名"), self.tr("姓名"), self.tr("角色"), self.tr("功能室"), self.tr("状态")]

    def state_text(self, user: UserRow) -> str:
        if not user.active:
            return self.tr("已停用")
        if is_locked(user, self.now):
            assert user.locked_until is not None
            return self.tr("已锁定至 {time}").format(time=china_time(user.locked_until)[-5:])
        return self.tr("正常")

    def _cell(self, user: UserRow, column: int) -> str:
        if column == self.LOGIN:
            return user.login
        if column == self.NAME:
            return user.name
        if column == self.ROLES:
            return role_labels(user.roles)
        if column == self.ROOMS:
            return "、".join(user.rooms)
        if column == self.STATE:
            return self.state_text(user)
        return ""

    def _extra(self, user: UserRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole:
            if not user.active:
                return QBrush(QColor(MUTED))
            if column == self.STATE and is_locked(user, self.now):
                return QBrush(QColor(LOCKED))
        return None


class AuditTableModel(ListModel["AuditRow"]):
    """Entries of the audit log, newest first as the service gives them: when, who (name and login), where,
    what, which case, and the detail."""

    TOOLTIPS = True
    AT, WHO, TERMINAL, ACTION, CASE, DETAIL = range(6)

    def __init__(self, entries: Sequence[AuditRow] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows = list(entries)

    def set_entries(self, entries: Sequence[AuditRow]) -> None:
        self._set(entries)

    def _headers(self) -> list[str]:
        return [
            self.tr("时间"),
            self.tr("人员"),
            self.tr("终端"),
            self.tr("操作"),
            self.tr("案件编号"),
            self.tr("说明"),
        ]

    def _cell(self, e: AuditRow, column: int) -> str:
        if column == self.AT:
            return china_time(e.at)
        if column == self.WHO:
            return f"{e.user_name}（{e.login}）" if e.login else e.user_name
        if column == self.TERMINAL:
            return e.terminal
        if column == self.ACTION:
            return e.action.label
        if column == self.CASE:
            return e.case_no or ""
        if column == self.DETAIL:
            return e.detail
        return ""

    def _extra(self, e: AuditRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and e.action.value in ("sign_in_failed", "locked_out"):
            return QBrush(QColor(LOCKED))
        return None
