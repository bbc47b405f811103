"""The supervisor's lists as tables: overdue cases, whistles past a clock, follow-ups due. Each row is what the
service returned (`ITEM_ROLE`), and each list knows the case number of a row, to open the case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desk.ui.models.base import ListModel
from desk.ui.models.case_table import china_time, state_label
from desk.ui.models.warning_table import LEVEL_COLOURS

if TYPE_CHECKING:
    from desk.services.alerts import ClockView, WhistleView
    from desk.services.handling import FollowUpDue, OverdueCase

_Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")

LATE_TEXT = "#a61e1e"  # a figure of lateness
RISK_LABELS = {"general": "一般", "major": "较大", "serious": "重大"}


def how_late(delta: dt.timedelta) -> str:
    """`2天3小时`, `3小时15分`, `40分钟`: how long past a time limit, to the minute."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分" if minutes else f"{hours}小时"
    return f"{minutes}分钟"


class RowsModel(ListModel[R]):
    """Rows of one dataclass, shown through `_cell`; `case_no_of` gives the case a row opens."""

    LATE_COLUMN = -1  # the column that says how late (red)

    def case_no_of(self, row: R) -> str:
        raise NotImplementedError

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def case_numbers(self) -> list[str]:
        return [self.case_no_of(r) for r in self._rows]

    def case_at(self, row: int) -> str:
        return self.case_no_of(self._rows[row])

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.column() == self.LATE_COLUMN:
            return QBrush(QColor(LATE_TEXT))
        return super().data(index, role)


class OverdueTableModel(RowsModel["OverdueCase"]):
    """逾期案件: open cases past their due day, the longest overdue first (as `CaseHandlingService.overdue`)."""

    CASE, CATEGORY, STATE, ROOM, DUE, OVER, RISK = range(7)
    LATE_COLUMN = OVER

    def __init__(self, *, room_names: Mapping[str, str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._room_names = dict(room_names or {})

    def set_cases(self, cases: Sequence[OverdueCase], *, room_names: Mapping[str, str] | None = None) -> None:
        if room_names is not None:
            self._room_names = dict(room_names)
        self._set(cases)

    def case_no_of(self, row: OverdueCase) -> str:
        return row.case_no

    def _headers(self) -> list[str]:
        return [
            self.tr("案件编号"),
            self.tr("纠纷类别"),
            self.tr("状态"),
            self.tr("功能室"),
            self.tr("办理期限"),
            self.tr("逾期"),
            self.tr("风险"),
        ]

    def _cell(self, c: OverdueCase, column: int) -> str:
        if column == self.CASE:
            return c.case_no
        if column == self.CATEGORY:
            return c.category
        if column == self.STATE:
            return c.state_label
        if column == self.ROOM:
            return self._room_names.get(c.room, c.room) if c.room else "—"
        if column == self.DUE:
            return c.due_on.isoformat()
        if column == self.OVER:
            return self.tr("{n} 天").format(n=c.days_overdue)
        if column == self.RISK:
            return RISK_LABELS.get(c.risk_level or "", "")
        return ""

    def _extra(self, c: OverdueCase, column: int, role: int) -> Any:
        colours = LEVEL_COLOURS.get(c.risk_level or "")
        if column == self.RISK and colours is not None:
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(colours[0]))
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(colours[1]))
        return None


class LateWhistleTableModel(RowsModel["tuple[WhistleView, ClockView]"]):
    """吹哨超时: one row per summoned department and clock run out (签收, 报到, 反馈) and not done, with how
    late it is at `now`."""

    CASE, DEPARTMENT, MATTER, CLOCK, DUE, LATE, BLOWN = range(7)
    LATE_COLUMN = LATE

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._now: dt.datetime | None = None

    def set_whistles(self, whistles: Sequence[WhistleView], *, now: dt.datetime) -> None:
        self._now = now
        self._set([(w, c) for w in whistles for c in w.overdue])

    def case_no_of(self, row: tuple[WhistleView, ClockView]) -> str:
        return row[0].case_no

    def _headers(self) -> list[str]:
        return [
            self.tr("案件编号"),
            self.tr("部门"),
            self.tr("事项"),
            self.tr("超时环节"),
            self.tr("时限"),
            self.tr("已超时"),
            self.tr("吹哨时间"),
        ]

    def _cell(self, row: tuple[WhistleView, ClockView], column: int) -> str:
        w, clock = row
        if column == self.CASE:
            return w.case_no
        if column == self.DEPARTMENT:
            return w.department_name or w.department
        if column == self.MATTER:
            return w.matter
        if column == self.CLOCK:
            return self.tr("未{clock}").format(clock=clock.label)
        if column == self.DUE:
            return china_time(clock.due_at)
        if column == self.LATE:
            return how_late(self._now - clock.due_at) if self._now is not None else ""
        if column == self.BLOWN:
            return china_time(w.blown_at)
        return ""

    def _extra(self, row: tuple[WhistleView, ClockView], column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == self.MATTER:
            return row[0].matter
        return None


class FollowUpDueTableModel(RowsModel["FollowUpDue"]):
    """今日回访: follow-ups due today or earlier and not yet made, the oldest first; the ones past their day say
    by how many days."""

    CASE, CATEGORY, APPLICANT, PHONE, OUTCOME, CLOSED, DUE, WHEN = range(8)
    LATE_COLUMN = WHEN

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._today: dt.date | None = None

    def set_follow_ups(self, due: Sequence[FollowUpDue], *, today: dt.date) -> None:
        self._today = today
        self._set(due)

    def case_no_of(self, row: FollowUpDue) -> str:
        return row.case_no

    def _headers(self) -> list[str]:
        return [
            self.tr("案件编号"),
            self.tr("纠纷类别"),
            self.tr("申请人"),
            self.tr("联系电话"),
            self.tr("调解结果"),
            self.tr("办结时间"),
            self.tr("应回访日"),
            self.tr("回访"),
        ]

    def _cell(self, f: FollowUpDue, column: int) -> str:
        cells: dict[int, Callable[[], str]] = {
            self.CASE: lambda: f.case_no,
            self.CATEGORY: lambda: f.category,
            self.APPLICANT: lambda: f.applicant,
            self.PHONE: lambda: f.phone or "—",
            self.OUTCOME: lambda: state_label(f.outcome) if f.outcome else "—",
            self.CLOSED: lambda: china_time(f.closed_at) if f.closed_at is not None else "—",
            self.DUE: lambda: f.due_on.isoformat(),
            self.WHEN: lambda: self._when(f.due_on),
        }
        cell = cells.get(column)
        return cell() if cell is not None else ""

    def _when(self, due_on: dt.date) -> str:
        if self._today is None or due_on >= self._today:
            return self.tr("今日到期")
        return self.tr("逾期 {n} 天").format(n=(self._today - due_on).days)
