"""The hall's diverted cases (上级分流) as a table: number, category, applicant, when diverted, and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from desk.ui.models.case_table import china_time

if TYPE_CHECKING:
    from desk.services.queue import DivertedCase

_Index = QModelIndex | QPersistentModelIndex


class DivertedTableModel(QAbstractTableModel):
    """The diverted cases, longest waiting first: number, category, applicant, when diverted, and why."""

    REASON = 4  # the column of the reason, which stretches

    def __init__(self, cases: Sequence[DivertedCase] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows = list(cases)

    def set_cases(self, cases: Sequence[DivertedCase]) -> None:
        self.beginResetModel()
        self._rows = list(cases)
        self.endResetModel()

    def case_at(self, row: int) -> DivertedCase:
        return self._rows[row]

    def row_of(self, case_no: str) -> int | None:
        return next((i for i, c in enumerate(self._rows) if c.case_no == case_no), None)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 N802 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 N802 - Qt's signature
        return 0 if parent.isValid() else len(self._headers())

    def _headers(self) -> list[str]:
        return [
            self.tr("案件编号"),
            self.tr("纠纷类别"),
            self.tr("申请人"),
            self.tr("分流时间"),
            self.tr("分流理由"),
        ]

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802 - Qt's name
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        headers = self._headers()
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return headers[section] if 0 <= section < len(headers) else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        c = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(c, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == self.REASON and c.reason:
                return c.reason
            if index.column() == 2 and c.applicant_id_masked:
                return c.applicant_id_masked
            if index.column() == 3:
                return china_time(c.diverted_at or c.registered_at)
        return None

    def _cell(self, c: DivertedCase, column: int) -> str:
        if column == 0:
            return c.case_no
        if column == 1:
            return c.category_name
        if column == 2:
            return c.applicant_name
        if column == 3:
            return china_time(c.diverted_at or c.registered_at)[5:]  # "11-27 10:05": diversions are recent
        if column == 4:
            return c.reason or "—"
        return ""
