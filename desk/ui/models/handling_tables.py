"""Table models of a case being handled: its timeline (time, who, what, what changed) and its whistles (each
department summoned, with the state of its three clocks)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from desk.ui.models.case_table import _ListModel, china_time

if TYPE_CHECKING:
    from desk.services.handling import ClockView, TimelineEntry, WhistleView

logger = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex

# The colour a clock's state is shown in: done on time green, running grey, done late amber, run out red.
CLOCK_COLOURS = {
    "on_time": "#2e7d32",
    "pending": "#555555",
    "late": "#b45309",
    "overdue": "#c62828",
}


class TimelineTableModel(_ListModel):
    """A case's timeline as the case file gives it (causal order): when, who, what, and what changed."""

    def __init__(self, entries: Sequence[TimelineEntry] = (), *, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows = list(entries)

    def set_entries(self, entries: Sequence[TimelineEntry]) -> None:
        self.beginResetModel()
        self._rows = list(entries)
        self.endResetModel()

    def entries(self) -> list[TimelineEntry]:
        return list(self._rows)

    def _headers(self) -> list[str]:
        return [self.tr("时间"), self.tr("经办人"), self.tr("事项"), self.tr("变化")]

    def _cell(self, item: Any, column: int) -> str:
        e: TimelineEntry = item
        if column == 0:
            return china_time(e.occurred_at)
        if column == 1:
            return e.actor
        if column == 2:
            return e.label
        if column == 3:
            return e.summary
        return ""


def clock_text(c: ClockView) -> str:
    """签收 by 11:00, and its state: 按时完成 10:40 / 已超时 / 超时完成 12:05 / 未到时限."""
    text = f"{c.state.label}（时限 {china_time(c.due)}"
    if c.done_at is not None:
        text += f"，{china_time(c.done_at)} 完成"
    return text + "）"


class WhistleTableModel(_ListModel):
    """The departments summoned about a case: the department, the matter, each clock's state, the result and
    the center's rating. A clock's cell is coloured by its state."""

    CLOCK_COLUMNS = (2, 3, 4)  # sign, arrive, report

    def __init__(self, whistles: Sequence[WhistleView] = (), *, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows = list(whistles)

    def set_whistles(self, whistles: Sequence[WhistleView]) -> None:
        self.beginResetModel()
        self._rows = list(whistles)
        self.endResetModel()

    def _headers(self) -> list[str]:
        return [
            self.tr("部门"),
            self.tr("事项"),
            self.tr("签收（1小时）"),
            self.tr("报到（24小时）"),
            self.tr("反馈"),
            self.tr("结果"),
            self.tr("评价"),
        ]

    def _clock(self, item: WhistleView, column: int) -> ClockView | None:
        if column in self.CLOCK_COLUMNS:
            i = column - self.CLOCK_COLUMNS[0]
            return item.clocks[i] if i < len(item.clocks) else None
        return None

    def _cell(self, item: Any, column: int) -> str:
        w: WhistleView = item
        if column == 0:
            return w.department_name + (self.tr("（复杂）") if w.complex else "")
        if column == 1:
            return w.matter
        clock = self._clock(w, column)
        if clock is not None:
            return clock_text(clock)
        if column == 5:
            return w.result or ""
        if column == 6:
            return w.rating_label
        return ""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and 0 <= index.row() < len(self._rows):
            clock = self._clock(self._rows[index.row()], index.column())
            if clock is not None:
                return QColor(CLOCK_COLOURS.get(clock.state.value, "#000000"))
            return None
        return super().data(index, role)
