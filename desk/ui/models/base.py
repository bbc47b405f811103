"""The read-only table every list of the desk is: rows of frozen dataclasses a service returned, one per line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

# the role under which a cell gives its whole row (the dataclass), for views that act on the row
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")


class ListModel(QAbstractTableModel, Generic[R]):
    """Rows of one dataclass. Subclasses name the columns (`_headers`) and the cells (`_cell`), and may answer
    other roles (`_extra`). `ROW_NUMBERS` numbers the rows in the vertical header; `TOOLTIPS` repeats a cell
    as its tooltip (for columns too narrow to show it whole)."""

    ROW_NUMBERS = False
    TOOLTIPS = False

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []

    def _headers(self) -> list[str]:
        raise NotImplementedError

    def _cell(self, row: R, column: int) -> str:
        raise NotImplementedError

    def _extra(self, _row: R, _column: int, _role: int) -> Any:
        return None

    def _set(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def item(self, row: int) -> R:
        return self._rows[row]

    def rows(self) -> list[R]:
        return list(self._rows)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 N802 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 N802 - Qt's signature
        return 0 if parent.isValid() else len(self._headers())

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802 - Qt's name
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            headers = self._headers()
            return headers[section] if 0 <= section < len(headers) else None
        return section + 1 if self.ROW_NUMBERS else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole or (self.TOOLTIPS and role == Qt.ItemDataRole.ToolTipRole):
            return self._cell(row, index.column())
        if role == ITEM_ROLE:
            return row
        return self._extra(row, index.column(), role)
