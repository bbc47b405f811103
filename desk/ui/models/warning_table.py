"""The warnings (预警) as a table: the level coloured (一般 yellow, 较大 orange, 重大 red), the kind, the case, the
message and when it was (last) raised; for the warnings read, also who read each and when."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from desk.ui.models.base import ListModel
from desk.ui.models.case_table import china_time

if TYPE_CHECKING:
    from desk.services.alerts import WarningView

_Index = QModelIndex | QPersistentModelIndex

# (background, text) of the level's cell: the colours of China's four-colour warning scale, less the blue.
LEVEL_COLOURS = {
    "general": ("#ffe066", "#3d2f00"),
    "major": ("#ff922b", "#2b1400"),
    "serious": ("#c92a2a", "#ffffff"),
}
SERIOUS_TEXT = "#a61e1e"  # the rest of a serious warning's row


class WarningTableModel(ListModel["WarningView"]):
    """Warnings as `WarningService` gives them (unread: the gravest first; read: the latest first). With
    `acknowledged`, two more columns say who read each and when."""

    LEVEL, KIND, CASE, MESSAGE, RAISED, BY, AT = range(7)

    def __init__(
        self,
        warnings: Sequence[WarningView] = (),
        *,
        acknowledged: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._rows = list(warnings)
        self.acknowledged = acknowledged

    def set_warnings(self, warnings: Sequence[WarningView]) -> None:
        self._set(warnings)

    def warnings(self) -> list[WarningView]:
        return self.rows()

    def warning_at(self, row: int) -> WarningView:
        return self._rows[row]

    def row_of(self, warning_id: str) -> int | None:
        return next((i for i, w in enumerate(self._rows) if w.id == warning_id), None)

    def _headers(self) -> list[str]:
        headers = [
            self.tr("级别"),
            self.tr("类型"),
            self.tr("案件编号"),
            self.tr("预警内容"),
            self.tr("预警时间"),
        ]
        if self.acknowledged:
            headers += [self.tr("已阅人"), self.tr("已阅时间")]
        return headers

    def _extra(self, w: WarningView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == self.MESSAGE:
            return w.message
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.LEVEL:
            return int(Qt.AlignmentFlag.AlignCenter)
        colours = LEVEL_COLOURS.get(w.level)
        if role == Qt.ItemDataRole.BackgroundRole and column == self.LEVEL and colours is not None:
            return QBrush(QColor(colours[0]))
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == self.LEVEL and colours is not None:
                return QBrush(QColor(colours[1]))
            if w.serious and not self.acknowledged:
                return QBrush(QColor(SERIOUS_TEXT))
        if role == Qt.ItemDataRole.FontRole and w.serious and not self.acknowledged:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _cell(self, w: WarningView, column: int) -> str:
        if column == self.LEVEL:
            return w.level_label
        if column == self.KIND:
            return w.kind_label
        if column == self.CASE:
            return w.case_no
        if column == self.MESSAGE:
            return w.message
        if column == self.RAISED:
            return china_time(w.raised_at)
        if column == self.BY:
            return w.acknowledged_by or ""
        if column == self.AT:
            return china_time(w.acknowledged_at) if w.acknowledged_at is not None else ""
        return ""
